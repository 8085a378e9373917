import { describe, expect, it } from 'vitest';
import { validateIndicator } from '../../../src/core/analysis/cac.js';
import type { KlineColumns } from '../../../src/core/analysis/indicators/index.js';
import { computeFeatures, featureNames, featureWarmup, fitScaler, FeatureWindow, lineOffsets, rangeRows, timeSplit, toDataset, type FeatureSpec, type TargetSpec } from '../../../src/core/nn/features.js';
import { analyzeBatch } from '../../../src/core/analysis/engine.js';
import { generateKlines } from '../analysis/data.js';

const spec: FeatureSpec = { indicators: [validateIndicator('SMA', { n: 10 }), validateIndicator('BOL', { n: 20 }), validateIndicator('MFI')], lines: ['SMA.value', 'BOL.upper', 'MFI.norm'], lags: 3, returns: 2 };
const target: TargetSpec = { kind: 'sign', horizon: 5 };

function copy(k: KlineColumns): KlineColumns {
  return { openTime: k.openTime.slice(), open: k.open.slice(), high: k.high.slice(), low: k.low.slice(), close: k.close.slice(), volume: k.volume.slice(), takerBuyVolume: k.takerBuyVolume.slice() };
}

/** Changes every field of klines [from, n) (a different future). */
function otherFuture(k: KlineColumns, from: number): KlineColumns {
  const c = copy(k);
  for (let i = from; i < c.close.length; i++) {
    c.open[i] *= 1.07;
    c.high[i] *= 1.1;
    c.low[i] *= 0.95;
    c.close[i] *= 1.03 + 0.01 * (i % 3);
    c.volume[i] += 17;
    c.takerBuyVolume[i] += 3;
  }
  return c;
}

