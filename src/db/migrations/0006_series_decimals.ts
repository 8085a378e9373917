import { sql, type Kysely } from 'kysely';

/**
 * Version 6: the decimals a series' archive files printed per column, as JSON
 * (`{"open":4,"high":4,...,"volume":0}`), the most any imported file used. Binance prints each
 * column with a fixed number of decimals (NEARUSDT prices `4.0520`); the stored float64 values keep
 * the number but not a trailing zero, so `atm data export` reads these to print the same text.
 * NULL for series that never came from an archive file (the export then finds the decimals from
 * the values).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE kline_series ADD COLUMN decimals TEXT`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE kline_series DROP COLUMN decimals`.execute(db);
}
