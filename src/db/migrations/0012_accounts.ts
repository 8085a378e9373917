import { sql, type Kysely } from 'kysely';

/**
 * Version 12: what the accounts of migration 0002 lacked (src/db/accountStore.ts):
 * - `account_snapshots`: an account's state as its trader last wrote it (one row per account), so
 *   other atm processes (the TUI while `atm trade` runs) show it live;
 * - `account_secrets`: the API secret, encrypted (core/accounts/secrets.ts format), one per account;
 * - `account_audit`: an append-only record of changes to an account (created, configured,
 *   credentials stored, automation and risk changed), never holding a secret.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE account_snapshots (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    time INTEGER NOT NULL,
    json TEXT NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE account_secrets (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    blob TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE account_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    action TEXT NOT NULL,
    detail_json TEXT
  )`.execute(db);
  await sql`CREATE INDEX account_audit_account_time ON account_audit (account_id, time)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['account_audit', 'account_secrets', 'account_snapshots']) await sql`DROP TABLE ${sql.table(table)}`.execute(db);
}
