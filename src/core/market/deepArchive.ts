import { basename } from 'node:path';
import { ArchiveError, fileSizes, readArchiveEntries, type ChecksumResult } from './archive.js';
import type { BookDepthRow, DeepRepository } from './deep.js';
import type { DeepTrade } from './deepCodec.js';

/**
 * Binance public archive files of deep data:
 *
 * - `SYMBOL-aggTrades-YYYY-MM-DD.zip|csv` (and monthly `YYYY-MM`): `agg_trade_id, price, quantity,
 *   first_trade_id, last_trade_id, transact_time, is_buyer_maker`, with or without the header row.
 * - `SYMBOL-bookDepth-YYYY-MM-DD.zip|csv`: `timestamp, percentage, depth, notional` (timestamp as
 *   `YYYY-MM-DD HH:MM:SS` UTC, or milliseconds), stored as the file has them.
 *
 * Zips are read and their `.CHECKSUM` verified by the kline importer's reader (archive.ts).
 */
export type DeepFileKind = 'aggTrades' | 'bookDepth';

export const AGG_TRADE_COLUMNS = ['agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'transact_time', 'is_buyer_maker'] as const;
export const BOOK_DEPTH_COLUMNS = ['timestamp', 'percentage', 'depth', 'notional'] as const;

export interface DeepFileName {
  symbol: string;
  kind: DeepFileKind;
  period: string;
}

/** Symbol, kind and period from `BTCUSDT-aggTrades-2024-01-01.zip` or `BTCUSDT-bookDepth-2024-01-01.csv`. */
export function parseDeepFileName(path: string): DeepFileName | undefined {
  const name = basename(path).replace(/\.(zip|csv)(\.CHECKSUM)?$/i, '');
  const m = /^([A-Z0-9_]+)-(aggTrades|bookDepth)-(.+)$/.exec(name);
  return m ? { symbol: m[1], kind: m[2] as DeepFileKind, period: m[3] } : undefined;
}

export function isDeepFile(path: string): boolean {
  return parseDeepFileName(path) !== undefined;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^\d+$/;

function lines(input: Uint8Array): string[] {
  let text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split('\n');
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/**
 * The rows of an archive CSV as trimmed cells, with their 1-based line numbers: blank lines and
 * CR line ends skipped, and an optional header line (a first line not starting with a digit)
 * checked against `columns` and left out.
 */
function csvRows(input: Uint8Array, file: string, kind: string, columns: readonly string[], row: (cells: string[], line: number) => void): boolean {
  let header = false;
  let rows = 0;
  const all = lines(input);
  for (let i = 0; i < all.length; i++) {
    const line = all[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    if (rows === 0 && !header && !/^\d/.test(cells[0])) {
      if (cells[0].toLowerCase() !== columns[0]) throw new ArchiveError(file, `expected ${kind} row or the header "${columns.join(',')}", found "${truncate(line)}"`, i + 1);
      header = true;
      continue;
    }
    row(cells, i + 1);
    rows++;
  }
  return header;
}

/** Parses an aggTrades CSV; throws ArchiveError naming the file, line and column of a bad value. */
export function parseAggTradesCsv(input: Uint8Array, file = '<input>'): { trades: DeepTrade[]; header: boolean } {
  const trades: DeepTrade[] = [];
  const header = csvRows(input, file, 'an aggTrade', AGG_TRADE_COLUMNS, (cells, line) => {
    if (cells.length !== 7) throw new ArchiveError(file, `expected 7 columns, found ${cells.length}`, line);
    for (const c of [0, 3, 4, 5]) {
      if (!INTEGER.test(cells[c])) throw new ArchiveError(file, `"${truncate(cells[c])}" is not a whole number`, line, `${c + 1} (${AGG_TRADE_COLUMNS[c]})`);
    }
    for (const c of [1, 2]) {
      if (!DECIMAL.test(cells[c])) throw new ArchiveError(file, `"${truncate(cells[c])}" is not a decimal number`, line, `${c + 1} (${AGG_TRADE_COLUMNS[c]})`);
    }
    const maker = cells[6].toLowerCase();
    if (maker !== 'true' && maker !== 'false') throw new ArchiveError(file, `"${truncate(cells[6])}" is not true or false`, line, `7 (${AGG_TRADE_COLUMNS[6]})`);
    trades.push({ id: Number(cells[0]), price: cells[1], qty: cells[2], firstId: Number(cells[3]), lastId: Number(cells[4]), time: Number(cells[5]), buyerMaker: maker === 'true' });
  });
  return { trades, header };
}

function depthTime(text: string): number | undefined {
  if (INTEGER.test(text)) return Number(text);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z?$/.exec(text);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Number(m[7].padEnd(3, '0')) : 0);
}

/** Parses a bookDepth CSV; throws ArchiveError naming the file, line and column of a bad value. */
export function parseBookDepthCsv(input: Uint8Array, file = '<input>'): { rows: BookDepthRow[]; header: boolean } {
  const rows: BookDepthRow[] = [];
  const header = csvRows(input, file, 'a bookDepth', BOOK_DEPTH_COLUMNS, (cells, line) => {
    if (cells.length !== 4) throw new ArchiveError(file, `expected 4 columns, found ${cells.length}`, line);
    const time = depthTime(cells[0]);
    if (time === undefined) throw new ArchiveError(file, `"${truncate(cells[0])}" is not a time (YYYY-MM-DD HH:MM:SS or milliseconds)`, line, '1 (timestamp)');
    for (const c of [1, 2, 3]) {
      if (!DECIMAL.test(cells[c])) throw new ArchiveError(file, `"${truncate(cells[c])}" is not a decimal number`, line, `${c + 1} (${BOOK_DEPTH_COLUMNS[c]})`);
    }
    rows.push({ time, percentage: cells[1], depth: cells[2], notional: cells[3] });
  });
  return { rows, header };
}

export interface DeepImportFileResult {
  file: string;
  entry?: string;
  symbol?: string;
  kind?: DeepFileKind;
  rows: number;
  inserted: number;
  duplicates: number;
  header?: boolean;
  checksum?: ChecksumResult;
  error?: string;
}

export interface DeepImportSummary {
  files: DeepImportFileResult[];
  rows: number;
  inserted: number;
  duplicates: number;
  failed: number;
}

/**
 * Imports deep archive files (already listed). Each file is parsed whole before it is written, so
 * a refused file (bad checksum, bad row) changes nothing; the others go on. Re-importing changes
 * nothing (trade ids and depth rows already stored are skipped).
 */
export function importDeepArchives(
  store: DeepRepository,
  files: readonly string[],
  options: { symbol?: string; onProgress?: (done: number, total: number, file: string) => void } = {},
): DeepImportSummary {
  const sizes = fileSizes(files);
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const results: DeepImportFileResult[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    try {
      const name = parseDeepFileName(file);
      const symbol = options.symbol ?? name?.symbol;
      if (!name || !symbol) throw new ArchiveError(file, 'cannot tell the kind from the file name (expected SYMBOL-aggTrades-DATE or SYMBOL-bookDepth-DATE, .zip or .csv)');
      // every entry parsed before anything is written: a bad file changes nothing
      const parsed = readArchiveEntries(file).map((e) => {
        if (name.kind === 'aggTrades') {
          const p = parseAggTradesCsv(e.data, e.where);
          return { entry: e.entry, checksum: e.checksum, header: p.header, rows: p.trades.length, write: () => store.insertTrades(symbol, p.trades, { source: 'binance' }) };
        }
        const p = parseBookDepthCsv(e.data, e.where);
        return { entry: e.entry, checksum: e.checksum, header: p.header, rows: p.rows.length, write: () => store.insertBookDepth(symbol, p.rows) };
      });
      for (const part of parsed) {
        const report = part.write();
        results.push({ file, entry: part.entry, symbol, kind: name.kind, rows: part.rows, inserted: report.inserted, duplicates: report.duplicates, header: part.header, checksum: part.checksum });
      }
    } catch (error) {
      results.push({ file, rows: 0, inserted: 0, duplicates: 0, error: (error as Error).message });
    }
    done += sizes[i];
    options.onProgress?.(done, total, file);
  }
  const sum = (key: 'rows' | 'inserted' | 'duplicates') => results.reduce((a, r) => a + r[key], 0);
  return { files: results, rows: sum('rows'), inserted: sum('inserted'), duplicates: sum('duplicates'), failed: results.filter((r) => r.error !== undefined).length };
}
