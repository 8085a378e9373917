import type { Statement } from 'better-sqlite3';
import { aggregateKlines, canAggregate } from '../core/market/aggregate.js';
import { CODEC, chunkCount, decodeChunk, decodeChunkToKlines, decodeOpenTimes, encodeChunk } from '../core/market/codec.js';
import {
  allocKlines,
  alignOpenTime,
  countOpenTimes,
  INTERVAL_MS,
  INTERVALS,
  KLINE_FIELDS,
  nextOpenTime,
  previousOpenTime,
  type Gap,
  type Interval,
  type Klines,
} from '../core/market/klines.js';
import type { ColumnDecimals } from '../core/market/export.js';
import type { InsertOptions, InsertReport, KlineRepository, KlineSource, SeriesInfo } from '../core/market/repository.js';
import { writeTransaction, type Database } from './database.js';

export type { InsertOptions, InsertReport, KlineSource, SeriesInfo };

/**
 * The kline store: klines of one symbol and interval are kept in chunks, one row of
 * `kline_chunks` per aligned span (one UTC day for 1m; 1440 klines' worth of time for the other
 * fixed intervals; everything in one chunk for 1M), each holding the span's klines packed column
 * by column with the `sdv1` codec (src/core/market/codec.ts): exact, about 12-20 bytes per kline,
 * and decoded straight into Float64Arrays. `kline_series` keeps first/last open time and the row
 * count per symbol and interval.
 *
 * Only closed klines are stored. Writes are transactional; an existing kline is kept unless
 * `replace` is asked for, so importing the same data twice changes nothing.
 */

interface ChunkRow {
  chunk_start: number;
  first_open_time: number;
  last_open_time: number;
  count: number;
  codec: string;
  data: Buffer;
}

/** Span of one chunk in ms, and the chunk's aligned start for an open time. */
export function chunkSpan(interval: Interval): number {
  if (interval === '1M') return Number.MAX_SAFE_INTEGER;
  return INTERVAL_MS[interval] * 1440;
}

export function chunkStartOf(openTime: number, interval: Interval): number {
  if (interval === '1M') return 0;
  if (interval === '1w') {
    // weeks are Monday-aligned; align chunks on the same grid
    const span = chunkSpan(interval);
    const monday = 4 * 86_400_000;
    return Math.floor((openTime - monday) / span) * span + monday;
  }
  const span = chunkSpan(interval);
  return Math.floor(openTime / span) * span;
}

export class KlineStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KlineStoreError';
  }
}

export class KlineStore implements KlineRepository {
  private readonly selectRange: Statement<[string, string, number, number], ChunkRow>;
  private readonly selectChunk: Statement<[string, string, number], ChunkRow>;
  private readonly upsertChunk: Statement<[string, string, number, number, number, number, string, Buffer]>;
  private readonly refreshSeries: Statement<[{ now: number; symbol: string; interval: string; source: KlineSource }]>;
  private readonly selectSource: Statement<[string, string], { source: KlineSource }>;
  private readonly deleteSeries: Statement<[string, string]>;
  private readonly selectHas: Statement<[string, string]>;

  constructor(readonly db: Database) {
    const s = db.sqlite;
    // Read chunks through a memory map instead of read() copies: loading years of klines spends
    // half as long in SQLite. Per connection, reads only; harmless for everything else.
    if (db.path !== ':memory:') s.pragma('mmap_size = 1073741824');
    this.selectRange = s.prepare(
      `SELECT chunk_start, first_open_time, last_open_time, count, codec, data FROM kline_chunks
       WHERE symbol = ? AND interval = ? AND last_open_time >= ? AND first_open_time <= ? ORDER BY chunk_start`,
    );
    this.selectChunk = s.prepare(
      'SELECT chunk_start, first_open_time, last_open_time, count, codec, data FROM kline_chunks WHERE symbol = ? AND interval = ? AND chunk_start = ?',
    );
    this.upsertChunk = s.prepare(
      `INSERT INTO kline_chunks (symbol, interval, chunk_start, first_open_time, last_open_time, count, codec, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (symbol, interval, chunk_start) DO UPDATE SET
         first_open_time = excluded.first_open_time, last_open_time = excluded.last_open_time,
         count = excluded.count, codec = excluded.codec, data = excluded.data`,
    );
    this.refreshSeries = s.prepare(
      `INSERT INTO kline_series (symbol, interval, first_open_time, last_open_time, rows, updated_at, source)
       SELECT symbol, interval, MIN(first_open_time), MAX(last_open_time), SUM(count), @now, @source
       FROM kline_chunks WHERE symbol = @symbol AND interval = @interval GROUP BY symbol, interval
       ON CONFLICT (symbol, interval) DO UPDATE SET first_open_time = excluded.first_open_time,
         last_open_time = excluded.last_open_time, rows = excluded.rows, updated_at = excluded.updated_at`,
    );
    this.deleteSeries = s.prepare('DELETE FROM kline_series WHERE symbol = ? AND interval = ?');
    this.selectHas = s.prepare('SELECT 1 FROM kline_series WHERE symbol = ? AND interval = ? AND rows > 0');
    this.selectSource = s.prepare('SELECT source FROM kline_series WHERE symbol = ? AND interval = ? AND rows > 0');
  }

