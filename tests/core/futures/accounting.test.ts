import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BRACKETS, bracketFor, buildBrackets, fundingPayment, fundingRate, liquidationPrice, maintenanceMargin, nextFundingTime, tradeFee,
} from '../../../src/core/futures/accounting.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { checkOrderFilters } from '../../../src/core/futures/filters.js';
import { SIM_SYMBOLS, symbolInfo } from '../../../src/adapters/localexchange/symbols.js';

describe('fees and funding', () => {
  it('computes taker and maker fees on the fill notional', () => {
    expect(tradeFee('65000', '0.01', '0.0005').toString()).toBe('0.325');
    expect(tradeFee('65000', '-0.01', '0.0002').toString()).toBe('0.13');
  });
  it('funding: size × mark × rate; positive rate makes longs pay', () => {
    expect(fundingPayment('0.5', '60000', '0.0001').toString()).toBe('3');
    expect(fundingPayment('-0.5', '60000', '0.0001').toString()).toBe('-3');
    expect(fundingPayment('2', '100', '-0.0003').toString()).toBe('-0.06');
  });
  it('funding rate clamps the interest difference to ±0.05 % and the result to the cap', () => {
    expect(fundingRate('0.0001').toString()).toBe('0.0001');
    // |I − P| ≤ 0.05 % → F = I
    expect(fundingRate('0.0003').toString()).toBe('0.0001');
    expect(fundingRate('0.002').toString()).toBe('0.0015');
    expect(fundingRate('0.01').toString()).toBe('0.003');
    expect(fundingRate('-0.0002').toString()).toBe('0.0001');
    expect(fundingRate('-0.001').toString()).toBe('-0.0005');
  });
  it('next funding time is on the 8 h grid', () => {
    expect(nextFundingTime(Date.UTC(2026, 0, 1, 7, 59))).toBe(Date.UTC(2026, 0, 1, 8));
    expect(nextFundingTime(Date.UTC(2026, 0, 1, 8, 0))).toBe(Date.UTC(2026, 0, 1, 16));
  });
});

describe('maintenance margin with brackets', () => {
  it('computes cum so MM is continuous at every floor', () => {
    for (let i = 1; i < DEFAULT_BRACKETS.length; i++) {
      const floor = DEFAULT_BRACKETS[i].notionalFloor;
      const below = maintenanceMargin(DEFAULT_BRACKETS, Dec.fromInt(floor).sub('0.000001'));
      const at = maintenanceMargin(DEFAULT_BRACKETS, floor);
      expect(at.sub(below).abs().lt('0.0001')).toBe(true);
    }
  });
  it('matches Binance cum values for the published table', () => {
    expect(DEFAULT_BRACKETS[1].cum).toBe(50); // 50k × (0.005 − 0.004)
    expect(DEFAULT_BRACKETS[2].cum).toBe(1300); // 50 + 250k × 0.005
    expect(DEFAULT_BRACKETS[3].cum).toBe(46300); // 1300 + 3M × 0.015
  });
  it('MM = notional × mmr − cum of the tier holding the notional', () => {
    expect(maintenanceMargin(DEFAULT_BRACKETS, '10000').toString()).toBe('40');
    expect(maintenanceMargin(DEFAULT_BRACKETS, '100000').toString()).toBe('450'); // 500 − 50
    expect(maintenanceMargin(DEFAULT_BRACKETS, '-100000').toString()).toBe('450');
    expect(bracketFor(DEFAULT_BRACKETS, 250_000).bracket).toBe(3);
    const custom = buildBrackets([{ floor: 0, maintMarginRatio: '0.01', initialLeverage: 50 }, { floor: 1000, maintMarginRatio: '0.02', initialLeverage: 25 }]);
    expect(custom[1].cum).toBe(10);
  });
});

describe('isolated liquidation price', () => {
  /** The reference formula (float), straight from the Binance FAQ, for one tier. */
  function reference(side: 1 | -1, pos: number, ep: number, wb: number, mmr: number, cum: number): number {
    return (wb + cum - side * pos * ep) / (pos * mmr - side * pos);
  }
  it('long: LP = (WB + cum − pos·EP)/(pos·MMR − pos)', () => {
    // 1 BTC long at 60000 with 10x: WB = 6000, notional at LP ~54k → tier 2 (mmr 0.5 %, cum 50)
    const lp = liquidationPrice(DEFAULT_BRACKETS, 'LONG', '1', '60000', '6000')!;
    const ref = reference(1, 1, 60000, 6000, 0.005, 50);
    expect(Math.abs(lp.toNumber() - ref)).toBeLessThan(1e-6);
    // margin balance at LP equals MM there
    const mm = maintenanceMargin(DEFAULT_BRACKETS, lp);
    const balance = Dec.parse('6000').add(lp.sub('60000'));
    expect(balance.sub(mm).abs().lt('0.000001')).toBe(true);
  });
  it('short: LP = (WB + cum + pos·EP)/(pos·MMR + pos)', () => {
    const lp = liquidationPrice(DEFAULT_BRACKETS, 'SHORT', '-0.1', '3000', '30')!;
    const ref = reference(-1, 0.1, 3000, 30, 0.004, 0);
    expect(Math.abs(lp.toNumber() - ref)).toBeLessThan(1e-6);
    expect(lp.gt('3000')).toBe(true);
  });
  it('iterates to the tier of the notional at LP', () => {
    // notional at entry 50,100 (tier 2) but at LP below 50,000 (tier 1)
    const lp = liquidationPrice(DEFAULT_BRACKETS, 'LONG', '1', '50100', '5010')!;
    expect(lp.lt('50000')).toBe(true);
    expect(Math.abs(lp.toNumber() - reference(1, 1, 50100, 5010, 0.004, 0))).toBeLessThan(1e-6);
  });
  it('is undefined when the position cannot be liquidated (over-collateralised long)', () => {
    expect(liquidationPrice(DEFAULT_BRACKETS, 'LONG', '1', '100', '200')).toBeUndefined();
  });
});

describe('order filters', () => {
  const btc = symbolInfo(SIM_SYMBOLS[0]);
  it('accepts a valid order and names the Binance code of each failure', () => {
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.010', price: '60000.1' })).toBeUndefined();
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.010', price: '60000.15' })?.code).toBe(-4014);
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.0105', price: '60000' })?.code).toBe(-4023);
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.001', price: '60000' })?.code).toBe(-4164);
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.001', price: '60000', reduceOnly: true })).toBeUndefined();
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0', price: '60000' })?.code).toBe(-4003);
    expect(checkOrderFilters(btc, { type: 'MARKET', side: 'BUY', quantity: '121', markPrice: '60000' })?.code).toBe(-4005);
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.01', price: '70000', markPrice: '60000' })?.code).toBe(-4016);
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'SELL', quantity: '0.01', price: '50000', markPrice: '60000' })?.code).toBe(-4024);
  });
  it('min notional is exact at the boundary', () => {
    // 0.002 × 50000 = 100 exactly: allowed (notional must not be smaller than 100)
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.002', price: '50000' })).toBeUndefined();
    expect(checkOrderFilters(btc, { type: 'LIMIT', side: 'BUY', quantity: '0.002', price: '49999.9' })?.code).toBe(-4164);
  });
});
