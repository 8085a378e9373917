import { type ParamSpec, type Params, type KlineColumns } from './indicators/types.js';

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
 * - nn: the neural-network signal (null: no models exist yet).
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
  /** Neural network model name (none exist yet). */
  nnModel: string | null;
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

export class PipStreamer {
  private readonly s: number;
  private readonly kinds: Int32Array;
  /** The parameters as a plain fixed-shape object (read on every kline). */
  private readonly p: { csAlpha: number; csNSamples: number; csAt1: number; csAt2: number; csSigma: number; woiThreshold: number };
  private readonly needWoi: boolean;
  private readonly offs: Int32Array;
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  private ringIdx = 0;
  private count = 0;
  private cs = NaN;
  private samples = 0;
  private csDir = 0;
  private prevAction = 0;

  constructor(
    private readonly settings: PipSettings,
    private readonly components: PipComponent[],
    /** Column of the WOI value, or -1 when the CAC has no WOI. */
    private readonly woiOffset: number,
    /** Column of PIP's first line. */
    private readonly pipOffset: number,
  ) {
    this.s = settings.params.swing;
    const q = settings.params;
    this.p = { csAlpha: q.csAlpha, csNSamples: q.csNSamples, csAt1: q.csAt1, csAt2: q.csAt2, csSigma: q.csSigma, woiThreshold: q.woiThreshold };
    this.needWoi = settings.mode === 'classical_woi';
    this.kinds = Int32Array.from(components.map((c) => KIND_CODES[c.kind]));
    this.offs = Int32Array.from(components.map((c) => c.offset));
    this.highs = new Float64Array(2 * (2 * this.s + 1));
    this.lows = new Float64Array(2 * (2 * this.s + 1));
  }

  /**
   * Reads the indicator lines of kline t from `cols[c][r]` (c = the lines' column indexes) and
   * writes PIP's lines to `cols[pipOffset + j][r]`.
   */
  update(k: KlineColumns, t: number, cols: Float64Array[], r: number): void {
    const p = this.p;
    // ---- swings, confirmed `s` klines after the extreme ----
    // The ring is stored twice over (slots i and i + w) so the last w klines are always the
    // contiguous slice [ringIdx, ringIdx + w), oldest first: no modulo in the scan.
    const s = this.s;
    const w = 2 * s + 1;
    const highs = this.highs;
    const lows = this.lows;
    const h0 = k.high[t];
    const l0 = k.low[t];
    highs[this.ringIdx] = highs[this.ringIdx + w] = h0;
    lows[this.ringIdx] = lows[this.ringIdx + w] = l0;
    this.ringIdx = this.ringIdx + 1 === w ? 0 : this.ringIdx + 1;
    this.count++;
    let swingHigh = NaN;
    let swingLow = NaN;
    if (this.count >= w) {
      const base = this.ringIdx;
      const hc = highs[base + s];
      const lc = lows[base + s];
      let isHigh = true;
      let isLow = true;
      for (let j = 0; j < s && (isHigh || isLow); j++) {
        if (highs[base + j] >= hc) isHigh = false;
        if (lows[base + j] <= lc) isLow = false;
      }
      for (let j = s + 1; j < w && (isHigh || isLow); j++) {
        if (highs[base + j] > hc) isHigh = false;
        if (lows[base + j] < lc) isLow = false;
      }
      if (isHigh) swingHigh = hc;
      if (isLow) swingLow = lc;
    }

    // ---- classical signal ----
    let sum = 0;
    let n = 0;
    const close = k.close[t];
    const kinds = this.kinds;
    const offs = this.offs;
    for (let i = 0; i < kinds.length; i++) {
      const o = offs[i];
      const v = cols[o][r];
      if (v !== v) continue;
      let x: number;
      switch (kinds[i]) {
        case KIND_MA:
          x = v !== 0 ? clip(((close - v) / v) * 100) : 0;
          break;
        case KIND_PSAR:
          x = close > v ? 1 : close < v ? -1 : 0;
          break;
        case KIND_BOL: {
          const mid = cols[o + 1][r];
          const half = v - mid;
          x = half > 0 ? clip((close - mid) / half) : 0;
          break;
        }
        default:
          x = clip(v);
      }
      sum += x;
      n++;
    }
    if (n > 0) {
      const raw = sum / n;
      this.cs = this.samples === 0 ? raw : p.csAlpha * raw + (1 - p.csAlpha) * this.cs;
      this.samples++;
    }
    const f = this.cs;
    if (this.samples >= p.csNSamples && f === f) {
      if (this.csDir === 0) {
        if (f >= p.csAt1) this.csDir = 1;
        else if (f <= -p.csAt1) this.csDir = -1;
      } else if (this.csDir === 1) {
        if (f <= -p.csAt1) this.csDir = -1;
        else if (f < p.csAt2) this.csDir = 0;
      } else if (f >= p.csAt1) this.csDir = 1;
      else if (f > -p.csAt2) this.csDir = 0;
    }

    // ---- WOI signal ----
    let woi = NaN;
    if (this.woiOffset >= 0) {
      const v = cols[this.woiOffset][r];
      if (v === v) woi = v >= p.woiThreshold ? 1 : v <= -p.woiThreshold ? -1 : 0;
    }

    // ---- action ----
    let action = this.csDir;
    if (this.needWoi && woi !== action) action = 0;
    const absF = f === f ? Math.abs(f) : 0;
    const strength = action !== 0 ? Math.min(1, absF / p.csSigma) : 0;
    const impulse = action !== this.prevAction && action !== 0 ? action : 0;
    this.prevAction = action;

    const o = this.pipOffset;
    cols[o][r] = action;
    cols[o + 1][r] = strength;
    cols[o + 2][r] = impulse;
    cols[o + 3][r] = f;
    cols[o + 4][r] = swingHigh;
    cols[o + 5][r] = swingLow;
    cols[o + 6][r] = woi;
    cols[o + 7][r] = NaN;
  }
}
