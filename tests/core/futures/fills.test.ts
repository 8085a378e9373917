import { describe, expect, it } from 'vitest';
import { DEFAULT_BRACKETS } from '../../../src/core/futures/accounting.js';
import { FuturesAccount, type MarginType } from '../../../src/core/futures/account.js';
import { FillSimulator, intrabarPath, type OrderRequest, type VenueEvent } from '../../../src/core/futures/fills.js';
import { testSymbol } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

/** A TESTUSDT venue: tick 0.01, step 0.001, min notional 5; `mark` is the last close before the first kline. */
function venue(opts: { balance?: string; leverage?: number; marginType?: MarginType; slippageBps?: number; mark?: number } = {}) {
  const info = testSymbol('TESTUSDT', { tickSize: '0.01', minPrice: '0.01', minNotional: '5', marketMaxQty: '100000', maxQty: '100000' });
  const account = new FuturesAccount({ initialBalance: opts.balance ?? '10000' }, [
    { info, brackets: DEFAULT_BRACKETS, leverage: opts.leverage ?? 10, marginType: opts.marginType ?? 'ISOLATED' },
  ]);
  const events: VenueEvent[] = [];
  const sim = new FillSimulator(account, { slippageBps: opts.slippageBps ?? 0 }, (e) => events.push(e));
  account.setMark(0, opts.mark ?? 100);
  let t = T0;
  const kline = (open: number, high: number, low: number, close: number) => {
    sim.onKline(0, t, open, high, low, close);
    t += MIN;
  };
  const submit = (req: Omit<OrderRequest, 'symbol'>) => {
    const r = sim.submit({ symbol: 'TESTUSDT', ...req });
    if (!('orderId' in r)) throw new Error(`rejected: ${r.code} ${r.msg}`);
    return r.orderId;
  };
  /** [kind, side, price, fee, realised] of every fill so far, liquidations included. */
  const fills = () => events.flatMap((e) => {
    const list = e.type === 'fill' ? [e.fill] : e.type === 'liquidation' ? e.fills : [];
    return list.map((f) => [f.kind, f.side, f.price.toString(), f.fee.toString(), f.realizedPnl.toString()]);
  });
  return { account, sim, events, kline, submit, fills };
}

describe('the intrabar path', () => {
  it('goes open → the extreme nearer the open → the other extreme → close; a tie goes low first', () => {
    // high − open = 10 > open − low = 5 → low first
    expect(intrabarPath(100, 110, 95, 105)).toEqual([100, 95, 110, 105]);
    // high − open = 3 < open − low = 10 → high first
    expect(intrabarPath(100, 103, 90, 95)).toEqual([100, 103, 90, 95]);
    expect(intrabarPath(100, 105, 95, 100)).toEqual([100, 95, 105, 100]);
  });
});

describe('market orders', () => {
  it('fill at the next open plus slippage against the taker, rounded to the tick against the taker', () => {
    const v = venue({ slippageBps: 10, leverage: 5 });
    v.submit({ side: 'BUY', type: 'MARKET', quantity: '1' });
    // 100.05 × (1 + 0.001) = 100.15005 → up to the tick 0.01: 100.16; taker fee 100.16 × 0.0005 = 0.05008
    v.kline(100.05, 100.2, 99.9, 100);
    v.submit({ side: 'SELL', type: 'MARKET', quantity: '1' });
    // 100.05 × (1 − 0.001) = 99.94995 → down to 99.94; realised 99.94 − 100.16 = −0.22
    v.kline(100.05, 100.2, 99.9, 100);
    expect(v.fills()).toEqual([['TRADE', 'BUY', '100.16', '0.05008', '0'], ['TRADE', 'SELL', '99.94', '0.04997', '-0.22']]);
  });
});

