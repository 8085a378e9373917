import { sql, type Kysely } from 'kysely';

/**
 * Version 9: the collector's gaps (src/core/market/collector.ts). One row per stretch of klines a
 * collected series missed: the open times [from_time, to_time] (to_time NULL while the collector
 * has not caught up yet), why ('disconnected', 'collector_stopped', 'maintenance',
 * 'exchange_missing') and when it was filled from REST (NULL while open, and for
 * 'exchange_missing': the exchange has nothing to fill it with). Filled gaps stay as history.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE collector_gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    from_time INTEGER NOT NULL,
    to_time INTEGER,
    cause TEXT NOT NULL CHECK (cause IN ('disconnected', 'collector_stopped', 'maintenance', 'exchange_missing')),
    opened_at INTEGER NOT NULL,
    filled_at INTEGER
  )`.execute(db);
  await sql`CREATE INDEX collector_gaps_series ON collector_gaps (symbol, interval, from_time)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE collector_gaps`.execute(db);
}
