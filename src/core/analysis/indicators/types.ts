/**
 * The indicator contract. Every indicator is a small state machine with one kernel,
 * `run(k, from, to, out)`: it consumes the closed klines [from, to) of typed-array columns (the
 * ones right after those it consumed before) in a tight loop over locals, in O(1) per kline, and
 * writes its lines into Float64Array output columns. Batch calls it over blocks of the full columns;
 * streaming calls the very same kernel over a one-kline range. So batch and streaming perform the
 * same floating-point operations in the same order and agree bit for bit on every prefix, by
 * construction, and nothing can read a future kline. NaN means "no value" (warm-up, no book): it
 * becomes `null` at the edges (JSON, the chart).
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
 * A running indicator. `run(k, from, to, out)` consumes closed klines [from, to) of the columns `k`
 * (the klines right after the previous call's; ranges may have any length, including 1) and writes
 * line j of kline i to `out[j][i]`. Batch: blocks of the full columns and the output columns;
 * streaming: one-row columns, the range [0, 1) and one-value views of the engine's row. The kernel
 * loads its state into locals, loops, and stores the state back, so a range boundary can fall
 * anywhere. It must read nothing but rows from..to-1.
 */
export interface Streamer {
  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void;
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
  /** A fresh state machine (streaming and batch both drive it through `run`). */
  create(p: Params): Streamer;
  summary: string;
}

/** TA-Lib's TA_IS_ZERO: |v| < 1e-8. */
export const isZero = (v: number): boolean => v > -0.00000001 && v < 0.00000001;
