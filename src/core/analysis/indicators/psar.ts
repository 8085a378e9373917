import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Parabolic SAR, TA-Lib's algorithm (ta_SAR.c) with a separate initial acceleration:
 * af starts at `start`, grows by `step` on each new extreme, capped at `max`. With start = step it
 * is TA-Lib SAR(acceleration = step, maximum = max). First value at kline 1. The initial direction
 * is short when kline 1 has a positive -DM (low fell more than high rose), else long.
 */
export class PsarStreamer implements Streamer {
  private count = 0;
  private isLong = true;
  private af: number;
  private ep = 0;
  private sar = 0;
  private prevHigh = 0;
  private prevLow = 0;

  constructor(private readonly start: number, private readonly step: number, private readonly max: number) {
    this.af = start;
  }

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const newHigh = k.high[t];
    const newLow = k.low[t];
    if (this.count === 0) {
      this.count = 1;
      this.prevHigh = newHigh;
      this.prevLow = newLow;
      out[0][r] = NaN;
      return;
    }
    let prevHigh: number;
    let prevLow: number;
    if (this.count === 1) {
      this.count = 2;
      const diffP = newHigh - this.prevHigh;
      const diffM = this.prevLow - newLow;
      const minusDM = diffM > 0 && diffP < diffM ? diffM : 0;
      this.isLong = !(minusDM > 0);
      if (this.isLong) {
        this.ep = newHigh;
        this.sar = this.prevLow;
      } else {
        this.ep = newLow;
        this.sar = this.prevHigh;
      }
      this.af = this.start;
      prevHigh = newHigh;
      prevLow = newLow;
    } else {
      prevHigh = this.prevHigh;
      prevLow = this.prevLow;
    }
    let sar = this.sar;
    let result: number;
    if (this.isLong) {
      if (newLow <= sar) {
        this.isLong = false;
        sar = this.ep;
        if (sar < prevHigh) sar = prevHigh;
        if (sar < newHigh) sar = newHigh;
        result = sar;
        this.af = this.start;
        this.ep = newLow;
        sar = sar + this.af * (this.ep - sar);
        if (sar < prevHigh) sar = prevHigh;
        if (sar < newHigh) sar = newHigh;
      } else {
        result = sar;
        if (newHigh > this.ep) {
          this.ep = newHigh;
          this.af += this.step;
          if (this.af > this.max) this.af = this.max;
        }
        sar = sar + this.af * (this.ep - sar);
        if (sar > prevLow) sar = prevLow;
        if (sar > newLow) sar = newLow;
      }
    } else if (newHigh >= sar) {
      this.isLong = true;
      sar = this.ep;
      if (sar > prevLow) sar = prevLow;
      if (sar > newLow) sar = newLow;
      result = sar;
      this.af = this.start;
      this.ep = newHigh;
      sar = sar + this.af * (this.ep - sar);
      if (sar > prevLow) sar = prevLow;
      if (sar > newLow) sar = newLow;
    } else {
      result = sar;
      if (newLow < this.ep) {
        this.ep = newLow;
        this.af += this.step;
        if (this.af > this.max) this.af = this.max;
      }
      sar = sar + this.af * (this.ep - sar);
      if (sar < prevHigh) sar = prevHigh;
      if (sar < newHigh) sar = newHigh;
    }
    this.sar = sar;
    this.prevHigh = newHigh;
    this.prevLow = newLow;
    out[0][r] = result;
  }
}

export const PSAR: IndicatorSpec = {
  type: 'PSAR',
  lines: ['value'],
  overlay: true,
  summary: 'parabolic stop and reverse',
  params: [
    { name: 'start', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.02, description: 'initial acceleration factor' },
    { name: 'step', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.02, description: 'acceleration added on each new extreme' },
    { name: 'max', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.2, description: 'maximum acceleration factor' },
  ],
  check: (p: Params) => (p.max < p.start ? `max (${p.max}) must be at least start (${p.start})` : undefined),
  create: (p: Params) => new PsarStreamer(p.start, p.step, p.max),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as PsarStreamer | undefined) ?? new PsarStreamer(p.start, p.step, p.max);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchPsar(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchPsar(s: PsarStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
