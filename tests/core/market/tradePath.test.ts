import { describe, expect, it } from 'vitest';
import { DEFAULT_BRACKETS } from '../../../src/core/futures/accounting.js';
import { FuturesAccount } from '../../../src/core/futures/account.js';
import { FillSimulator, type VenueEvent } from '../../../src/core/futures/fills.js';
import type { DeepTrade } from '../../../src/core/market/deepCodec.js';
import { buildTradePaths } from '../../../src/core/market/tradePath.js';
import { testSymbol } from '../futures/helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const trade = (id: number, time: number, price: string): DeepTrade => ({ id, price, qty: '1', firstId: id, lastId: id, time, buyerMaker: false });

describe('intrabar paths from aggTrades', () => {
  it('keeps the open, the turning points of the trade prices and the close; klines without trades get none', () => {
    const k = { length: 3, openTime: Float64Array.from([T0, T0 + MIN, T0 + 2 * MIN]), open: Float64Array.from([100, 101, 99]), close: Float64Array.from([101, 99, 99]) };
    const prices = ['100.5', '102', '103', '103', '101', '98.5', '99', '101'];
    const trades = prices.map((p, i) => trade(i + 1, T0 + 1000 + i * 5000, p));
    trades.push(trade(100, T0 + 2 * MIN + 10, '99'));
    const paths = buildTradePaths(k, trades);
    expect(paths.klines).toBe(2);
    const path = (j: number) => [...paths.points.subarray(paths.offsets[j], paths.offsets[j + 1])];
    // 100 → up to 103 → down to 98.5 → up to 101 (the close equals the last trade)
    expect(path(0)).toEqual([100, 103, 98.5, 101]);
    expect(path(1)).toEqual([]);
    // one trade at the open price, close there too: a flat path
    expect(path(2)).toEqual([99, 99]);
  });

  it('decides a kline whose stop and take-profit both lie inside it by the trades, not the OHLC guess', () => {
    const run = (withTrades: boolean) => {
      const info = testSymbol('TESTUSDT', { tickSize: '0.01', minPrice: '0.01', minNotional: '5', marketMaxQty: '100000', maxQty: '100000' });
      const account = new FuturesAccount({ initialBalance: '10000' }, [{ info, brackets: DEFAULT_BRACKETS, leverage: 10, marginType: 'ISOLATED' }]);
      const events: VenueEvent[] = [];
      const sim = new FillSimulator(account, { slippageBps: 0 }, (e) => events.push(e));
      account.setMark(0, 100);
      sim.submit({ symbol: 'TESTUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
      sim.onKline(0, T0, 100, 100.5, 99.5, 100);
      sim.submit({ symbol: 'TESTUSDT', side: 'SELL', type: 'STOP_MARKET', stopPrice: '95', closePosition: true, tag: 'sl' });
      sim.submit({ symbol: 'TESTUSDT', side: 'SELL', type: 'TAKE_PROFIT_MARKET', stopPrice: '105', closePosition: true, tag: 'tp' });
      // open 100, high 106, low 94 (a tie: the OHLC path goes to the low first); the trades went up first
      const k = { length: 1, openTime: Float64Array.from([T0 + MIN]), open: Float64Array.from([100]), close: Float64Array.from([100]) };
      const paths = buildTradePaths(k, [trade(1, T0 + MIN + 100, '103'), trade(2, T0 + MIN + 200, '106'), trade(3, T0 + MIN + 300, '94'), trade(4, T0 + MIN + 400, '100')]);
      sim.onKline(0, T0 + MIN, 100, 106, 94, 100, withTrades ? paths.points.subarray(paths.offsets[0], paths.offsets[1]) : undefined);
      const exit = events.flatMap((e) => (e.type === 'fill' && e.tag ? [[e.tag, e.fill.price.toString()]] : []));
      return { exit, ambiguous: sim.ambiguousBars, alongTrades: sim.tradePathWalks };
    };
    expect(run(false)).toEqual({ exit: [['sl', '95']], ambiguous: 1, alongTrades: 0 });
    expect(run(true)).toEqual({ exit: [['tp', '105']], ambiguous: 0, alongTrades: 1 });
  });
});
