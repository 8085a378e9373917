import { sql, type Kysely } from 'kysely';

/**
 * Version 7: leases (src/core/leases.ts). One row per held role (`collector`, `trader:<id>`):
 * who holds it (pid, host, label), since when, its last heartbeat and the status JSON the holder
 * publishes with each heartbeat, for other atm processes to show.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    label TEXT NOT NULL,
    token TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    ttl_ms INTEGER NOT NULL,
    status_json TEXT
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE leases`.execute(db);
}