  // ---- reads ----

  /**
   * Stored klines of `symbol` and `interval` with open times in [from, to] (defaults: everything),
   * as columns. When the interval itself is not stored, the klines are aggregated on the fly from
   * the finest stored interval that divides it, 1m first (complete buckets only; `partial` keeps
   * a last incomplete one). Synchronous.
   */
  loadRange(symbol: string, interval: Interval, from = 0, to = Number.MAX_SAFE_INTEGER, options: { partial?: boolean } = {}): Klines {
    if (!this.has(symbol, interval)) {
      // the finest stored interval the wanted one can be built from (1m first)
      const source = INTERVALS.slice(0, INTERVALS.indexOf(interval)).find((i) => canAggregate(i, interval) && this.has(symbol, i));
      if (source) {
        const start = alignOpenTime(Math.max(0, from), interval);
        const end = to >= Number.MAX_SAFE_INTEGER - INTERVAL_MS['1M'] ? to : nextOpenTime(alignOpenTime(to, interval), interval) - 1;
        return aggregateKlines(this.loadStored(symbol, source, start, end), source, interval, options);
      }
    }
    return this.loadStored(symbol, interval, from, to);
  }

  /** Stored klines only (no aggregation). */
  loadStored(symbol: string, interval: Interval, from = 0, to = Number.MAX_SAFE_INTEGER): Klines {
    const rows = this.selectRange.all(symbol, interval, from, to);
    let total = 0;
    for (const r of rows) total += r.count;
    const out = allocKlines(total);
    let at = 0;
    for (const r of rows) {
      this.checkCodec(r, symbol, interval);
      if (r.first_open_time >= from && r.last_open_time <= to) {
        at += decodeChunk(r.data, out, at);
      } else {
        const part = decodeChunkToKlines(r.data);
        for (let i = 0; i < part.length; i++) {
          const t = part.openTime[i];
          if (t < from || t > to) continue;
          for (const f of KLINE_FIELDS) out[f][at] = part[f][i];
          at++;
        }
      }
    }
    out.length = at;
    return out;
  }

  /** True when any kline of the series is stored. */
  has(symbol: string, interval: Interval): boolean {
    return this.selectHas.get(symbol, interval) !== undefined;
  }

  /** Open time of the last stored kline, or undefined. */
  lastOpenTime(symbol: string, interval: Interval): number | undefined {
    const r = this.db.sqlite.prepare('SELECT last_open_time AS t FROM kline_series WHERE symbol = ? AND interval = ?').get(symbol, interval) as { t: number | null } | undefined;
    return r?.t ?? undefined;
  }

  firstOpenTime(symbol: string, interval: Interval): number | undefined {
    const r = this.db.sqlite.prepare('SELECT first_open_time AS t FROM kline_series WHERE symbol = ? AND interval = ?').get(symbol, interval) as { t: number | null } | undefined;
    return r?.t ?? undefined;
  }

