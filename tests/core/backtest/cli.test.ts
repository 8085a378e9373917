import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';
import { randomWalk } from './helpers.js';

// `atm backtest` as real processes (dist/ is built first), over generated Binance archive files.
const tmp = tempHome('atm-backtest-cli-');
const arch = join(tmp.home, 'archives');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A Binance public-archive kline CSV (no header) of generated 1m klines. */
function writeArchive(symbol: string, seed: number, base: number): void {
  const k = randomWalk(4000, seed, base);
  const rows: string[] = [];
  for (let j = 0; j < k.length; j++) {
    const t = k.openTime[j];
    rows.push([t, k.open[j].toFixed(1), k.high[j].toFixed(1), k.low[j].toFixed(1), k.close[j].toFixed(1), '1.5', t + 59_999, '30000', 10, '0.7', '14000', 0].join(','));
  }
  writeFileSync(join(arch, `${symbol}-1m-2024-01.csv`), rows.join('\n') + '\n');
}

const ONE = `account:
  initialBalance: "10000"
  slippageBps: 1
positions:
  - symbol: BTCUSDT
    interval: 15m
    leverage: 3
    strategy:
      name: sma-cross
      params: { fast: 3, slow: 8 }
`;

beforeAll(() => {
  try {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  } catch {
    /* the tests below say what is missing */
  }
  mkdirSync(arch, { recursive: true });
  writeArchive('BTCUSDT', 31, 20_000);
  writeArchive('ETHUSDT', 32, 2_000);
  writeFileSync(join(tmp.home, 'one.yaml'), ONE);
}, 180_000);
afterAll(() => tmp.cleanup());

const lastLine = (text: string) => text.trimEnd().split('\n').pop()!;

describe('atm backtest', () => {
  it('--example prints a configuration that runs through --config', () => {
    const example = atm('backtest', '--example');
    expect(example.code).toBe(0);
    expect(example.out).toContain('initialBalance');
    const file = join(tmp.home, 'example.yaml');
    writeFileSync(file, example.out);
    const r = atm('backtest', '--config', file, '--input', arch, '--json');
    // stderr holds at most progress lines (printed without a terminal when a run passes a second)
    expect(r.err.split('\n').filter((l) => l !== '' && !/%\s+\S+ elapsed/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(lastLine(r.out));
    expect(Object.keys(summary.buyAndHoldReturnPct).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(summary.klines).toBe(8000);
  });

  it('--json: the last line is the summary; --input writes nothing to the database', () => {
    const r = atm('backtest', '--config', join(tmp.home, 'one.yaml'), '--input', join(arch, 'BTCUSDT-1m-2024-01.csv'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(lastLine(r.out));
    for (const key of ['initialBalance', 'finalBalance', 'returnPct', 'cagrPct', 'maxDrawdownPct', 'sharpe', 'sortino', 'calmar', 'profitFactor', 'winRatePct', 'expectancy', 'exposurePct', 'trades', 'fills', 'fees', 'fundingFees', 'liquidations', 'ambiguousBars', 'klines', 'elapsedMs', 'tradeListHash', 'buyAndHoldReturnPct', 'fillModel', 'rules']) {
      expect(s).toHaveProperty(key);
    }
    expect(s.fills).toBeGreaterThan(0);
    expect(s.fundingDataMissing).toBe(true);
    const db = new Database(join(tmp.home, 'atm.sqlite'), { readonly: true });
    try {
      expect((db.prepare('SELECT COUNT(*) AS n FROM kline_chunks').get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
  });

  it('--export writes balance, trades and fills as CSV with UTC times and exact decimals', () => {
    const dir = join(tmp.home, 'out');
    const r = atm('backtest', '--config', join(tmp.home, 'one.yaml'), '--input', arch, '--export', dir, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(lastLine(r.out));
    const fills = readFileSync(join(dir, 'fills.csv'), 'utf8').trimEnd().split('\n');
    expect(fills[0]).toBe('time_utc,time_ms,symbol,side,type,qty,price,fee,realized_pnl,position_after,reason');
    expect(fills).toHaveLength(s.fills + 1);
    const [utc, ms, , , , qty, price, fee] = fills[1].split(',');
    expect(new Date(utc).getTime()).toBe(Number(ms));
    expect(qty).toMatch(/^\d+(\.\d{1,3})?$/);
    expect(price).toMatch(/^\d+(\.\d)?$/);
    expect(fee).toMatch(/^\d+(\.\d+)?$/);
    const trades = readFileSync(join(dir, 'trades.csv'), 'utf8').trimEnd().split('\n');
    expect(trades).toHaveLength(s.trades + 1);
    const balance = readFileSync(join(dir, 'balance.csv'), 'utf8').trimEnd().split('\n');
    expect(balance[0]).toBe('time_utc,time_ms,equity,wallet');
    for (const line of balance.slice(1)) expect(line.split(',')[2]).toMatch(/^-?\d+(\.\d{1,8})?$/);
  });

  it('--save stores the simulation in the database; the table output names the rules used', () => {
    const r = atm('backtest', '--config', join(tmp.home, 'one.yaml'), '--input', arch, '--save', 'mine');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/final balance/);
    expect(r.out).toMatch(/saved as simulation \d+/);
    const db = new Database(join(tmp.home, 'atm.sqlite'), { readonly: true });
    try {
      const sim = db.prepare("SELECT * FROM simulations WHERE name = 'mine'").get() as { id: number; params_json: string; result_json: string };
      expect(JSON.parse(sim.params_json).positions[0].symbol).toBe('BTCUSDT');
      const fills = (db.prepare('SELECT COUNT(*) AS n FROM trade_logs WHERE simulation_id = ?').get(sim.id) as { n: number }).n;
      expect(fills).toBe(JSON.parse(sim.result_json).summary.fills);
      expect((db.prepare('SELECT COUNT(*) AS n FROM simulation_balance WHERE simulation_id = ?').get(sim.id) as { n: number }).n).toBeGreaterThan(10);
    } finally {
      db.close();
    }
  });

  it('reports a bad configuration line with file:line and exit 2', () => {
    const file = join(tmp.home, 'bad.yaml');
    writeFileSync(file, ONE.replace('leverage: 3', 'leverage: 0'));
    const r = atm('backtest', '--config', file, '--input', arch);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`atm: ${file}:7: 'positions.0.leverage' = 0 is not valid: must be at least 1\n`);
    writeFileSync(file, ONE.replace('fast: 3', 'fast: 30'));
    const p = atm('backtest', '--config', file, '--input', arch);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(new RegExp(`^atm: ${file}:10: 'positions\\.0\\.strategy\\.params' .*fast \\(30\\) must be less than slow \\(8\\)\\n$`));
    writeFileSync(file, ONE.replace('name: sma-cross', 'name: nope'));
    const n = atm('backtest', '--config', file, '--input', arch);
    expect(n.code).toBe(2);
    expect(n.err).toMatch(new RegExp(`^atm: ${file}:9: 'positions\\.0\\.strategy\\.name' = "nope" is not valid: no such strategy`));
    const none = atm('backtest');
    expect(none.code).toBe(2);
    expect(none.err).toContain('--config');
  });
});