describe('NN features', () => {
  it('names inputs per line and lag, then the returns', () => {
    expect(featureNames({ ...spec, lags: 1, returns: 1 })).toEqual(['SMA.value[t]', 'SMA.value[t-1]', 'BOL.upper[t]', 'BOL.upper[t-1]', 'MFI.norm[t]', 'MFI.norm[t-1]', 'ret[t]']);
    expect(lineOffsets(spec)).toEqual([0, 1, 5]); // SMA: value; BOL: upper, middle, lower; MFI: value, norm
  });

  it('the row at t holds the lines at t..t-lags and the log returns, nothing later', () => {
    const k = generateKlines(300, 3);
    const m = computeFeatures(spec, target, k);
    const lines = analyzeBatch({ name: '', indicators: spec.indicators, pip: null }, k).values;
    const t = 150;
    expect(m.valid[t]).toBe(1);
    const row = m.x.subarray(t * m.cols, (t + 1) * m.cols);
    expect(row[0]).toBe(lines[0][t]);
    expect(row[3]).toBe(lines[0][t - 3]);
    expect(row[4]).toBe(lines[1][t]);
    expect(row[9]).toBe(lines[5][t - 1]);
    expect(row[12]).toBeCloseTo(Math.log(k.close[t] / k.close[t - 1]), 15);
    expect(row[13]).toBeCloseTo(Math.log(k.close[t - 1] / k.close[t - 2]), 15);
    expect(m.forward[t]).toBe(k.close[t + 5] / k.close[t] - 1);
    // The first complete row comes after the warm-up, not before.
    const first = m.valid.indexOf(1);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(featureWarmup(spec));
  });

  it('changing future klines changes no input at or before t, only the labels that read them', () => {
    const k = generateKlines(400, 5);
    const a = computeFeatures(spec, target, k);
    const cut = 250;
    const b = computeFeatures(spec, target, otherFuture(k, cut + 1));
    for (let t = 0; t <= cut; t++) {
      for (let j = 0; j < a.cols; j++) expect(Object.is(a.x[t * a.cols + j], b.x[t * b.cols + j])).toBe(true);
      expect(a.valid[t]).toBe(b.valid[t]);
    }
    // Labels reading past the cut differ; those before do not.
    expect(a.forward[cut - 5]).toBe(b.forward[cut - 5]);
    expect(a.forward[cut]).not.toBe(b.forward[cut]);
    // Inputs after the cut do change (the test can fail).
    expect(a.x[(cut + 10) * a.cols]).not.toBe(b.x[(cut + 10) * b.cols]);
  });

  it('drops the last horizon rows of each range, so no training label reads the validation range', () => {
    const k = generateKlines(500, 7);
    const m = computeFeatures(spec, target, k);
    const { train, val } = timeSplit(m.n, 0.2);
    expect(train).toEqual([0, 400]);
    expect(val).toEqual([400, 500]);
    const tr = rangeRows(m, train[0], train[1], target.horizon);
    const va = rangeRows(m, val[0], val[1], target.horizon);
    expect(tr[tr.length - 1]).toBe(400 - 1 - 5);
    expect(va[0]).toBe(400);
    expect(va[va.length - 1]).toBe(500 - 1 - 5);
    for (const t of tr) expect(t + target.horizon).toBeLessThan(train[1]);
    // Changing the validation klines changes no training row nor label.
    const m2 = computeFeatures(spec, target, otherFuture(k, 400));
    const tr2 = rangeRows(m2, train[0], train[1], target.horizon);
    expect(Array.from(tr2)).toEqual(Array.from(tr));
    const s1 = fitScaler(m, tr, target);
    const s2 = fitScaler(m2, tr2, target);
    expect(Array.from(s2.mean)).toEqual(Array.from(s1.mean));
    expect(Array.from(s2.sd)).toEqual(Array.from(s1.sd));
    const d1 = toDataset(m, tr, s1, target);
    const d2 = toDataset(m2, tr2, s2, target);
    expect(Array.from(d2.x)).toEqual(Array.from(d1.x));
    expect(Array.from(d2.y)).toEqual(Array.from(d1.y));
  });

  it('standardises with the training rows only: training inputs have mean 0 and sd 1, validation ones need not', () => {
    const k = generateKlines(600, 9);
    const m = computeFeatures(spec, target, k);
    const tr = rangeRows(m, 0, 450, 5);
    const va = rangeRows(m, 450, 600, 5);
    const s = fitScaler(m, tr, target);
    const dt = toDataset(m, tr, s, target);
    const dv = toDataset(m, va, s, target);
    for (let j = 0; j < dt.cols; j++) {
      let mean = 0;
      for (let r = 0; r < dt.rows; r++) mean += dt.x[r * dt.cols + j];
      expect(Math.abs(mean / dt.rows)).toBeLessThan(1e-9);
    }
    // The SMA drifts with the price: the validation range is not centred by training statistics.
    let vm = 0;
    for (let r = 0; r < dv.rows; r++) vm += dv.x[r * dv.cols];
    expect(Math.abs(vm / dv.rows)).toBeGreaterThan(0.01);
    // Labels: 1 for a rise, 0 otherwise.
    dt.y.forEach((y, r) => expect(y).toBe(m.forward[tr[r]] > 0 ? 1 : 0));
  });

  it('the window gives the same rows fed one kline at a time as over a whole column', () => {
    const k = generateKlines(200, 11);
    const lines = analyzeBatch({ name: '', indicators: spec.indicators, pip: null }, k).values;
    const offsets = Int32Array.from(lineOffsets(spec));
    const whole = computeFeatures(spec, target, k);
    const w = new FeatureWindow(3, spec.lags, spec.returns);
    for (let t = 0; t < 200; t++) {
      const one = offsets.length ? lines.map((c) => c.subarray(t, t + 1)) : [];
      const ok = w.push(one, offsets, 0, k.close[t]);
      expect(ok).toBe(whole.valid[t] === 1);
      if (ok) expect(Array.from(w.out)).toEqual(Array.from(whole.x.subarray(t * whole.cols, (t + 1) * whole.cols)));
    }
  });
});
