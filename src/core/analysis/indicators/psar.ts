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

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const high = k.high;
    const low = k.low;
    const o = out[0];
    const start = this.start;
    const step = this.step;
    const max = this.max;
    let isLong = this.isLong;
    let af = this.af;
    let ep = this.ep;
    let sar = this.sar;
    let prevHigh = this.prevHigh;
    let prevLow = this.prevLow;
    let i = from;
    if (i < to && this.count === 0) {
      // Kline 0: nothing yet.
      this.count = 1;
      prevHigh = high[i];
      prevLow = low[i];
      o[i] = NaN;
      i++;
    }
    if (i < to && this.count === 1) {
      // Kline 1: the initial direction from its -DM; the first SAR and EP.
      this.count = 2;
      const newHigh = high[i];
      const newLow = low[i];
      const diffP = newHigh - prevHigh;
      const diffM = prevLow - newLow;
      const minusDM = diffM > 0 && diffP < diffM ? diffM : 0;
      isLong = !(minusDM > 0);
      if (isLong) {
        ep = newHigh;
        sar = prevLow;
      } else {
        ep = newLow;
        sar = prevHigh;
      }
      af = start;
      // Kline 1 is its own previous kline for the clamps.
      prevHigh = newHigh;
      prevLow = newLow;
    }
    for (; i < to; i++) {
      const newHigh = high[i];
      const newLow = low[i];
      let result: number;
      if (isLong) {
        if (newLow <= sar) {
          isLong = false;
          sar = ep;
          if (sar < prevHigh) sar = prevHigh;
          if (sar < newHigh) sar = newHigh;
          result = sar;
          af = start;
          ep = newLow;
          sar = sar + af * (ep - sar);
          if (sar < prevHigh) sar = prevHigh;
          if (sar < newHigh) sar = newHigh;
        } else {
          result = sar;
          if (newHigh > ep) {
            ep = newHigh;
            af += step;
            if (af > max) af = max;
          }
          sar = sar + af * (ep - sar);
          if (sar > prevLow) sar = prevLow;
          if (sar > newLow) sar = newLow;
        }
      } else if (newHigh >= sar) {
        isLong = true;
        sar = ep;
        if (sar > prevLow) sar = prevLow;
        if (sar > newLow) sar = newLow;
        result = sar;
        af = start;
        ep = newHigh;
        sar = sar + af * (ep - sar);
        if (sar > prevLow) sar = prevLow;
        if (sar > newLow) sar = newLow;
      } else {
        result = sar;
        if (newLow < ep) {
          ep = newLow;
          af += step;
          if (af > max) af = max;
        }
        sar = sar + af * (ep - sar);
        if (sar < prevHigh) sar = prevHigh;
        if (sar < newHigh) sar = newHigh;
      }
      prevHigh = newHigh;
      prevLow = newLow;
      o[i] = result;
    }
    this.isLong = isLong;
    this.af = af;
    this.ep = ep;
    this.sar = sar;
    this.prevHigh = prevHigh;
    this.prevLow = prevLow;
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
};

