import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Rolling window of the last `n` values with a running sum. Running sums drift (every add and
 * subtract rounds); the sum is recomputed exactly from the window every `n` pushes, so the error
 * never accumulates over more than one window (amortised O(1)).
 */
export class RollingSum {
  readonly ring: Float64Array;
  sum = 0;
  count = 0;
  private idx = 0;
  private sinceExact = 0;

  constructor(readonly n: number) {
    this.ring = new Float64Array(n);
  }

  /** Adds `x`, dropping the oldest value once full; returns true when the window is full. */
  push(x: number): boolean {
    const n = this.n;
    if (this.count < n) {
      this.ring[this.idx] = x;
      this.idx = this.idx + 1 === n ? 0 : this.idx + 1;
      this.sum += x;
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
      this.sum = s;
    } else {
      this.sum += x - old;
    }
    return true;
  }

  /** The i-th value of the window, 0 = oldest (only when full). */
  at(i: number): number {
    const j = this.idx + i;
    return this.ring[j >= this.n ? j - this.n : j];
  }
}

/**
 * TA-Lib EMA: k = 2 / (n + 1); the first value is the SMA of the first n inputs (at input n-1),
 * then ema = (x - ema) * k + ema.
 */
export class EmaCore {
  value = NaN;
  private count = 0;
  private seedSum = 0;
  readonly k: number;

  constructor(readonly n: number, k?: number) {
    this.k = k ?? 2 / (n + 1);
  }

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

/** Simple moving average of `n` closes; first value at kline n-1 (TA-Lib SMA). */
export class SmaStreamer implements Streamer {
  private readonly window: RollingSum;
  constructor(readonly n: number) {
    this.window = new RollingSum(n);
  }
  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    out[0][r] = this.window.push(k.close[t]) ? this.window.sum / this.n : NaN;
  }
}

export class EmaStreamer implements Streamer {
  private readonly core: EmaCore;
  constructor(n: number) {
    this.core = new EmaCore(n);
  }
  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    out[0][r] = this.core.push(k.close[t]);
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

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const x = k.close[t];
    const n = this.n;
    if (this.count < n) {
      this.count++;
      this.ring[this.idx] = x;
      this.idx = this.idx + 1 === n ? 0 : this.idx + 1;
      this.wsum += this.count * x;
      this.sum += x;
      out[0][r] = this.count === n ? this.wsum / this.divider : NaN;
      return;
    }
    const old = this.ring[this.idx];
    this.ring[this.idx] = x;
    this.idx = this.idx + 1 === n ? 0 : this.idx + 1;
    if (++this.sinceExact >= n) {
      this.sinceExact = 0;
      let s = 0;
      let w = 0;
      for (let i = 0; i < n; i++) {
        let j = this.idx + i;
        if (j >= n) j -= n;
        const v = this.ring[j];
        s += v;
        w += (i + 1) * v;
      }
      this.sum = s;
      this.wsum = w;
    } else {
      this.wsum += n * x - this.sum;
      this.sum += x - old;
    }
    out[0][r] = this.wsum / this.divider;
  }
}

const period = (what: string, def: number) =>
  [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: def, description: `number of klines in the ${what}` }] as const;

export const SMA: IndicatorSpec = {
  type: 'SMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'simple moving average of the close',
  create: (p: Params) => new SmaStreamer(p.n),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as SmaStreamer | undefined) ?? new SmaStreamer(p.n);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchSma(s, k, from, to, cols);
  },
};
export const EMA: IndicatorSpec = {
  type: 'EMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'exponential moving average of the close, seeded with the SMA of the first n',
  create: (p: Params) => new EmaStreamer(p.n),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as EmaStreamer | undefined) ?? new EmaStreamer(p.n);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchEma(s, k, from, to, cols);
  },
};
export const WMA: IndicatorSpec = {
  type: 'WMA', lines: ['value'], params: period('average', 20), overlay: true,
  summary: 'linearly weighted moving average of the close',
  create: (p: Params) => new WmaStreamer(p.n),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as WmaStreamer | undefined) ?? new WmaStreamer(p.n);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchWma(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchSma(s: SmaStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchEma(s: EmaStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchWma(s: WmaStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
