import { sql, type Kysely } from 'kysely';

/**
 * Version 11: deep market data (src/core/market/deep.ts, src/db/deepStore.ts).
 *
 * - `deep_trade_chunks`: aggregated trades of a symbol, packed (codec `dt1`, deepCodec.ts), one
 *   row per recorder flush or per slice of an imported archive file, keyed by the first aggregate
 *   trade id; first/last time for range reads.
 * - `deep_book_chunks`: order book samples (top-N levels per side), packed (codec `db1`).
 * - `deep_book_depth`: Binance's public `bookDepth` archive rows, as the files have them.
 * - `deep_gaps`: spans where trades or the book are missing, with the cause
 *   (`resync`, `disconnected`, `recorder_stopped`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE deep_trade_chunks (
    symbol TEXT NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    first_time INTEGER NOT NULL,
    last_time INTEGER NOT NULL,
    count INTEGER NOT NULL,
    codec TEXT NOT NULL,
    source TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (symbol, first_id)
  ) WITHOUT ROWID`.execute(db);
  await sql`CREATE INDEX deep_trade_chunks_time ON deep_trade_chunks (symbol, last_time)`.execute(db);
  await sql`CREATE INDEX deep_trade_chunks_last_id ON deep_trade_chunks (symbol, last_id)`.execute(db);
  await sql`CREATE TABLE deep_book_chunks (
    symbol TEXT NOT NULL,
    first_time INTEGER NOT NULL,
    last_time INTEGER NOT NULL,
    count INTEGER NOT NULL,
    levels INTEGER NOT NULL,
    codec TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (symbol, first_time)
  ) WITHOUT ROWID`.execute(db);
  await sql`CREATE TABLE deep_book_depth (
    symbol TEXT NOT NULL,
    time INTEGER NOT NULL,
    percentage TEXT NOT NULL,
    depth TEXT NOT NULL,
    notional TEXT NOT NULL,
    PRIMARY KEY (symbol, time, percentage)
  ) WITHOUT ROWID`.execute(db);
  await sql`CREATE TABLE deep_gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('trades', 'book')),
    from_time INTEGER NOT NULL,
    to_time INTEGER NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('resync', 'disconnected', 'recorder_stopped')),
    from_id INTEGER,
    to_id INTEGER,
    noted_at INTEGER NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX deep_gaps_symbol ON deep_gaps (symbol, from_time)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['deep_gaps', 'deep_book_depth', 'deep_book_chunks', 'deep_trade_chunks']) await sql.raw(`DROP TABLE ${table}`).execute(db);
}
