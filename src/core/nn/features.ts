import { analyzeBatch, outputColumns } from '../analysis/engine.js';
import { indicatorWarmup } from '../analysis/warmup.js';
import type { KlineColumns } from '../analysis/indicators/types.js';
import type { Dataset } from './train.js';
import { FeatureWindow, type FeatureSpec, type TargetSpec } from './window.js';

export { FeatureWindow, featureNames, type FeatureSpec, type TargetKind, type TargetSpec } from './window.js';

/**
 * Features and labels, with no lookahead:
 * - the inputs at kline t are the chosen indicator lines at t, t−1, …, t−lags (computed by the
 *   analysis layer's kernels, which read nothing after t) and, optionally, the last `returns` log
 *   returns of the close (ln(close[t−k]/close[t−k−1]), k = 0..returns−1): data up to t only;
 * - the label of kline t is the return over the next `horizon` klines, close[t+h]/close[t] − 1
 *   (its sign as 1/0 for a `sign` target, in percent for a `size` target): the future is used only
 *   as a label;
 * - a range [a, b) of klines keeps row t only if its label lies inside the range (t + h ≤ b − 1):
 *   the last `horizon` rows of every range (training, validation, test) are dropped, so no label
 *   of the training range reads a kline of the validation or test range;
 * - splits are by time (training first, validation after it, the test later still), and only the
 *   training rows are shuffled (train.ts);
 * - inputs are standardised with the mean and standard deviation of the training rows only.
 *
 * One FeatureWindow builds a row from the current kline's lines and its own history, the same
 * code for batch (training, batch PIP) and streaming (PIP one kline at a time): they agree by
 * construction.
 */
/** Column index of each chosen line among the indicators' output columns (undefined entries = unknown lines). */
export function lineOffsets(spec: FeatureSpec): number[] {
  const { columns } = outputColumns({ name: '', indicators: spec.indicators, pip: null });
  return spec.lines.map((l) => columns.indexOf(l));
}

/** Klines consumed before the first complete row: the slowest indicator, the lags, the returns. */
export function featureWarmup(spec: FeatureSpec): number {
  let w = 0;
  for (const ind of spec.indicators) w = Math.max(w, indicatorWarmup(ind));
  return Math.max(w + spec.lags, spec.returns + 1);
}

/** Every kline's raw (unstandardised) row and forward return, over a run of klines. */
export interface FeatureMatrix {
  n: number;
  cols: number;
  openTime: Float64Array;
  close: Float64Array;
  /** Row-major, n × cols; a row is valid only where `valid[t]`. */
  x: Float64Array;
  valid: Uint8Array;
  /** close[t+h]/close[t] − 1, NaN where t + h is past the klines given. */
  forward: Float64Array;
}

export function computeFeatures(spec: FeatureSpec, target: TargetSpec, klines: KlineColumns): FeatureMatrix {
  const result = analyzeBatch({ name: '', indicators: spec.indicators, pip: null }, klines);
  const offsets = Int32Array.from(lineOffsets(spec));
  const n = result.openTime.length;
  const win = new FeatureWindow(spec.lines.length, spec.lags, spec.returns);
  const cols = win.width;
  const x = new Float64Array(n * cols);
  const valid = new Uint8Array(n);
  const forward = new Float64Array(n).fill(NaN);
  const close = klines.close;
  for (let t = 0; t < n; t++) {
    valid[t] = win.push(result.values, offsets, t, close[t]) ? 1 : 0;
    x.set(win.out, t * cols);
    if (t + target.horizon < n) forward[t] = close[t + target.horizon] / close[t] - 1;
  }
  return { n, cols, openTime: result.openTime, close: close.slice(0, n), x, valid, forward };
}

/**
 * The rows of klines [a, b) (indices into the matrix) with a complete input and a label inside the
 * range: t + horizon ≤ b − 1, i.e. the last `horizon` rows of the range are dropped.
 */
export function rangeRows(m: FeatureMatrix, a: number, b: number, horizon: number): Int32Array {
  const rows: number[] = [];
  for (let t = a; t < b && t + horizon <= b - 1; t++) if (m.valid[t] && m.forward[t] === m.forward[t]) rows.push(t);
  return Int32Array.from(rows);
}

/** First index with openTime ≥ time (binary search; n when none). */
export function indexAtOrAfter(openTime: Float64Array, time: number): number {
  let lo = 0;
  let hi = openTime.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (openTime[mid] < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Scaler {
  mean: Float64Array;
  sd: Float64Array;
  /** Standard deviation of the training labels (scales a size model's output into PIP's [-1, 1]). */
  ySd: number;
}

/** Mean and standard deviation per input over the given (training) rows only; sd 0 becomes 1. */
export function fitScaler(m: FeatureMatrix, rows: Int32Array, target: TargetSpec): Scaler {
  const c = m.cols;
  const mean = new Float64Array(c);
  const sd = new Float64Array(c);
  const n = rows.length;
  for (const t of rows) for (let j = 0; j < c; j++) mean[j] += m.x[t * c + j];
  for (let j = 0; j < c; j++) mean[j] = n > 0 ? mean[j] / n : 0;
  for (const t of rows) for (let j = 0; j < c; j++) sd[j] += (m.x[t * c + j] - mean[j]) ** 2;
  for (let j = 0; j < c; j++) {
    const s = n > 1 ? Math.sqrt(sd[j] / (n - 1)) : 0;
    sd[j] = s > 0 && Number.isFinite(s) ? s : 1;
  }
  let ym = 0;
  let yv = 0;
  for (const t of rows) ym += labelOf(m.forward[t], target);
  ym = n > 0 ? ym / n : 0;
  for (const t of rows) yv += (labelOf(m.forward[t], target) - ym) ** 2;
  const ySd = n > 1 ? Math.sqrt(yv / (n - 1)) : 1;
  return { mean, sd, ySd: ySd > 0 ? ySd : 1 };
}

/** A sign target is 1 for a rise and 0 otherwise (no change counts as 0); a size target is the return in percent. */
export function labelOf(forwardReturn: number, target: TargetSpec): number {
  return target.kind === 'sign' ? (forwardReturn > 0 ? 1 : 0) : forwardReturn * 100;
}

/** The standardised inputs and the labels of the given rows, in their order. */
export function toDataset(m: FeatureMatrix, rows: Int32Array, scaler: Scaler, target: TargetSpec): Dataset {
  const c = m.cols;
  const x = new Float64Array(rows.length * c);
  const y = new Float64Array(rows.length);
  rows.forEach((t, r) => {
    for (let j = 0; j < c; j++) x[r * c + j] = (m.x[t * c + j] - scaler.mean[j]) / scaler.sd[j];
    y[r] = labelOf(m.forward[t], target);
  });
  return { x, y, rows: rows.length, cols: c };
}

/**
 * Splits klines [0, n) by time: the training range first, then the validation range (the last
 * `validation` share of the klines). Each range then drops its own last `horizon` rows (rangeRows).
 */
export function timeSplit(n: number, validation: number): { train: [number, number]; val: [number, number] } {
  const cut = Math.round(n * (1 - validation));
  return { train: [0, cut], val: [cut, n] };
}
