import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Rolling mean and population variance over `n` values, from sums shifted by an anchor c:
 * S1 = Σ(x - c), S2 = Σ(x - c)². var = S2/n - (S1/n)². Every n pushes the sums are recomputed
 * exactly and c moves to the window mean, so there is no catastrophic cancellation (prices ~1e4
 * with a spread ~1 keep full precision) and no drift beyond one window.
 */
export class RollingMoments {
  private readonly ring: Float64Array;
  private idx = 0;
  count = 0;
  private c = 0;
  private s1 = 0;
  private s2 = 0;
  private sinceExact = 0;

  constructor(readonly n: number) {
    this.ring = new Float64Array(n);
  }

  push(x: number): boolean {
    const n = this.n;
    if (this.count === 0) this.c = x;
    if (this.count < n) {
      this.ring[this.idx] = x;
      this.idx = this.idx + 1 === n ? 0 : this.idx + 1;
      const d = x - this.c;
      this.s1 += d;
      this.s2 += d * d;
      this.count++;
      return this.count === n;
    }
    const old = this.ring[this.idx];
    this.ring[this.idx] = x;
    this.idx = this.idx + 1 === n ? 0 : this.idx + 1;
    if (++this.sinceExact >= n) {
      this.sinceExact = 0;
      let s = 0;
      for (let i = 0; i < n; i++) s += this.ring[i];
      const c = s / n;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const d = this.ring[i] - c;
        s1 += d;
        s2 += d * d;
      }
      this.c = c;
      this.s1 = s1;
      this.s2 = s2;
    } else {
      const dOld = old - this.c;
      const dNew = x - this.c;
      this.s1 += dNew - dOld;
      this.s2 += dNew * dNew - dOld * dOld;
    }
    return true;
  }

  get mean(): number {
    return this.c + this.s1 / this.n;
  }

  /** Population variance (never negative). */
  get variance(): number {
    const m = this.s1 / this.n;
    const v = this.s2 / this.n - m * m;
    return v > 0 ? v : 0;
  }
}

/** Bollinger bands: middle = SMA(n), upper/lower = middle ± k·σ (population σ); first at n-1. */
export class BolStreamer implements Streamer {
  private readonly m: RollingMoments;
  constructor(n: number, private readonly k: number) {
    this.m = new RollingMoments(n);
  }
  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    if (!this.m.push(k.close[t])) {
      out[0][r] = NaN;
      out[1][r] = NaN;
      out[2][r] = NaN;
      return;
    }
    const mid = this.m.mean;
    const dev = this.k * Math.sqrt(this.m.variance);
    out[0][r] = mid + dev;
    out[1][r] = mid;
    out[2][r] = mid - dev;
  }
}

export const BOL: IndicatorSpec = {
  type: 'BOL',
  lines: ['upper', 'middle', 'lower'],
  overlay: true,
  summary: 'Bollinger bands (SMA ± k population standard deviations)',
  params: [
    { name: 'n', kind: 'int', min: 2, max: 100_000, default: 20, description: 'number of klines in the average' },
    { name: 'k', kind: 'number', min: 0, minExclusive: true, max: 10, default: 2, description: 'width in standard deviations' },
  ],
  create: (p: Params) => new BolStreamer(p.n, p.k),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as BolStreamer | undefined) ?? new BolStreamer(p.n, p.k);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchBol(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchBol(s: BolStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