  /** Every stored series (optionally of one symbol) with counts, missing klines and bytes. */
  series(symbol?: string): SeriesInfo[] {
    const rows = this.db.sqlite
      .prepare(
        `SELECT s.symbol, s.interval, s.first_open_time AS first, s.last_open_time AS last, s.rows, s.updated_at AS updatedAt, s.source,
           (SELECT COALESCE(SUM(LENGTH(c.data)), 0) FROM kline_chunks c WHERE c.symbol = s.symbol AND c.interval = s.interval) AS bytes,
           (SELECT COUNT(*) FROM kline_chunks c WHERE c.symbol = s.symbol AND c.interval = s.interval) AS chunks
         FROM kline_series s ${symbol ? 'WHERE s.symbol = ?' : ''} ORDER BY s.symbol, s.interval`,
      )
      .all(...(symbol ? [symbol] : [])) as Omit<SeriesInfo, 'missing'>[];
    return rows.map((r) => ({
      ...r,
      missing: r.first === null || r.last === null ? 0 : countOpenTimes(r.first, r.last, r.interval) - r.rows,
    }));
  }

  decimals(symbol: string, interval: Interval): ColumnDecimals | undefined {
    const r = this.db.sqlite.prepare('SELECT decimals FROM kline_series WHERE symbol = ? AND interval = ?').get(symbol, interval) as { decimals: string | null } | undefined;
    return r?.decimals ? (JSON.parse(r.decimals) as ColumnDecimals) : undefined;
  }

  /** Keeps, per column, the most decimals of what is stored and `printed` (inside insert's transaction). */
  private mergeDecimals(symbol: string, interval: Interval, printed: ColumnDecimals): void {
    const stored = this.decimals(symbol, interval);
    const merged = { ...printed };
    if (stored) for (const key of Object.keys(merged) as (keyof ColumnDecimals)[]) merged[key] = Math.max(merged[key], stored[key] ?? 0);
    this.db.sqlite.prepare('UPDATE kline_series SET decimals = ? WHERE symbol = ? AND interval = ?').run(JSON.stringify(merged), symbol, interval);
  }

  sourceOf(symbol: string, interval: Interval): KlineSource | undefined {
    return this.selectSource.get(symbol, interval)?.source;
  }

  /** Stored symbols (those with any klines). */
  symbols(): string[] {
    return (this.db.sqlite.prepare('SELECT DISTINCT symbol FROM kline_series WHERE rows > 0 ORDER BY symbol').all() as { symbol: string }[]).map((r) => r.symbol);
  }

  /** Missing open times between the first and last stored kline (or within [from, to]). */
  gaps(symbol: string, interval: Interval, from = 0, to = Number.MAX_SAFE_INTEGER): Gap[] {
    const rows = this.selectRange.all(symbol, interval, from, to);
    const gaps: Gap[] = [];
    let prev: number | undefined;
    for (const r of rows) {
      this.checkCodec(r, symbol, interval);
      // a full chunk (count equals the span's expected count) has no gap inside
      const times = decodeOpenTimes(r.data);
      for (let i = 0; i < times.length; i++) {
        const t = times[i];
        if (t < from || t > to) continue;
        if (prev !== undefined) {
          const expected = nextOpenTime(prev, interval);
          if (t !== expected) {
            const last = previousOpenTime(t, interval);
            gaps.push({ from: expected, to: last, missing: countOpenTimes(expected, last, interval) });
          }
        }
        prev = t;
      }
    }
    return gaps;
  }

  // ---- writes ----

  /**
   * Stores klines (any order; duplicates inside the input keep the last one) in one transaction.
   * Existing klines are kept unless `replace`.
   */
  insert(symbol: string, interval: Interval, k: Klines, options: InsertOptions = {}): InsertReport {
    if (k.length === 0) return { inserted: 0, duplicates: 0, changed: 0, chunks: 0 };
    const sorted = sortedUnique(k);
    const source = options.source ?? 'binance';
    // IMMEDIATE (another process may be writing the same file); the report is rebuilt on a retry
    return writeTransaction(this.db.sqlite, () => {
      const report: InsertReport = { inserted: 0, duplicates: 0, changed: 0, chunks: 0 };
      const stored = this.sourceOf(symbol, interval);
      if (stored !== undefined && stored !== source) {
        throw new KlineStoreError(`${symbol} ${interval} holds ${stored} klines; ${source} klines are never mixed into them (delete the series first)`);
      }
      let i = 0;
      while (i < sorted.length) {
        const start = chunkStartOf(sorted.openTime[i], interval);
        const end = start + chunkSpan(interval);
        let j = i;
        while (j < sorted.length && sorted.openTime[j] < end) j++;
        this.writeChunk(symbol, interval, start, sorted, i, j, options, report);
        i = j;
      }
      if (report.chunks > 0) this.refreshSeries.run({ now: Date.now(), symbol, interval, source });
      if (options.decimals) this.mergeDecimals(symbol, interval, options.decimals);
      return report;
    });
  }

