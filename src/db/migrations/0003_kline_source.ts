import { sql, type Kysely } from 'kysely';

/**
 * Version 3: where each kline series comes from. `binance` (the real market: Binance's REST API
 * and its public data archive), `testnet` or `local` (the built-in simulated exchange). A series
 * never mixes sources: simulated klines must not land among real ones.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE kline_series ADD COLUMN source TEXT NOT NULL DEFAULT 'binance'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE kline_series DROP COLUMN source`.execute(db);
}
