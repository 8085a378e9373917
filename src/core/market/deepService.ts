import type { EventBus } from '../bus.js';
import type { BookDepthRow, DeepGap, DeepRepository, DeepSeriesInfo } from './deep.js';
import type { BookSample, DeepTrade } from './deepCodec.js';
import { importDeepArchives, isDeepFile, type DeepImportSummary } from './deepArchive.js';

declare module '../events.js' {
  interface AppEvents {
    /** Deep data of a symbol was stored (an archive import). */
    'market.deep.stored': { symbol: string };
  }
}

/** Per-candle trade flow and book depth, aligned with the candles' open times (NaN: no data). */
export interface DeepStrip {
  symbol: string;
  /** Taker buy / taker sell volume per candle (from stored aggTrades). */
  buy: Float64Array;
  sell: Float64Array;
  /** Mean bid / ask quantity within `depthPercent` % of the mid price per candle (book samples, else bookDepth rows). */
  bid: Float64Array;
  ask: Float64Array;
  depthPercent: number;
  hasTrades: boolean;
  hasBook: boolean;
  /** The strip covers candles from this index on: older ones were left out to stay within the bounds. */
  fromIndex: number;
}

export interface StripOptions {
  /** Depth band around the mid price, % (default 1). */
  depthPercent?: number;
  /** Trades decoded at most (default 300 000, about 0.1 s): only the latest candles are covered beyond that. */
  maxTrades?: number;
  /** Book samples decoded at most (default 50 000). */
  maxSamples?: number;
}

/**
 * `app.market.deep`: stored aggregated trades, order book samples, bookDepth rows and gaps as
 * plain data; archive import; the Market page's trade-flow and depth strip. Without a deep store
 * every query answers empty.
 */
export class DeepDataService {
  constructor(private readonly deps: { store?: DeepRepository; bus: EventBus }) {}

  static isDeepFile(path: string): boolean {
    return isDeepFile(path);
  }

  summary(symbol?: string): DeepSeriesInfo[] {
    return this.deps.store?.summary(symbol) ?? [];
  }

  trades(symbol: string, from?: number, to?: number): DeepTrade[] {
    return this.deps.store?.loadTrades(symbol, from, to) ?? [];
  }

  bookSamples(symbol: string, from?: number, to?: number): BookSample[] {
    return this.deps.store?.loadBookSamples(symbol, from, to) ?? [];
  }

  bookDepth(symbol: string, from?: number, to?: number): BookDepthRow[] {
    return this.deps.store?.loadBookDepth(symbol, from, to) ?? [];
  }

  gaps(symbol?: string, from?: number, to?: number): DeepGap[] {
    return this.deps.store?.gaps(symbol, from, to) ?? [];
  }

  /** Imports aggTrades and bookDepth archive files (see deepArchive.ts). */
  importArchives(files: readonly string[], options: { symbol?: string; onProgress?: (done: number, total: number, file: string) => void } = {}): DeepImportSummary {
    const store = this.deps.store;
    if (!store) return { files: files.map((file) => ({ file, rows: 0, inserted: 0, duplicates: 0, error: 'no deep data store' })), rows: 0, inserted: 0, duplicates: 0, failed: files.length };
    const summary = importDeepArchives(store, files, options);
    for (const symbol of new Set(summary.files.filter((f) => f.inserted > 0 && f.symbol).map((f) => f.symbol!))) this.deps.bus.emit('market.deep.stored', { symbol });
    return summary;
  }

