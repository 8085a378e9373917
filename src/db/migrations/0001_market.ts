import { sql, type Kysely } from 'kysely';

/** Version 1: application state, exchange metadata and the kline store. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('app_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('symbols')
    .addColumn('symbol', 'text', (c) => c.primaryKey())
    .addColumn('pair', 'text', (c) => c.notNull())
    .addColumn('contract_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('base_asset', 'text', (c) => c.notNull())
    .addColumn('quote_asset', 'text', (c) => c.notNull())
    .addColumn('margin_asset', 'text', (c) => c.notNull())
    .addColumn('price_precision', 'integer', (c) => c.notNull())
    .addColumn('quantity_precision', 'integer', (c) => c.notNull())
    .addColumn('tick_size', 'text', (c) => c.notNull())
    .addColumn('step_size', 'text', (c) => c.notNull())
    .addColumn('min_qty', 'text', (c) => c.notNull())
    .addColumn('max_qty', 'text', (c) => c.notNull())
    .addColumn('market_step_size', 'text', (c) => c.notNull())
    .addColumn('market_max_qty', 'text', (c) => c.notNull())
    .addColumn('min_notional', 'text', (c) => c.notNull())
    .addColumn('onboard_date', 'integer')
    .addColumn('first_kline_time', 'integer')
    .addColumn('info_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();

  await sql`CREATE TABLE kline_chunks (
    symbol TEXT NOT NULL,
    interval TEXT NOT NULL,
    chunk_start INTEGER NOT NULL,
    first_open_time INTEGER NOT NULL,
    last_open_time INTEGER NOT NULL,
    count INTEGER NOT NULL,
    codec TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (symbol, interval, chunk_start)
  ) WITHOUT ROWID`.execute(db);

  await db.schema
    .createTable('kline_series')
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull())
    .addColumn('first_open_time', 'integer')
    .addColumn('last_open_time', 'integer')
    .addColumn('rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('kline_series_pk', ['symbol', 'interval'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['kline_series', 'kline_chunks', 'symbols', 'app_state']) await db.schema.dropTable(table).execute();
}
