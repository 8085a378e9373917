import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';
import { randomWalk } from './helpers.js';

// `atm sim list|show|export|delete` as real processes over simulations stored by `atm backtest --save`.
const tmp = tempHome('atm-sim-cli-');
const arch = join(tmp.home, 'archives');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CONFIG = `account:
  initialBalance: "10000"
positions:
  - symbol: BTCUSDT
    interval: 15m
    leverage: 2
    strategy:
      name: sma-cross
      params: { fast: 3, slow: 8 }
`;

let firstId = 0;
let summary: { tradeListHash: string; trades: number; returnPct: number; maxDrawdownPct: number } = { tradeListHash: '', trades: 0, returnPct: 0, maxDrawdownPct: 0 };

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  mkdirSync(arch, { recursive: true });
  const k = randomWalk(3000, 41, 20_000);
  const rows: string[] = [];
  for (let j = 0; j < k.length; j++) {
    const t = k.openTime[j];
    rows.push([t, k.open[j].toFixed(1), k.high[j].toFixed(1), k.low[j].toFixed(1), k.close[j].toFixed(1), '1.5', t + 59_999, '30000', 10, '0.7', '14000', 0].join(','));
  }
  writeFileSync(join(arch, 'BTCUSDT-1m-2024-01.csv'), rows.join('\n') + '\n');
  writeFileSync(join(tmp.home, 'sim.yaml'), CONFIG);
  const a = atm('backtest', '--config', join(tmp.home, 'sim.yaml'), '--input', arch, '--save', 'first', '--json');
  expect(a.code).toBe(0);
  const s = JSON.parse(a.out.trimEnd().split('\n').pop()!);
  firstId = s.savedId;
  summary = s;
  expect(atm('backtest', '--config', join(tmp.home, 'sim.yaml'), '--input', arch, '--save', 'second').code).toBe(0);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('atm sim', () => {
  it('list shows both stored simulations, as a table and as JSON', () => {
    const table = atm('sim', 'list');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/first/);
    expect(table.out).toMatch(/second/);
    const json = JSON.parse(atm('sim', 'list', '--json').out);
    expect(json.map((r: { name: string }) => r.name)).toEqual(['first', 'second']);
    expect(json[0].id).toBe(firstId);
    expect(json[0].trades).toBe(summary.trades);
    expect(json[0].returnPct).toBeCloseTo(summary.returnPct, 9);
  });

  it('show by name and by id gives the stored summary and configuration', () => {
    const byName = JSON.parse(atm('sim', 'show', 'first', '--json').out);
    const byId = JSON.parse(atm('sim', 'show', String(firstId), '--json').out);
    expect(byName).toEqual(byId);
    expect(byName.summary.tradeListHash).toBe(summary.tradeListHash);
    expect(byName.config.positions[0].strategy.params).toEqual({ fast: 3, slow: 8 });
    const text = atm('sim', 'show', 'first');
    expect(text.out).toContain('sma-cross fast=3 slow=8');
  });

  it('an unknown simulation is one clear line, no stack trace', () => {
    const r = atm('sim', 'show', 'nope');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("no saved simulation 'nope'");
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('export writes the balance history with drawdown and the trades of the stored run', () => {
    const out = join(tmp.home, 'export');
    const r = atm('sim', 'export', 'first', '--out', out);
    expect(r.code).toBe(0);
    const balance = readFileSync(join(out, 'balance.csv'), 'utf8').trim().split('\n');
    expect(balance[0]).toBe('time_utc,time_ms,equity,drawdown_pct');
    const dd = balance.slice(1).map((l) => Number(l.split(',')[3]));
    expect(dd.length).toBeGreaterThan(10);
    expect(Math.min(...dd)).toBe(0);
    // the largest drawdown over the sampled balance cannot exceed the engine's (1m closes) figure
    expect(Math.max(...dd)).toBeLessThanOrEqual(summary.maxDrawdownPct + 1e-5);
    const trades = readFileSync(join(out, 'trades.csv'), 'utf8').trim().split('\n');
    expect(trades.length - 1).toBe(summary.trades);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).positions[0].symbol).toBe('BTCUSDT');
  });

  it('delete refuses without a terminal and without --yes, then deletes with --yes', () => {
    const refused = atm('sim', 'delete', 'second');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('--yes');
    expect(JSON.parse(atm('sim', 'list', '--json').out)).toHaveLength(2);
    const r = atm('sim', 'delete', 'second', '--yes');
    expect(r.code).toBe(0);
    const left = JSON.parse(atm('sim', 'list', '--json').out);
    expect(left.map((x: { name: string }) => x.name)).toEqual(['first']);
  });
});
