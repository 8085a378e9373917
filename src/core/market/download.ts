import { AtmError, errorKind } from '../errors.js';
import { sleep, type Clock } from '../clock.js';
import { ExchangeError, type ExchangePort, type KlineRow } from '../exchange/port.js';
import { allocKlines, alignOpenTime, countOpenTimes, isoMinute, nextOpenTime, previousOpenTime, type Interval, type Klines } from './klines.js';
import type { KlineRepository, KlineSource, SymbolRepository } from './repository.js';

/** The kline source an exchange port delivers: the simulated local exchange, testnet, or Binance. */
export function sourceOfPort(port: ExchangePort): KlineSource {
  if (port.simulated) return 'local';
  return port.venue === 'testnet' ? 'testnet' : 'binance';
}

/**
 * History download over the exchange port (`atm data download`, and the REST side of the live
 * gap fill). Only what the store lacks is fetched: the missing ranges of [from, to] (before the
 * first stored kline, the gaps, after the last one), page by page in ascending time, each page
 * stored in its own transaction. So an interrupted download resumes where the store ends, and a
 * second run over a complete range asks nothing.
 *
 * Never earlier than the symbol's first kline: found once (`klines(startTime=0, limit=1)` on 1m)
 * and stored in `symbols.first_kline_time`. Only closed klines are stored: a row whose close time
 * is not yet past is dropped. Pages of 1000 klines (weight 5, the best klines per weight);
 * rate-limit answers are waited out (their retry-after), network and server errors retried with
 * backoff, rejections (bad symbol...) stop with the exchange's code and message.
 */

export const PAGE_LIMIT = 1000;

/** Binance kline rows as columns; `Number(text)` is exact for Binance decimals. */
export function rowsToKlines(rows: readonly KlineRow[]): Klines {
  const k = allocKlines(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    k.openTime[i] = Number(r[0]);
    k.open[i] = Number(r[1]);
    k.high[i] = Number(r[2]);
    k.low[i] = Number(r[3]);
    k.close[i] = Number(r[4]);
    k.volume[i] = Number(r[5]);
    k.quoteVolume[i] = Number(r[7]);
    k.trades[i] = Number(r[8]);
    k.takerBuyVolume[i] = Number(r[9]);
    k.takerBuyQuoteVolume[i] = Number(r[10]);
  }
  k.length = rows.length;
  return k;
}

export interface DownloadOptions {
  symbol: string;
  interval: Interval;
  /** First open time wanted (ms); clamped to the symbol's first kline. Default: the first kline. */
  from?: number;
  /** Last open time wanted (ms); default: the last closed kline. */
  to?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** The exchange's current time (default: asked with serverTime). Klines closing after it are not stored. */
  now?: number;
  /** Retries of one page on network/server errors before giving up (default 5). */
  retries?: number;
}

export interface DownloadProgress {
  /** Klines handled (stored or found missing on the exchange) of `total`. */
  done: number;
  total: number;
  stored: number;
  requests: number;
  /** Open time reached. */
  cursor: number;
}

export interface DownloadReport {
  symbol: string;
  interval: Interval;
  from: number;
  to: number;
  firstKlineTime: number;
  /** Klines that were missing when the download began. */
  missingBefore: number;
  stored: number;
  requests: number;
  /** Open-time ranges where the exchange itself has no klines (maintenance, halts). */
  exchangeGaps: { from: number; to: number }[];
  /** Set when stopped by the signal before finishing; what was stored stays. */
  cancelled: boolean;
}

export class DownloadError extends AtmError {
  constructor(message: string, override readonly cause?: unknown) {
    // an exchange that cannot be reached is the exchange's failure; anything else is the request's
    super(cause !== undefined && errorKind(cause) === 'exchange' ? 'exchange' : 'user', message, {}, { cause });
    this.name = 'DownloadError';
  }
}

export interface DownloadDeps {
  port: ExchangePort;
  store: KlineRepository;
  symbols: SymbolRepository;
  clock: Clock;
}

/** Makes sure the symbol is in the symbols table (imports exchangeInfo once when it is not). */
export async function ensureSymbol(deps: DownloadDeps, symbol: string): Promise<void> {
  if (deps.symbols.get(symbol)) return;
  const info = await withRetries(deps, () => deps.port.exchangeInfo(), 5);
  const raw: Record<string, unknown> = {};
  const rawSymbols = (info.raw as { symbols?: { symbol: string }[] } | undefined)?.symbols;
  if (Array.isArray(rawSymbols)) for (const s of rawSymbols) raw[s.symbol] = s;
  deps.symbols.upsertAll(info.symbols, raw, deps.clock.now());
  if (!deps.symbols.get(symbol)) throw new DownloadError(`${symbol} is not listed on ${deps.port.venue}`);
}

/** The symbol's first 1m kline open time: stored, or asked once and stored. */
export async function firstKlineTime(deps: DownloadDeps, symbol: string): Promise<number> {
  await ensureSymbol(deps, symbol);
  const known = deps.symbols.get(symbol)?.firstKlineTime;
  if (known !== null && known !== undefined) return known;
  const rows = await withRetries(deps, () => deps.port.klines(symbol, '1m', { startTime: 0, limit: 1 }), 5);
  let first: number;
  if (rows.length > 0) first = Number(rows[0][0]);
  else {
    // A venue that answers an early startTime with nothing (it only looks one page ahead):
    // binary search on endTime, where "a kline at or before t exists" is monotonic in t.
    let lo = 0;
    let hi = deps.clock.now();
    const latest = await withRetries(deps, () => deps.port.klines(symbol, '1m', { endTime: hi, limit: 1 }), 5);
    if (latest.length === 0) throw new DownloadError(`${deps.port.venue} has no klines for ${symbol}`);
    first = Number(latest[0][0]);
    hi = first;
    while (hi - lo > 60_000) {
      const mid = Math.floor((lo + hi) / 2);
      const probe = await withRetries(deps, () => deps.port.klines(symbol, '1m', { endTime: mid, limit: 1 }), 5);
      if (probe.length > 0) {
        first = Math.min(first, Number(probe[0][0]));
        hi = mid;
      } else lo = mid;
    }
  }
  deps.symbols.setFirstKlineTime(symbol, first);
  return first;
}