describe('limit orders fill only when the price trades through them', () => {
  it('a touch does not fill; going through fills at the limit price with the maker fee', () => {
    const v = venue({ leverage: 5 });
    v.submit({ side: 'BUY', type: 'LIMIT', price: '95', quantity: '1' });
    v.kline(100, 101, 95, 96); // low == 95: a touch
    expect(v.fills()).toEqual([]);
    v.kline(96, 97, 94.99, 95.5); // through
    // maker fee 95 × 0.0002 = 0.019
    expect(v.fills()).toEqual([['TRADE', 'BUY', '95', '0.019', '0']]);
    v.submit({ side: 'SELL', type: 'LIMIT', price: '97', quantity: '1', reduceOnly: true });
    v.kline(95.5, 97, 95, 96.5); // high == 97: a touch
    v.kline(96.5, 97.01, 96, 97); // through: realised 97 − 95 = 2
    expect(v.fills()[1]).toEqual(['TRADE', 'SELL', '97', '0.0194', '2']);
  });

  it('a resting limit reached by a gap fills at its own price', () => {
    const v = venue({ leverage: 5 });
    v.submit({ side: 'BUY', type: 'LIMIT', price: '95', quantity: '1' });
    v.kline(100, 101, 99, 100); // rests
    v.kline(90, 91, 89, 90); // opens below it
    expect(v.fills()).toEqual([['TRADE', 'BUY', '95', '0.019', '0']]);
  });

  it('a limit marketable at the next open takes there (taker fee); a post-only one expires', () => {
    const v = venue({ leverage: 5 });
    v.submit({ side: 'BUY', type: 'LIMIT', price: '101', quantity: '1' });
    // placed after a close of 100, the kline opens at 100.5 < 101: fills at 100.5, taker fee 0.05025
    v.kline(100.5, 101, 100, 100.8);
    expect(v.fills()).toEqual([['TRADE', 'BUY', '100.5', '0.05025', '0']]);
    const orderId = v.submit({ side: 'SELL', type: 'LIMIT', price: '100.9', quantity: '1', postOnly: true, reduceOnly: true });
    v.kline(101, 101.5, 100.7, 101); // would take at the open 101 > 100.9
    expect(v.events.at(-1)).toEqual({ type: 'rejected', orderId, code: -5022, msg: expect.stringContaining('Post Only') as unknown as string, tag: undefined });
    expect(v.sim.submit({ symbol: 'TESTUSDT', side: 'BUY', type: 'LIMIT', price: '102', quantity: '1', postOnly: true })).toMatchObject({ code: -5022 });
  });

  it('events after a fill in the same kline: an entry limit, then its stop further along the leg', () => {
    const v = venue({ leverage: 5 });
    v.submit({ side: 'BUY', type: 'LIMIT', price: '95', quantity: '1' });
    v.submit({ side: 'SELL', type: 'STOP_MARKET', stopPrice: '93', closePosition: true });
    v.kline(100, 100.5, 92, 94); // falls through 95 (buy), then to 93 (stop)
    expect(v.fills()).toEqual([['TRADE', 'BUY', '95', '0.019', '0'], ['TRADE', 'SELL', '93', '0.0465', '-2']]);
  });
});

