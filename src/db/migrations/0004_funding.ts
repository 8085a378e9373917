import { sql, type Kysely } from 'kysely';

/**
 * Version 4: funding rates and leverage brackets, for the backtester's funding and symbol rules.
 *
 * `funding_rates`: one row per settled funding of a symbol. The rate and the mark price are the
 * exchange's exact decimal text (never a float); `interval_hours` is the funding interval when the
 * source states it (Binance's archive files do, the REST history does not). Like kline series, a
 * symbol's rates come from one source only (`binance`, `testnet` or `local`).
 *
 * `leverage_brackets`: a symbol's notional tiers from `/fapi/v1/leverageBracket` (JSON array of
 * {bracket, initialLeverage, notionalCap, notionalFloor, maintMarginRatio, cum}), with the venue
 * they came from and when.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE funding_rates (
    symbol TEXT NOT NULL,
    funding_time INTEGER NOT NULL,
    rate TEXT NOT NULL,
    mark_price TEXT,
    interval_hours INTEGER,
    source TEXT NOT NULL DEFAULT 'binance',
    PRIMARY KEY (symbol, funding_time)
  ) WITHOUT ROWID`.execute(db);

  await db.schema
    .createTable('leverage_brackets')
    .addColumn('symbol', 'text', (c) => c.primaryKey())
    .addColumn('brackets_json', 'text', (c) => c.notNull())
    .addColumn('notional_coef', 'real')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('leverage_brackets').execute();
  await db.schema.dropTable('funding_rates').execute();
}
