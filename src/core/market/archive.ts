import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { unzipSync } from 'fflate';
import { allocKlines, parseInterval, type Interval, type Klines } from './klines.js';

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
export class ArchiveError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
    readonly column?: string,
  ) {
    super(`${file}${line !== undefined ? `: line ${line}` : ''}${column ? `, column ${column}` : ''}: ${reason}`);
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
}

/**
 * Parses an archive kline CSV (with or without header, LF or CRLF, optional BOM). Rows are
 * returned in file order. Throws ArchiveError naming the file, line and column of the first bad
 * value; a close time before the open time or a negative volume is an error too.
 */
export function parseKlineCsv(input: Uint8Array | string, file = '<input>'): ParsedCsv {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const n = bytes.length;
  // Upper bound on rows: count newlines (+1 for a missing final newline).
  let lines = 1;
  for (let i = 0; i < n; i++) if (bytes[i] === 10) lines++;
  let k = allocKlines(lines);
  const { openTime, open, high, low, close, volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume } = k;

  let pos = 0;
  if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  let row = 0;
  let lineNo = 0;
  let header = false;
  const fieldStart = new Int32Array(13);
  const fieldEnd = new Int32Array(13);

  const text = (s: number, e: number) => Buffer.from(bytes.buffer, bytes.byteOffset + s, e - s).toString('latin1');

  /** Parses bytes [s, e) as a decimal number, exactly like Number(text). NaN when not a number. */
  const num = (s: number, e: number): number => {
    if (s >= e) return NaN;
    let i = s;
    let neg = false;
    if (bytes[i] === 45 /* - */) {
      neg = true;
      i++;
    }
    let mant = 0;
    let digits = 0;
    let frac = -1;
    for (; i < e; i++) {
      const c = bytes[i];
      if (c >= 48 && c <= 57) {
        mant = mant * 10 + (c - 48);
        digits++;
        if (frac >= 0) frac++;
      } else if (c === 46 /* . */ && frac < 0) {
        frac = 0;
      } else {
        // exponent, spaces...: let the general parser decide
        const t = text(s, e).trim();
        return t === '' ? NaN : Number(t);
      }
    }
    if (digits === 0) return NaN;
    if (mant >= TWO53 || frac > 22) return Number(text(s, e));
    const v = frac > 0 ? mant / POW10[frac] : mant;
    return neg ? -v : v;
  };

  while (pos < n) {
    lineNo++;
    let end = pos;
    while (end < n && bytes[end] !== 10) end++;
    let lineEnd = end;
    if (lineEnd > pos && bytes[lineEnd - 1] === 13) lineEnd--;
    const next = end + 1;
    if (lineEnd === pos) {
      pos = next; // blank line (usually the last)
      continue;
    }
    // split into fields
    let f = 0;
    fieldStart[0] = pos;
    for (let i = pos; i < lineEnd; i++) {
      if (bytes[i] === 44 /* , */) {
        if (f < 12) fieldEnd[f] = i;
        f++;
        if (f < 13) fieldStart[f] = i + 1;
      }
    }
    if (f < 13) fieldEnd[f] = lineEnd;
    const fields = f + 1;
    const first = bytes[pos];
    const numericStart = (first >= 48 && first <= 57) || first === 45;
    if (row === 0 && !header && !numericStart) {
      // a header row: must be the archive's header (at least its first column)
      const h = text(pos, lineEnd).trim().toLowerCase();
      if (!h.startsWith('open_time')) throw new ArchiveError(file, `expected a kline row or the header "${ARCHIVE_COLUMNS.join(',')}", found "${truncate(h)}"`, lineNo);
      header = true;
      pos = next;
      continue;
    }
    if (fields !== 12) throw new ArchiveError(file, `expected 12 columns, found ${fields}`, lineNo);
    const get = (c: number, integer: boolean, nonNegative: boolean): number => {
      const v = num(fieldStart[c], fieldEnd[c]);
      if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || (nonNegative && v < 0)) {
        throw new ArchiveError(
          file,
          `"${truncate(text(fieldStart[c], fieldEnd[c]))}" is not ${integer ? 'an integer' : nonNegative ? 'a non-negative number' : 'a number'}`,
          lineNo,
          `${c + 1} (${ARCHIVE_COLUMNS[c]})`,
        );
      }
      return v;
    };
    const t = get(0, true, true);
    openTime[row] = t;
    open[row] = get(1, false, true);
    high[row] = get(2, false, true);
    low[row] = get(3, false, true);
    close[row] = get(4, false, true);
    volume[row] = get(5, false, true);
    const ct = get(6, true, true);
    if (ct < t) throw new ArchiveError(file, `close time ${ct} is before the open time ${t}`, lineNo, `7 (close_time)`);
    quoteVolume[row] = get(7, false, true);
    trades[row] = get(8, true, true);
    takerBuyVolume[row] = get(9, false, true);
    takerBuyQuoteVolume[row] = get(10, false, true);
    row++;
    pos = next;
  }
  k.length = row;
  return { klines: k, header };
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

export interface ArchiveFile {
  /** The path read (for a zip, the zip; `entry` names the CSV inside). */
  file: string;
  entry?: string;
  symbol: string;
  interval: Interval;
  klines: Klines;
  header: boolean;
  checksum: ChecksumResult;
}

/**
 * Reads one archive file (`.zip` or `.csv`) fully into klines. Symbol and interval come from the
 * file name unless given. Nothing is written anywhere.
 */
export function readArchiveFile(path: string, options: { symbol?: string; interval?: Interval } = {}): ArchiveFile[] {
  const fromName = parseArchiveFileName(path);
  const symbol = options.symbol ?? fromName?.symbol;
  const interval = options.interval ?? fromName?.interval;
  if (!symbol || !interval) {
    throw new ArchiveError(path, 'cannot tell the symbol and interval from the file name (expected SYMBOL-INTERVAL-DATE.zip|csv); give --symbol and --interval');
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ArchiveError(path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (path.toLowerCase().endsWith('.zip')) {
    const checksum = verifyChecksum(path, bytes);
    return unzipCsvFiles(bytes, path).map(({ name, data }) => {
      const parsed = parseKlineCsv(data, `${path}!${name}`);
      return { file: path, entry: name, symbol, interval, klines: parsed.klines, header: parsed.header, checksum };
    });
  }
  const parsed = parseKlineCsv(bytes, path);
  return [{ file: path, symbol, interval, klines: parsed.klines, header: parsed.header, checksum: 'absent' }];
}
