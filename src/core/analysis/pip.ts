import { type ParamSpec, type Params, type KlineColumns } from './indicators/types.js';
import type { NnModelData } from '../nn/model.js';
import { NnStreamer } from '../nn/stream.js';
import { AtmError } from '../errors.js';

/**
 * PIP, the potential investment plan: turns the CAC's indicator lines into one signal that trade
 * control consumes. Its lines (see docs/indicators.md for the full definition):
 * - direction: -1 (short), 0 (flat), +1 (long): the action signal of the chosen mode;
 * - strength: 0..1, how far the filtered classical signal is past its noise band (0 when flat);
 * - impulse: ±1 on the kline where direction changes to a non-zero value, else 0;
 * - cs: the filtered classical signal in [-1, 1];
 * - swingHigh / swingLow: a confirmed swing extreme's price, on the kline that confirms it
 *   (SWING klines after the extreme), else null;
 * - woi: the WOI signal -1/0/+1 (null without a book);
 * - nn: the neural-network signal: EMA(nnaAlpha) of the chosen model's output mapped to [-1, 1]
 *   (null without a model, and until the model's inputs have values).
 */
export const PIP_LINES = ['direction', 'strength', 'impulse', 'cs', 'swingHigh', 'swingLow', 'woi', 'nn'] as const;

export const PIP_MODES = ['classical', 'classical_woi', 'nn', 'nn_classical'] as const;
export type PipMode = (typeof PIP_MODES)[number];

export const PIP_PARAMS: readonly ParamSpec[] = [
  { name: 'swing', kind: 'int', min: 1, max: 500, default: 5, description: 'SWING range: klines on each side of a swing high/low' },
  { name: 'csAlpha', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.2, description: 'CS alpha: EMA factor filtering the classical signal' },
  { name: 'csNSamples', kind: 'int', min: 1, max: 1_000_000, default: 50, description: 'CS nSamples: filtered samples needed before the signal may act' },
  { name: 'csSigma', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.5, description: 'CS sigma: |cs| giving full strength' },
  { name: 'csAt1', kind: 'number', min: 0, max: 1, default: 0.3, description: 'CS AT1: |cs| that activates a direction' },
  { name: 'csAt2', kind: 'number', min: 0, max: 1, default: 0.1, description: 'CS AT2: |cs| below which an active direction is released' },
  { name: 'nnaAlpha', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.5, description: 'NNA alpha: EMA factor filtering the NN output' },
  { name: 'nnaBeta', kind: 'number', min: 0, max: 1, default: 0.5, description: 'NNA beta: |nn| that activates the NN signal' },
  { name: 'woiThreshold', kind: 'number', min: 0, max: 1, default: 0.2, description: 'WOI threshold: |WOI| giving a WOI signal' },
];

export interface PipSettings {
  params: Params;
  mode: PipMode;
  /** The stored neural network model PIP's nn line reads: `NAME` (its latest version) or `NAME@VERSION`. */
  nnModel: string | null;
  /**
   * That model as plain data, attached at run time by whoever loads the CAC (never stored with it);
   * PIP refuses to run a model it was not given.
   */
  nn?: NnModelData;
}

export function defaultPipSettings(): PipSettings {
  return { params: Object.fromEntries(PIP_PARAMS.map((p) => [p.name, p.default])), mode: 'classical', nnModel: null };
}

/** How an indicator line becomes a classical-signal component in [-1, 1]. */
export type PipComponent =
  | { kind: 'ma'; offset: number }
  | { kind: 'psar'; offset: number }
  | { kind: 'bol'; offset: number }
  | { kind: 'unit'; offset: number };

export function componentFor(type: string, offset: number, lines: readonly string[]): PipComponent | undefined {
  switch (type) {
    case 'SMA':
    case 'EMA':
    case 'WMA':
      return { kind: 'ma', offset };
    case 'PSAR':
      return { kind: 'psar', offset };
    case 'BOL':
      return { kind: 'bol', offset };
    case 'MMACD':
    case 'MMACDSHORT':
    case 'MMACDLONG':
    case 'DMIXADX':
    case 'MFI':
      return { kind: 'unit', offset: offset + lines.indexOf('norm') };
    case 'NES':
      return { kind: 'unit', offset: offset + lines.indexOf('value') };
    default:
      return undefined;
  }
}

