import { describe, expect, it } from 'vitest';
import { validateCac, validateIndicator } from '../../../src/core/analysis/cac.js';
import { analyzeBatch } from '../../../src/core/analysis/engine.js';
import { INDICATOR_TYPES } from '../../../src/core/analysis/indicators/index.js';
import { cacWarmup, indicatorWarmup } from '../../../src/core/analysis/warmup.js';
import { generateKlines } from './data.js';

const slice = (k: ReturnType<typeof generateKlines>, from: number) => ({
  openTime: k.openTime.subarray(from), open: k.open.subarray(from), high: k.high.subarray(from), low: k.low.subarray(from),
  close: k.close.subarray(from), volume: k.volume.subarray(from), takerBuyVolume: k.takerBuyVolume.subarray(from),
});

describe('analysis warm-up', () => {
  it('covers the klines before every line of every indicator has its first value', () => {
    const k = generateKlines(1500, 3);
    for (const type of INDICATOR_TYPES) {
      if (type === 'WOI') continue; // null throughout without an order book
      const params: Record<string, number> = type.startsWith('MMACD') ? { p1: 5, p2: 9, signal: 4 } : type === 'IVP' ? { interval: 30 } : type === 'PSAR' ? {} : { n: 7 };
      if (type === 'NES') Object.assign(params, { interval: 7 }), delete params.n;
      const ind = validateIndicator(type, params);
      const cac = validateCac({ name: 'w', indicators: [`${type}:${Object.entries(ind.params).map(([a, b]) => `${a}=${b}`).join(',')}`], pip: null });
      const r = analyzeBatch(cac, k);
      const w = indicatorWarmup(ind);
      for (let c = 0; c < r.columns.length; c++) {
        const first = r.values[c].findIndex((v) => Number.isFinite(v));
        if (first < 0) continue; // IVP support/resistance may never qualify
        expect(first, `${r.columns[c]} first value`).toBeLessThan(w);
      }
    }
  });

  it('is long enough that an EMA started later agrees with one started earlier', () => {
    const k = generateKlines(800, 9);
    const cac = validateCac({ name: 'w', indicators: ['EMA:n=20', 'DMIXADX:n=10'], pip: { mode: 'classical', swing: 3, csNSamples: 10 } });
    const w = cacWarmup(cac);
    expect(w).toBe(3 * 2 * 10 + 10 + 2 * 3);
    const full = analyzeBatch(cac, k);
    const late = analyzeBatch(cac, slice(k, 200));
    const at = 200 + w;
    for (const col of ['EMA.value', 'DMIXADX.adx', 'DMIXADX.plusDI']) {
      const c = full.columns.indexOf(col);
      const a = full.values[c][at];
      const b = late.values[c][at - 200];
      expect(Math.abs(a - b) / Math.abs(a), col).toBeLessThan(0.05);
    }
  });
});