describe('stops and take-profits', () => {
  function longWithBracket(slippageBps = 0) {
    const v = venue({ leverage: 5, slippageBps });
    v.submit({ side: 'BUY', type: 'MARKET', quantity: '1' });
    v.kline(100, 100, 100, 100);
    v.submit({ side: 'SELL', type: 'STOP_MARKET', stopPrice: '95', closePosition: true, tag: 'sl' });
    v.submit({ side: 'SELL', type: 'TAKE_PROFIT_MARKET', stopPrice: '105', closePosition: true, tag: 'tp' });
    return v;
  }

  it('both reachable, high nearer the open: the take-profit fires, the bar is ambiguous, the stop is cancelled', () => {
    const v = longWithBracket();
    v.kline(101, 106, 94, 100); // high − open = 5 < open − low = 7 → high first
    expect(v.sim.ambiguousBars).toBe(1);
    expect(v.fills().slice(1)).toEqual([['TRADE', 'SELL', '105', '0.0525', '5']]);
    expect(v.events.filter((e) => e.type === 'canceled').map((e) => e.type === 'canceled' && e.tag)).toEqual(['sl']);
    expect(v.sim.openOrders('TESTUSDT')).toEqual([]);
  });

  it('both reachable, low nearer the open: the stop fires with slippage', () => {
    const v = longWithBracket(10);
    v.kline(99, 106, 94, 100); // open − low = 5 < high − open = 7 → low first
    expect(v.sim.ambiguousBars).toBe(1);
    // entry 100 × 1.001 = 100.1; stop 95 × 0.999 = 94.905 → down to the tick: 94.9; realised 94.9 − 100.1 = −5.2
    expect(v.fills().slice(1)).toEqual([['TRADE', 'SELL', '94.9', '0.04745', '-5.2']]);
  });

  it('a short’s bracket: buy stop above, buy take-profit below; the low nearer the open takes profit', () => {
    const v = venue({ leverage: 5 });
    v.submit({ side: 'SELL', type: 'MARKET', quantity: '1' });
    v.kline(100, 100, 100, 100);
    v.submit({ side: 'BUY', type: 'STOP_MARKET', stopPrice: '104', closePosition: true });
    v.submit({ side: 'BUY', type: 'TAKE_PROFIT_MARKET', stopPrice: '97', closePosition: true });
    v.kline(99, 105, 96, 100); // open − low = 3 < high − open = 6 → low first: take-profit at 97
    expect(v.sim.ambiguousBars).toBe(1);
    // realised −1 × (97 − 100) = 3
    expect(v.fills().slice(1)).toEqual([['TRADE', 'BUY', '97', '0.0485', '3']]);
  });

  it('only one reachable: not ambiguous', () => {
    const v = longWithBracket();
    v.kline(100, 104, 94.5, 95.5);
    expect(v.sim.ambiguousBars).toBe(0);
    expect(v.fills().slice(1)).toEqual([['TRADE', 'SELL', '95', '0.0475', '-5']]);
  });

  it('a gap through the stop fills at the open', () => {
    const v = longWithBracket();
    v.kline(90, 91, 89, 90.5);
    expect(v.fills().slice(1)).toEqual([['TRADE', 'SELL', '90', '0.045', '-10']]);
    expect(v.sim.ambiguousBars).toBe(0);
  });
});

describe('liquidation on the same path', () => {
  // 10 long at 100, 10x isolated: wallet 100, tier 1 (mmr 0.4 %, cum 0)
  // LP = (100 + 0 − 1,000) / (10 × 0.004 − 10) = −900 / −9.96 = 90.361445783132530120
  function leveraged() {
    const v = venue({ leverage: 10 });
    v.submit({ side: 'BUY', type: 'MARKET', quantity: '10' });
    v.kline(100, 100, 100, 100);
    v.submit({ side: 'SELL', type: 'TAKE_PROFIT_MARKET', stopPrice: '108', closePosition: true });
    expect(v.account.liquidationPrice(0)!.toString()).toBe('90.36144578313253012');
    return v;
  }
  it('the take-profit comes first on the path: no liquidation although the low is past the LP', () => {
    const v = leveraged();
    v.kline(101, 109, 89, 95); // high first (8 < 12)
    expect(v.fills().slice(1)).toEqual([['TRADE', 'SELL', '108', '0.54', '80']]);
    expect(v.account.liquidations).toBe(0);
  });
  it('the low comes first: liquidated at the LP, the take-profit cancelled', () => {
    const v = leveraged();
    v.kline(98, 109, 89, 95); // low first (9 < 11)
    // realised 10 × (90.36144578313253012 − 100) = −96.3855421686746988; fee = min(903.6 × 1.25 %, 3.6144…) = 3.6144…
    expect(v.fills().slice(1)).toEqual([['LIQUIDATION', 'SELL', '90.36144578313253012', '3.6144578313253012', '-96.3855421686746988']]);
    expect(v.account.liquidations).toBe(1);
    expect(v.sim.openOrders('TESTUSDT')).toEqual([]);
    // 10,000 − 0.5 fee − 100 margin
    expect(v.account.wallet.toString()).toBe('9899.5');
  });
});

describe('the quiet kline', () => {
  it('leaves everything but the mark untouched', () => {
    const v = venue({ leverage: 10 });
    v.submit({ side: 'BUY', type: 'MARKET', quantity: '10' });
    v.kline(100, 100, 100, 100);
    const wallet = v.account.wallet;
    for (let k = 0; k < 100; k++) v.kline(100, 101, 99, 100 + (k % 3) - 1);
    v.kline(99, 100.5, 98.5, 100);
    expect(v.account.wallet.eq(wallet)).toBe(true);
    expect(v.account.marks[0]).toBe(100);
    // equity = 10,000 − 0.5 + 10 × (100 − 100)
    expect(v.account.equityFloat()).toBe(9999.5);
  });
});
