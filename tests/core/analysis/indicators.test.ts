import { describe, expect, it } from 'vitest';
import { analyzeBatch, AnalysisEngine } from '../../../src/core/analysis/engine.js';
import { defaultCac, validateIndicator, type Cac } from '../../../src/core/analysis/cac.js';
import { INDICATORS, emptyBar, readBar, type BookSnapshot, type KlineColumns } from '../../../src/core/analysis/indicators/index.js';
import { bookImbalance } from '../../../src/core/analysis/indicators/woi.js';
import { defaultPipSettings } from '../../../src/core/analysis/pip.js';
import { firstMismatch, generateKlines } from './data.js';
import * as ref from './reference.js';

const N = 4000;
const K = generateKlines(N, 7);

function run(type: string, params: Record<string, number> = {}, klines: KlineColumns = K): Record<string, Float64Array> {
  const cac: Cac = { name: 't', indicators: [validateIndicator(type, params)], pip: null };
  const result = analyzeBatch(cac, klines);
  const out: Record<string, Float64Array> = {};
  result.columns.forEach((c, i) => (out[c.split('.')[1]] = result.values[i]));
  return out;
}

function firstValue(a: Float64Array): number {
  return a.findIndex((v) => !Number.isNaN(v));
}

describe('indicators against reference implementations (TA-Lib conventions, 1e-9 relative)', () => {
  it('the generated series has ties, flat klines and zero-volume klines', () => {
    let flats = 0;
    let zeros = 0;
    let ties = 0;
    for (let i = 1; i < N; i++) {
      if (K.high[i] === K.low[i]) flats++;
      if (K.volume[i] === 0) zeros++;
      if (K.close[i] === K.close[i - 1]) ties++;
    }
    expect(flats).toBeGreaterThan(50);
    expect(zeros).toBeGreaterThan(50);
    expect(ties).toBeGreaterThan(100);
  });

  for (const n of [2, 14, 30]) {
    it(`SMA, EMA, WMA (n=${n})`, () => {
      const s = run('SMA', { n }).value;
      expect(firstValue(s)).toBe(n - 1);
      expect(firstMismatch(s, ref.sma(K.close, n))).toBeUndefined();
      const e = run('EMA', { n }).value;
      expect(firstValue(e)).toBe(n - 1);
      expect(firstMismatch(e, ref.ema(K.close, n))).toBeUndefined();
      const w = run('WMA', { n }).value;
      expect(firstValue(w)).toBe(n - 1);
      expect(firstMismatch(w, ref.wma(K.close, n))).toBeUndefined();
    });
  }

  it('EMA(3) on a textbook vector', () => {
    const k = generateKlines(6, 1);
    k.close.set([1, 2, 3, 4, 5, 6]);
    // seed (1+2+3)/3 = 2; then (4-2)*0.5+2 = 3; 4; 5
    expect(Array.from(run('EMA', { n: 3 }, k).value)).toEqual([NaN, NaN, 2, 3, 4, 5]);
    // WMA(3): (1*1+2*2+3*3)/6 = 14/6
    expect(run('WMA', { n: 3 }, k).value[2]).toBeCloseTo(14 / 6, 12);
  });

  it('BOL (n=20, k=2 and n=5, k=1.5): population standard deviation', () => {
    for (const [n, k] of [[20, 2], [5, 1.5]]) {
      const out = run('BOL', { n, k });
      const r = ref.bbands(K.close, n, k);
      expect(firstValue(out.middle)).toBe(n - 1);
      expect(firstMismatch(out.middle, r.middle)).toBeUndefined();
      expect(firstMismatch(out.upper, r.upper)).toBeUndefined();
      expect(firstMismatch(out.lower, r.lower)).toBeUndefined();
    }
  });

  it('BOL on flat prices has zero width (no NaN from a negative variance)', () => {
    const k = generateKlines(50, 3);
    k.close.fill(12345.6);
    const out = run('BOL', { n: 10, k: 2 }, k);
    for (let i = 9; i < 50; i++) {
      expect(out.upper[i]).toBe(out.middle[i]);
      expect(out.middle[i]).toBeCloseTo(12345.6, 9);
    }
  });

  it('PSAR (TA-Lib SAR 0.02/0.2, and a separate start)', () => {
    for (const [start, step, max] of [[0.02, 0.02, 0.2], [0.01, 0.03, 0.25]]) {
      const out = run('PSAR', { start, step, max }).value;
      expect(firstValue(out)).toBe(1);
      expect(firstMismatch(out, ref.sar(K.high, K.low, start, step, max))).toBeUndefined();
    }
  });

  it('PSAR reverses on a turn', () => {
    const k = generateKlines(40, 2);
    for (let i = 0; i < 40; i++) {
      const p = i < 20 ? 100 + i : 140 - i;
      k.high[i] = p + 0.5;
      k.low[i] = p - 0.5;
      k.close[i] = p;
    }
    const out = run('PSAR', {}, k).value;
    expect(out[10]).toBeLessThan(k.low[10]); // below price while rising
    expect(out[35]).toBeGreaterThan(k.high[35]); // above price while falling
  });

  for (const n of [2, 14]) {
    it(`DMIXADX (n=${n}) equals PLUS_DI, MINUS_DI, ADX`, () => {
      const out = run('DMIXADX', { n });
      const r = ref.dmi(K.high, K.low, K.close, n);
      expect(firstValue(out.plusDI)).toBe(n);
      expect(firstValue(out.adx)).toBe(2 * n - 1);
      expect(firstMismatch(out.plusDI, r.plusDI)).toBeUndefined();
      expect(firstMismatch(out.minusDI, r.minusDI)).toBeUndefined();
      expect(firstMismatch(out.adx, r.adx)).toBeUndefined();
      let maxAbs = 0;
      for (let i = 0; i < N; i++) {
        if (Number.isNaN(out.signal[i])) continue;
        const expected = ((out.plusDI[i] - out.minusDI[i]) * out.adx[i]) / 100;
        expect(out.signal[i]).toBeCloseTo(expected, 9);
        maxAbs = Math.max(maxAbs, Math.abs(expected));
        expect(out.norm[i]).toBeCloseTo(expected / maxAbs, 12);
        expect(Math.abs(out.norm[i])).toBeLessThanOrEqual(1);
      }
    });
  }

  it('MFI (n=14, n=3) equals TA-Lib MFI, zero-volume windows give 0', () => {
    for (const n of [14, 3]) {
      const out = run('MFI', { n });
      expect(firstValue(out.value)).toBe(n);
      expect(firstMismatch(out.value, ref.mfi(K.high, K.low, K.close, K.volume, n))).toBeUndefined();
    }
    const k = generateKlines(40, 4);
    k.volume.fill(0);
    const out = run('MFI', { n: 5 }, k);
    for (let i = 5; i < 40; i++) {
      expect(out.value[i]).toBe(0);
      expect(Number.isFinite(out.norm[i])).toBe(true);
    }
  });

  it('MMACD with (12, 26), signal 9, multiplier 1 equals TA-Lib MACD', () => {
    const out = run('MMACD', { p1: 12, p2: 26, signal: 9, mult: 1 });
    const r = ref.macd(K.close, 12, 26, 9);
    expect(firstValue(out.macd)).toBe(33);
    expect(firstMismatch(out.macd, r.macd)).toBeUndefined();
    expect(firstMismatch(out.signal, r.signal)).toBeUndefined();
    expect(firstMismatch(out.hist, r.hist)).toBeUndefined();
  });

  it('MMACD multiplier m equals MACD with every period times m', () => {
    const out = run('MMACDLONG', { p1: 3, p2: 5, signal: 2, mult: 4 });
    const r = ref.macd(K.close, 12, 20, 8);
    expect(firstMismatch(out.macd, r.macd)).toBeUndefined();
    expect(firstMismatch(out.signal, r.signal)).toBeUndefined();
  });

  it('MMACD with three averages is the mean of the faster ones against the slowest', () => {
    const out = run('MMACD', { p1: 5, p2: 10, p3: 20, signal: 4, mult: 1 });
    const e5 = ref.ema(K.close, 5, 15);
    const e10 = ref.ema(K.close, 10, 10);
    const e20 = ref.ema(K.close, 20);
    const line = new Float64Array(N).fill(NaN);
    for (let i = 19; i < N; i++) line[i] = (e5[i] - e20[i] + (e10[i] - e20[i])) / 2;
    const expected = line.map((v, i) => (i < 19 + 3 ? NaN : v));
    expect(firstMismatch(out.macd, expected)).toBeUndefined();
    expect(firstMismatch(out.signal, ref.ema(line, 4, 19))).toBeUndefined();
  });

  it('NES from taker-buy volume', () => {
    const n = 10;
    const out = run('NES', { interval: n });
    const net = K.volume.map((v, i) => 2 * K.takerBuyVolume[i] - v);
    const en = ref.ema(net, n);
    const ev = ref.ema(K.volume, n);
    expect(firstMismatch(out.net, en)).toBeUndefined();
    expect(firstMismatch(out.value, en.map((v, i) => (Number.isNaN(v) ? NaN : ev[i] > 0 ? v / ev[i] : 0)))).toBeUndefined();
    for (const v of out.value) if (!Number.isNaN(v)) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-12);
  });

  it('WOI: null without a book, the EMA of the book imbalance with one', () => {
    expect(run('WOI').value.every((v) => Number.isNaN(v))).toBe(true);
    const k = generateKlines(60, 5);
    const books: BookSnapshot[] = [];
    const samples = new Float64Array(60);
    for (let i = 0; i < 60; i++) {
      const mid = k.close[i];
      const b: BookSnapshot = {
        bidPrice: Float64Array.from([mid - 0.05, mid - 0.15, mid - 50]),
        bidQty: Float64Array.from([1 + (i % 5), 2, 1000]),
        askPrice: Float64Array.from([mid + 0.05, mid + 0.15, mid + 50]),
        askQty: Float64Array.from([3, 1 + (i % 3), 1000]),
      };
      books.push(b);
      samples[i] = bookImbalance(b, 0.001);
    }
    k.books = books;
    const out = run('WOI', { interval: 5, sigma: 0.001 }, k).value;
    expect(firstMismatch(out, ref.ema(samples, 5))).toBeUndefined();
    // Far levels (50 away at sigma 0.1%) weigh almost nothing; 1000 lots on each side cancel anyway.
    const one: BookSnapshot = { bidPrice: Float64Array.from([99.9]), bidQty: Float64Array.from([3]), askPrice: Float64Array.from([100.1]), askQty: Float64Array.from([1]) };
    expect(bookImbalance(one, 0.01)).toBeCloseTo(0.5, 12);
  });

  it('IVP: poc equals a brute-force profile; levels bracket the close', () => {
    const n = 600;
    const k = generateKlines(n, 9);
    const params = { interval: 20, gamma: 0.0005, delta: 0.1 };
    const out = run('IVP', params, k);
    expect(firstValue(out.poc)).toBe(19);
    const lnStep = Math.log1p(params.gamma);
    for (let t = 19; t < n; t += 37) {
      const raw = new Map<number, number>();
      for (let i = 0; i <= t; i++) {
        if (k.volume[i] <= 0) continue;
        const b = Math.floor(Math.log((k.high[i] + k.low[i] + k.close[i]) / 3) / lnStep);
        raw.set(b, (raw.get(b) ?? 0) + k.volume[i]);
      }
      const smooth = (b: number) => [1, 2, 3, 2, 1].reduce((s, w, j) => s + (w / 9) * (raw.get(b + j - 2) ?? 0), 0);
      let best = -1;
      let bestBin = 0;
      const bins = [...raw.keys()].sort((a, b) => a - b);
      for (let b = bins[0] - 2; b <= bins[bins.length - 1] + 2; b++) {
        const s = smooth(b);
        if (s > best * (1 + 1e-12)) {
          best = s;
          bestBin = b;
        }
      }
      expect(out.poc[t]).toBeCloseTo(Math.exp((bestBin + 0.5) * lnStep), 6);
    }
    for (let t = 19; t < n; t += 20) {
      if (!Number.isNaN(out.support[t])) expect(out.support[t]).toBeLessThan(k.close[t]);
      if (!Number.isNaN(out.resistance[t])) expect(out.resistance[t]).toBeGreaterThan(k.close[t] * (1 - 0.0005));
    }
  });
});

