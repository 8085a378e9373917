import type { CacIndicator } from '../analysis/cac.js';

/**
 * What a model's inputs and target are, and the rolling window that builds one input row per
 * kline (no imports beyond types: PIP's kernel uses it; see features.ts for the rules).
 */
export interface FeatureSpec {
  /** The indicators whose lines are read (a CAC's indicator list). */
  indicators: CacIndicator[];
  /** Column names of those indicators' lines (`SMA.value`, `BOL#2.upper`, see outputColumns). */
  lines: string[];
  /** Past klines of each line besides the current one. */
  lags: number;
  /** Past log returns of the close (0 = none). */
  returns: number;
}

export type TargetKind = 'sign' | 'size';
export interface TargetSpec {
  kind: TargetKind;
  /** Klines ahead of the return being predicted. */
  horizon: number;
}

/** The input names, in row order: `<line>[t-k]` then `ret[t-k]`. */
export function featureNames(spec: FeatureSpec): string[] {
  const names: string[] = [];
  for (const line of spec.lines) for (let k = 0; k <= spec.lags; k++) names.push(k === 0 ? `${line}[t]` : `${line}[t-${k}]`);
  for (let k = 0; k < spec.returns; k++) names.push(k === 0 ? 'ret[t]' : `ret[t-${k}]`);
  return names;
}

/**
 * The rolling history behind one row: per line the last lags+1 values, and the last `returns` log
 * returns, in ring buffers (one new log return per kline, from the previous close). `push` takes
 * kline i's lines from `cols[offsets[l]][i]` and its close, and writes the row into `out` (true
 * when every input has a value).
 */
export class FeatureWindow {
  readonly width: number;
  readonly out: Float64Array;
  private readonly depth: number;
  private readonly hist: Float64Array;
  private readonly rets: Float64Array;
  private prevClose = NaN;
  private count = 0;

  constructor(private readonly nLines: number, private readonly lags: number, private readonly returns: number) {
    this.depth = lags + 1;
    this.width = nLines * this.depth + returns;
    this.out = new Float64Array(this.width);
    this.hist = new Float64Array(nLines * this.depth).fill(NaN);
    this.rets = new Float64Array(Math.max(1, returns)).fill(NaN);
  }

  push(cols: Float64Array[], offsets: Int32Array, i: number, close: number): boolean {
    const depth = this.depth;
    const slot = this.count % depth;
    const hist = this.hist;
    const out = this.out;
    let ok = true;
    const nLines = this.nLines;
    for (let l = 0; l < nLines; l++) {
      const base = l * depth;
      hist[base + slot] = cols[offsets[l]][i];
      // out[base + k] = the value k klines back: slot, slot-1, ..., wrapping.
      let q = slot;
      for (let k = 0; k < depth; k++) {
        const v = hist[base + q];
        if (v !== v) ok = false;
        out[base + k] = v;
        q = q === 0 ? depth - 1 : q - 1;
      }
    }
    const r = this.returns;
    if (r > 0) {
      const rs = this.count % r;
      const rets = this.rets;
      const v = Math.log(close / this.prevClose);
      rets[rs] = v === v && v !== Infinity && v !== -Infinity ? v : NaN;
      this.prevClose = close;
      const base = nLines * depth;
      let q = rs;
      for (let k = 0; k < r; k++) {
        const x = rets[q];
        if (x !== x) ok = false;
        out[base + k] = x;
        q = q === 0 ? r - 1 : q - 1;
      }
    }
    this.count++;
    return ok;
  }
}
