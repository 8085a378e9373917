import { basename } from 'node:path';
import type { Clock } from '../clock.js';
import type { ExchangePort } from '../exchange/port.js';
import { Dec, DecimalError } from '../futures/decimal.js';
import { ArchiveError, fileSizes, readArchiveEntries, type ChecksumResult } from './archive.js';
import { DownloadError, sourceOfPort, withRetries } from './download.js';
import type { KlineSource, SymbolRepository } from './repository.js';
import { refreshExchangeRules, type ExchangeRulesRepository, type RulesRefreshReport } from '../futures/rules.js';

/**
 * Funding rates: the storage port, Binance's public archive files and the REST history download.
 *
 * A funding rate is settled at a funding time (every 8 h at 00:00, 08:00, 16:00 UTC for most
 * symbols; 4 h or 1 h for some). Rates and mark prices are exact decimal text as the exchange
 * gives them. A symbol's rates come from one source only, like its klines.
 *
 * Archive files (data.binance.vision):
 *   futures/um/monthly/fundingRate/<SYMBOL>/<SYMBOL>-fundingRate-YYYY-MM.zip (+ .zip.CHECKSUM)
 * with one CSV `calc_time,funding_interval_hours,last_funding_rate` (header row or not).
 * REST: `GET /fapi/v1/fundingRate?symbol&startTime&endTime&limit` (max 1000, ascending).
 */

export const HOUR_MS = 3_600_000;
/** The funding interval assumed when neither the data nor its spacing says otherwise. */
export const DEFAULT_FUNDING_INTERVAL_HOURS = 8;
/** Rows per `/fapi/v1/fundingRate` request (Binance's maximum). */
export const FUNDING_PAGE_LIMIT = 1000;

export type FundingSource = KlineSource;

/** One settled funding. */
export interface FundingRow {
  time: number;
  /** Exact decimal text. */
  rate: string;
  markPrice?: string | null;
  intervalHours?: number | null;
}

/** A symbol's funding rates as columns, sorted by time. */
export interface FundingRates {
  symbol: string;
  length: number;
  times: Float64Array;
  /** Exact decimal text, one per time. */
  rates: string[];
  /** Mark price at the funding time when known (REST history), else null (archive files). */
  marks: (string | null)[];
}

export interface FundingInsertOptions {
  /** Where the rates come from (default `binance`); a symbol stored from another source refuses them. */
  source?: FundingSource;
  /** Overwrite stored rates with the same time (default: keep them, count duplicates). */
  replace?: boolean;
}

export interface FundingInsertReport {
  inserted: number;
  /** Rows whose time was already stored (kept, or replaced with `replace`). */
  duplicates: number;
  /** Of the duplicates, those whose rate differed from the stored one. */
  changed: number;
}

/** A hole in a symbol's funding grid: funding times missing between two stored ones. */
export interface FundingGap {
  /** The stored funding time before the hole. */
  after: number;
  /** The stored funding time after the hole. */
  before: number;
  /** Funding times missing (at the interval in force). */
  missing: number;
}

/** Coverage of one symbol (`atm data status`). */
export interface FundingCoverage {
  symbol: string;
  source: FundingSource;
  first: number;
  last: number;
  count: number;
  /** The funding interval in hours: stated by the data, else the most common spacing. */
  intervalHours: number;
  gaps: FundingGap[];
  missing: number;
}

/** The funding storage port; src/db/fundingStore.ts implements it on SQLite. Synchronous. */
export interface FundingRepository {
  /** Rates with funding times in [from, to] (inclusive; defaults: all), sorted, as columns. */
  loadRange(symbol: string, from?: number, to?: number): FundingRates;
  /** Stores rows in one (IMMEDIATE) transaction; existing ones are kept unless `replace`. */
  insert(symbol: string, rows: readonly FundingRow[], options?: FundingInsertOptions): FundingInsertReport;
  /** Symbols with stored rates. */
  symbols(): string[];
  sourceOf(symbol: string): FundingSource | undefined;
  firstTime(symbol: string): number | undefined;
  lastTime(symbol: string): number | undefined;
  /** Stated intervals per stored row (null when not stated), aligned with loadRange's times. */
  intervals(symbol: string): (number | null)[];
  /** Removes a symbol's rates; returns the rows removed. */
  deleteSymbol(symbol: string): number;
}

