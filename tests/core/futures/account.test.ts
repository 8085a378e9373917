import { describe, expect, it } from 'vitest';
import { DEFAULT_BRACKETS, buildBrackets } from '../../../src/core/futures/accounting.js';
import { FuturesAccount, type Fill, type SymbolSetup } from '../../../src/core/futures/account.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { FillSimulator, type VenueEvent } from '../../../src/core/futures/fills.js';
import { testSymbol } from './helpers.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function setup(symbol: string, leverage: number, marginType: 'ISOLATED' | 'CROSSED', over: Partial<SymbolSetup> = {}): SymbolSetup {
  return { info: testSymbol(symbol), brackets: DEFAULT_BRACKETS, leverage, marginType, ...over };
}

function venue(balance: string, setups: SymbolSetup[], slippageBps = 0) {
  const account = new FuturesAccount({ initialBalance: balance }, setups);
  const events: VenueEvent[] = [];
  const sim = new FillSimulator(account, { slippageBps }, (e) => events.push(e));
  return { account, sim, events };
}

function liquidationFills(events: VenueEvent[]): Fill[] {
  return events.flatMap((e) => (e.type === 'liquidation' ? e.fills : []));
}

describe('buy-and-hold equals the closed form', () => {
  // closed form: equity = balance − qty × entry × takerRate + qty × (close − entry)
  for (const leverage of [1, 3]) {
    it(`at ${leverage}x`, () => {
      const { account, sim, events } = venue('10000', [setup('BTCUSDT', leverage, 'CROSSED', { info: testSymbol('BTCUSDT', { marketMaxQty: '10000' }) })]);
      const i = account.index('BTCUSDT');
      account.setMark(i, 100);
      const qty = 99 * leverage; // 99 × 100 = 9,900 per 1x; IM 9,900 + fee 4.95·L ≤ 10,000
      expect(sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: String(qty) })).toEqual({ orderId: 1 });
      const closes = [100, 104, 97, 111, 120];
      sim.onKline(i, T0, 100, 101, 99, closes[0]);
      for (let k = 1; k < closes.length; k++) sim.onKline(i, T0 + k * 60_000, closes[k - 1], Math.max(closes[k - 1], closes[k]) + 1, Math.min(closes[k - 1], closes[k]) - 1, closes[k]);
      const fills = events.filter((e) => e.type === 'fill');
      expect(fills).toHaveLength(1);
      // 1x: 10,000 − 99 × 100 × 0.0005 + 99 × (120 − 100) = 10,000 − 4.95 + 1,980 = 11,975.05
      // 3x: 10,000 − 297 × 100 × 0.0005 + 297 × 20 = 10,000 − 14.85 + 5,940 = 15,925.15
      const expected = leverage === 1 ? '11975.05' : '15925.15';
      expect(account.view().equity.toString()).toBe(expected);
      expect(account.equityFloat()).toBeCloseTo(Number(expected), 9);
      expect(account.wallet.toString()).toBe(leverage === 1 ? '9995.05' : '9985.15');
      // available = wallet + uPnL − IM at mark: 1x 9,995.05 + 1,980 − 99 × 120 = 95.05
      if (leverage === 1) expect(account.view().available.toString()).toBe('95.05');
    });
  }
});

