import type { CollectorGap, CollectorGapRepository, GapCause } from '../core/market/collector.js';
import type { Interval } from '../core/market/klines.js';
import { writeTransaction, type Database } from './database.js';

interface Row {
  id: number;
  symbol: string;
  interval: string;
  from_time: number;
  to_time: number | null;
  cause: string;
  opened_at: number;
  filled_at: number | null;
}

const toGap = (r: Row): CollectorGap => ({
  id: r.id,
  symbol: r.symbol,
  interval: r.interval as Interval,
  from: r.from_time,
  to: r.to_time ?? undefined,
  cause: r.cause as GapCause,
  openedAt: r.opened_at,
  filledAt: r.filled_at ?? undefined,
});

/** The collector's gaps on SQLite (table `collector_gaps`, migration 0009). */
export class CollectorGapStore implements CollectorGapRepository {
  constructor(readonly db: Database) {}

  open(gap: { symbol: string; interval: Interval; from: number; cause: GapCause; openedAt: number }): number {
    const sqlite = this.db.sqlite;
    return writeTransaction(sqlite, () =>
      Number(sqlite.prepare('INSERT INTO collector_gaps (symbol, interval, from_time, to_time, cause, opened_at, filled_at) VALUES (?, ?, ?, NULL, ?, ?, NULL)').run(gap.symbol, gap.interval, gap.from, gap.cause, gap.openedAt).lastInsertRowid),
    );
  }

  update(id: number, to: number, filledAt?: number): void {
    const sqlite = this.db.sqlite;
    writeTransaction(sqlite, () => sqlite.prepare('UPDATE collector_gaps SET to_time = ?, filled_at = ? WHERE id = ?').run(to, filledAt ?? null, id));
  }

  remove(id: number): void {
    const sqlite = this.db.sqlite;
    writeTransaction(sqlite, () => sqlite.prepare('DELETE FROM collector_gaps WHERE id = ?').run(id));
  }

  record(gap: Omit<CollectorGap, 'id'>): number {
    const sqlite = this.db.sqlite;
    return writeTransaction(sqlite, () =>
      Number(
        sqlite
          .prepare('INSERT INTO collector_gaps (symbol, interval, from_time, to_time, cause, opened_at, filled_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(gap.symbol, gap.interval, gap.from, gap.to ?? null, gap.cause, gap.openedAt, gap.filledAt ?? null).lastInsertRowid,
      ),
    );
  }

  list(options: { symbol?: string; open?: boolean; limit?: number } = {}): CollectorGap[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (options.symbol) {
      where.push('symbol = ?');
      args.push(options.symbol);
    }
    if (options.open) where.push('filled_at IS NULL');
    const sql = `SELECT * FROM collector_gaps${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY from_time DESC, id DESC${options.limit ? ` LIMIT ${Math.floor(options.limit)}` : ''}`;
    return (this.db.sqlite.prepare(sql).all(...args) as Row[]).map(toGap);
  }
}
