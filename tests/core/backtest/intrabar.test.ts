import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeepTrade } from '../../../src/core/market/deepCodec.js';
import { openTestApp } from '../../helpers/app.js';
import { MIN, T0, config, randomWalk, toStoreKlines } from './helpers.js';

/** Long every 10 klines when flat, with a stop and a take-profit 0.1 % away: both often inside one kline. */
const BRACKET = `import { defineStrategy, UNCHANGED } from 'atm/strategy';
export default defineStrategy({
  description: 'long with a tight stop and take-profit',
  params: {},
  create: ({ klines, position }) => {
    const out = { target: 1, stopLoss: NaN, takeProfit: NaN };
    return {
      onKline(i) {
        if (i % 10 !== 0 || position.target !== 0) return UNCHANGED;
        const c = klines.close.at(i);
        out.stopLoss = c * 0.999;
        out.takeProfit = c * 1.001;
        return out;
      },
    };
  },
});
`;

// Real parts: SQLite in a temp data directory, the simulation pool's worker threads (dist/: run `npm run build` first).
describe('backtests along stored aggTrades (intrabar: trades)', () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  const cfg = config({
    account: { initialBalance: '10000' },
    positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'bracket' } }],
  });
  const k = randomWalk(3000, 31);

  beforeAll(async () => {
    t = await openTestApp();
    mkdirSync(join(t.home, 'strategies'), { recursive: true });
    writeFileSync(join(t.home, 'strategies', 'bracket.ts'), BRACKET);
    t.parts.klines.insert('BTCUSDT', '1m', toStoreKlines(k));
    // klines 1000..1999 have trades: high first, then low, then the close (the OHLC path may guess otherwise)
    const trades: DeepTrade[] = [];
    let id = 1;
    for (let j = 1000; j < 2000; j++) {
      for (const [dt, price] of [[5_000, k.high[j]], [30_000, k.low[j]], [59_000, k.close[j]]] as const) {
        trades.push({ id, price: price.toFixed(1), qty: '0.010', firstId: id, lastId: id, time: k.openTime[j] + dt, buyerMaker: id % 2 === 0 });
        id++;
      }
    }
    t.parts.deep.insertTrades('BTCUSDT', trades);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('walks the klines that have trades along them, the same in the worker as in process', async () => {
    const ohlc = await t.app.backtest.run(cfg, { inProcess: true });
    expect(ohlc.summary.intrabarTrades).toBeUndefined();
    const local = await t.app.backtest.run(cfg, { inProcess: true, intrabar: 'trades' });
    const worker = await t.app.backtest.run(cfg, { intrabar: 'trades' });
    expect({ ...worker.summary, elapsedMs: 0 }).toEqual({ ...local.summary, elapsedMs: 0 });
    expect(local.summary.intrabarTrades?.klines).toBe(1000);
    expect(local.summary.intrabarTrades!.walked).toBeGreaterThan(0);
    expect(local.summary.intrabarTrades!.walked).toBeLessThanOrEqual(1000);
    // the trades go to the high first: where the OHLC path guessed the low first, the exits differ
    expect(ohlc.summary.ambiguousBars).toBeGreaterThan(local.summary.ambiguousBars);
    expect(local.summary.tradeListHash).not.toBe(ohlc.summary.tradeListHash);
    expect(local.summary.klines).toBe(ohlc.summary.klines);
  });

  it('refuses a range without stored trades, saying how to get them', async () => {
    await expect(t.app.backtest.run(cfg, { inProcess: true, intrabar: 'trades', to: T0 + 500 * MIN })).rejects.toThrow(/no aggTrades of BTCUSDT are stored in the range; record them \(market.collect.deep\) or import SYMBOL-aggTrades files/);
  });

  it('atm backtest names a bad --intrabar value in one line (exit status 2)', () => {
    const r = spawnSync(process.execPath, ['bin/atm.js', '--home', t.home, 'backtest', '--config', join(t.home, 'none.yaml'), '--intrabar', 'ticks'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--intrabar ticks: expected ohlc or trades');
  });
});