describe('streaming equals batch on every prefix', () => {
  const cac: Cac = defaultCac('all');
  cac.indicators.push(validateIndicator('MMACD', { p1: 3, p2: 7, p3: 11, p4: 13, p5: 17, p6: 19, signal: 3, mult: 2 }));
  const n = 1500;
  const k = generateKlines(n, 11);
  // A book on most klines, with gaps, so WOI has values and gaps.
  k.books = Array.from({ length: n }, (_, i) =>
    i % 50 >= 40 ? undefined : { bidPrice: Float64Array.from([k.close[i] - 0.1]), bidQty: Float64Array.from([1 + (i % 7)]), askPrice: Float64Array.from([k.close[i] + 0.1]), askQty: Float64Array.from([4]) },
  );

  it('covers every indicator type and PIP', () => {
    const types = new Set(cac.indicators.map((i) => i.type));
    for (const t of Object.keys(INDICATORS)) expect(types.has(t), t).toBe(true);
    expect(cac.pip).not.toBeNull();
  });

  it('one kline at a time gives bit-identical rows, and batch over any prefix is the full batch cut short', () => {
    const full = analyzeBatch(cac, k);
    const engine = new AnalysisEngine(cac);
    const bar = emptyBar();
    for (let i = 0; i < n; i++) {
      // A fresh object each time: the streamer must not keep references into the input.
      const row = engine.update({ ...readBar(k, i, bar) });
      for (let c = 0; c < full.columns.length; c++) {
        const a = row[c];
        const b = full.values[c][i];
        if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) throw new Error(`${full.columns[c]} at ${i}: stream ${a} batch ${b}`);
      }
    }
    for (const len of [1, 2, 37, 500, 1499]) {
      const cut: KlineColumns = {
        openTime: k.openTime.slice(0, len), open: k.open.slice(0, len), high: k.high.slice(0, len), low: k.low.slice(0, len),
        close: k.close.slice(0, len), volume: k.volume.slice(0, len), takerBuyVolume: k.takerBuyVolume.slice(0, len), books: k.books!.slice(0, len),
      };
      const part = analyzeBatch(cac, cut);
      for (let c = 0; c < full.columns.length; c++) {
        expect(firstMismatch(part.values[c], full.values[c].slice(0, len), 0), `${full.columns[c]} prefix ${len}`).toBeUndefined();
      }
    }
    // Every line produced values somewhere (nothing silently all-null), except PIP's NN line.
    for (let c = 0; c < full.columns.length; c++) {
      const name = full.columns[c];
      if (name === 'PIP.nn') continue;
      expect(full.values[c].some((v) => !Number.isNaN(v)), name).toBe(true);
    }
  });

  it('a changed future kline never changes an earlier output', () => {
    const a = analyzeBatch({ ...cac, pip: defaultPipSettings() }, k);
    const k2 = { ...k, close: k.close.slice(), high: k.high.slice(), low: k.low.slice(), volume: k.volume.slice() };
    for (let i = 1000; i < n; i++) {
      k2.close[i] *= 1.5;
      k2.high[i] *= 1.5;
      k2.low[i] *= 1.5;
      k2.volume[i] *= 3;
    }
    const b = analyzeBatch({ ...cac, pip: defaultPipSettings() }, k2);
    for (let c = 0; c < a.columns.length; c++) expect(firstMismatch(b.values[c].slice(0, 1000), a.values[c].slice(0, 1000), 0), a.columns[c]).toBeUndefined();
  });
});