  /**
   * The strip under the Market page's chart for candles opening at `openTimes` (sorted), each
   * `intervalMs` long. Bounded: at most `maxTrades` trades and `maxSamples` samples are decoded,
   * the latest candles first.
   */
  strip(symbol: string, openTimes: ArrayLike<number>, intervalMs: number, options: StripOptions = {}): DeepStrip {
    const n = openTimes.length;
    const pct = options.depthPercent ?? 1;
    const strip: DeepStrip = {
      symbol, buy: new Float64Array(n).fill(NaN), sell: new Float64Array(n).fill(NaN), bid: new Float64Array(n).fill(NaN), ask: new Float64Array(n).fill(NaN),
      depthPercent: pct, hasTrades: false, hasBook: false, fromIndex: n,
    };
    const store = this.deps.store;
    if (!store || n === 0) return strip;
    const end = openTimes[n - 1] + intervalMs - 1;
    // the latest candles whose data stays within the bounds (halving the span, at most 20 times)
    const startIndex = (count: (from: number) => number, max: number): number => {
      let lo = 0;
      for (let i = 0; i < 20 && lo < n - 1 && count(openTimes[lo]) > max; i++) lo = Math.floor((lo + n) / 2);
      return lo;
    };
    const tradesFrom = startIndex((from) => store.countTrades(symbol, from, end), options.maxTrades ?? 300_000);
    const trades = store.loadTradeColumns(symbol, openTimes[tradesFrom], end);
    let c = tradesFrom;
    for (let k = 0; k < trades.length; k++) {
      const time = trades.time[k];
      while (c + 1 < n && time >= openTimes[c + 1]) c++;
      if (time < openTimes[c] || time >= openTimes[c] + intervalMs) continue;
      if (Number.isNaN(strip.buy[c])) {
        strip.buy[c] = 0;
        strip.sell[c] = 0;
      }
      if (trades.buyerMaker[k] === 1) strip.sell[c] += trades.qty[k];
      else strip.buy[c] += trades.qty[k];
      strip.hasTrades = true;
    }
    const samplesFrom = startIndex((from) => store.countBookSamples(symbol, from, end), options.maxSamples ?? 50_000);
    const counts = new Float64Array(n);
    c = samplesFrom;
    for (const s of store.loadBookSamples(symbol, openTimes[samplesFrom], end)) {
      while (c + 1 < n && s.time >= openTimes[c + 1]) c++;
      if (s.time < openTimes[c] || s.time >= openTimes[c] + intervalMs || s.bids.length === 0 || s.asks.length === 0) continue;
      const mid = (Number(s.bids[0][0]) + Number(s.asks[0][0])) / 2;
      let bid = 0;
      let ask = 0;
      for (const [p, q] of s.bids) if (Number(p) >= mid * (1 - pct / 100)) bid += Number(q);
      for (const [p, q] of s.asks) if (Number(p) <= mid * (1 + pct / 100)) ask += Number(q);
      strip.bid[c] = (counts[c] === 0 ? 0 : strip.bid[c]) + bid;
      strip.ask[c] = (counts[c] === 0 ? 0 : strip.ask[c]) + ask;
      counts[c]++;
      strip.hasBook = true;
    }
    if (!strip.hasBook) this.depthFromArchive(symbol, openTimes, intervalMs, pct, strip, counts, samplesFrom);
    for (let i = 0; i < n; i++) {
      if (counts[i] > 0) {
        strip.bid[i] /= counts[i];
        strip.ask[i] /= counts[i];
      }
    }
    strip.fromIndex = Math.min(strip.hasTrades ? tradesFrom : n, strip.hasBook ? samplesFrom : n);
    return strip;
  }

  /** Without book samples: the bookDepth archive rows at ±depthPercent, summed into `strip`. */
  private depthFromArchive(symbol: string, openTimes: ArrayLike<number>, intervalMs: number, pct: number, strip: DeepStrip, counts: Float64Array, from: number): void {
    const n = openTimes.length;
    const rows = this.bookDepth(symbol, openTimes[from], openTimes[n - 1] + intervalMs - 1);
    let c = from;
    const seen = new Float64Array(n);
    for (const r of rows) {
      const p = Number(r.percentage);
      if (Math.abs(Math.abs(p) - pct) > 1e-9) continue;
      while (c + 1 < n && r.time >= openTimes[c + 1]) c++;
      if (r.time < openTimes[c] || r.time >= openTimes[c] + intervalMs) continue;
      const side = p < 0 ? strip.bid : strip.ask;
      side[c] = (Number.isNaN(side[c]) ? 0 : side[c]) + Number(r.depth);
      if (p < 0) seen[c]++;
      strip.hasBook = true;
    }
    for (let i = 0; i < n; i++) counts[i] = seen[i];
  }
}