const clip = (x: number): number => (x > 1 ? 1 : x < -1 ? -1 : x);
const KIND_UNIT = 0;
const KIND_MA = 1;
const KIND_PSAR = 2;
const KIND_BOL = 3;
const KIND_CODES = { unit: KIND_UNIT, ma: KIND_MA, psar: KIND_PSAR, bol: KIND_BOL } as const;
const MODE_CLASSICAL_WOI = 1;
const MODE_NN = 2;
const MODE_NN_CLASSICAL = 3;
const MODE_CODES: Record<PipMode, number> = { classical: 0, classical_woi: MODE_CLASSICAL_WOI, nn: MODE_NN, nn_classical: MODE_NN_CLASSICAL };

/** Klines per pass of PIP's kernel (the length of its scratch columns). */
const CHUNK = 1024;

/*
 * Classical-signal components, one indicator line at a time over klines [from, to): where the line
 * has a value, its component is added to sum[i - from]; where it has none (warm-up), missing[i -
 * from] counts it (rare, so the usual path is one add). Called in the CAC's indicator order, so
 * every kline's sum is formed in the same order whatever the range.
 */

/** SMA, EMA, WMA: clip(100·(close − MA)/MA), 0 for a zero MA. */
function addMa(ma: Float64Array, close: Float64Array, from: number, to: number, sum: Float64Array, missing: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = ma[i];
    if (v !== v) {
      missing[i - from]++;
      continue;
    }
    sum[i - from] += v !== 0 ? clip(((close[i] - v) / v) * 100) : 0;
  }
}

/** PSAR: the side of the close. */
function addPsar(sar: Float64Array, close: Float64Array, from: number, to: number, sum: Float64Array, missing: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = sar[i];
    if (v !== v) {
      missing[i - from]++;
      continue;
    }
    const c = close[i];
    sum[i - from] += c > v ? 1 : c < v ? -1 : 0;
  }
}

/** BOL: clip((close − middle)/(upper − middle)), 0 for a zero-width band. */
function addBol(upper: Float64Array, middle: Float64Array, close: Float64Array, from: number, to: number, sum: Float64Array, missing: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = upper[i];
    if (v !== v) {
      missing[i - from]++;
      continue;
    }
    const mid = middle[i];
    const half = v - mid;
    sum[i - from] += half > 0 ? clip((close[i] - mid) / half) : 0;
  }
}

/** A line already in [-1, 1] (norm lines, NES value), clipped. */
function addUnit(line: Float64Array, from: number, to: number, sum: Float64Array, missing: Int32Array): void {
  for (let i = from; i < to; i++) {
    const v = line[i];
    if (v !== v) {
      missing[i - from]++;
      continue;
    }
    sum[i - from] += clip(v);
  }
}

/**
 * Whether kline c of the columns is a swing high (bit 1: high(c) greater than the s highs before it
 * and not less than the s after it) and / or a swing low (bit 2, mirrored). The nearest neighbours
 * are compared first: they settle most klines.
 */
function swingFlags(high: Float64Array, low: Float64Array, c: number, s: number): number {
  const hc = high[c];
  const lc = low[c];
  let isHigh = hc > high[c - 1] && hc >= high[c + 1];
  let isLow = lc < low[c - 1] && lc <= low[c + 1];
  for (let q = c - s; q < c - 1 && (isHigh || isLow); q++) {
    if (high[q] >= hc) isHigh = false;
    if (low[q] <= lc) isLow = false;
  }
  for (let q = c + 2; q <= c + s && (isHigh || isLow); q++) {
    if (high[q] > hc) isHigh = false;
    if (low[q] < lc) isLow = false;
  }
  return (isHigh ? 1 : 0) | (isLow ? 2 : 0);
}

/**
 * PIP's state machine. Like the indicators it has one kernel, `run(k, from, to, cols)`, for batch
 * (blocks) and streaming (one kline): it reads the indicator lines of klines [from, to) from
 * `cols[c][i]` and writes its own lines to `cols[pipOffset + j][i]`. Per chunk of klines it first
 * sums the classical-signal components one indicator line at a time (tight loops into scratch
 * columns), then finds the swings in a pass of their own, then makes one pass for the filtered
 * signal, the direction and the other outputs.
 */