describe('engine: batch advance then streaming', () => {
  it('advancing in batch over a prefix and streaming the rest equals the full batch', () => {
    const cac = defaultCac('mix');
    const n = 3000;
    const k = generateKlines(n, 17);
    const full = analyzeBatch(cac, k);
    const engine = new AnalysisEngine(cac);
    const seen: number[] = [];
    engine.advance(k, 0, 2100, (cols, len, start) => {
      seen.push(start);
      for (let c = 0; c < cols.length; c++) expect(firstMismatch(cols[c].subarray(0, len), full.values[c].slice(start, start + len), 0), full.columns[c]).toBeUndefined();
    });
    expect(seen).toEqual([0, 1024, 2048]);
    expect(engine.count).toBe(2100);
    const bar = emptyBar();
    for (let i = 2100; i < n; i++) {
      const row = engine.update(readBar(k, i, bar));
      for (let c = 0; c < row.length; c++) {
        const a = row[c];
        const b = full.values[c][i];
        if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) throw new Error(`${full.columns[c]} at ${i}: ${a} != ${b}`);
      }
    }
  });

  it('kernels continue exactly across any range boundary: uneven batch ranges mixed with single klines equal the full batch', () => {
    // Every indicator's kernel (and PIP's) stores its state at the end of a range and reloads it
    // at the next; ranges of 1..97 klines put a boundary inside every warm-up and steady phase.
    const cac = defaultCac('ranges');
    cac.indicators.push(
      validateIndicator('MMACD', { p1: 3, p2: 7, p3: 11, p4: 13, p5: 17, p6: 19, signal: 3, mult: 2 }),
      validateIndicator('IVP', { interval: 7, gamma: 0.0001, delta: 0.05 }),
      validateIndicator('SMA', { n: 2 }),
      validateIndicator('PSAR', { start: 0.01, step: 0.03, max: 0.25 }),
    );
    const n = 2500;
    const k = generateKlines(n, 23);
    k.books = Array.from({ length: n }, (_, i) =>
      i % 40 >= 30 ? undefined : { bidPrice: Float64Array.from([k.close[i] - 0.1]), bidQty: Float64Array.from([1 + (i % 5)]), askPrice: Float64Array.from([k.close[i] + 0.1]), askQty: Float64Array.from([2]) },
    );
    const full = analyzeBatch(cac, k);
    const engine = new AnalysisEngine(cac);
    const bar = emptyBar();
    const check = (row: ArrayLike<number>, i: number, how: string) => {
      for (let c = 0; c < full.columns.length; c++) {
        const a = row[c];
        const b = full.values[c][i];
        if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) throw new Error(`${full.columns[c]} at ${i} (${how}): ${a} != ${b}`);
      }
    };
    let i = 0;
    let step = 0;
    while (i < n) {
      step++;
      if (step % 3 === 0) {
        check(engine.update(readBar(k, i, bar)), i, 'update');
        i++;
        continue;
      }
      const len = Math.min(n - i, 1 + ((step * 37) % 97));
      engine.advance(k, i, i + len, (cols, blockLen, start) => {
        for (let r = 0; r < blockLen; r++) check(cols.map((col) => col[r]), start + r, `advance ${i}..${i + len}`);
      });
      i += len;
    }
    expect(engine.count).toBe(n);
  });
});