/** The funding interval of a series: the last stated one, else the most common spacing (whole hours), else 8. */
export function fundingIntervalHours(times: ArrayLike<number>, stated: readonly (number | null)[] = []): number {
  for (let i = stated.length - 1; i >= 0; i--) {
    const s = stated[i];
    if (s !== null && s !== undefined && s > 0) return s;
  }
  const counts = new Map<number, number>();
  for (let i = 1; i < times.length; i++) {
    const h = Math.round((times[i] - times[i - 1]) / HOUR_MS);
    if (h > 0) counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  let best = DEFAULT_FUNDING_INTERVAL_HOURS;
  let bestCount = 0;
  for (const [h, c] of counts) {
    if (c > bestCount || (c === bestCount && h < best)) {
      best = h;
      bestCount = c;
    }
  }
  return best;
}

/**
 * Holes in a funding series: consecutive times further apart than 1.5 intervals. The interval in
 * force is the one stated on the later row, else `intervalHours`. Funding times are not exactly on
 * the hour (Binance's are a few ms late), hence the tolerance.
 */
export function fundingGaps(times: ArrayLike<number>, intervalHours: number, stated: readonly (number | null)[] = []): FundingGap[] {
  const gaps: FundingGap[] = [];
  for (let i = 1; i < times.length; i++) {
    const step = (stated[i] ?? intervalHours) * HOUR_MS;
    const d = times[i] - times[i - 1];
    if (d > step * 1.5) gaps.push({ after: times[i - 1], before: times[i], missing: Math.round(d / step) - 1 });
  }
  return gaps;
}

/** Coverage of every stored symbol (or one). */
export function fundingCoverage(store: FundingRepository, symbol?: string): FundingCoverage[] {
  const symbols = symbol ? store.symbols().filter((s) => s === symbol) : store.symbols();
  return symbols.map((s) => {
    const r = store.loadRange(s);
    const stated = store.intervals(s);
    const intervalHours = fundingIntervalHours(r.times, stated);
    const gaps = fundingGaps(r.times, intervalHours, stated);
    return {
      symbol: s,
      source: store.sourceOf(s) ?? 'binance',
      first: r.times[0],
      last: r.times[r.length - 1],
      count: r.length,
      intervalHours,
      gaps,
      missing: gaps.reduce((a, g) => a + g.missing, 0),
    };
  });
}

// ---- archive files ----

export interface FundingFileName {
  symbol: string;
  /** `YYYY-MM` (or whatever follows `fundingRate-`). */
  period: string;
}

/** Symbol and period from `BTCUSDT-fundingRate-2024-01.zip|csv`; undefined for any other name. */
export function parseFundingFileName(path: string): FundingFileName | undefined {
  const name = basename(path).replace(/\.(zip|csv)(\.CHECKSUM)?$/i, '');
  const m = /^([A-Z0-9_]+)-fundingRate-(.+)$/.exec(name);
  return m ? { symbol: m[1], period: m[2] } : undefined;
}

export const FUNDING_ARCHIVE_COLUMNS = ['calc_time', 'funding_interval_hours', 'last_funding_rate'] as const;

/**
 * Parses a funding-rate archive CSV (header row or not, LF or CRLF, optional BOM). Throws
 * ArchiveError naming the file, line and column of the first bad value.
 */
export function parseFundingCsv(input: Uint8Array | string, file = '<input>'): { rows: FundingRow[]; header: boolean } {
  let text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  const rows: FundingRow[] = [];
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const lineNo = i + 1;
    if (line.trim() === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    if (rows.length === 0 && !header && !/^-?\d/.test(cells[0])) {
      if (cells[0].toLowerCase() !== 'calc_time') {
        throw new ArchiveError(file, `expected a funding row or the header "${FUNDING_ARCHIVE_COLUMNS.join(',')}", found "${truncate(line)}"`, lineNo);
      }
      header = true;
      continue;
    }
    if (cells.length !== 3) throw new ArchiveError(file, `expected 3 columns, found ${cells.length}`, lineNo);
    const [timeText, hoursText, rateText] = cells;
    if (!/^\d+$/.test(timeText)) throw new ArchiveError(file, `"${truncate(timeText)}" is not a time in milliseconds`, lineNo, '1 (calc_time)');
    if (!/^\d+$/.test(hoursText) || Number(hoursText) <= 0) throw new ArchiveError(file, `"${truncate(hoursText)}" is not a whole number of hours`, lineNo, '2 (funding_interval_hours)');
    let rate: string;
    try {
      rate = canonicalDecimal(rateText, 'rate');
    } catch (error) {
      throw new ArchiveError(file, (error as DecimalError).message, lineNo, '3 (last_funding_rate)');
    }
    const time = Number(timeText);
    if (rows.length > 0 && time <= rows[rows.length - 1].time) {
      throw new ArchiveError(file, `calc_time ${time} is not after the previous row's ${rows[rows.length - 1].time}`, lineNo, '1 (calc_time)');
    }
    rows.push({ time, rate, markPrice: null, intervalHours: Number(hoursText) });
  }
  return { rows, header };
}

/** A decimal as the exchange would write it, with trailing zeros kept: validated, sign and digits only. */
function canonicalDecimal(text: string, what: string): string {
  Dec.parse(text, what); // throws DecimalError on anything that is not a plain decimal
  return text.trim();
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

export interface FundingArchiveFile {
  file: string;
  entry?: string;
  symbol: string;
  rows: FundingRow[];
  header: boolean;
  checksum: ChecksumResult;
}

/** Reads one funding archive file (`.zip`, checksum verified when present, or `.csv`). Writes nothing. */
export function readFundingArchiveFile(path: string, options: { symbol?: string } = {}): FundingArchiveFile[] {
  const symbol = options.symbol ?? parseFundingFileName(path)?.symbol;
  if (!symbol) throw new ArchiveError(path, 'cannot tell the symbol from the file name (expected SYMBOL-fundingRate-YYYY-MM.zip|csv); give --symbol');
  return readArchiveEntries(path).map(({ entry, where, data, checksum }) => {
    const parsed = parseFundingCsv(data, where);
    return { file: path, entry, symbol, rows: parsed.rows, header: parsed.header, checksum };
  });
}

export interface FundingImportFileResult {
  file: string;
  entry?: string;
  symbol?: string;
  rows: number;
  inserted: number;
  duplicates: number;
  changed: number;
  header?: boolean;
  checksum?: ChecksumResult;
  /** Set when the file was refused; nothing of it was written. */
  error?: string;
}

export interface FundingImportSummary {
  files: FundingImportFileResult[];
  coverage: FundingCoverage[];
  rows: number;
  inserted: number;
  duplicates: number;
  failed: number;
}

/**
 * Imports funding archive files (already listed: see listArchiveFiles). Each file is parsed whole
 * before one transaction writes it, so a bad file changes nothing; the others go on.
 */
export function importFundingArchives(
  store: FundingRepository,
  files: readonly string[],
  options: { symbol?: string; replace?: boolean; onProgress?: (done: number, total: number, file: string) => void } = {},
): FundingImportSummary {
  const sizes = fileSizes(files);
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const results: FundingImportFileResult[] = [];
  const touched = new Set<string>();
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    try {
      for (const part of readFundingArchiveFile(file, { symbol: options.symbol })) {
        const report = store.insert(part.symbol, part.rows, { replace: options.replace, source: 'binance' });
        touched.add(part.symbol);
        results.push({ file, entry: part.entry, symbol: part.symbol, rows: part.rows.length, ...report, header: part.header, checksum: part.checksum });
      }
    } catch (error) {
      results.push({ file, rows: 0, inserted: 0, duplicates: 0, changed: 0, error: (error as Error).message });
    }
    done += sizes[i];
    options.onProgress?.(done, total, file);
  }
  const sum = (key: 'rows' | 'inserted' | 'duplicates') => results.reduce((a, r) => a + r[key], 0);
  return {
    files: results,
    coverage: [...touched].sort().flatMap((s) => fundingCoverage(store, s)),
    rows: sum('rows'),
    inserted: sum('inserted'),
    duplicates: sum('duplicates'),
    failed: results.filter((r) => r.error !== undefined).length,
  };
}

// ---- REST history download ----

export interface FundingDownloadDeps {
  port: ExchangePort;
  store: FundingRepository;
  symbols: SymbolRepository;
  clock: Clock;
}

export interface FundingDownloadOptions {
  symbol: string;
  /** First funding time wanted (default: the symbol's listing, else 2019-09-01, before USD-M's first funding). */
  from?: number;
  /** Last funding time wanted (default: now). */
  to?: number;
  /** Rows per request (default and maximum 1000). */
  pageLimit?: number;
  signal?: AbortSignal;
  retries?: number;
  onProgress?: (progress: { stored: number; requests: number; cursor: number; from: number; to: number }) => void;
}

export interface FundingDownloadReport {
  symbol: string;
  from: number;
  to: number;
  /** Where the download started: after the last stored rate in range, or `from`. */
  resumedFrom: number;
  stored: number;
  duplicates: number;
  requests: number;
  cancelled: boolean;
}

/** Binance's first USD-M funding settlement was in September 2019. */
export const FIRST_FUNDING_TIME = Date.UTC(2019, 8, 1);

/**
 * Downloads a symbol's funding history into the store, paged by startTime in ascending order
 * (each page its own transaction). Resumable: it starts after the last rate stored in [from, to],
 * so an interrupted run goes on where the store ends and a second run asks one page.
 */
export async function downloadFunding(deps: FundingDownloadDeps, options: FundingDownloadOptions): Promise<FundingDownloadReport> {
  const { symbol } = options;
  const source = sourceOfPort(deps.port);
  const stored = deps.store.sourceOf(symbol);
  if (stored !== undefined && stored !== source) {
    throw new DownloadError(`the stored ${symbol} funding rates come from ${stored}, and the connected exchange (${deps.port.venue}) gives ${source} data: they are never mixed`);
  }
  const listed = deps.symbols.get(symbol)?.onboardDate ?? undefined;
  const now = await deps.port.serverTime().catch(() => deps.clock.now());
  const from = Math.max(0, options.from ?? Math.max(FIRST_FUNDING_TIME, listed ?? 0));
  const to = Math.min(options.to ?? now, now);
  const limit = Math.max(1, Math.min(FUNDING_PAGE_LIMIT, options.pageLimit ?? FUNDING_PAGE_LIMIT));
  const inRange = deps.store.loadRange(symbol, from, to);
  const resumedFrom = inRange.length > 0 ? inRange.times[inRange.length - 1] + 1 : from;
  const report: FundingDownloadReport = { symbol, from, to, resumedFrom, stored: 0, duplicates: 0, requests: 0, cancelled: false };
  let cursor = resumedFrom;
  const maxRequests = Math.ceil((to - from) / HOUR_MS / limit) + 2; // at most one funding an hour
  while (cursor <= to && report.requests < maxRequests) {
    if (options.signal?.aborted) {
      report.cancelled = true;
      return report;
    }
    const page = await withRetries(deps, () => deps.port.fundingRateHistory(symbol, { startTime: cursor, endTime: to, limit }), options.retries ?? 5, options.signal);
    report.requests++;
    const rows = page.filter((r) => r.fundingTime >= cursor && r.fundingTime <= to);
    if (rows.length === 0) break;
    const r = deps.store.insert(
      symbol,
      rows.map((x) => ({ time: x.fundingTime, rate: x.fundingRate, markPrice: x.markPrice === undefined || x.markPrice === '' ? null : x.markPrice })),
      { source },
    );
    report.stored += r.inserted;
    report.duplicates += r.duplicates;
    cursor = rows[rows.length - 1].fundingTime + 1;
    options.onProgress?.({ stored: report.stored, requests: report.requests, cursor, from, to });
    if (page.length < limit) break;
  }
  return report;
}

// ---- the facade's funding service ----

export interface FundingServiceDeps {
  store: FundingRepository;
  symbols: SymbolRepository;
  rules: ExchangeRulesRepository;
  clock: Clock;
  /** The connected exchange port, when connected. */
  exchange: () => ExchangePort | undefined;
}

export interface FundingDownloadResult {
  funding: FundingDownloadReport;
  /** What the exchange said about the rules on the way (exchangeInfo, brackets). */
  rules: RulesRefreshReport | { error: string };
  coverage: FundingCoverage | undefined;
}

/** Funding data for the App facade (`app.funding`): import, download, coverage and rates, as plain data. */
export class FundingService {
  constructor(private readonly deps: FundingServiceDeps) {}

  /** True for a funding-rate archive file name (`<SYMBOL>-fundingRate-YYYY-MM.zip|csv`). */
  static isFundingFile(path: string): boolean {
    return parseFundingFileName(path) !== undefined;
  }

  importArchives(files: readonly string[], options: { symbol?: string; replace?: boolean; onProgress?: (done: number, total: number, file: string) => void } = {}): FundingImportSummary {
    return importFundingArchives(this.deps.store, files, options);
  }

  /**
   * Downloads a symbol's funding history from the connected exchange (resumable), and stores the
   * exchange's rules for the symbol on the way (exchangeInfo; brackets when credentials allow).
   */
  async download(options: FundingDownloadOptions): Promise<FundingDownloadResult> {
    const port = this.deps.exchange();
    if (!port) throw new DownloadError('not connected to an exchange');
    const deps = { port, store: this.deps.store, symbols: this.deps.symbols, rules: this.deps.rules, clock: this.deps.clock };
    let rules: FundingDownloadResult['rules'];
    try {
      rules = await refreshExchangeRules(deps, options.symbol);
    } catch (error) {
      rules = { error: (error as Error).message };
    }
    const funding = await downloadFunding(deps, options);
    return { funding, rules, coverage: this.coverage(options.symbol)[0] };
  }

  coverage(symbol?: string): FundingCoverage[] {
    return fundingCoverage(this.deps.store, symbol);
  }

  rates(symbol: string, from?: number, to?: number): FundingRates {
    return this.deps.store.loadRange(symbol, from, to);
  }
}
