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
  /** Bin of vol[0] and edges[0]. */
  private base = 0;
  /** Smoothed volume per bin. */
  private vol = new Float64Array(0);
  /** Lower edge (1+γ)^b of each bin, computed on first use (0 = not yet). */
  private edges = new Float64Array(0);
  private count = 0;
  private pocBin = 0;
  private pocVol = -1;
  private support = NaN;
  private resistance = NaN;
  /** The bin of the last typical price, and the prices safely inside it (see `run`). */
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

  /** (1+γ)^b, remembered per bin (b must be addressable). */
  private edge(b: number): number {
    const j = b - this.base;
    const e = this.edges[j];
    return e !== 0 ? e : (this.edges[j] = Math.exp(b * this.lnStep));
  }

  /** Makes bins [lo, hi] addressable. */
  private ensure(lo: number, hi: number): void {
    if (this.vol.length === 0) {
      this.base = lo - 64;
      this.vol = new Float64Array(hi - lo + 129);
      this.edges = new Float64Array(hi - lo + 129);
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
    const grownEdges = new Float64Array(size);
    grownEdges.set(this.edges, this.base - newBase);
    this.edges = grownEdges;
    this.base = newBase;
  }

  /**
   * The bin of tp > 0 next to the last one, whose edges are remembered: floor(ln(tp)/ln(1+γ))
   * without a logarithm when tp is safely inside bin lastBin ± 1 (a 1e-9 relative margin from the
   * edges keeps the result identical to the formula); the formula itself otherwise. Sets lastBin,
   * binLow and binHigh (the prices safely inside the bin) and keeps bins ± the search range
   * addressable.
   */
  private findBin(tp: number): number {
    let b = tp >= this.binHigh ? this.lastBin + 1 : this.lastBin - 1;
    if (this.vol.length > 0) {
      const low = this.edge(b) * (1 + 1e-9);
      const high = this.edge(b + 1) * (1 - 1e-9);
      if (!(tp > low && tp < high)) b = Math.floor(Math.log(tp) / this.lnStep);
    } else {
      b = Math.floor(Math.log(tp) / this.lnStep);
    }
    const margin = RADIUS + IVP_SEARCH_BINS + 1;
    if (b - margin < this.base || b + margin >= this.base + this.vol.length) this.ensure(b - margin, b + margin);
    this.lastBin = b;
    this.binLow = this.edge(b) * (1 + 1e-9);
    this.binHigh = this.edge(b + 1) * (1 - 1e-9);
    return b;
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const high = k.high;
    const low = k.low;
    const close = k.close;
    const volume = k.volume;
    const oPoc = out[0];
    const oSupport = out[1];
    const oResistance = out[2];
    const interval = this.interval;
    const k0 = KERNEL[0];
    const k1 = KERNEL[1];
    const k2 = KERNEL[2];
    const k3 = KERNEL[3];
    const k4 = KERNEL[4];
    let vol = this.vol;
    let base = this.base;
    let b = this.lastBin;
    let binLow = this.binLow;
    let binHigh = this.binHigh;
    let pocBin = this.pocBin;
    let pocVol = this.pocVol;
    let count = this.count;
    let sinceLevels = this.sinceLevels;
    for (let t = from; t < to; t++) {
      const tp = (high[t] + low[t] + close[t]) / 3;
      const v = volume[t];
      if (tp > 0 && v > 0) {
        if (!(tp > binLow && tp < binHigh)) {
          b = this.findBin(tp);
          binLow = this.binLow;
          binHigh = this.binHigh;
          vol = this.vol;
          base = this.base;
        }
        // Add v·(1, 2, 3, 2, 1)/9 to bins b-2..b+2, in that order, tracking the largest bin.
        const i0 = b - RADIUS - base;
        let s = (vol[i0] += v * k0);
        if (s > pocVol) {
          pocVol = s;
          pocBin = b - 2;
        }
        s = vol[i0 + 1] += v * k1;
        if (s > pocVol) {
          pocVol = s;
          pocBin = b - 1;
        }
        s = vol[i0 + 2] += v * k2;
        if (s > pocVol) {
          pocVol = s;
          pocBin = b;
        }
        s = vol[i0 + 3] += v * k3;
        if (s > pocVol) {
          pocVol = s;
          pocBin = b + 1;
        }
        s = vol[i0 + 4] += v * k4;
        if (s > pocVol) {
          pocVol = s;
          pocBin = b + 2;
        }
      }
      count++;
      const due = ++sinceLevels >= interval;
      if (due) sinceLevels = 0;
      if (count < interval || pocVol <= 0) {
        oPoc[t] = oSupport[t] = oResistance[t] = NaN;
        continue;
      }
      if (due && close[t] > 0) {
        this.pocVol = pocVol;
        this.chooseLevels(close[t]);
        vol = this.vol;
        base = this.base;
      }
      if (pocBin !== this.pocPriceBin) {
        this.pocPriceBin = pocBin;
        this.pocPrice = this.centre(pocBin);
      }
      oPoc[t] = this.pocPrice;
      oSupport[t] = this.support;
      oResistance[t] = this.resistance;
    }
    this.pocBin = pocBin;
    this.pocVol = pocVol;
    this.count = count;
    this.sinceLevels = sinceLevels;
  }

  /** Chooses support and resistance around the close's bin (reads this.pocVol). */
  private chooseLevels(close: number): void {
    const cur = Math.floor(Math.log(close) / this.lnStep);
    this.ensure(cur - IVP_SEARCH_BINS - 1, cur + IVP_SEARCH_BINS + 1);
    const floor = this.delta * this.pocVol;
    const vol = this.vol;
    const base = this.base;
    let best = -1;
    let bestBin = 0;
    for (let b = cur - 1; b >= cur - IVP_SEARCH_BINS; b--) {
      const s = vol[b - base];
      if (s > 0 && s >= floor && s > best) {
        best = s;
        bestBin = b;
      }
    }
    this.support = best > 0 ? this.centre(bestBin) : NaN;
    best = -1;
    for (let b = cur + 1; b <= cur + IVP_SEARCH_BINS; b++) {
      const s = vol[b - base];
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
};

