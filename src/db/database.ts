import { AtmError } from '../core/errors.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import type { DB } from './schema.js';
import { MIGRATIONS } from './migrations/index.js';

export type Sqlite = BetterSqlite3.Database;

export interface Database {
  /** Typed query builder for ordinary queries. */
  kysely: Kysely<DB>;
  /** The raw handle, for hot paths (bulk kline writes and reads) that want prepared statements. */
  sqlite: Sqlite;
  path: string;
  close(): Promise<void>;
}

export class DatabaseError extends AtmError {
  constructor(message: string) {
    super('user', message);
    this.name = 'DatabaseError';
  }
}

/** How long one SQLite call waits for another connection's lock before answering "busy". */
export const BUSY_TIMEOUT_MS = 5000;
/** Write transactions tried this many times when even the busy timeout was not long enough. */
export const WRITE_ATTEMPTS = 4;

/** True for SQLite's "database is locked" / "busy" answers (any extended code). */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs `fn` as one IMMEDIATE write transaction and returns its result. Every write to the
 * database goes through here (or is a single statement).
 *
 * Why IMMEDIATE: several atm processes may write one data directory (two imports, the TUI storing
 * live klines while a command imports). SQLite's busy timeout lets a writer wait for another's
 * lock only when it asks for the lock at BEGIN; a DEFERRED transaction that reads first and then
 * writes fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), whatever the timeout.
 * When another process holds the lock for longer than the timeout, the transaction is tried again,
 * at most `attempts` times in all, and then the error names the database. `fn` must have no
 * effects outside the database that a retry would repeat. Inside an open transaction, `fn` simply
 * runs as part of it.
 */
export function writeTransaction<T>(sqlite: Sqlite, fn: () => T, attempts = WRITE_ATTEMPTS): T {
  if (sqlite.inTransaction) return fn();
  const tx = sqlite.transaction(fn);
  for (let attempt = 1; ; attempt++) {
    try {
      return tx.immediate();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      if (attempt >= attempts) {
        throw new DatabaseError(
          `the database ${sqlite.name} stayed locked by another process for over ${Math.round((attempts * BUSY_TIMEOUT_MS) / 1000)} s (${(error as Error).message}); try again when the other atm command has finished`,
        );
      }
    }
  }
}

/** Opens (creating if needed) the database in WAL mode. Does not migrate: call migrateToLatest. */
export function openDatabase(path: string, options: { readonly?: boolean } = {}): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let sqlite: Sqlite;
  try {
    sqlite = new BetterSqlite3(path, { readonly: options.readonly ?? false, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new DatabaseError(`cannot open the database ${path}: ${(error as Error).message}`);
  }
  if (!options.readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    kysely,
    sqlite,
    path,
    async close() {
      await kysely.destroy(); // closes the better-sqlite3 handle too
    },
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export interface MigrationReport {
  applied: string[];
  current: string | undefined;
}

/**
 * Brings the schema to the latest version (or to `target`, used by tests to build an older
 * database). A database written by a newer atm is refused, never altered.
 */
export async function migrate(db: Database, target?: string, migrations: Record<string, Migration> = MIGRATIONS): Promise<MigrationReport> {
  const known = new Set(Object.keys(migrations));
  // the usual case, without a lock: every migration applied already
  const executed = executedMigrations(db);
  refuseNewer(db, executed, known);
  if (target === undefined && [...known].every((name) => executed.includes(name))) return { applied: [], current: executed[executed.length - 1] };
  // Another atm process may be migrating the same file right now (two commands started at once
  // on a new data directory): hold the write lock for the whole migration, so the second one
  // waits and then finds the work done. Kysely's SQLite migrator opens no transaction of its own
  // (no transactional DDL) and runs on this same connection, so its statements run inside it.
  for (let attempt = 1; ; attempt++) {
    try {
      db.sqlite.exec('BEGIN IMMEDIATE');
      break;
    } catch (error) {
      if (!isBusyError(error) || attempt >= WRITE_ATTEMPTS) throw new DatabaseError(`cannot lock the database ${db.path} to update its schema: ${(error as Error).message}`);
    }
  }
  try {
    const report = await migrateLocked(db, target, migrations, known);
    db.sqlite.exec('COMMIT');
    return report;
  } catch (error) {
    if (db.sqlite.inTransaction) db.sqlite.exec('ROLLBACK');
    throw error;
  }
}

/** Names in the migration table, sorted (empty for a new database). */
function executedMigrations(db: Database): string[] {
  const tableExists = db.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='kysely_migration'").get();
  if (!tableExists) return [];
  return (db.sqlite.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((r) => r.name);
}

/** A database written by a newer atm is refused, never altered. */
function refuseNewer(db: Database, executed: readonly string[], known: ReadonlySet<string>): void {
  const unknown = executed.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new DatabaseError(
      `the database ${db.path} was written by a newer version of atm (it has migration ${unknown[unknown.length - 1]}); ` +
        'upgrade atm, or point --home at another data directory. Nothing was changed.',
    );
  }
}

async function migrateLocked(db: Database, target: string | undefined, migrations: Record<string, Migration>, known: ReadonlySet<string>): Promise<MigrationReport> {
  const migrator = new Migrator({ db: db.kysely, provider: new StaticProvider(migrations) });
  // read again under the lock: another process may have migrated meanwhile
  const executed = executedMigrations(db);
  refuseNewer(db, executed, known);
  const result = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new DatabaseError(`database migration ${failed ?? ''} failed: ${(result.error as Error).message ?? result.error}`);
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const all = [...new Set([...executed, ...applied])].sort();
  return { applied, current: all[all.length - 1] };
}