export class PipStreamer {
  private readonly s: number;
  private readonly kinds: Int32Array;
  private readonly csAlpha: number;
  private readonly csNSamples: number;
  private readonly csAt1: number;
  private readonly csAt2: number;
  private readonly csSigma: number;
  private readonly woiThreshold: number;
  private readonly needWoi: boolean;
  private readonly offs: Int32Array;
  /**
   * Swing windows: the 2·swing highs and lows before the current range, followed by the range's
   * first 2·swing (see `swings`).
   */
  private readonly winHigh: Float64Array;
  private readonly winLow: Float64Array;
  /** Scratch: the component sum and the number of components without a value, per kline of a chunk. */
  private readonly sum = new Float64Array(CHUNK);
  private readonly missing = new Int32Array(CHUNK);
  /** Klines seen. */
  private count = 0;
  private cs = NaN;
  private samples = 0;
  private csDir = 0;
  private prevAction = 0;
  private readonly mode: number;
  private readonly nnStreamer: NnStreamer | undefined;
  private readonly nnOut = new Float64Array(CHUNK);
  private readonly nnaAlpha: number;
  private readonly nnaBeta: number;
  private nnF = NaN;

  constructor(
    settings: PipSettings,
    components: PipComponent[],
    /** Column of the WOI value, or -1 when the CAC has no WOI. */
    private readonly woiOffset: number,
    /** Column of PIP's first line. */
    private readonly pipOffset: number,
  ) {
    const q = settings.params;
    this.s = q.swing;
    this.csAlpha = q.csAlpha;
    this.csNSamples = q.csNSamples;
    this.csAt1 = q.csAt1;
    this.csAt2 = q.csAt2;
    this.csSigma = q.csSigma;
    this.woiThreshold = q.woiThreshold;
    this.needWoi = settings.mode === 'classical_woi';
    this.mode = MODE_CODES[settings.mode];
    this.nnaAlpha = q.nnaAlpha;
    this.nnaBeta = q.nnaBeta;
    if (settings.nnModel && !settings.nn) throw new AtmError('user', `PIP.nnModel: the neural network model ${settings.nnModel} was not loaded for this run`);
    this.nnStreamer = settings.nn ? new NnStreamer(settings.nn) : undefined;
    this.kinds = Int32Array.from(components.map((c) => KIND_CODES[c.kind]));
    this.offs = Int32Array.from(components.map((c) => c.offset));
    this.winHigh = new Float64Array(4 * this.s);
    this.winLow = new Float64Array(4 * this.s);
  }

  run(k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
    for (let a = from; a < to; a += CHUNK) this.chunk(k, a, Math.min(to, a + CHUNK), cols);
  }

