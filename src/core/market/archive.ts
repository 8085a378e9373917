import { AtmError } from '../errors.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import type { ColumnDecimals } from './export.js';
import { alignOpenTime, allocKlines, INTERVAL_MS, INTERVALS, isoMinute, KLINE_FIELDS, nextOpenTime, parseInterval, type Interval, type Klines } from './klines.js';

/**
 * Binance's public data archive of USD-M klines (data.binance.vision):
 *
 *   futures/um/{daily|monthly}/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY-MM[-DD]>.zip
 *
 * Each zip holds one CSV of the same base name with 12 columns
 * `open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
 * taker_buy_quote_volume,ignore`, with a header row in newer files and without one in older ones,
 * and has a sibling `<file>.zip.CHECKSUM` in sha256sum format. The month interval is spelled `1mo`.
 *
 * Numbers are parsed exactly as `Number(text)` would (a fast path for short decimals gives the
 * identical float64: a mantissa below 2^53 divided by an exact power of ten is correctly rounded).
 */

export const ARCHIVE_COLUMNS = [
  'open_time',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'close_time',
  'quote_volume',
  'count',
  'taker_buy_volume',
  'taker_buy_quote_volume',
  'ignore',
] as const;

/** A bad archive file: names the file and, when known, the line (1-based) and column. */
export class ArchiveError extends AtmError {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
    readonly column?: string,
  ) {
    super('user', `${file}${line !== undefined ? `: line ${line}` : ''}${column ? `, column ${column}` : ''}: ${reason}`, { file, line, column });
    this.name = 'ArchiveError';
  }
}

export interface ArchiveName {
  symbol: string;
  interval: Interval;
  /** The date part of the name (`2024-01`, `2024-01-15`, or whatever follows the interval). */
  period: string;
}

/**
 * Symbol and interval from an archive file name such as `BTCUSDT-1m-2024-01.zip`,
 * `BTCUSDT-1mo-2024-01.csv` or `FILUSDT-1m-2024-09-01_2024-10-31.csv`. Undefined when the name
 * does not follow the pattern.
 */
