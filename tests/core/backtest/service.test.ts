import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacktestCancelled } from '../../../src/core/backtest/engine.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { openTestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';
import { MIN, T0, config, randomWalk, toStoreKlines } from './helpers.js';

// Real parts: SQLite in a temp data directory, the simulation pool's worker threads (dist/: run `npm run build` first).
describe('BacktestService (app.backtest) with a real worker and SQLite', () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  const cfg = config({
    account: { initialBalance: '10000', slippageBps: 1 },
    positions: [
      { symbol: 'BTCUSDT', interval: '5m', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } }, control: { assumedRatio: 0.6 } },
      { symbol: 'ETHUSDT', leverage: 3, strategy: { name: 'buy-and-hold' }, control: { assumedRatio: 0.6, priority: 1 } },
    ],
  });

  beforeAll(async () => {
    t = await openTestApp();
    t.parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(30_000, 21)));
    t.parts.klines.insert('ETHUSDT', '1m', toStoreKlines(randomWalk(20_000, 22, 2000, T0 + 1000 * MIN)));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('gives the same result in the worker as in process, with progress', async () => {
    const progress: number[] = [];
    const worker = await t.app.backtest.run(cfg, { onProgress: (d, total) => progress.push(d / total) });
    const local = await t.app.backtest.run(cfg, { inProcess: true });
    expect(worker.summary.fills).toBeGreaterThan(20);
    expect(worker.summary.tradeListHash).toBe(local.summary.tradeListHash);
    expect({ ...worker.summary, elapsedMs: 0 }).toEqual({ ...local.summary, elapsedMs: 0 });
    expect(worker.fills).toEqual(local.fills);
    expect(Array.from(worker.balance.equity)).toEqual(Array.from(local.balance.equity));
    expect(progress[progress.length - 1]).toBe(1);
    expect(worker.summary.klines).toBe(50_000);
    // each position's own result; together they are the account's result
    const pnl = worker.summary.positionPnl;
    expect(Object.keys(pnl).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const sum = Dec.parse(pnl.BTCUSDT).add(pnl.ETHUSDT);
    expect(sum.toString()).toBe(Dec.parse(worker.summary.finalBalance).sub(worker.summary.initialBalance).toString());
  });

  it('loads a range only (--from/--to)', async () => {
    const r = await t.app.backtest.run(cfg, { from: T0 + 2000 * MIN, to: T0 + 9999 * MIN, inProcess: true });
    expect(r.summary.from).toBe(T0 + 2000 * MIN);
    expect(r.summary.klines).toBe(8000 * 2);
  });

  it('saves a finished run in the simulations tables', async () => {
    const r = await t.app.backtest.run(cfg);
    const id = t.app.backtest.save(r, cfg, 'first');
    const saved = t.app.backtest.savedOne(id)!;
    expect(saved.simulation).toMatchObject({ id, name: 'first', state: 'finished' });
    expect(saved.summary.tradeListHash).toBe(r.summary.tradeListHash);
    expect(saved.config).toEqual(cfg);
    expect(saved.fills).toBe(r.fills.length);
    expect(saved.balancePoints).toBe(r.balance.time.length);
  });

  it('stops a cancelled run in the worker and saves nothing', async () => {
    const before = t.app.backtest.saved().length;
    const ctrl = new AbortController();
    const running = t.app.backtest.run(cfg, { signal: ctrl.signal });
    ctrl.abort();
    await expect(running).rejects.toBeInstanceOf(BacktestCancelled);
    expect(t.app.backtest.saved()).toHaveLength(before);
    const count = t.parts.db.sqlite.prepare('SELECT COUNT(*) AS n FROM trade_logs').get() as { n: number };
    expect(count.n).toBe(t.app.backtest.savedOne(before)!.fills);
  });

  it('a worker that dies mid-run fails that run alone; the pool carries on and the next run succeeds', async () => {
    const before = t.app.backtest.saved().length;
    const progress: number[] = [];
    const running = t.app.backtest.run(cfg, { onProgress: (d) => progress.push(d) });
    // the run's thread ends under it (as a crash or an out-of-memory kill would)
    const pool = t.parts.pools.simulation;
    await waitFor(() => pool.stats().running > 0, 10_000, 'the run to start in a worker');
    for (let slot = 0; slot < pool.size; slot++) await pool.restart(slot);
    await expect(running).rejects.toThrow();
    expect(t.app.backtest.saved()).toHaveLength(before);
    const again = await t.app.backtest.run(cfg);
    expect(again.summary.klines).toBe(50_000);
  });

  it('names a symbol without klines in one line', async () => {
    const bad = config({ account: { initialBalance: '100' }, positions: [{ symbol: 'XRPUSDT', strategy: { name: 'buy-and-hold' } }] });
    await expect(t.app.backtest.run(bad)).rejects.toThrow(/no 1m klines of XRPUSDT/);
  });
});