  private chunk(k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
    const close = k.close;
    const sum = this.sum;
    const missing = this.missing;
    // (Plain loops rather than fill(): a streaming chunk is one kline long.)
    for (let j = 0; j < to - from; j++) {
      sum[j] = 0;
      missing[j] = 0;
    }
    // ---- classical-signal components, one line at a time ----
    const kinds = this.kinds;
    const offs = this.offs;
    const components = kinds.length;
    for (let c = 0; c < components; c++) {
      const o = offs[c];
      switch (kinds[c]) {
        case KIND_MA:
          addMa(cols[o], close, from, to, sum, missing);
          break;
        case KIND_PSAR:
          addPsar(cols[o], close, from, to, sum, missing);
          break;
        case KIND_BOL:
          addBol(cols[o], cols[o + 1], close, from, to, sum, missing);
          break;
        default:
          addUnit(cols[o], from, to, sum, missing);
      }
    }

    // ---- swings, a pass of their own ----
    const o = this.pipOffset;
    this.swings(k.high, k.low, from, to, cols[o + 4], cols[o + 5]);

    // ---- the model's signal, when PIP has one ----
    const nnOut = this.nnOut;
    if (this.nnStreamer) this.nnStreamer.run(k, from, to, nnOut);
    const hasNn = this.nnStreamer !== undefined;

    // ---- filtered signal, direction, WOI signal, action ----
    const oDirection = cols[o];
    const oStrength = cols[o + 1];
    const oImpulse = cols[o + 2];
    const oCs = cols[o + 3];
    const oWoi = cols[o + 6];
    const oNn = cols[o + 7];
    const woiLine = this.woiOffset >= 0 ? cols[this.woiOffset] : undefined;
    const csAlpha = this.csAlpha;
    const csKeep = 1 - csAlpha;
    const csNSamples = this.csNSamples;
    const at1 = this.csAt1;
    const at2 = this.csAt2;
    const csSigma = this.csSigma;
    const woiThreshold = this.woiThreshold;
    const needWoi = this.needWoi;
    let cs = this.cs;
    let samples = this.samples;
    let csDir = this.csDir;
    let prevAction = this.prevAction;
    const mode = this.mode;
    const nnaAlpha = this.nnaAlpha;
    const nnaKeep = 1 - nnaAlpha;
    const nnaBeta = this.nnaBeta;
    let nnF = this.nnF;
    for (let i = from; i < to; i++) {
      // The classical signal: the mean of the components, filtered.
      const n = components - missing[i - from];
      if (n > 0) {
        const raw = sum[i - from] / n;
        cs = samples === 0 ? raw : csAlpha * raw + csKeep * cs;
        samples++;
      }
      if (samples >= csNSamples && cs === cs) {
        if (csDir === 0) {
          if (cs >= at1) csDir = 1;
          else if (cs <= -at1) csDir = -1;
        } else if (csDir === 1) {
          if (cs <= -at1) csDir = -1;
          else if (cs < at2) csDir = 0;
        } else if (cs >= at1) csDir = 1;
        else if (cs > -at2) csDir = 0;
      }

      // The WOI signal.
      let woi = NaN;
      if (woiLine) {
        const v = woiLine[i];
        if (v === v) woi = v >= woiThreshold ? 1 : v <= -woiThreshold ? -1 : 0;
      }

      // The NN signal: EMA(nnaAlpha) of the model's output, active at |nn| >= nnaBeta.
      let nnDir = 0;
      if (hasNn) {
        const raw = nnOut[i - from];
        if (raw === raw) nnF = nnF === nnF ? nnaAlpha * raw + nnaKeep * nnF : raw;
        if (nnF === nnF) nnDir = nnF >= nnaBeta ? 1 : nnF <= -nnaBeta ? -1 : 0;
      }

      // The action.
      let action = csDir;
      if (needWoi && woi !== action) action = 0;
      else if (mode === MODE_NN) action = nnDir;
      else if (mode === MODE_NN_CLASSICAL && nnDir !== csDir) action = 0;
      const absF = mode === MODE_NN ? (nnF === nnF ? Math.abs(nnF) : 0) : cs === cs ? Math.abs(cs) : 0;
      const strength = action !== 0 ? Math.min(1, mode === MODE_NN ? absF : absF / csSigma) : 0;
      const impulse = action !== prevAction && action !== 0 ? action : 0;
      prevAction = action;

      oDirection[i] = action;
      oStrength[i] = strength;
      oImpulse[i] = impulse;
      oCs[i] = cs;
      oWoi[i] = woi;
      oNn[i] = nnF;
    }
    this.cs = cs;
    this.samples = samples;
    this.csDir = csDir;
    this.prevAction = prevAction;
    this.nnF = nnF;
  }

  /**
   * Swing highs and lows over klines [from, to), each written on the kline that confirms it, s
   * klines after the extreme (else NaN). Kline from + j's window (centre from + j - s) starts 2s
   * klines back: for the first 2s klines of the range that reaches into earlier ranges, so they
   * read the window arrays (the 2s klines before the range followed by the range's first ones);
   * the others read the input columns directly.
   */
  private swings(high: Float64Array, low: Float64Array, from: number, to: number, oHigh: Float64Array, oLow: Float64Array): void {
    const s = this.s;
    const span = 2 * s;
    const len = to - from;
    const wh = this.winHigh;
    const wl = this.winLow;
    const head = len < span ? len : span;
    for (let j = 0; j < head; j++) {
      wh[span + j] = high[from + j];
      wl[span + j] = low[from + j];
    }
    let count = this.count;
    for (let j = 0; j < head; j++) {
      let flags = 0;
      if (++count > span) flags = swingFlags(wh, wl, j + s, s);
      oHigh[from + j] = flags & 1 ? wh[j + s] : NaN;
      oLow[from + j] = flags & 2 ? wl[j + s] : NaN;
    }
    // From the 2s-th kline of the range on, count > 2s: every window is complete.
    for (let i = from + head; i < to; i++) {
      const flags = swingFlags(high, low, i - s, s);
      oHigh[i] = flags & 1 ? high[i - s] : NaN;
      oLow[i] = flags & 2 ? low[i - s] : NaN;
    }
    count += len - head;
    // Keep the last 2s klines for the next range.
    if (len >= span) {
      for (let q = 0; q < span; q++) {
        wh[q] = high[to - span + q];
        wl[q] = low[to - span + q];
      }
    } else {
      for (let q = 0; q < span; q++) {
        wh[q] = wh[len + q];
        wl[q] = wl[len + q];
      }
    }
    this.count = count;
  }
}
