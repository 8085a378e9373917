import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveError, readArchiveFile, type ChecksumResult } from './archive.js';
import type { Gap, Interval } from './klines.js';
import type { KlineRepository } from './repository.js';

/**
 * `atm data import`: Binance public-archive kline files (`.zip` or `.csv`, header or not) into
 * the kline store. Each file is read and parsed completely first and then written in one
 * transaction, so a corrupt file changes nothing. Klines already stored are kept (duplicates).
 * Open times are checked against the interval first (archive.ts checkOpenTimes): a row off the
 * interval's grid, or an open time repeated with other values, refuses the file; rows repeated
 * with the same values are counted (`repeated`) and stored once. Arguments that name no archive
 * file at all are an error; an empty file is reported as empty.
 */

export interface ImportOptions {
  symbol?: string;
  interval?: Interval;
  /** Overwrite stored klines that differ (default: keep what is stored). */
  replace?: boolean;
  /** Called after each file with bytes done / total. */
  onProgress?: (done: number, total: number, file: string) => void;
  /** Stop at the first bad file (default: report it and go on with the others). */
  stopOnError?: boolean;
}

export interface ImportFileResult {
  file: string;
  entry?: string;
  symbol?: string;
  interval?: Interval;
  rows: number;
  inserted: number;
  /** Rows already stored. */
  duplicates: number;
  /** Duplicates whose values differ from the stored ones. */
  changed: number;
  /** Rows repeated inside the file itself with identical values (stored once). */
  repeated: number;
  /** Set when the file (or zip entry) holds no kline rows. */
  empty?: boolean;
  header?: boolean;
  checksum?: ChecksumResult;
  /** Set when the file was refused; nothing of it was written. */
  error?: string;
}

export interface ImportSeriesResult {
  symbol: string;
  interval: Interval;
  first: number | undefined;
  last: number | undefined;
  gaps: Gap[];
  missing: number;
}

export interface ImportSummary {
  files: ImportFileResult[];
  series: ImportSeriesResult[];
  rows: number;
  inserted: number;
  duplicates: number;
  repeated: number;
  failed: number;
  elapsedMs: number;
}

/** Archive files named by the arguments: files as given, directories searched recursively. */
export function listArchiveFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (path: string, top: boolean) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      if (top) throw new ArchiveError(path, 'no such file or directory');
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name), false);
    } else if (top || /\.(zip|csv)$/i.test(path)) {
      out.push(path);
    }
  };
  for (const p of paths) visit(p, true);
  if (out.length === 0) throw new ArchiveError(paths.join(', '), 'no archive files (.zip or .csv) found');
  return out;
}

export function importArchives(store: KlineRepository, paths: readonly string[], options: ImportOptions = {}): ImportSummary {
  const started = performance.now();
  const files = listArchiveFiles(paths);
  const sizes = files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const results: ImportFileResult[] = [];
  const touched = new Map<string, { symbol: string; interval: Interval }>();
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    try {
      for (const part of readArchiveFile(file, { symbol: options.symbol, interval: options.interval, checkOpenTimes: true })) {
        const rows = part.klines.length + part.repeated;
        const base = { file, entry: part.entry, symbol: part.symbol, interval: part.interval, rows, repeated: part.repeated, header: part.header, checksum: part.checksum };
        if (rows === 0) {
          results.push({ ...base, inserted: 0, duplicates: 0, changed: 0, empty: true });
          continue;
        }
        const report = store.insert(part.symbol, part.interval, part.klines, { replace: options.replace, decimals: part.decimals });
        touched.set(`${part.symbol}\u0000${part.interval}`, { symbol: part.symbol, interval: part.interval });
        results.push({ ...base, inserted: report.inserted, duplicates: report.duplicates, changed: report.changed });
      }
    } catch (error) {
      if (options.stopOnError) throw error;
      results.push({ file, rows: 0, inserted: 0, duplicates: 0, changed: 0, repeated: 0, error: (error as Error).message });
    }
    done += sizes[i];
    options.onProgress?.(done, total, file);
  }
  const series: ImportSeriesResult[] = [...touched.values()].map(({ symbol, interval }) => {
    const gaps = store.gaps(symbol, interval);
    return {
      symbol,
      interval,
      first: store.firstOpenTime(symbol, interval),
      last: store.lastOpenTime(symbol, interval),
      gaps,
      missing: gaps.reduce((a, g) => a + g.missing, 0),
    };
  });
  const sum = (key: 'rows' | 'inserted' | 'duplicates' | 'repeated') => results.reduce((a, r) => a + r[key], 0);
  return {
    files: results,
    series,
    rows: sum('rows'),
    inserted: sum('inserted'),
    duplicates: sum('duplicates'),
    repeated: sum('repeated'),
    failed: results.filter((r) => r.error !== undefined).length,
    elapsedMs: performance.now() - started,
  };
}
