import { describe, expect, it } from 'vitest';
import { BacktestCancelled, effectiveRatios, runBacktest } from '../../../src/core/backtest/engine.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { defineStrategy, UNCHANGED, type StrategyEvent, type StrategySpec } from '../../../src/core/strategy/types.js';
import { MIN, T0, builtins, config, engineInput, klinesFrom, klinesFromCloses, randomWalk, resolverWith } from './helpers.js';

const opts = { strategies: builtins };

describe('backtest engine: buy-and-hold against the closed form', () => {
  for (const leverage of [1, 3]) {
    it(`${leverage}x: entry at the second open with the fee reserved, equity marked to the last close`, () => {
      const k = randomWalk(3000, 7);
      const cfg = config({ account: { initialBalance: '10000', takerFeeRate: '0.0005' }, positions: [{ symbol: 'BTCUSDT', leverage, strategy: { name: 'buy-and-hold' } }] });
      const r = runBacktest(engineInput(cfg, [k]), opts);
      // decided on kline 0's close, filled at kline 1's open
      const px = Dec.fromNumber(k.open[1]);
      const lev = Dec.fromInt(leverage);
      const qty = Dec.parse('10000').mul(lev).div(px.mul(Dec.ONE.add(lev.mul('0.0005')))).floorTo('0.001');
      const fee = px.mul(qty).mul('0.0005');
      const last = Dec.fromNumber(k.close[k.length - 1]);
      const expected = Dec.parse('10000').sub(fee).add(qty.mul(last.sub(px)));
      expect(r.fills).toHaveLength(1);
      expect(r.fills[0]).toMatchObject({ time: T0 + MIN, side: 'BUY', type: 'MARKET', qty: qty.toString(), price: px.toString(), fee: fee.toString() });
      expect(r.summary.finalBalance).toBe(expected.toString());
      expect(r.summary.fees).toBe(fee.toString());
      expect(r.summary.trades).toBe(0);
      expect(r.summary.klines).toBe(3000);
      expect(r.summary.returnPct).toBeCloseTo((expected.toNumber() / 10000 - 1) * 100, 9);
      expect(r.summary.buyAndHoldReturnPct.BTCUSDT).toBeCloseTo((k.close[2999] / k.open[0] - 1) * 100, 9);
      // the balance history ends with the same equity (floats)
      expect(r.balance.equity[r.balance.equity.length - 1]).toBeCloseTo(expected.toNumber(), 6);
      expect(r.balance.time[r.balance.time.length - 1]).toBe(T0 + 3000 * MIN);
      expect(r.summary.exposurePct).toBeCloseTo((2999 / 3000) * 100, 9);
      expect(r.summary.fundingDataMissing).toBe(true);
      expect(r.summary.rules.BTCUSDT.source).toBe('default');
    });
  }
});

describe('backtest engine: sma-cross on a constructed series', () => {
  it('gives the hand-checked fill list (close the opposite part, then open the rest)', () => {
    const closes = [100, 100, 100, 101, 103, 106, 104, 102, 99, 98, 99, 100, 103].map((c) => c * 100);
    const k = klinesFromCloses(closes);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'sma-cross', params: { fast: 2, slow: 3 } } }] });
    const r = runBacktest(engineInput(cfg, [k]), opts);
    const at = (j: number) => T0 + j * MIN;
    expect(r.fills.map((f) => [f.time, f.side, f.qty, f.price, f.fee, f.realizedPnl, f.reason])).toEqual([
      [at(4), 'BUY', '0.989', '10100', '4.99445', '0', 'open'],
      [at(8), 'SELL', '0.989', '10200', '5.0439', '98.9', 'close'],
      [at(8), 'SELL', '0.988', '10200', '5.0388', '0', 'open'],
      [at(12), 'BUY', '0.988', '10000', '4.94', '197.6', 'close'],
      [at(12), 'BUY', '1.027', '10000', '5.135', '0', 'open'],
    ]);
    expect(r.summary.finalBalance).toBe('10579.44785');
    expect(r.trades.map((t) => [t.side, t.pnl, t.entryPrice, t.exitPrice])).toEqual([
      ['LONG', '88.86165', '10100', '10200'],
      ['SHORT', '187.6212', '10200', '10000'],
    ]);
    expect(r.summary.trades).toBe(2);
    expect(r.summary.winRatePct).toBe(100);
    expect(r.summary.profitFactor).toBeNull();
    expect(r.summary.expectancy).toBe('138.241425');
    expect(r.summary.fills).toBe(5);
  });
});