  private writeChunk(symbol: string, interval: Interval, start: number, k: Klines, from: number, to: number, options: InsertOptions, report: InsertReport): void {
    const existing = this.selectChunk.get(symbol, interval, start);
    let merged: Klines;
    let mFrom = from;
    let mTo = to;
    if (!existing) {
      merged = k;
      report.inserted += to - from;
    } else {
      this.checkCodec(existing, symbol, interval);
      const old = decodeChunkToKlines(existing.data);
      const out = allocKlines(old.length + (to - from));
      let a = 0;
      let b = from;
      let n = 0;
      let dirty = false;
      const copy = (src: Klines, i: number) => {
        for (const f of KLINE_FIELDS) out[f][n] = src[f][i];
        n++;
      };
      while (a < old.length || b < to) {
        if (b >= to || (a < old.length && old.openTime[a] < k.openTime[b])) copy(old, a++);
        else if (a >= old.length || k.openTime[b] < old.openTime[a]) {
          copy(k, b++);
          report.inserted++;
          dirty = true;
        } else {
          report.duplicates++;
          let same = true;
          for (const f of KLINE_FIELDS) if (!Object.is(old[f][a], k[f][b])) same = false;
          if (!same) report.changed++;
          if (options.replace && !same) {
            copy(k, b);
            dirty = true;
          } else copy(old, a);
          a++;
          b++;
        }
      }
      out.length = n;
      if (!dirty) return;
      merged = out;
      mFrom = 0;
      mTo = n;
    }
    const blob = encodeChunk(merged, mFrom, mTo);
    this.upsertChunk.run(symbol, interval, start, merged.openTime[mFrom], merged.openTime[mTo - 1], mTo - mFrom, CODEC, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
    report.chunks++;
  }

  /** Removes a series (all its chunks). Returns the rows removed. */
  deleteSeriesKlines(symbol: string, interval: Interval): number {
    return writeTransaction(this.db.sqlite, () => {
      const r = this.db.sqlite.prepare('DELETE FROM kline_chunks WHERE symbol = ? AND interval = ?').run(symbol, interval);
      this.deleteSeries.run(symbol, interval);
      return r.changes;
    });
  }

  private checkCodec(r: ChunkRow, symbol: string, interval: string): void {
    if (r.codec !== CODEC) throw new KlineStoreError(`kline chunk ${symbol} ${interval} ${r.chunk_start} has unknown codec "${r.codec}"`);
    if (chunkCount(r.data) !== r.count) throw new KlineStoreError(`kline chunk ${symbol} ${interval} ${r.chunk_start} is damaged (row count differs)`);
  }
}

/** Sorted by open time with duplicates removed (the last occurrence wins). Copies only if needed. */
export function sortedUnique(k: Klines): Klines {
  const t = k.openTime;
  let ok = true;
  for (let i = 1; i < k.length; i++) {
    if (!(t[i] > t[i - 1])) {
      ok = false;
      break;
    }
  }
  if (ok) return k;
  const idx = Array.from({ length: k.length }, (_, i) => i);
  idx.sort((a, b) => t[a] - t[b] || a - b);
  const keep: number[] = [];
  for (let x = 0; x < idx.length; x++) {
    if (x + 1 < idx.length && t[idx[x + 1]] === t[idx[x]]) continue; // a later duplicate follows
    keep.push(idx[x]);
  }
  const out = allocKlines(keep.length);
  for (const f of KLINE_FIELDS) {
    const src = k[f];
    const dst = out[f];
    for (let x = 0; x < keep.length; x++) dst[x] = src[keep[x]];
  }
  out.length = keep.length;
  return out;
}
