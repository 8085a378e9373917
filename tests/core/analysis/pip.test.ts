import { describe, expect, it } from 'vitest';
import { analyzeBatch } from '../../../src/core/analysis/engine.js';
import { validateIndicator, validatePip, type Cac } from '../../../src/core/analysis/cac.js';
import type { BookSnapshot, KlineColumns } from '../../../src/core/analysis/indicators/index.js';

function series(closes: number[], spread = 0.5): KlineColumns {
  const n = closes.length;
  const k: KlineColumns = {
    openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n),
    close: Float64Array.from(closes), volume: new Float64Array(n).fill(10), takerBuyVolume: new Float64Array(n).fill(5),
  };
  for (let i = 0; i < n; i++) {
    k.openTime[i] = i * 60_000;
    k.open[i] = i === 0 ? closes[0] : closes[i - 1];
    k.high[i] = Math.max(k.open[i], closes[i]) + spread;
    k.low[i] = Math.min(k.open[i], closes[i]) - spread;
  }
  return k;
}

function pipOf(cac: Cac, k: KlineColumns): Record<string, Float64Array> {
  const r = analyzeBatch(cac, k);
  const out: Record<string, Float64Array> = {};
  r.columns.forEach((c, i) => {
    if (c.startsWith('PIP.')) out[c.slice(4)] = r.values[i];
  });
  return out;
}

const trendCac = (pip: Record<string, unknown> = {}): Cac => ({
  name: 't',
  indicators: [validateIndicator('EMA', { n: 10 }), validateIndicator('PSAR'), validateIndicator('MMACD', { p1: 5, p2: 10, signal: 3 })],
  pip: validatePip({ csNSamples: 5, csAlpha: 0.5, ...pip }),
});

describe('PIP', () => {
  it('is long in a steady rise, short after the fall, flat on a flat market', () => {
    const closes: number[] = [];
    for (let i = 0; i < 100; i++) closes.push(100 + i); // up
    for (let i = 0; i < 100; i++) closes.push(199 - 2 * i); // down
    for (let i = 0; i < 100; i++) closes.push(1); // flat
    const p = pipOf(trendCac(), series(closes, 0.2));
    expect(p.direction[90]).toBe(1);
    expect(p.strength[90]).toBeGreaterThan(0);
    expect(p.strength[90]).toBeLessThanOrEqual(1);
    expect(p.direction[190]).toBe(-1);
    expect(p.direction[299]).toBe(0);
    expect(p.strength[299]).toBe(0);
    // Impulses: exactly one +1 (entering the rise) and one -1 (entering the fall).
    const impulses = Array.from(p.impulse).map((v, i) => [v, i]).filter(([v]) => v !== 0);
    expect(impulses.map(([v]) => v)).toEqual([1, -1]);
    expect(impulses[0][1]).toBeLessThan(100);
    expect(impulses[1][1]).toBeGreaterThan(100);
    expect(impulses[1][1]).toBeLessThan(130);
    expect(p.nn.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('stays flat until CS nSamples filtered samples exist', () => {
    const closes = Array.from({ length: 80 }, (_, i) => 100 + i);
    const p = pipOf(trendCac({ csNSamples: 60 }), series(closes));
    // EMA(10) gives its first value at kline 9 (PSAR at 1): the 60th sample is kline 60.
    expect(p.direction[59]).toBe(0);
    expect(p.direction[60]).toBe(1);
    expect(p.impulse[60]).toBe(1);
  });

  it('AT1 activates and AT2 releases (hysteresis)', () => {
    const cac: Cac = { name: 'h', indicators: [validateIndicator('NES', { interval: 1 })], pip: validatePip({ csNSamples: 1, csAlpha: 1, csAt1: 0.5, csAt2: 0.2, csSigma: 1 }) };
    // NES(1) value = (2·takerBuy - volume)/volume: control it per kline.
    const shares = [0.5, 0.8, 0.7, 0.62, 0.55, 0.5, 0.1, 0.3, 0.45, 0.5];
    const k = series(shares.map(() => 100));
    shares.forEach((s, i) => (k.takerBuyVolume[i] = s * 10));
    const p = pipOf(cac, k);
    // cs = 2s - 1: 0, .6, .4, .24, .1, 0, -.8, -.4, -.1, 0
    expect(Array.from(p.direction)).toEqual([0, 1, 1, 1, 0, 0, -1, -1, 0, 0]);
    expect(p.cs[1]).toBeCloseTo(0.6, 12);
    expect(p.strength[1]).toBeCloseTo(0.6, 12);
    expect(Array.from(p.impulse)).toEqual([0, 1, 0, 0, 0, 0, -1, 0, 0, 0]);
  });

  it('marks swing highs and lows SWING klines after the extreme, never earlier', () => {
    // A triangle wave with peaks at 10, 30, 50 and troughs at 20, 40.
    const closes = Array.from({ length: 60 }, (_, i) => 100 + 10 - Math.abs((i % 20) - 10));
    const k = series(closes, 0.5);
    const cac: Cac = { name: 's', indicators: [], pip: validatePip({ swing: 3 }) };
    const p = pipOf(cac, k);
    const highs = Array.from(p.swingHigh).map((v, i) => [v, i]).filter(([v]) => !Number.isNaN(v));
    const lows = Array.from(p.swingLow).map((v, i) => [v, i]).filter(([v]) => !Number.isNaN(v));
    expect(highs.map(([, i]) => i)).toEqual([13, 33, 53]);
    expect(highs[0][0]).toBe(k.high[10]);
    expect(lows.map(([, i]) => i)).toEqual([23, 43]);
    expect(lows[0][0]).toBe(k.low[20]);
  });

  it('classical_woi mode acts only when the book agrees', () => {
    const closes = Array.from({ length: 60 }, (_, i) => 100 + i);
    const k = series(closes);
    const book = (bid: number, ask: number): BookSnapshot => ({ bidPrice: Float64Array.from([99]), bidQty: Float64Array.from([bid]), askPrice: Float64Array.from([101]), askQty: Float64Array.from([ask]) });
    k.books = closes.map((_, i) => (i < 40 ? book(1, 9) : book(9, 1)));
    const cac: Cac = {
      name: 'w',
      indicators: [validateIndicator('EMA', { n: 5 }), validateIndicator('WOI', { interval: 1, sigma: 0.5 })],
      pip: validatePip({ csNSamples: 5, mode: 'classical_woi', woiThreshold: 0.3 }),
    };
    const p = pipOf(cac, k);
    expect(p.woi[30]).toBe(-1);
    expect(p.direction[30]).toBe(0); // classical says long, the book says sell
    expect(p.woi[50]).toBe(1);
    expect(p.direction[50]).toBe(1);
    expect(p.impulse[40]).toBe(1);
  });
});
