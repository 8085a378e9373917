import { sql, type Kysely } from 'kysely';

/**
 * Version 8: the order journal (src/core/trading/journal.ts). `orders`: one row per client order
 * id and account, written before the order is sent; `order_fills`: one row per exchange trade
 * (the unique key makes a duplicated fill event harmless); `audit_log`: append-only, every
 * decision, refusal, order event and reconciliation correction.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE orders (
    account_id INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    intent_json TEXT NOT NULL,
    sent_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('NEW','SENT','ACKED','PARTIAL','FILLED','CANCELED','REJECTED','EXPIRED','UNKNOWN','LOST')),
    exchange_id INTEGER,
    actual_order_id INTEGER,
    executed_qty TEXT NOT NULL DEFAULT '0',
    avg_price TEXT NOT NULL DEFAULT '0',
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
  )`.execute(db);
  await sql`CREATE INDEX orders_open ON orders (account_id, state)`.execute(db);
  await sql`CREATE TABLE order_fills (
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    trade_id INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    quantity TEXT NOT NULL,
    fee TEXT NOT NULL,
    fee_asset TEXT NOT NULL,
    realized_pnl TEXT NOT NULL,
    maker INTEGER NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (account_id, symbol, trade_id)
  )`.execute(db);
  await sql`CREATE INDEX order_fills_client ON order_fills (account_id, client_id)`.execute(db);
  await sql`CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    symbol TEXT,
    client_id TEXT,
    message TEXT NOT NULL,
    data_json TEXT
  )`.execute(db);
  await sql`CREATE INDEX audit_log_account ON audit_log (account_id, time)`.execute(db);
  // append-only: the database itself refuses edits and deletions
  await sql`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE audit_log`.execute(db);
  await sql`DROP TABLE order_fills`.execute(db);
  await sql`DROP TABLE orders`.execute(db);
}
