import { AtmError } from '../core/errors.js';
import type { BookDepthRow, DeepGap, DeepInsertReport, DeepRepository, DeepSeriesInfo } from '../core/market/deep.js';
import {
  BOOK_CODEC, TRADE_CODEC, allocTradeColumns, decodeBookSamples, decodeTradeColumns, decodeTrades, encodeBookSamples, encodeTrades,
  type BookSample, type DeepTrade, type TradeColumns,
} from '../core/market/deepCodec.js';
import type { KlineSource } from '../core/market/repository.js';
import { writeTransaction, type Database } from './database.js';

/** Trades per chunk at most (an imported day of a busy symbol becomes many chunks). */
export const TRADES_PER_CHUNK = 20_000;
/** Book samples per chunk at most. */
export const SAMPLES_PER_CHUNK = 3_600;

const MIN = -Number.MAX_SAFE_INTEGER;
const MAX = Number.MAX_SAFE_INTEGER;
const bound = (v: number | undefined, fallback: number) => (v === undefined || !Number.isFinite(v) ? fallback : v);

/**
 * Deep market data on SQLite (migration 0011): trades and book samples packed in chunks
 * (src/core/market/deepCodec.ts), bookDepth archive rows as text, gaps as rows.
 */
export class DeepStore implements DeepRepository {
  constructor(readonly db: Database, private readonly now: () => number = Date.now) {}

  insertTrades(symbol: string, trades: readonly DeepTrade[], options: { source?: KlineSource } = {}): DeepInsertReport {
    const report: DeepInsertReport = { inserted: 0, duplicates: 0, chunks: 0, bytes: 0 };
    if (trades.length === 0) return report;
    const source = options.source ?? 'binance';
    const sorted = [...trades].sort((a, b) => a.id - b.id);
    const s = this.db.sqlite;
    writeTransaction(s, () => {
      const stored = s.prepare('SELECT source FROM deep_trade_chunks WHERE symbol = ? LIMIT 1').get(symbol) as { source: string } | undefined;
      if (stored && stored.source !== source) {
        throw new AtmError('user', `the stored ${symbol} trades come from ${stored.source}; ${source} trades are never mixed with them`, { symbol, stored: stored.source, source });
      }
      const minId = sorted[0].id;
      const maxId = sorted[sorted.length - 1].id;
      const overlapping = s
        .prepare('SELECT data FROM deep_trade_chunks WHERE symbol = ? AND first_id <= ? AND last_id >= ?')
        .all(symbol, maxId, minId) as { data: Buffer }[];
      const known = new Set<number>();
      for (const row of overlapping) for (const t of decodeTrades(row.data)) known.add(t.id);
      const fresh: DeepTrade[] = [];
      for (let i = 0; i < sorted.length; i++) {
        const t = sorted[i];
        if (known.has(t.id) || (i > 0 && sorted[i - 1].id === t.id)) report.duplicates++;
        else fresh.push(t);
      }
      const insert = s.prepare(
        'INSERT INTO deep_trade_chunks (symbol, first_id, last_id, first_time, last_time, count, codec, source, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (let i = 0; i < fresh.length; i += TRADES_PER_CHUNK) {
        const part = fresh.slice(i, i + TRADES_PER_CHUNK);
        const blob = encodeTrades(part);
        let first = part[0].time;
        let last = part[0].time;
        for (const t of part) {
          if (t.time < first) first = t.time;
          if (t.time > last) last = t.time;
        }
        insert.run(symbol, part[0].id, part[part.length - 1].id, first, last, part.length, TRADE_CODEC, source, Buffer.from(blob));
        report.chunks++;
        report.bytes += blob.length;
      }
      report.inserted = fresh.length;
    });
    return report;
  }

  loadTrades(symbol: string, from?: number, to?: number): DeepTrade[] {
    const lo = bound(from, MIN);
    const hi = bound(to, MAX);
    const rows = this.db.sqlite
      .prepare('SELECT data FROM deep_trade_chunks WHERE symbol = ? AND last_time >= ? AND first_time <= ? ORDER BY first_id')
      .all(symbol, lo, hi) as { data: Buffer }[];
    const out: DeepTrade[] = [];
    for (const row of rows) for (const t of decodeTrades(row.data)) if (t.time >= lo && t.time <= hi) out.push(t);
    // chunks of a later import may interleave by id with earlier ones (filling their holes)
    for (let i = 1; i < out.length; i++) {
      if (out[i].id < out[i - 1].id) return out.sort((a, b) => a.id - b.id);
    }
    return out;
  }