describe('backtest engine: account control', () => {
  it('serves three positions by priority when the assumed ratios add up to more than 100 %', () => {
    const cfg = config({
      account: { initialBalance: '30000' },
      positions: [
        { symbol: 'AAAUSDT', strategy: { name: 'buy-and-hold' }, control: { assumedRatio: 0.5, priority: 2 } },
        { symbol: 'BBBUSDT', strategy: { name: 'buy-and-hold' }, control: { assumedRatio: 0.4, priority: 0 } },
        { symbol: 'CCCUSDT', strategy: { name: 'buy-and-hold' }, control: { assumedRatio: 0.3, priority: 1, maxAllocatedBalance: '6000' } },
      ],
    });
    expect(effectiveRatios(cfg)).toEqual([0.3, 0.4, 0.3]);
    const ks = [randomWalk(100, 1, 1000), randomWalk(100, 2, 2000), randomWalk(100, 3, 500)];
    const r = runBacktest(engineInput(cfg, ks), opts);
    expect(r.fills).toHaveLength(3);
    const f = (x: number) => Dec.fromNumber(x);
    const qty = (alloc: Dec, open: number) => alloc.div(f(open).mul('1.0005')).floorTo('0.001').toString();
    // every position is sized at the same open from the same base (30000), before any of them fills
    expect(r.fills.map((x) => [x.symbol, x.qty])).toEqual([
      ['AAAUSDT', qty(Dec.parse('9000'), ks[0].open[1])],
      ['BBBUSDT', qty(Dec.parse('12000'), ks[1].open[1])],
      ['CCCUSDT', qty(Dec.parse('6000'), ks[2].open[1])],
    ]);
  });

  it('tells the strategy about a rejection (min notional, -4164) and counts it', () => {
    const events: StrategyEvent[] = [];
    const probe = defineStrategy({
      description: 'long once, records events', params: {},
      create: () => ({ onKline: (i) => (i === 0 ? 1 : UNCHANGED), onEvent: (e) => { events.push(e); } }),
    }) as StrategySpec;
    const cfg = config({ account: { initialBalance: '50' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'probe' } }] });
    const r = runBacktest(engineInput(cfg, [randomWalk(50, 3)]), { strategies: resolverWith({ probe }) });
    expect(r.fills).toHaveLength(0);
    expect(r.summary.rejections).toBe(1);
    expect(events).toEqual([expect.objectContaining({ kind: 'rejected', code: -4164, index: 0 })]);
    expect(r.summary.finalBalance).toBe('50');
    // a refused target is not retried on every kline: buy-and-hold asks for +1 each kline, refused once
    const again = runBacktest(engineInput(config({ ...cfg, positions: [{ ...cfg.positions[0], strategy: { name: 'buy-and-hold' } }] }), [randomWalk(50, 3)]), opts);
    expect(again.summary.rejections).toBe(1);
    expect(again.summary.rejectionCodes).toEqual({ '-4164': 1 });
  });
});

describe('backtest engine: liquidation, funding, intervals', () => {
  it('liquidates an isolated 10x long at the liquidation price and tells the strategy', () => {
    const events: StrategyEvent[] = [];
    const once = defineStrategy({ description: 'long once', params: {}, create: () => ({ onKline: (i) => (i === 0 ? 1 : UNCHANGED), onEvent: (e) => { events.push(e); } }) }) as StrategySpec;
    const closes = [20000, 20000, 19500, 19000, 18500, 18000, 17500, 17000];
    const k = klinesFromCloses(closes);
    const cfg = config({ account: { initialBalance: '1000', marginType: 'ISOLATED' }, positions: [{ symbol: 'BTCUSDT', leverage: 10, strategy: { name: 'once' } }] });
    const r = runBacktest(engineInput(cfg, [k]), { strategies: resolverWith({ once }) });
    expect(r.summary.liquidations).toBe(1);
    const entry = r.fills[0];
    const liq = r.fills.find((x) => x.type === 'LIQUIDATION')!;
    expect(liq).toBeDefined();
    // Binance's isolated LP: (WB + cum − pos × EP) / (pos × mmr − pos), WB = pos × EP / leverage
    const pos = Dec.parse(entry.qty);
    const ep = Dec.parse(entry.price);
    const wb = pos.mul(ep).div(Dec.fromInt(10));
    const lp = wb.sub(pos.mul(ep)).div(pos.mul('0.004').sub(pos));
    expect(liq.price).toBe(lp.toString());
    expect(events.map((e) => e.kind)).toEqual(['fill', 'liquidation']);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0].exitReason).toBe('liquidation');
  });

  it('pays funding at the funding times (mark = the open at or after it) and says when funding data is missing', () => {
    const k = randomWalk(600, 5);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'buy-and-hold' } }] });
    const times = [T0 + 100 * MIN + 30_000, T0 + 400 * MIN];
    const rates = ['0.0001', '-0.0003'];
    const r = runBacktest(engineInput(cfg, [k], [{ times, rates }]), opts);
    const qty = Dec.parse(r.fills[0].qty);
    // the first time falls inside a minute: the mark is the next kline's open
    const pay = qty.mul(Dec.fromNumber(k.open[101])).mul('0.0001').add(qty.mul(Dec.fromNumber(k.open[400])).mul('-0.0003'));
    expect(r.summary.fundingFees).toBe(pay.toString());
    expect(r.summary.fundingDataMissing).toBe(false);
    const without = runBacktest(engineInput(cfg, [k]), opts);
    expect(without.summary.fundingDataMissing).toBe(true);
    expect(without.summary.fundingFees).toBe('0');
    expect(Dec.parse(without.summary.finalBalance).sub(pay).toString()).toBe(r.summary.finalBalance);
  });

  it('runs a 15m strategy over 1m klines: it sees closed 15m klines and its orders fill at the next 1m open', () => {
    const seen: { i: number; time: number; close: number }[] = [];
    const probe = defineStrategy({
      description: 'long on the second 15m kline', params: {},
      create: () => ({ onKline: (i, k) => { seen.push({ i, time: k.openTime.at(i), close: k.close.at(i) }); return i === 1 ? 1 : UNCHANGED; } }),
    }) as StrategySpec;
    const k = randomWalk(15 * 4 + 7, 9);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', interval: '15m', strategy: { name: 'probe' } }] });
    const r = runBacktest(engineInput(cfg, [k]), { strategies: resolverWith({ probe }) });
    // four complete 15m klines; the partial fifth is never shown
    expect(seen.map((s) => s.i)).toEqual([0, 1, 2, 3]);
    expect(seen.map((s) => s.time)).toEqual([0, 1, 2, 3].map((b) => T0 + b * 15 * MIN));
    expect(seen.map((s) => s.close)).toEqual([14, 29, 44, 59].map((j) => k.close[j]));
    expect(r.fills).toHaveLength(1);
    expect(r.fills[0].time).toBe(T0 + 30 * MIN);
    expect(r.fills[0].price).toBe(Dec.fromNumber(k.open[30]).toString());
  });

  it('applies stop-loss and take-profit as closePosition orders and sets the target to 0 after one fires', () => {
    const events: StrategyEvent[] = [];
    const withStops = defineStrategy({
      description: 'long with a stop', params: {},
      create: () => {
        const out = { target: 1 as number | 'unchanged', stopLoss: 19_800, takeProfit: 21_000 };
        return { onKline: (i) => (i === 0 ? out : UNCHANGED), onEvent: (e) => { events.push(e); } };
      },
    }) as StrategySpec;
    const k = klinesFrom([20000, 20000, 19950, 19900], [20000, 19950, 19900, 19850], T0, { low: [20000, 19900, 19700, 19800] });
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'stops' } }] });
    const r = runBacktest(engineInput(cfg, [k]), { strategies: resolverWith({ stops: withStops }) });
    expect(r.fills.map((f) => [f.type, f.price, f.reason])).toEqual([['MARKET', '20000', 'open'], ['STOP_MARKET', '19800', 'stopLoss']]);
    expect(events.map((e) => e.kind)).toEqual(['fill', 'stopLoss']);
    expect(r.trades[0].exitReason).toBe('stopLoss');
  });
});