export function parseArchiveFileName(path: string): ArchiveName | undefined {
  const name = basename(path).replace(/\.(zip|csv)(\.CHECKSUM)?$/i, '');
  const m = /^([A-Z0-9_]+)-(\d+(?:m|h|d|w|M|mo))-(.+)$/.exec(name);
  if (!m) return undefined;
  try {
    return { symbol: m[1], interval: parseInterval(m[2]), period: m[3] };
  } catch {
    return undefined;
  }
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const TWO53 = 2 ** 53;

export interface ParsedCsv {
  klines: Klines;
  /** True when the first line was a header row. */
  header: boolean;
  /** The 1-based line number of each row. */
  lines: Uint32Array;
  /**
   * Per decimal column, the most decimals the file printed (NEARUSDT `4.0520` counts 4, trailing
   * zero included): what the stored float64 values cannot tell, kept so an export prints the same.
   */
  decimals: ColumnDecimals;
}

/**
 * Parses an archive kline CSV (with or without header, LF or CRLF, optional BOM). Rows are
 * returned in file order. Throws ArchiveError naming the file, line and column of the first bad
 * value; a close time before the open time or a negative volume is an error too.
 */
export function parseKlineCsv(input: Uint8Array | string, file = '<input>'): ParsedCsv {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const n = bytes.length;
  // Upper bound on rows: the newlines (+1 for a missing final newline), found with memchr.
  let lines = 1;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  const k = allocKlines(lines);
  const rowLines = new Uint32Array(lines);
  // column -> target array (close_time and ignore are checked, not kept)
  const targets: (Float64Array | undefined)[] = [
    k.openTime, k.open, k.high, k.low, k.close, k.volume, undefined, k.quoteVolume, k.trades, k.takerBuyVolume, k.takerBuyQuoteVolume, undefined,
  ];
  const text = (s: number, e: number) => Buffer.from(bytes.buffer, bytes.byteOffset + s, e - s).toString('latin1');
  const printed = new Int32Array(12); // most decimals printed per column

  let pos = 0;
  if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  let row = 0;
  let lineNo = 0;
  let header = false;
  while (pos < n) {
    lineNo++;
    let end = bytes.indexOf(10, pos);
    if (end < 0) end = n;
    let lineEnd = end;
    if (lineEnd > pos && bytes[lineEnd - 1] === 13) lineEnd--;
    const next = end + 1;
    if (lineEnd === pos) {
      pos = next; // blank line (usually the last)
      continue;
    }
    const first = bytes[pos];
    if (row === 0 && !header && !((first >= 48 && first <= 57) || first === 45)) {
      // a header row: must be the archive's header (at least its first column)
      const h = text(pos, lineEnd).trim().toLowerCase();
      if (!h.startsWith('open_time')) throw new ArchiveError(file, `expected a kline row or the header "${ARCHIVE_COLUMNS.join(',')}", found "${truncate(h)}"`, lineNo);
      header = true;
      pos = next;
      continue;
    }
    let p = pos;
    let openTime = 0;
    for (let c = 0; c < 12; c++) {
      // one field: [start, p)
      const start = p;
      let neg = false;
      if (bytes[p] === 45) {
        neg = true;
        p++;
      }
      let mant = 0;
      let digits = 0;
      let frac = -1;
      let plain = true;
      for (; p < lineEnd; p++) {
        const ch = bytes[p];
        if (ch >= 48 && ch <= 57) {
          mant = mant * 10 + (ch - 48);
          digits++;
          if (frac >= 0) frac++;
        } else if (ch === 44) break;
        else if (ch === 46 && frac < 0) frac = 0;
        else plain = false;
      }
      let v: number;
      if (plain && digits > 0 && mant < TWO53 && frac <= 22) v = frac > 0 ? mant / POW10[frac] : mant;
      else {
        const t = text(start, p).trim();
        v = t === '' ? NaN : Number(t);
      }
      if (neg && plain) v = -v;
      if (frac > printed[c]) printed[c] = frac;
      // validation: times and counts are integers; everything is a non-negative number
      const integer = c === 0 || c === 6 || c === 8;
      if (!(v >= 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
        if (c === 11) {
          // the ignored column: anything goes
        } else {
          throw new ArchiveError(
            file,
            `"${truncate(text(start, p))}" is not ${integer ? 'an integer' : 'a non-negative number'}`,
            lineNo,
            `${c + 1} (${ARCHIVE_COLUMNS[c]})`,
          );
        }
      }
      const target = targets[c];
      if (target) target[row] = v;
      if (c === 0) openTime = v;
      else if (c === 6 && v < openTime) throw new ArchiveError(file, `close time ${v} is before the open time ${openTime}`, lineNo, `7 (close_time)`);
      if (c < 11) {
        if (p >= lineEnd) throw new ArchiveError(file, `expected 12 columns, found ${c + 1}`, lineNo);
        p++; // the comma
      } else if (p < lineEnd) {
        let count = 12;
        for (let x = p; x < lineEnd; x++) if (bytes[x] === 44) count++;
        throw new ArchiveError(file, `expected 12 columns, found ${count}`, lineNo);
      }
    }
    rowLines[row] = lineNo;
    row++;
    pos = next;
  }
  k.length = row;
  const decimals: ColumnDecimals = {
    open: printed[1], high: printed[2], low: printed[3], close: printed[4], volume: printed[5],
    quoteVolume: printed[7], takerBuyVolume: printed[9], takerBuyQuoteVolume: printed[10],
  };
  return { klines: k, header, lines: rowLines, decimals };
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** The CSV files inside a zip (name and bytes). Throws ArchiveError when the zip is unreadable. */
export function unzipCsvFiles(zip: Uint8Array, file = '<zip>'): { name: string; data: Uint8Array }[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip, { filter: (f) => f.name.toLowerCase().endsWith('.csv') });
  } catch (error) {
    throw new ArchiveError(file, `not a readable zip file (${(error as Error).message})`);
  }
  const names = Object.keys(entries).sort();
  if (names.length === 0) throw new ArchiveError(file, 'the zip holds no .csv file');
  // fflate does not check CRC-32: compare each entry with its central directory record
  const records = centralDirectory(zip, file);
  for (const name of names) {
    const record = records.get(name);
    const data = entries[name];
    if (!record) throw new ArchiveError(file, `entry ${name} is missing from the zip's central directory`);
    if (record.size !== data.length || (crc32(data) >>> 0) !== record.crc) {
      throw new ArchiveError(file, `entry ${name} is damaged (CRC-32 or size differs from the zip's directory)`);
    }
  }
  return names.map((name) => ({ name, data: entries[name] }));
}

/** name -> { crc, uncompressed size } from the zip's central directory. */
function centralDirectory(zip: Uint8Array, file: string): Map<string, { crc: number; size: number }> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveError(file, 'not a readable zip file (no end of central directory)');
  const entries = view.getUint16(eocd + 10, true);
  let pos = view.getUint32(eocd + 16, true);
  const out = new Map<string, { crc: number; size: number }>();
  for (let e = 0; e < entries; e++) {
    if (pos + 46 > zip.length || view.getUint32(pos, true) !== 0x02014b50) throw new ArchiveError(file, 'not a readable zip file (bad central directory)');
    const crc = view.getUint32(pos + 16, true);
    const size = view.getUint32(pos + 24, true);
    const nameLength = view.getUint16(pos + 28, true);
    const extraLength = view.getUint16(pos + 30, true);
    const commentLength = view.getUint16(pos + 32, true);
    const name = Buffer.from(zip.buffer, zip.byteOffset + pos + 46, nameLength).toString('utf8');
    out.set(name, { crc, size });
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

export type ChecksumResult = 'ok' | 'absent';

/**
 * Verifies `<zip>.CHECKSUM` (sha256sum format: `<hex>  <name>`) when it exists beside the zip.
 * Throws ArchiveError on a mismatch or a malformed checksum file.
 */
export function verifyChecksum(zipPath: string, zipBytes: Uint8Array): ChecksumResult {
  const sumPath = `${zipPath}.CHECKSUM`;
  if (!existsSync(sumPath)) return 'absent';
  const content = readFileSync(sumPath, 'utf8').trim();
  const m = /^([0-9a-fA-F]{64})\b/.exec(content);
  if (!m) throw new ArchiveError(sumPath, 'not a sha256 checksum file (expected "<64 hex digits>  <file name>")', 1);
  const actual = createHash('sha256').update(zipBytes).digest('hex');
  if (actual.toLowerCase() !== m[1].toLowerCase()) {
    throw new ArchiveError(zipPath, `sha256 ${actual} does not match ${m[1].toLowerCase()} in ${basename(sumPath)}: the file is corrupt or incomplete`);
  }
  return 'ok';
}

/** How often klines of an interval open, in words, for messages. */
function spacingText(interval: Interval): string {
  if (interval === '1M') return 'month (the 1st, 00:00 UTC)';
  if (interval === '1w') return 'week (Mondays 00:00 UTC)';
  const minutes = INTERVAL_MS[interval] / 60_000;
  if (minutes === 1) return 'minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (minutes === 60) return 'hour';
  if (minutes < 1440) return `${minutes / 60} hours`;
  return minutes === 1440 ? 'day (00:00 UTC)' : `${minutes / 1440} days`;
}

function durationText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day${ms === 86_400_000 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour${ms === 3_600_000 ? '' : 's'}`;
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  return `${ms / 1000} s`;
}

export interface CheckedKlines {
  /** The rows in open-time order, each open time once. */
  klines: Klines;
  /** Rows repeated inside the file with identical values (dropped, counted). */
  repeated: number;
}

/**
 * Checks a parsed file's open times against its interval, so that nothing off the interval's
 * grid reaches the store: every open time must be one the interval has (1m on the minute, 5m on
 * every fifth minute, 1w on Mondays, 1M on the 1st); a file of another interval (1m rows in a
 * `-5m-` file) fails on its first row off the grid, with the spacing the rows do have. An open
 * time repeated with identical values is counted and kept once; repeated with different values
 * the file is refused (which row is right is not known). Throws ArchiveError with the line.
 */
export function checkOpenTimes(parsed: ParsedCsv, interval: Interval, file: string): CheckedKlines {
  const k = parsed.klines;
  const t = k.openTime;
  const n = k.length;
  const fixed = interval !== '1M' && interval !== '1w';
  const ms = INTERVAL_MS[interval];
  let ascending = true;
  for (let i = 0; i < n; i++) {
    const time = t[i];
    if (fixed ? time % ms !== 0 : alignOpenTime(time, interval) !== time) {
      const before = alignOpenTime(time, interval);
      let reason = `open time ${time} (${isoMinute(time)}) is not on the ${interval} grid: ${interval} klines open every ${spacingText(interval)} (${isoMinute(before)}, ${isoMinute(nextOpenTime(before, interval))}, ...)`;
      const gap = i > 0 ? time - t[i - 1] : 0;
      if (gap > 0) {
        const like = INTERVALS.find((x) => x !== '1M' && INTERVAL_MS[x] === gap);
        reason += `; it is ${durationText(gap)} after the row before${like ? `, as in a ${like} file` : ''}`;
      }
      throw new ArchiveError(file, reason, parsed.lines[i]);
    }
    if (i > 0 && time <= t[i - 1]) ascending = false;
  }
  if (ascending) return { klines: k, repeated: 0 };
  // out of order or repeated: sort (stable), keep each open time once
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => t[a] - t[b] || a - b);
  const out = allocKlines(n);
  let m = 0;
  let repeated = 0;
  let kept = -1; // the row kept for the last open time
  for (const i of order) {
    if (kept >= 0 && t[kept] === t[i]) {
      for (const f of KLINE_FIELDS) {
        if (!Object.is(k[f][kept], k[f][i])) {
          throw new ArchiveError(
            file,
            `line ${parsed.lines[kept]} and line ${parsed.lines[i]} both have open time ${isoMinute(t[i])} with different values (${f} ${k[f][kept]} and ${k[f][i]}); the file is refused, since which one is right is not known`,
            parsed.lines[i],
          );
        }
      }
      repeated++;
      continue;
    }
    for (const f of KLINE_FIELDS) out[f][m] = k[f][i];
    m++;
    kept = i;
  }
  out.length = m;
  return { klines: out, repeated };
}

export interface ArchiveFile {
  /** The path read (for a zip, the zip; `entry` names the CSV inside). */
  file: string;
  entry?: string;
  symbol: string;
  interval: Interval;
  klines: Klines;
  /** Rows repeated inside the file with identical values (kept once). */
  repeated: number;
  header: boolean;
  checksum: ChecksumResult;
  /** Decimals the file printed per column (ParsedCsv.decimals). */
  decimals: ColumnDecimals;
}

/**
 * The CSV texts of one archive file: each CSV inside a `.zip` (its `.CHECKSUM` verified when
 * present), or the `.csv` itself. `where` names the file (and entry) for error messages. The one
 * reader of archive files, for klines and funding rates alike.
 */
/** Each file's size in bytes, for import progress (0 for one that cannot be read: its import reports why). */
export function fileSizes(files: readonly string[]): number[] {
  return files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  });
}

export function readArchiveEntries(path: string): { entry?: string; where: string; data: Uint8Array; checksum: ChecksumResult }[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ArchiveError(path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!path.toLowerCase().endsWith('.zip')) return [{ where: path, data: bytes, checksum: 'absent' }];
  const checksum = verifyChecksum(path, bytes);
  return unzipCsvFiles(bytes, path).map(({ name, data }) => ({ entry: name, where: `${path}!${name}`, data, checksum }));
}

/**
 * Reads one archive file (`.zip` or `.csv`) fully into klines. Symbol and interval come from the
 * file name unless given. With `checkOpenTimes` (what the import asks for), the open times are
 * checked against the interval and repeated rows folded (see checkOpenTimes); without it the rows
 * come as the file has them. Nothing is written.
 */
export function readArchiveFile(path: string, options: { symbol?: string; interval?: Interval; checkOpenTimes?: boolean } = {}): ArchiveFile[] {
  const fromName = parseArchiveFileName(path);
  const symbol = options.symbol ?? fromName?.symbol;
  const interval = options.interval ?? fromName?.interval;
  if (!symbol || !interval) {
    throw new ArchiveError(path, 'cannot tell the symbol and interval from the file name (expected SYMBOL-INTERVAL-DATE.zip|csv); give --symbol and --interval');
  }
  return readArchiveEntries(path).map(({ entry, where, data, checksum }) => {
    const parsed = parseKlineCsv(data, where);
    const checked = options.checkOpenTimes ? checkOpenTimes(parsed, interval, where) : { klines: parsed.klines, repeated: 0 };
    return { file: path, entry, symbol, interval, klines: checked.klines, repeated: checked.repeated, header: parsed.header, checksum, decimals: parsed.decimals };
  });
}
