import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dec } from '../../../src/core/futures/decimal.js';
import { openTestApp } from '../../helpers/app.js';
import { MIN, T0, config, randomWalk, toStoreKlines } from './helpers.js';

// The app's backtests read funding rates and symbol rules from the stores (src/db), not defaults.
describe('backtest market inputs from the stores', () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  const cfg = config({
    account: { initialBalance: '10000' },
    positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'buy-and-hold' } }],
  });

  beforeAll(async () => {
    t = await openTestApp();
    t.parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(3 * 1440, 7)));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('without stored funding: no funding paid and fundingDataMissing; rules from the configuration', async () => {
    const r = await t.app.backtest.run(cfg, { inProcess: true });
    expect(r.summary.fundingDataMissing).toBe(true);
    expect(Number(r.summary.fundingFees)).toBe(0);
    expect(r.summary.rules.BTCUSDT.source).toBe('config');
  });

  it('with stored funding rates: a long pays them at the funding times', async () => {
    // every 8 h from T0 (00:00, 08:00, 16:00 UTC): 9 settlements in the 3 days
    const rows = Array.from({ length: 9 }, (_, i) => ({ time: T0 + i * 480 * MIN, rate: '0.0001' }));
    expect(t.parts.funding.insert('BTCUSDT', rows).inserted).toBe(9);
    const r = await t.app.backtest.run(cfg, { inProcess: true });
    expect(r.summary.fundingDataMissing).toBe(false);
    // a long pays positive rates: 8 settlements after the entry at the first kline's next open
    expect(Number(r.summary.fundingFees)).toBeGreaterThan(0);
    const worker = await t.app.backtest.run(cfg);
    expect(worker.summary.fundingFees).toBe(r.summary.fundingFees);
    // the position is still open at the end (no round trip): its result is the unrealised PnL after
    // the entry fee and the funding it paid, which is the account's whole result
    expect(r.summary.trades).toBe(0);
    expect(Number(r.summary.positionPnl.BTCUSDT)).not.toBe(0);
    expect(Dec.parse(r.summary.positionPnl.BTCUSDT).toString()).toBe(Dec.parse(r.summary.finalBalance).sub(r.summary.initialBalance).toString());
  });

  it('a symbol without stored or configured rules gets the default rules scaled to its price (source inferred)', async () => {
    // a $3.5 coin quoted to 0.001: BTCUSDT's default (tick 0.1, at most 1000 per order) would refuse every order
    t.parts.klines.insert('CHEAPUSDT', '1m', toStoreKlines(randomWalk(2 * 1440, 9, 3.5, T0, 3)));
    const cheap = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'CHEAPUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 5, slow: 30 } } }] });
    const r = await t.app.backtest.run(cheap, { inProcess: true });
    expect(r.summary.rules.CHEAPUSDT).toMatchObject({ source: 'inferred', tickSize: '0.001', stepSize: '0.001' });
    expect(r.summary.rejections).toBe(0);
    expect(r.summary.fills).toBeGreaterThan(10);
    // a position's own rules win, and say so
    const own = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'CHEAPUSDT', leverage: 2, strategy: { name: 'buy-and-hold' }, rules: { tickSize: '0.001', stepSize: '1' } }] });
    const o = await t.app.backtest.run(own, { inProcess: true });
    expect(o.summary.rules.CHEAPUSDT).toMatchObject({ source: 'config', stepSize: '1' });
  });
});