describe('fills: entry averaging, partial close, flip, fees', () => {
  it('averages the entry, realises PnL on reduce, flips at the fill price', () => {
    const { account } = venue('10000', [setup('BTCUSDT', 10, 'CROSSED')]);
    // buy 1 @ 100, buy 3 @ 120 → entry (100 + 360) / 4 = 115
    account.fill(0, 'BUY', Dec.parse('1'), Dec.parse('100'), false, 1);
    const add = account.fill(0, 'BUY', Dec.parse('3'), Dec.parse('120'), true, 2);
    expect(account.entryPrice(0).toString()).toBe('115');
    expect(add.fee.toString()).toBe('0.072'); // maker 3 × 120 × 0.0002
    // sell 1 @ 125: realised 1 × (125 − 115) = 10, entry unchanged, 3 left
    const part = account.fill(0, 'SELL', Dec.parse('1'), Dec.parse('125'), false, 3);
    expect(part.realizedPnl.toString()).toBe('10');
    expect(account.positionAmt(0).toString()).toBe('3');
    expect(account.entryPrice(0).toString()).toBe('115');
    // sell 5 @ 110: closes 3 → realised 3 × (110 − 115) = −15; flips to −2 at 110
    const flip = account.fill(0, 'SELL', Dec.parse('5'), Dec.parse('110'), false, 4);
    expect(flip.realizedPnl.toString()).toBe('-15');
    expect(flip.positionAfter.toString()).toBe('-2');
    expect(account.entryPrice(0).toString()).toBe('110');
    // buy 2 @ 100 closes the short: realised −2 × (100 − 110) = +20
    expect(account.fill(0, 'BUY', Dec.parse('2'), Dec.parse('100'), false, 5).realizedPnl.toString()).toBe('20');
    // wallet: 10,000 + 10 − 15 + 20 − fees (0.05 + 0.072 + 0.0625 + 0.275 + 0.1) = 10,014.4405
    expect(account.wallet.toString()).toBe('10014.4405');
    expect(account.positionAmt(0).isZero()).toBe(true);
  });

  it('isolated: opening moves IM into the isolated wallet, reducing releases its fraction', () => {
    const { account } = venue('1000', [setup('BTCUSDT', 5, 'ISOLATED')]);
    account.fill(0, 'BUY', Dec.parse('2'), Dec.parse('100'), false, 1); // IM 2 × 100 / 5 = 40
    expect(account.isolatedWallet(0).toString()).toBe('40');
    account.setMark(0, 90);
    const v = account.view();
    // cross wallet = 1,000 − 0.1 fee − 40 = 959.9; uPnL 2 × (90 − 100) = −20 (isolated: not in available)
    expect(v.crossWallet.toString()).toBe('959.9');
    expect(v.available.toString()).toBe('959.9');
    expect(v.equity.toString()).toBe('979.9');
    account.fill(0, 'SELL', Dec.parse('0.5'), Dec.parse('90'), false, 2); // releases 40 × 0.5 / 2 = 10
    expect(account.isolatedWallet(0).toString()).toBe('30');
    // wallet 999.9 − 5 realised − 0.0225 fee = 994.8775
    expect(account.wallet.toString()).toBe('994.8775');
  });
});

