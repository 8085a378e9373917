/**
 * The indicator contract. Every indicator is a small state machine fed one closed kline at a time
 * (`update`), in O(1) per kline; the batch form runs the very same state machine over typed arrays,
 * so batch and streaming agree on every prefix by construction, and nothing can read a future
 * kline. Outputs are written into a Float64Array row; NaN means "no value" (warm-up, no book):
 * it becomes `null` at the edges (JSON, the chart).
 */

/** One closed kline as the indicators see it (a reusable mutable record, never stored). */
export interface Bar {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  takerBuyVolume: number;
  /**
   * The local order book at the kline's close, when one was kept (live analyses); undefined for
   * stored history. Only WOI reads it.
   */
  book: BookSnapshot | undefined;
}

/** Top levels of an order book: prices and quantities, best first on each side. */
export interface BookSnapshot {
  bidPrice: Float64Array;
  bidQty: Float64Array;
  askPrice: Float64Array;
  askQty: Float64Array;
}

export function emptyBar(): Bar {
  return { openTime: 0, open: NaN, high: NaN, low: NaN, close: NaN, volume: 0, takerBuyVolume: 0, book: undefined };
}

/** Column input for batch runs: one Float64Array per field, all the same length. */
export interface KlineColumns {
  /** Valid rows when the arrays have spare capacity (the market layer's `Klines`); default: close.length. */
  length?: number;
  openTime: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  takerBuyVolume: Float64Array;
  /** Optional per-kline order book at the close (undefined where none). */
  books?: (BookSnapshot | undefined)[];
}

export function columnsLength(k: KlineColumns): number {
  return k.length ?? k.close.length;
}

/** Copies kline `i` of the columns into `bar`. */
export function readBar(k: KlineColumns, i: number, bar: Bar): Bar {
  bar.openTime = k.openTime[i];
  bar.open = k.open[i];
  bar.high = k.high[i];
  bar.low = k.low[i];
  bar.close = k.close[i];
  bar.volume = k.volume[i];
  bar.takerBuyVolume = k.takerBuyVolume[i];
  bar.book = k.books ? k.books[i] : undefined;
  return bar;
}

/**
 * A running indicator: `update(k, t, out, r)` consumes closed kline `t` of the columns `k` (the
 * next one after the previous call; streaming passes one-row columns with t = 0) and writes its
 * line j to `out[j][r]` (batch: the output columns and r = t; streaming: one-value views of the
 * engine's row and r = 0). It must read nothing but row t.
 */
export interface Streamer {
  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void;
}

/** One-row columns for streaming (reused: every field is overwritten per kline). */
export function oneRow(): KlineColumns & { books: (BookSnapshot | undefined)[] } {
  const f = () => new Float64Array(1);
  return { length: 1, openTime: f(), open: f(), high: f(), low: f(), close: f(), volume: f(), takerBuyVolume: f(), books: [undefined] };
}

/** Writes `bar` into one-row columns. */
export function setRow(row: ReturnType<typeof oneRow>, bar: Bar): void {
  row.openTime[0] = bar.openTime;
  row.open[0] = bar.open;
  row.high[0] = bar.high;
  row.low[0] = bar.low;
  row.close[0] = bar.close;
  row.volume[0] = bar.volume;
  row.takerBuyVolume[0] = bar.takerBuyVolume;
  row.books[0] = bar.book;
}

export type BatchRunner = (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => void;

export interface ParamSpec {
  name: string;
  kind: 'int' | 'number';
  min: number;
  max: number;
  /** The minimum itself is not allowed (e.g. a factor that must be > 0). */
  minExclusive?: boolean;
  default: number;
  /** Optional (0 means "unused"), e.g. the 3rd..6th MMACD averages. */
  zeroMeansOff?: boolean;
  description: string;
}

export type Params = Record<string, number>;

export interface IndicatorSpec {
  /** The type as written in a CAC and on the command line, e.g. 'SMA', 'MMACDLONG'. */
  type: string;
  /** Output lines, in order; JSON keys are `<TYPE>.<line>`. */
  lines: readonly string[];
  params: readonly ParamSpec[];
  /** Drawn over the candles (price scale) rather than in a sub-panel. */
  overlay: boolean;
  /** Cross-parameter rule; returns the problem in words, or undefined. */
  check?(p: Params): string | undefined;
  create(p: Params): Streamer;
  /**
   * A batch runner: each call continues the same state over klines [from, to) of the columns
   * (consecutive ranges, from 0), writing line j of kline i to cols[j][i]. It runs the same state
   * machine as `create` (so it equals streaming bit for bit), in a loop of its own. With
   * `existing` (a streamer from this spec's `create`), the runner continues that streamer's state.
   */
  batch(p: Params, existing?: Streamer): BatchRunner;
  summary: string;
}

/** TA-Lib's TA_IS_ZERO: |v| < 1e-8. */
export const isZero = (v: number): boolean => v > -0.00000001 && v < 0.00000001;
