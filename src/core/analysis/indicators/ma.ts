import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * TA-Lib EMA state: k = 2 / (n + 1); the first value is the SMA of the first n inputs (at input
 * n-1), then ema = (x - ema) * k + ema. Kernels that run EMAs (EMA, MMACD, NES, WOI) load these
 * fields into locals, apply `emaStep`'s arithmetic inline and store them back.
 */
export class EmaCore {
  value = NaN;
  /** Inputs seen, up to n (then it stays at n). */
  count = 0;
  seedSum = 0;
  readonly k: number;

  constructor(readonly n: number, k?: number) {
    this.k = k ?? 2 / (n + 1);
  }

  /** One input (for callers outside a kernel); returns the EMA, NaN before the n-th input. */
  push(x: number): number {
    if (this.count < this.n) {
      this.seedSum += x;
      this.count++;
      if (this.count === this.n) this.value = this.seedSum / this.n;
      return this.value;
    }
    this.value = (x - this.value) * this.k + this.value;
    return this.value;
  }

  get ready(): boolean {
    return this.count >= this.n;
  }

  /** True once any value was pushed since the last reset. */
  get started(): boolean {
    return this.count > 0;
  }

  reset(): void {
    this.count = 0;
    this.seedSum = 0;
    this.value = NaN;
  }
}

/**
 * Simple moving average of `n` closes; first value at kline n-1 (TA-Lib SMA). The window sum is a
 * running sum (sum += x - oldest) recomputed exactly from the window every n klines, so rounding
 * never accumulates over more than one window (amortised O(1)).
 */
export class SmaStreamer implements Streamer {
  private readonly ring: Float64Array;
  private idx = 0;
  private count = 0;
  private sum = 0;
  private sinceExact = 0;

  constructor(readonly n: number) {
    this.ring = new Float64Array(n);
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const close = k.close;
    const o = out[0];
    const ring = this.ring;
    const n = this.n;
    let idx = this.idx;
    let count = this.count;
    let sum = this.sum;
    let sinceExact = this.sinceExact;
    let i = from;
    // Warm-up: fill the window.
    for (; i < to && count < n; i++) {
      const x = close[i];
      ring[idx] = x;
      idx = idx + 1 === n ? 0 : idx + 1;
      sum += x;
      count++;
      o[i] = count === n ? sum / n : NaN;
    }
    for (; i < to; i++) {
      const x = close[i];
      const old = ring[idx];
      ring[idx] = x;
      idx = idx + 1 === n ? 0 : idx + 1;
      if (++sinceExact >= n) {
        sinceExact = 0;
        let s = 0;
        for (let j = 0; j < n; j++) s += ring[j];
        sum = s;
      } else {
        sum += x - old;
      }
      o[i] = sum / n;
    }
    this.idx = idx;
    this.count = count;
    this.sum = sum;
    this.sinceExact = sinceExact;
  }
}

/** EMA of the close (TA-Lib EMA: SMA seed, first value at kline n-1). */
export class EmaStreamer implements Streamer {
  private readonly core: EmaCore;
  constructor(n: number) {
    this.core = new EmaCore(n);
  }
  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const close = k.close;
    const o = out[0];
    const e = this.core;
    const n = e.n;
    const kf = e.k;
    let value = e.value;
    let count = e.count;
    let seedSum = e.seedSum;
    let i = from;
    for (; i < to && count < n; i++) {
      seedSum += close[i];
      count++;
      if (count === n) value = seedSum / n;
      o[i] = value;
    }
    for (; i < to; i++) {
      value = (close[i] - value) * kf + value;
      o[i] = value;
    }
    e.value = value;
    e.count = count;
    e.seedSum = seedSum;
  }
}

/**
 * Linearly weighted moving average: weights 1..n, newest heaviest, divided by n(n+1)/2; first value
 * at kline n-1 (TA-Lib WMA). Kept as a running weighted sum W and plain sum S:
 * W' = W - S + n*x, S' = S - oldest + x; both recomputed exactly every n klines.
 */
export class WmaStreamer implements Streamer {
  private readonly ring: Float64Array;
  private idx = 0;
  private count = 0;
  private sum = 0;
  private wsum = 0;
  private sinceExact = 0;
  private readonly divider: number;

  constructor(readonly n: number) {
    this.ring = new Float64Array(n);
    this.divider = (n * (n + 1)) / 2;
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const close = k.close;
    const o = out[0];
    const ring = this.ring;
    const n = this.n;
    const divider = this.divider;
    let idx = this.idx;
    let count = this.count;
    let sum = this.sum;
    let wsum = this.wsum;
    let sinceExact = this.sinceExact;
    let i = from;
    for (; i < to && count < n; i++) {
      const x = close[i];
      count++;
      ring[idx] = x;
      idx = idx + 1 === n ? 0 : idx + 1;
      wsum += count * x;
      sum += x;
      o[i] = count === n ? wsum / divider : NaN;
    }
    for (; i < to; i++) {
      const x = close[i];
      const old = ring[idx];
      ring[idx] = x;
      idx = idx + 1 === n ? 0 : idx + 1;
      if (++sinceExact >= n) {
        sinceExact = 0;
        let s = 0;
        let w = 0;
        for (let j = 0; j < n; j++) {
          let r = idx + j;
          if (r >= n) r -= n;
          const v = ring[r];
          s += v;
          w += (j + 1) * v;
        }
        sum = s;
        wsum = w;
      } else {
        wsum += n * x - sum;
        sum += x - old;
      }
      o[i] = wsum / divider;
    }
    this.idx = idx;
    this.count = count;
    this.sum = sum;
    this.wsum = wsum;
    this.sinceExact = sinceExact;
  }
}

const period = (what: string, def: number) =>
  [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: def, description: `number of klines in the ${what}` }] as const;

export const SMA: IndicatorSpec = {
  type: 'SMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'simple moving average of the close',
  create: (p: Params) => new SmaStreamer(p.n),
};
export const EMA: IndicatorSpec = {
  type: 'EMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'exponential moving average of the close, seeded with the SMA of the first n',
  create: (p: Params) => new EmaStreamer(p.n),
};
export const WMA: IndicatorSpec = {
  type: 'WMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'linearly weighted moving average of the close',
  create: (p: Params) => new WmaStreamer(p.n),
};
