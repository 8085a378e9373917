import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/** Smoothing kernel over neighbouring bins (triangular, radius 2). */
const KERNEL = [1 / 9, 2 / 9, 3 / 9, 2 / 9, 1 / 9];
const RADIUS = 2;
/** How many bins above and below the close are searched for support / resistance. */
export const IVP_SEARCH_BINS = 100;

/**
 * Indexed volume profile (the trader's VPVR) over everything analysed so far.
 * - Bins are logarithmic: bin b holds prices in [(1+γ)^b, (1+γ)^(b+1)), so γ (Gamma factor) is the
 *   bin height as a fraction of price.
 * - Each kline adds its volume to the bin of its typical price (high + low + close)/3 (O(1)).
 * - The profile is smoothed with the triangular kernel (1,2,3,2,1)/9 across neighbouring bins.
 * - poc: centre price of the bin with the largest smoothed volume (ties keep the earlier one).
 * - support / resistance: centre of the bin with the largest smoothed volume among the 100 bins
 *   below / above the close's bin whose smoothed volume is at least δ (Delta factor, filter
 *   strength) times the poc's; null when none qualifies.
 * - Nothing before `interval` (minimum samples) klines; the levels are re-chosen every `interval`
 *   klines and held in between (amortised O(1)); poc is exact on every kline.
 * Bin centres are geometric: (1+γ)^(b+½).
 */
export class IvpStreamer implements Streamer {
  private readonly lnStep: number;
  private base = 0;
  private vol = new Float64Array(0);
  private count = 0;
  private pocBin = 0;
  private pocVol = -1;
  private support = NaN;
  private resistance = NaN;
  private lastBin = 0;
  private binLow = Infinity;
  private binHigh = -Infinity;
  private pocPriceBin = NaN;
  private pocPrice = NaN;
  /** Klines since the levels were last chosen (they are chosen on klines interval, 2·interval...). */
  private sinceLevels = 0;

  constructor(private readonly interval: number, private readonly gamma: number, private readonly delta: number) {
    this.lnStep = Math.log1p(gamma);
  }

  private centre(b: number): number {
    return Math.exp((b + 0.5) * this.lnStep);
  }

  /** Makes bins [lo, hi] addressable. */
  private ensure(lo: number, hi: number): void {
    if (this.vol.length === 0) {
      this.base = lo - 64;
      this.vol = new Float64Array(hi - lo + 129);
      return;
    }
    const end = this.base + this.vol.length;
    if (lo >= this.base && hi < end) return;
    // Grow to at least double, putting the spare room on the side that ran out.
    let newBase = Math.min(this.base, lo - 64);
    let newEnd = Math.max(end, hi + 65);
    const size = Math.max(newEnd - newBase, this.vol.length * 2);
    if (lo < this.base) newBase = newEnd - size;
    else newEnd = newBase + size;
    const grown = new Float64Array(size);
    grown.set(this.vol, this.base - newBase);
    this.vol = grown;
    this.base = newBase;
  }

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const tp = (k.high[t] + k.low[t] + k.close[t]) / 3;
    const v = k.volume[t];
    if (tp > 0 && v > 0) {
      // The bin is floor(ln(tp)/ln(1+γ)); the logarithm is skipped while tp stays well inside the
      // previous kline's bin (a 1e-9 relative margin keeps the result identical to the formula).
      let b = this.lastBin;
      if (!(tp > this.binLow && tp < this.binHigh)) {
        b = Math.floor(Math.log(tp) / this.lnStep);
        this.lastBin = b;
        this.binLow = Math.exp(b * this.lnStep) * (1 + 1e-9);
        this.binHigh = Math.exp((b + 1) * this.lnStep) * (1 - 1e-9);
        const margin = RADIUS + IVP_SEARCH_BINS + 1;
        if (b - margin < this.base || b + margin >= this.base + this.vol.length) this.ensure(b - margin, b + margin);
      }
      const vol = this.vol;
      const i0 = b - RADIUS - this.base;
      for (let j = 0; j < KERNEL.length; j++) {
        const s = (vol[i0 + j] += v * KERNEL[j]);
        if (s > this.pocVol) {
          this.pocVol = s;
          this.pocBin = b - RADIUS + j;
        }
      }
    }
    this.count++;
    const due = ++this.sinceLevels >= this.interval;
    if (due) this.sinceLevels = 0;
    if (this.count < this.interval || this.pocVol <= 0) {
      out[0][r] = out[1][r] = out[2][r] = NaN;
      return;
    }
    if (due && k.close[t] > 0) this.chooseLevels(k.close[t]);
    if (this.pocBin !== this.pocPriceBin) {
      this.pocPriceBin = this.pocBin;
      this.pocPrice = this.centre(this.pocBin);
    }
    out[0][r] = this.pocPrice;
    out[1][r] = this.support;
    out[2][r] = this.resistance;
  }


  private chooseLevels(close: number): void {
    const cur = Math.floor(Math.log(close) / this.lnStep);
    this.ensure(cur - IVP_SEARCH_BINS - 1, cur + IVP_SEARCH_BINS + 1);
    const floor = this.delta * this.pocVol;
    const vol = this.vol;
    let best = -1;
    let bestBin = 0;
    for (let b = cur - 1; b >= cur - IVP_SEARCH_BINS; b--) {
      const s = vol[b - this.base];
      if (s > 0 && s >= floor && s > best) {
        best = s;
        bestBin = b;
      }
    }
    this.support = best > 0 ? this.centre(bestBin) : NaN;
    best = -1;
    for (let b = cur + 1; b <= cur + IVP_SEARCH_BINS; b++) {
      const s = vol[b - this.base];
      if (s > 0 && s >= floor && s > best) {
        best = s;
        bestBin = b;
      }
    }
    this.resistance = best > 0 ? this.centre(bestBin) : NaN;
  }
}

export const IVP: IndicatorSpec = {
  type: 'IVP',
  lines: ['poc', 'support', 'resistance'],
  overlay: true,
  summary: 'indexed volume profile: point of control and the major support / resistance levels',
  params: [
    { name: 'interval', kind: 'int', min: 1, max: 1_000_000, default: 60, description: 'minimum samples before output; levels are re-chosen every interval klines' },
    { name: 'gamma', kind: 'number', min: 0.0001, max: 0.1, default: 0.002, description: 'bin height as a fraction of price' },
    { name: 'delta', kind: 'number', min: 0, max: 1, default: 0.3, description: 'filter strength: a level needs at least delta × the poc volume' },
  ],
  create: (p: Params) => new IvpStreamer(p.interval, p.gamma, p.delta),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as IvpStreamer | undefined) ?? new IvpStreamer(p.interval, p.gamma, p.delta);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchIvp(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchIvp(s: IvpStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