/** Missing open-time ranges of [from, to] in the store (both ends aligned). */
export function missingRanges(store: KlineRepository, symbol: string, interval: Interval, from: number, to: number): { from: number; to: number }[] {
  if (to < from) return [];
  const first = store.firstOpenTime(symbol, interval);
  const last = store.lastOpenTime(symbol, interval);
  if (first === undefined || last === undefined || last < from || first > to) return [{ from, to }];
  const out: { from: number; to: number }[] = [];
  if (first > from) out.push({ from, to: previousOpenTime(first, interval) });
  for (const g of store.gaps(symbol, interval, from, to)) out.push({ from: Math.max(g.from, from), to: Math.min(g.to, to) });
  if (last < to) out.push({ from: nextOpenTime(last, interval), to });
  return out.filter((r) => r.from <= r.to);
}

export async function downloadKlines(deps: DownloadDeps, options: DownloadOptions): Promise<DownloadReport> {
  const { symbol, interval } = options;
  const source = sourceOfPort(deps.port);
  const stored = deps.store.sourceOf(symbol, interval);
  if (stored !== undefined && stored !== source) {
    throw new DownloadError(
      `the stored ${symbol} ${interval} klines come from ${stored}, and the connected exchange (${deps.port.venue}) gives ${source} klines: they are never mixed`,
    );
  }
  const first = await firstKlineTime(deps, symbol);
  // the exchange's time: the local exchange may run faster than the wall clock
  const now = options.now ?? (await deps.port.serverTime().catch(() => deps.clock.now()));
  // the last closed kline: the one before the kline containing now
  const lastClosed = previousOpenTime(alignOpenTime(now, interval), interval);
  const from = Math.max(alignOpenTime(options.from ?? first, interval), alignOpenTime(first, interval));
  const to = Math.min(alignOpenTime(options.to ?? lastClosed, interval), lastClosed);
  const ranges = missingRanges(deps.store, symbol, interval, from, to);
  const total = ranges.reduce((a, r) => a + countOpenTimes(r.from, r.to, interval), 0);
  const report: DownloadReport = {
    symbol,
    interval,
    from,
    to,
    firstKlineTime: first,
    missingBefore: total,
    stored: 0,
    requests: 0,
    exchangeGaps: [],
    cancelled: false,
  };
  let done = 0;
  const retries = options.retries ?? 5;
  for (const range of ranges) {
    let cursor = range.from;
    while (cursor <= range.to) {
      if (options.signal?.aborted) {
        report.cancelled = true;
        return report;
      }
      let rows: KlineRow[];
      try {
        rows = await withRetries(deps, () => deps.port.klines(symbol, interval, { startTime: cursor, endTime: range.to, limit: PAGE_LIMIT }), retries, options.signal);
      } catch (error) {
        if (options.signal?.aborted) {
          report.cancelled = true; // stopped during a back-off
          return report;
        }
        if (!(error instanceof ExchangeError) || error.kind === 'rejected') throw error;
        // retries used up: say where it stopped, and that running it again resumes there
        throw new DownloadError(
          `${symbol} ${interval}: the download stopped at ${isoMinute(cursor)} (${report.stored} klines stored) after ${retries} retries (${error.message}); what was stored stays, and the same command resumes from there`,
          error,
        );
      }
      report.requests++;
      // keep rows inside the range and closed
      const inRange = rows.filter((r) => r[0] >= cursor && r[0] <= range.to && r[6] < now);
      if (inRange.length === 0) {
        report.exchangeGaps.push({ from: cursor, to: range.to });
        done += countOpenTimes(cursor, range.to, interval);
        options.onProgress?.({ done, total, stored: report.stored, requests: report.requests, cursor: range.to });
        break;
      }
      const k = rowsToKlines(inRange);
      if (k.openTime[0] > cursor) report.exchangeGaps.push({ from: cursor, to: previousOpenTime(k.openTime[0], interval) });
      const r = deps.store.insert(symbol, interval, k, { source });
      report.stored += r.inserted;
      const lastOpen = k.openTime[k.length - 1];
      done += countOpenTimes(cursor, lastOpen, interval);
      cursor = nextOpenTime(lastOpen, interval);
      options.onProgress?.({ done, total, stored: report.stored, requests: report.requests, cursor });
    }
  }
  return report;
}

/** Runs `fn`, waiting out rate limits and retrying network/server failures with backoff. */
export async function withRetries<T>(deps: { clock: Clock }, fn: () => Promise<T>, retries: number, signal?: AbortSignal): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      const e = error as ExchangeError;
      const retryable = e instanceof ExchangeError && (e.kind === 'rate-limited' || e.kind === 'network' || e.kind === 'server' || e.kind === 'unknown-status');
      if (!retryable || attempt >= retries || signal?.aborted) throw error;
      const wait = e.kind === 'rate-limited' && e.retryAfterMs ? e.retryAfterMs : Math.min(30_000, 250 * 2 ** attempt);
      attempt++;
      // a timer that keeps the process alive: `atm data download` has nothing else to wait on
      try {
        await sleep(deps.clock, wait, signal);
      } catch {
        throw error; // cancelled during the back-off: the last failure stands
      }
    }
  }
}