describe('backtest engine: determinism and control', () => {
  it('gives the same tradeListHash for the same run twice, another for other parameters', () => {
    const k = randomWalk(20_000, 11);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } } }] });
    const a = runBacktest(engineInput(cfg, [k]), opts);
    const b = runBacktest(engineInput(cfg, [k]), opts);
    expect(a.summary.fills).toBeGreaterThan(10);
    expect(b.summary.tradeListHash).toBe(a.summary.tradeListHash);
    expect(b.summary.finalBalance).toBe(a.summary.finalBalance);
    const other = config({ ...cfg, positions: [{ ...cfg.positions[0], strategy: { name: 'sma-cross', params: { fast: 6, slow: 20 } } }] });
    expect(runBacktest(engineInput(other, [k]), opts).summary.tradeListHash).not.toBe(a.summary.tradeListHash);
  });

  it('advances positions on several symbols in time order and bounds the balance history', () => {
    const ks = [randomWalk(5000, 1), randomWalk(4000, 2, 1000, T0 + 500 * MIN)];
    const cfg = config({
      account: { initialBalance: '10000' },
      positions: [
        { symbol: 'AAAUSDT', strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } }, control: { assumedRatio: 0.5 } },
        { symbol: 'BBBUSDT', strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } }, control: { assumedRatio: 0.5 } },
      ],
    });
    const r = runBacktest(engineInput(cfg, ks), { ...opts, balancePoints: 100 });
    for (let i = 1; i < r.fills.length; i++) expect(r.fills[i].time).toBeGreaterThanOrEqual(r.fills[i - 1].time);
    expect(new Set(r.fills.map((f) => f.symbol))).toEqual(new Set(['AAAUSDT', 'BBBUSDT']));
    expect(r.balance.time.length).toBeLessThanOrEqual(101);
    expect(r.summary.klines).toBe(9000);
  });

  it('stops when asked (cancellation checked between chunks) and reports progress', () => {
    const k = randomWalk(200_000, 4);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'buy-and-hold' } }] });
    const progress: number[] = [];
    let checks = 0;
    expect(() => runBacktest(engineInput(cfg, [k]), { ...opts, onProgress: (d) => progress.push(d), shouldStop: () => ++checks >= 2 })).toThrow(BacktestCancelled);
    expect(checks).toBe(2);
    const done: number[] = [];
    runBacktest(engineInput(cfg, [k]), { ...opts, onProgress: (d, total) => done.push(d / total) });
    expect(done[done.length - 1]).toBe(1);
  });
});
