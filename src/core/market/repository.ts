import type { ColumnDecimals } from './export.js';
import type { Gap, Interval, Klines } from './klines.js';

/**
 * The kline storage port: what the market core needs from a store. `src/db/klineStore.ts`
 * implements it on SQLite. Every call is synchronous (better-sqlite3); only closed klines are
 * stored.
 */
export interface KlineRepository {
  /**
   * Klines with open times in [from, to] (inclusive, defaults: all), sorted, as columns. A higher
   * interval that is not stored is aggregated from 1m (complete buckets unless `partial`).
   */
  loadRange(symbol: string, interval: Interval, from?: number, to?: number, options?: { partial?: boolean }): Klines;
  /** Stores klines in one transaction; existing klines are kept unless `replace`. */
  insert(symbol: string, interval: Interval, klines: Klines, options?: InsertOptions): InsertReport;
  /** Missing open times between stored klines (within [from, to] when given). */
  gaps(symbol: string, interval: Interval, from?: number, to?: number): Gap[];
  firstOpenTime(symbol: string, interval: Interval): number | undefined;
  lastOpenTime(symbol: string, interval: Interval): number | undefined;
  /** Every stored series (optionally of one symbol). */
  series(symbol?: string): SeriesInfo[];
  /** Symbols with stored klines. */
  symbols(): string[];
  /** Removes a series; returns the chunks removed. */
  deleteSeriesKlines(symbol: string, interval: Interval): number;
  /** The source of a stored series, or undefined when nothing is stored. */
  sourceOf(symbol: string, interval: Interval): KlineSource | undefined;
  /** The decimals the series' archive files printed per column (InsertOptions.decimals), if known. */
  decimals(symbol: string, interval: Interval): ColumnDecimals | undefined;
}

/**
 * Where klines come from. `binance`: the real market (Binance's API and its public data archive);
 * `testnet`: Binance's test venue; `local`: the built-in simulated exchange. A series holds one
 * source only.
 */
export type KlineSource = 'binance' | 'testnet' | 'local';

export interface InsertOptions {
  /** Overwrite stored klines with the same open time (default: keep them, count duplicates). */
  replace?: boolean;
  /** Where the klines come from (default `binance`); a series of another source refuses them. */
  source?: KlineSource;
  /**
   * The decimals the klines' text printed per column (an archive file's): kept with the series,
   * each column the most of every insert, so an export prints the text the files had.
   */
  decimals?: ColumnDecimals;
}

export interface InsertReport {
  /** Klines that were not stored before. */
  inserted: number;
  /** Klines whose open time was already stored (kept, or replaced with `replace`). */
  duplicates: number;
  /** Of the duplicates, those whose values differed from the stored ones. */
  changed: number;
  /** Chunks written. */
  chunks: number;
}

export interface SeriesInfo {
  symbol: string;
  interval: Interval;
  first: number | null;
  last: number | null;
  rows: number;
  /** Klines missing between first and last. */
  missing: number;
  /** Bytes of packed kline data (the chunk blobs). */
  bytes: number;
  chunks: number;
  updatedAt: number;
  source: KlineSource;
}

/** What the market core keeps of a symbol's exchange metadata. */
export interface StoredSymbol {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  pricePrecision: number;
  onboardDate: number | null;
  /** Open time of the symbol's first kline on the exchange, once found. */
  firstKlineTime: number | null;
}

/** The symbols port (src/db/symbolStore.ts). */
export interface SymbolRepository {
  upsertAll(symbols: readonly import('../exchange/port.js').SymbolInfo[], raw?: Record<string, unknown>, now?: number): number;
  get(symbol: string): StoredSymbol | undefined;
  list(): StoredSymbol[];
  setFirstKlineTime(symbol: string, time: number): void;
}