  loadTradeColumns(symbol: string, from?: number, to?: number): TradeColumns {
    const lo = bound(from, MIN);
    const hi = bound(to, MAX);
    const rows = this.db.sqlite
      .prepare('SELECT data FROM deep_trade_chunks WHERE symbol = ? AND last_time >= ? AND first_time <= ? ORDER BY first_id')
      .all(symbol, lo, hi) as { data: Buffer }[];
    const parts = rows.map((row) => decodeTradeColumns(row.data));
    const out = allocTradeColumns(parts.reduce((a, p) => a + p.length, 0));
    let n = 0;
    let sorted = true;
    for (const p of parts) {
      for (let i = 0; i < p.length; i++) {
        const t = p.time[i];
        if (t < lo || t > hi) continue;
        if (n > 0 && p.id[i] < out.id[n - 1]) sorted = false;
        out.id[n] = p.id[i];
        out.time[n] = t;
        out.price[n] = p.price[i];
        out.qty[n] = p.qty[i];
        out.buyerMaker[n] = p.buyerMaker[i];
        n++;
      }
    }
    out.length = n;
    if (sorted) return out;
    // chunks of a later import may interleave by id with earlier ones
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => out.id[a] - out.id[b]);
    const s = allocTradeColumns(n);
    order.forEach((k, i) => {
      s.id[i] = out.id[k];
      s.time[i] = out.time[k];
      s.price[i] = out.price[k];
      s.qty[i] = out.qty[k];
      s.buyerMaker[i] = out.buyerMaker[k];
    });
    s.length = n;
    return s;
  }

  countTrades(symbol: string, from?: number, to?: number): number {
    const row = this.db.sqlite
      .prepare('SELECT COALESCE(SUM(count), 0) AS n FROM deep_trade_chunks WHERE symbol = ? AND last_time >= ? AND first_time <= ?')
      .get(symbol, bound(from, MIN), bound(to, MAX)) as { n: number };
    return row.n;
  }

  countBookSamples(symbol: string, from?: number, to?: number): number {
    const row = this.db.sqlite
      .prepare('SELECT COALESCE(SUM(count), 0) AS n FROM deep_book_chunks WHERE symbol = ? AND last_time >= ? AND first_time <= ?')
      .get(symbol, bound(from, MIN), bound(to, MAX)) as { n: number };
    return row.n;
  }

  lastTrade(symbol: string): DeepTrade | undefined {
    const row = this.db.sqlite.prepare('SELECT data FROM deep_trade_chunks WHERE symbol = ? ORDER BY last_id DESC LIMIT 1').get(symbol) as { data: Buffer } | undefined;
    if (!row) return undefined;
    const trades = decodeTrades(row.data);
    return trades.reduce((a, b) => (b.id > a.id ? b : a));
  }

  insertBookSamples(symbol: string, samples: readonly BookSample[]): DeepInsertReport {
    const report: DeepInsertReport = { inserted: 0, duplicates: 0, chunks: 0, bytes: 0 };
    if (samples.length === 0) return report;
    const sorted = [...samples].sort((a, b) => a.time - b.time);
    const s = this.db.sqlite;
    writeTransaction(s, () => {
      const overlapping = s
        .prepare('SELECT data FROM deep_book_chunks WHERE symbol = ? AND first_time <= ? AND last_time >= ?')
        .all(symbol, sorted[sorted.length - 1].time, sorted[0].time) as { data: Buffer }[];
      const known = new Set<number>();
      for (const row of overlapping) for (const x of decodeBookSamples(row.data)) known.add(x.time);
      const fresh = sorted.filter((x, i) => !known.has(x.time) && (i === 0 || sorted[i - 1].time !== x.time));
      report.duplicates = sorted.length - fresh.length;
      const insert = s.prepare('INSERT INTO deep_book_chunks (symbol, first_time, last_time, count, levels, codec, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (let i = 0; i < fresh.length; i += SAMPLES_PER_CHUNK) {
        const part = fresh.slice(i, i + SAMPLES_PER_CHUNK);
        const blob = encodeBookSamples(part);
        const levels = part.reduce((m, x) => Math.max(m, x.bids.length, x.asks.length), 0);
        insert.run(symbol, part[0].time, part[part.length - 1].time, part.length, levels, BOOK_CODEC, Buffer.from(blob));
        report.chunks++;
        report.bytes += blob.length;
      }
      report.inserted = fresh.length;
    });
    return report;
  }

  loadBookSamples(symbol: string, from?: number, to?: number): BookSample[] {
    const lo = bound(from, MIN);
    const hi = bound(to, MAX);
    const rows = this.db.sqlite
      .prepare('SELECT data FROM deep_book_chunks WHERE symbol = ? AND last_time >= ? AND first_time <= ? ORDER BY first_time')
      .all(symbol, lo, hi) as { data: Buffer }[];
    const out: BookSample[] = [];
    for (const row of rows) for (const x of decodeBookSamples(row.data)) if (x.time >= lo && x.time <= hi) out.push(x);
    return out;
  }

  lastBookSampleTime(symbol: string): number | undefined {
    const row = this.db.sqlite.prepare('SELECT last_time AS t FROM deep_book_chunks WHERE symbol = ? ORDER BY first_time DESC LIMIT 1').get(symbol) as { t: number } | undefined;
    return row?.t;
  }

  insertBookDepth(symbol: string, rows: readonly BookDepthRow[]): DeepInsertReport {
    const report: DeepInsertReport = { inserted: 0, duplicates: 0, chunks: 0, bytes: 0 };
    const s = this.db.sqlite;
    const insert = s.prepare('INSERT OR IGNORE INTO deep_book_depth (symbol, time, percentage, depth, notional) VALUES (?, ?, ?, ?, ?)');
    writeTransaction(s, () => {
      for (const r of rows) {
        const changes = insert.run(symbol, r.time, r.percentage, r.depth, r.notional).changes;
        if (changes > 0) {
          report.inserted++;
          report.bytes += r.percentage.length + r.depth.length + r.notional.length + 8;
        } else report.duplicates++;
      }
    });
    return report;
  }

  loadBookDepth(symbol: string, from?: number, to?: number): BookDepthRow[] {
    return this.db.sqlite
      .prepare('SELECT time, percentage, depth, notional FROM deep_book_depth WHERE symbol = ? AND time >= ? AND time <= ? ORDER BY time, CAST(percentage AS REAL)')
      .all(symbol, bound(from, MIN), bound(to, MAX)) as BookDepthRow[];
  }

  addGap(gap: DeepGap): void {
    this.db.sqlite
      .prepare('INSERT INTO deep_gaps (symbol, kind, from_time, to_time, cause, from_id, to_id, noted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(gap.symbol, gap.kind, gap.from, gap.to, gap.cause, gap.fromId ?? null, gap.toId ?? null, this.now());
  }

  gaps(symbol?: string, from?: number, to?: number): DeepGap[] {
    const rows = this.db.sqlite
      .prepare(
        'SELECT symbol, kind, from_time AS "from", to_time AS "to", cause, from_id AS fromId, to_id AS toId FROM deep_gaps ' +
          'WHERE (? IS NULL OR symbol = ?) AND to_time >= ? AND from_time <= ? ORDER BY from_time, id',
      )
      .all(symbol ?? null, symbol ?? null, bound(from, MIN), bound(to, MAX)) as (DeepGap & { fromId: number | null; toId: number | null })[];
    return rows.map(({ fromId, toId, ...g }) => ({ ...g, ...(fromId !== null ? { fromId } : {}), ...(toId !== null ? { toId } : {}) }));
  }

  summary(symbol?: string): DeepSeriesInfo[] {
    const s = this.db.sqlite;
    const where = symbol === undefined ? '' : ' WHERE symbol = ?';
    const args = symbol === undefined ? [] : [symbol];
    const out = new Map<string, DeepSeriesInfo>();
    const get = (sym: string): DeepSeriesInfo => {
      let info = out.get(sym);
      if (!info) {
        info = { symbol: sym, trades: 0, firstTradeTime: null, lastTradeTime: null, tradeBytes: 0, samples: 0, firstSampleTime: null, lastSampleTime: null, bookBytes: 0, depthRows: 0, gaps: 0 };
        out.set(sym, info);
      }
      return info;
    };
    type Agg = { symbol: string; n: number; first: number; last: number; bytes: number };
    for (const r of s.prepare(`SELECT symbol, SUM(count) AS n, MIN(first_time) AS first, MAX(last_time) AS last, SUM(LENGTH(data)) AS bytes FROM deep_trade_chunks${where} GROUP BY symbol`).all(...args) as Agg[]) {
      Object.assign(get(r.symbol), { trades: r.n, firstTradeTime: r.first, lastTradeTime: r.last, tradeBytes: r.bytes });
    }
    for (const r of s.prepare(`SELECT symbol, SUM(count) AS n, MIN(first_time) AS first, MAX(last_time) AS last, SUM(LENGTH(data)) AS bytes FROM deep_book_chunks${where} GROUP BY symbol`).all(...args) as Agg[]) {
      Object.assign(get(r.symbol), { samples: r.n, firstSampleTime: r.first, lastSampleTime: r.last, bookBytes: r.bytes });
    }
    for (const r of s.prepare(`SELECT symbol, COUNT(*) AS n FROM deep_book_depth${where} GROUP BY symbol`).all(...args) as { symbol: string; n: number }[]) get(r.symbol).depthRows = r.n;
    for (const r of s.prepare(`SELECT symbol, COUNT(*) AS n FROM deep_gaps${where} GROUP BY symbol`).all(...args) as { symbol: string; n: number }[]) get(r.symbol).gaps = r.n;
    return [...out.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));
  }
}
