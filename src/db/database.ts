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

/** Opens (creating if needed) the database in WAL mode. Does not migrate: call migrateToLatest. */
export function openDatabase(path: string, options: { readonly?: boolean } = {}): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let sqlite: Sqlite;
  try {
    sqlite = new BetterSqlite3(path, { readonly: options.readonly ?? false });
  } catch (error) {
    throw new DatabaseError(`cannot open the database ${path}: ${(error as Error).message}`);
  }
  if (!options.readonly) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
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
  const migrator = new Migrator({ db: db.kysely, provider: new StaticProvider(migrations) });
  const known = new Set(Object.keys(migrations));
  const executed = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
  // getMigrations lists only known ones; look at the table for unknown (newer) names.
  const tableExists = db.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='kysely_migration'").get();
  if (tableExists) {
    const rows = db.sqlite.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[];
    const unknown = rows.map((r) => r.name).filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new DatabaseError(
        `the database ${db.path} was written by a newer version of atm (it has migration ${unknown[unknown.length - 1]}); ` +
          'upgrade atm, or point --home at another data directory. Nothing was changed.',
      );
    }
  }
  const result = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new DatabaseError(`database migration ${failed ?? ''} failed: ${(result.error as Error).message ?? result.error}`);
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  const all = [...executed, ...applied].sort();
  return { applied, current: all[all.length - 1] };
}