describe('liquidation at Binance’s price, with the clearance fee', () => {
  it('isolated long, 10x, tier 2 at LP: LP = (WB + cum − pos·EP)/(pos·mmr − pos)', () => {
    const { account, sim, events } = venue('10000', [setup('BTCUSDT', 10, 'ISOLATED')]);
    account.setMark(0, 60000);
    sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    sim.onKline(0, T0, 60000, 60050, 59950, 60000); // fee 30, isolated wallet 6,000
    // LP = (6,000 + 50 − 60,000) / (0.005 − 1) = 54,221.105527638190954773 (notional 54k → tier 2)
    expect(account.liquidationPrice(0)!.toString()).toBe('54221.105527638190954773');
    sim.onKline(0, T0 + 60_000, 60000, 60100, 54300, 55000); // low above LP: nothing
    expect(account.positionAmt(0).toString()).toBe('1');
    sim.onKline(0, T0 + 120_000, 55000, 55100, 54000, 54500);
    const [liq] = liquidationFills(events);
    expect(liq.price.toString()).toBe('54221.105527638190954773');
    // realised 1 × (LP − 60,000) = −5,778.894472361809045227; what is left is MM(LP) = 221.105527638190954773;
    // clearance fee = min(54,221.1 × 1.25 % = 677.76, 221.1055…) = 221.105527638190954773
    expect(liq.realizedPnl.toString()).toBe('-5778.894472361809045227');
    expect(liq.fee.toString()).toBe('221.105527638190954773');
    // so the whole isolated margin is lost: 10,000 − 30 − 6,000 = 3,970
    expect(account.wallet.toString()).toBe('3970');
    expect(account.liquidations).toBe(1);
  });

  it('isolated long in a high-MMR tier: the clearance fee is below what is left, the rest returns', () => {
    // tiers: [0, 10k) mmr 2 % max 20x; [10k, ∞) mmr 5 % max 10x; cum₂ = 10,000 × (0.05 − 0.02) = 300
    const brackets = buildBrackets([{ floor: 0, maintMarginRatio: '0.02', initialLeverage: 20 }, { floor: 10_000, maintMarginRatio: '0.05', initialLeverage: 10 }]);
    const { account, sim, events } = venue('10000', [setup('XUSDT', 5, 'ISOLATED', { brackets })]);
    account.setMark(0, 20000);
    sim.submit({ symbol: 'XUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    sim.onKline(0, T0, 20000, 20010, 19990, 20000); // fee 10, isolated wallet 4,000
    // LP = (4,000 + 300 − 20,000) / (0.05 − 1) = 16,526.315789473684210526 (tier 2 at LP)
    sim.onKline(0, T0 + 60_000, 20000, 20000, 16000, 16200);
    const [liq] = liquidationFills(events);
    expect(liq.price.toString()).toBe('16526.315789473684210526');
    // left = MM(LP) = 16,526.3157… × 0.05 − 300 = 526.315789473684210526
    // fee = 16,526.3157… × 0.0125 = 206.578947368421052631 (< left)
    expect(liq.fee.toString()).toBe('206.578947368421052631');
    // wallet = 10,000 − 10 − 4,000 + 526.315789473684210526 − 206.578947368421052631
    expect(account.wallet.toString()).toBe('6309.736842105263157895');
  });

  it('isolated short, 20x, tier 1: LP = (WB + cum + pos·EP)/(pos·mmr + pos)', () => {
    const { account, sim, events } = venue('1000', [setup('ETHUSDT', 20, 'ISOLATED')]);
    account.setMark(0, 3000);
    sim.submit({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.1' });
    sim.onKline(0, T0, 3000, 3001, 2999, 3000); // isolated wallet 0.1 × 3,000 / 20 = 15
    // LP = (15 + 0 + 300) / (0.1 × 0.004 + 0.1) = 315 / 0.1004 = 3,137.450199203187250996
    expect(account.liquidationPrice(0)!.toString()).toBe('3137.450199203187250996');
    sim.onKline(0, T0 + 60_000, 3000, 3137.4, 2990, 3100); // high just below LP
    expect(account.positionAmt(0).toString()).toBe('-0.1');
    sim.onKline(0, T0 + 120_000, 3100, 3150, 3090, 3140);
    const [liq] = liquidationFills(events);
    expect(liq.side).toBe('BUY');
    expect(liq.price.toString()).toBe('3137.450199203187250996');
    // 15 of margin lost: 1,000 − 0.15 fee − 15 = 984.85
    expect(account.wallet.toString()).toBe('984.85');
  });

  it('a kline that opens past the LP liquidates at the open; the insurance fund covers the excess', () => {
    const { account, sim, events } = venue('10000', [setup('BTCUSDT', 10, 'ISOLATED')]);
    account.setMark(0, 60000);
    sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    sim.onKline(0, T0, 60000, 60050, 59950, 60000);
    sim.onKline(0, T0 + 60_000, 50000, 50100, 49000, 49500); // gap below LP 54,221.1
    const [liq] = liquidationFills(events);
    expect(liq.price.toString()).toBe('50000');
    // loss 10,000 > margin 6,000: the fund covers 4,000; the wallet loses exactly the margin
    expect(liq.insuranceCover.toString()).toBe('4000');
    expect(account.wallet.toString()).toBe('3970');
  });

  it('cross, one position: WB is the cross wallet', () => {
    const { account, sim } = venue('2000', [setup('BTCUSDT', 20, 'CROSSED')]);
    account.setMark(0, 60000);
    sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.5' });
    sim.onKline(0, T0, 60000, 60050, 59950, 60000); // fee 15 → cross wallet 1,985
    // LP = (1,985 + 0 − 30,000) / (0.5 × 0.004 − 0.5) = 56,255.020080321285140562
    expect(account.liquidationPrice(0)!.toString()).toBe('56255.020080321285140562');
    sim.onKline(0, T0 + 60_000, 60000, 60000, 56000, 56500);
    expect(account.positionAmt(0).isZero()).toBe(true);
    // the clearance fee (0.5 × LP × 1.25 % = 351.6) exceeds what was left (MM 112.5): the wallet ends at 0
    expect(account.wallet.toString()).toBe('0');
  });

  describe('cross: liquidation depends on the whole account', () => {
    // BTC long 0.5 @ 60,000 and ETH short 5 @ 3,000, both cross 20x, wallet 5,000; fees 15 + 7.5
    function twoPositions(withEth: boolean) {
      const btcBrackets = DEFAULT_BRACKETS;
      const v = venue('5000', [
        setup('BTCUSDT', 20, 'CROSSED', { brackets: btcBrackets, liquidationFeeRate: '0.001' }),
        setup('ETHUSDT', 20, 'CROSSED', { liquidationFeeRate: '0.001' }),
      ]);
      v.account.setMark(0, 60000);
      v.account.setMark(1, 3000);
      v.sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.5' });
      if (withEth) v.sim.submit({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '5' });
      v.sim.onKline(0, T0, 60000, 60010, 59990, 60000);
      v.sim.onKline(1, T0, 3000, 3001, 2999, 3000);
      // ETH falls to 2,900: its uPnL = −5 × (2,900 − 3,000) = +500, its MM = 5 × 2,900 × 0.004 = 58
      v.sim.onKline(1, T0 + 60_000, 3000, 3001, 2899, 2900);
      return v;
    }

    it('another position’s profit moves the LP: LP = (WB − TMM₁ + UPNL₁ − pos·EP)/(pos·mmr − pos)', () => {
      const { account, sim, events } = twoPositions(true);
      // LP = (4,977.5 − 58 + 500 − 30,000) / (0.002 − 0.5) = 49,358.433734939759036144
      expect(account.liquidationPrice(0)!.toString()).toBe('49358.433734939759036144');
      // low 49,800 passes the conservative share threshold but not the LP: still open
      sim.onKline(0, T0 + 60_000, 60000, 60000, 49800, 50000);
      expect(account.positionAmt(0).toString()).toBe('0.5');
      expect(liquidationFills(events)).toHaveLength(0);
      sim.onKline(0, T0 + 120_000, 50000, 50000, 49000, 49200);
      const fills = liquidationFills(events);
      expect(fills.map((f) => [f.symbol, f.price.toString()])).toEqual([['BTCUSDT', '49358.433734939759036144'], ['ETHUSDT', '2900']]);
      // realised: BTC 0.5 × (LP − 60,000) = −5,320.783132530120481928, ETH +500
      // left = 4,977.5 − 5,320.783132530120481928 + 500 = 156.716867469879518072 (= the two MMs at LP)
      // clearance: BTC 0.5 × LP × 0.001 = 24.679216867469879518, ETH 5 × 2,900 × 0.001 = 14.5
      expect(fills[0].fee.toString()).toBe('24.679216867469879518');
      expect(fills[1].fee.toString()).toBe('14.5');
      expect(account.wallet.toString()).toBe('117.537650602409638554');
      expect(account.positionAmt(1).isZero()).toBe(true);
    });

    it('without the other position the same kline liquidates', () => {
      const { account, sim, events } = twoPositions(false);
      // LP = (4,985 − 30,000) / (0.002 − 0.5) = 50,230.923694779116465863
      expect(account.liquidationPrice(0)!.toString()).toBe('50230.923694779116465863');
      sim.onKline(0, T0 + 60_000, 60000, 60000, 49800, 50000);
      expect(liquidationFills(events).map((f) => f.price.toString())).toEqual(['50230.923694779116465863']);
    });
  });

  it('liquidation prices over leverages and tiers satisfy margin balance = MM(LP)', () => {
    // 1, 2, 5, … BTC long at 40,000: notional 40k (tier 1) … 4M (tier 4); the LP's tier is found by iteration
    for (const [qty, leverage] of [['1', 2], ['1', 10], ['1', 100], ['10', 20], ['100', 20], ['100', 10]] as const) {
      const { account } = venue('10000000', [setup('BTCUSDT', leverage, 'ISOLATED')]);
      account.setMark(0, 40000);
      account.fill(0, 'BUY', Dec.parse(qty), Dec.parse('40000'), false, 1);
      const lp = account.liquidationPrice(0)!;
      expect(lp.gt('0') && lp.lt('40000')).toBe(true);
      // isolated wallet + qty × (LP − entry) = MM(qty × LP) = qty × LP × mmr − cum, to 18-decimal truncation
      const balance = account.isolatedWallet(0).add(Dec.parse(qty).mul(lp.sub('40000')));
      expect(balance.sub(account.maintMargin(0, Dec.parse(qty).mul(lp))).abs().lt('0.000000001')).toBe(true);
    }
  });
});

describe('funding at the funding times', () => {
  it('pays size × mark × rate at each funding time, from the kline that opens at it', () => {
    const { account, sim, events } = venue('20000', [setup('BTCUSDT', 5, 'ISOLATED')]);
    // funding times 00:00 (before the run: skipped), 08:00, 16:00
    sim.setFunding('BTCUSDT', [T0, T0 + 8 * HOUR, T0 + 16 * HOUR], ['0.01', '0.0001', '-0.0002']);
    account.setMark(0, 50000);
    sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' });
    sim.onKline(0, T0 + HOUR, 50000, 50010, 49990, 50000); // fee 25, isolated wallet 10,000
    const wallet0 = account.wallet;
    sim.onKline(0, T0 + 7 * HOUR, 50000, 50100, 49900, 50050);
    expect(account.wallet.eq(wallet0)).toBe(true); // no funding before 08:00
    sim.onKline(0, T0 + 8 * HOUR, 50100, 50200, 50000, 50100);
    // 1 × 50,100 × 0.0001 = 5.01 paid by the long
    expect(wallet0.sub(account.wallet).toString()).toBe('5.01');
    expect(account.isolatedWallet(0).toString()).toBe('9994.99');
    // a data gap: the next kline opens after 16:00; the 16:00 funding settles at its open 49,900
    sim.onKline(0, T0 + 16 * HOUR + 60_000, 49900, 50000, 49800, 49950);
    // 1 × 49,900 × −0.0002 = −9.98: the long receives
    expect(wallet0.sub(account.wallet).toString()).toBe('-4.97');
    const funding = events.filter((e) => e.type === 'funding');
    expect(funding.map((e) => (e.type === 'funding' ? [e.time, e.payment.toString()] : []))).toEqual([[T0 + 8 * HOUR, '5.01'], [T0 + 16 * HOUR, '-9.98']]);
  });
});

describe('funding after a data gap', () => {
  it('a funding time inside a gap settles at the next kline’s open; times before the first kline never do', () => {
    const { account, sim, events } = venue('20000', [setup('BTCUSDT', 5, 'CROSSED')]);
    sim.setFunding('BTCUSDT', [T0, T0 + 8 * HOUR], ['0.001', '0.0001']);
    account.setMark(0, 50000);
    account.fill(0, 'SELL', Dec.parse('2'), Dec.parse('50000'), false, T0); // short 2, fee 50
    sim.onKline(0, T0 + HOUR, 50000, 50010, 49990, 50000); // a quiet kline: T0 is before the run
    sim.onKline(0, T0 + 9 * HOUR, 49000, 49010, 48990, 49000); // 08:00 fell in the gap
    // −2 × 49,000 × 0.0001 = −9.8: the short receives 9.8
    expect(events).toEqual([{ type: 'funding', symbol: 'BTCUSDT', time: T0 + 8 * HOUR, rate: Dec.parse('0.0001'), payment: Dec.parse('-9.8') }]);
    expect(account.wallet.toString()).toBe('19959.8');
  });
});

describe('order checks with Binance codes', () => {
  const { account, sim } = venue('1000', [setup('BTCUSDT', 20, 'CROSSED')]);
  account.setMark(0, 60000);
  const order = (over: object) => sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.01', ...over });
  it('min notional -4164, unless reduce-only (then -2022 without a position)', () => {
    // 0.001 × 60,000 = 60 < 100
    expect(order({ quantity: '0.001' })).toEqual({ code: -4164, msg: "Order's notional must be no smaller than 100 (unless you choose reduce only)." });
    expect(order({ quantity: '0.001', reduceOnly: true })).toEqual({ code: -2022, msg: 'ReduceOnly Order is rejected.' });
  });
  it('precision -1111, step -4023, tick -4014, max quantity -4005', () => {
    expect(order({ quantity: '0.0101' })).toMatchObject({ code: -1111, msg: 'Precision is over the maximum defined for this asset.' });
    expect(order({ type: 'LIMIT', price: '59000.123' })).toMatchObject({ code: -1111 });
    expect(order({ type: 'LIMIT', price: '59000.05' })).toMatchObject({ code: -4014, msg: 'Price not increased by tick size.' });
    expect(order({ quantity: '121' })).toMatchObject({ code: -4005 }); // MARKET_LOT_SIZE max 120
    const { account: a2, sim: s2 } = venue('1000', [setup('XUSDT', 20, 'CROSSED', { info: testSymbol('XUSDT', { stepSize: '0.01', marketStepSize: '0.01', minQty: '0.01', marketMinQty: '0.01' }) })]);
    a2.setMark(0, 60000);
    expect(s2.submit({ symbol: 'XUSDT', side: 'BUY', type: 'MARKET', quantity: '0.015' })).toMatchObject({ code: -4023 });
  });
  it('margin insufficient -2019: IM + taker fee above available', () => {
    // 0.33 × 60,000 / 20 = 990 IM + 9.9 fee = 999.9 ≤ 1,000: accepted; 0.334 → 1,002 + 10.02: refused
    expect(order({ quantity: '0.33' })).toHaveProperty('orderId');
    expect(order({ quantity: '0.334' })).toEqual({ code: -2019, msg: 'Margin is insufficient.' });
  });
  it('leverage -4028 above the bracket max; notional cap of the leverage -2027', () => {
    expect(account.setLeverage(0, 126)).toEqual({ code: -4028, msg: 'Leverage 126 is not valid' });
    expect(account.setLeverage(0, 0)).toMatchObject({ code: -4028 });
    const { account: big, sim: s3 } = venue('100000', [setup('BTCUSDT', 125, 'CROSSED')]);
    big.setMark(0, 60000);
    // at 125x the cap is tier 1's 50,000: 0.9 × 60,000 = 54,000 > 50,000
    expect(s3.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.9' })).toEqual({ code: -2027, msg: 'Exceeded the maximum allowable position at current leverage.' });
    expect(s3.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.8' })).toHaveProperty('orderId');
  });
  it('a stop that would trigger at once -2021; margin type change with a position -4048', () => {
    expect(order({ type: 'STOP_MARKET', side: 'SELL', stopPrice: '60100', closePosition: true, quantity: undefined })).toEqual({ code: -2021, msg: 'Order would immediately trigger.' });
    const { account: a4 } = venue('1000', [setup('BTCUSDT', 10, 'CROSSED')]);
    a4.fill(0, 'BUY', Dec.parse('0.01'), Dec.parse('60000'), false, 1);
    expect(a4.setMarginType(0, 'ISOLATED')).toMatchObject({ code: -4048 });
    expect(a4.setMarginType(0, 'CROSSED')).toMatchObject({ code: -4046 });
  });
  it('a market order that no longer fits at the fill is rejected then, with its code', () => {
    const { account: a5, sim: s5, events } = venue('1000', [setup('BTCUSDT', 20, 'CROSSED')]);
    a5.setMark(0, 60000);
    s5.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.33', tag: 'entry' });
    s5.onKline(0, T0, 61000, 61000, 60900, 60950); // IM at 61,000: 1,006.5 + fee > 1,000
    expect(events).toEqual([{ type: 'rejected', orderId: 1, tag: 'entry', code: -2019, msg: 'Margin is insufficient.' }]);
  });
});

describe('cross thresholds never miss a liquidation', () => {
  it('four cross positions on random walks with funding: liquidated in a kline exactly when the exact headroom at its adverse extreme is ≤ 0', () => {
    const symbols = ['AUSDT', 'BUSDT', 'CUSDT', 'DUSDT'];
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let checked = 0;
    let liquidations = 0;
    for (let run = 0; run < 12; run++) {
      const { account, sim } = venue('1000', symbols.map((s) => setup(s, 20, 'CROSSED', { info: testSymbol(s, { tickSize: '0.01', minPrice: '0.01', minNotional: '5' }) })));
      const price = symbols.map(() => 100);
      let t = T0;
      symbols.forEach((s, k) => {
        account.setMark(k, 100);
        sim.submit({ symbol: s, side: k % 2 === 0 ? 'BUY' : 'SELL', type: 'MARKET', quantity: '37.5' }); // 3,750 notional each (15x the wallet in all), IM 187.5
      });
      for (let step = 0; step < 400 && account.liquidations === 0; step++) {
        for (let k = 0; k < symbols.length && account.liquidations === 0; k++) {
          const open = price[k];
          const close = Math.round(open * (1 + (rand() - 0.5) * 0.04) * 100) / 100;
          const high = Math.round(Math.max(open, close) * (1 + rand() * 0.01) * 100) / 100;
          const low = Math.round(Math.min(open, close) * (1 - rand() * 0.01) * 100) / 100;
          price[k] = close;
          // funding every 10 steps, large rates, so payments spend the cross reserve and force a re-split
          if (step % 10 === 9) account.settleFunding(k, Dec.fromNumber(Math.round((rand() - 0.3) * 60) / 10000), open);
          // the exact cross headroom with this symbol at its adverse extreme, the others at their marks
          let headroom: Dec | undefined;
          const amt = account.positionAmt(k);
          if (step > 0 && !amt.isZero()) {
            const saved = account.marks[k];
            account.marks[k] = amt.sign() > 0 ? low : high;
            const v = account.view();
            headroom = v.crossWallet.add(v.crossUnrealizedPnl).sub(v.maintMargin);
            account.marks[k] = saved;
          }
          const before = account.liquidations;
          sim.onKline(k, t, open, high, low, close);
          if (headroom !== undefined) {
            checked++;
            expect(account.liquidations > before).toBe(headroom.lte(Dec.ZERO));
          }
        }
        t += 60_000;
      }
      liquidations += account.liquidations;
    }
    expect(checked).toBeGreaterThan(200);
    expect(liquidations).toBeGreaterThan(5);
  });
});

describe('restore', () => {
  it('a restored account has the original\'s wallet, positions, margin, unrealised PnL and liquidation prices', () => {
    const setups = [setup('BTCUSDT', 5, 'CROSSED'), setup('ETHUSDT', 3, 'ISOLATED'), setup('SOLUSDT', 2, 'CROSSED')];
    const { account, sim } = venue('5000', setups, 2);
    const [b, e] = [account.index('BTCUSDT'), account.index('ETHUSDT')];
    account.setMark(b, 1000);
    account.setMark(e, 100);
    expect(sim.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '3' })).toHaveProperty('orderId');
    expect(sim.submit({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '20' })).toHaveProperty('orderId');
    sim.onKline(b, T0, 1000, 1010, 990, 1003.7);
    sim.onKline(e, T0, 100, 101, 99, 99.3);
    expect(sim.submit({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '7' })).toHaveProperty('orderId');
    sim.onKline(b, T0 + 60_000, 1003.7, 1012, 1001, 1008.9);
    sim.onKline(e, T0 + 60_000, 99.3, 100.2, 98.1, 98.45);
    const original = account.view();
    expect(original.positions.map((p) => p.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    // what a snapshot keeps: decimal strings
    const saved = {
      wallet: original.wallet.toString(),
      positions: original.positions.map((p) => ({
        symbol: p.symbol, amount: p.amt.toString(), entryPrice: p.entry.toString(), leverage: p.leverage, marginType: p.marginType,
        isolatedWallet: p.isolatedWallet.toString(), markPrice: p.mark.toString(),
      })),
    };
    // a fresh account on the configured leverages (1x everywhere), restored
    const fresh = new FuturesAccount({ initialBalance: '10000' }, setups.map((s) => ({ ...s, leverage: 1, marginType: 'CROSSED' as const })));
    fresh.restore(saved);
    const restored = fresh.view();
    const figures = (v: typeof original) => ({
      wallet: v.wallet.toString(), equity: v.equity.toString(), available: v.available.toString(), upnl: v.unrealizedPnl.toString(), mm: v.maintMargin.toString(),
      im: v.positionInitialMargin.toString(), ratio: v.marginRatio.toString(),
      positions: v.positions.map((p) => [p.symbol, p.amt.toString(), p.entry.toString(), p.leverage, p.marginType, p.isolatedWallet.toString(), p.unrealizedPnl.toString(), p.initialMargin.toString(), p.maintMargin.toString(), p.liquidationPrice?.toString()]),
    });
    expect(figures(restored)).toEqual(figures(original));
    expect(fresh.liquidationPrice(b)?.toString()).toBe(account.liquidationPrice(b)?.toString());
    expect(fresh.liquidationPrice(e)?.toString()).toBe(account.liquidationPrice(e)?.toString());
    expect([...fresh.liqBelow]).toEqual([...account.liqBelow]);
    expect([...fresh.liqAbove]).toEqual([...account.liqAbove]);
    expect(fresh.equityFloat()).toBe(account.equityFloat());
    // and it trades on from there like the original
    for (const acc of [account, fresh]) acc.fill(e, 'BUY', Dec.parse('13'), Dec.parse('98.5'), false, T0 + 120_000);
    expect(figures(fresh.view())).toEqual(figures(account.view()));
    expect(() => fresh.restore({ wallet: '1', positions: [{ symbol: 'XRPUSDT', amount: '1', entryPrice: '1', leverage: 1, marginType: 'CROSSED' }] })).toThrow(/XRPUSDT/);
  });
});
