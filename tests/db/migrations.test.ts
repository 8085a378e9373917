import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { migrate, openDatabase, DatabaseError, type Database } from '../../src/db/database.js';
import { MIGRATIONS } from '../../src/db/migrations/index.js';
import { tempHome } from '../helpers/app.js';

const tables = (db: Database) =>
  (db.sqlite.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('database migrations', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function open(file: string): Database {
    const db = openDatabase(file);
    cleanups.push(() => db.close());
    return db;
  }

  it('creates the whole schema on an empty database, in WAL mode', async () => {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = open(join(tmp.home, 'atm.sqlite'));
    const report = await migrate(db);
    expect(report.applied).toEqual(Object.keys(MIGRATIONS));
    expect(report.current).toBe(Object.keys(MIGRATIONS).at(-1));
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    const names = tables(db);
    for (const table of ['symbols', 'kline_chunks', 'kline_series', 'named_configs', 'analyses', 'accounts', 'balance_history', 'trade_logs', 'simulations', 'simulation_balance', 'neural_models', 'app_state', 'funding_rates', 'leverage_brackets']) {
      expect(names).toContain(table);
    }
    // Running again applies nothing.
    expect((await migrate(db)).applied).toEqual([]);
  });

  it('migrates an older database forward and keeps its data', async () => {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.home, 'atm.sqlite');
    const old = openDatabase(file);
    await migrate(old, '0001_market'); // a database as the first version left it
    expect(tables(old)).not.toContain('accounts');
    old.sqlite
      .prepare("INSERT INTO kline_series (symbol, interval, first_open_time, last_open_time, rows, updated_at) VALUES ('BTCUSDT', '1m', 0, 60000, 2, 1)")
      .run();
    old.sqlite.prepare("INSERT INTO app_state (key, value, updated_at) VALUES ('lastPage', '\"market\"', 1)").run();
    await old.close();

    const db = open(file);
    const report = await migrate(db);
    expect(report.applied).toEqual(Object.keys(MIGRATIONS).filter((n) => n > '0001_market'));
    expect(tables(db)).toContain('accounts');
    expect(db.sqlite.prepare('SELECT rows FROM kline_series WHERE symbol = ?').get('BTCUSDT')).toEqual({ rows: 2 });
    expect(db.sqlite.prepare("SELECT value FROM app_state WHERE key = 'lastPage'").get()).toEqual({ value: '"market"' });
    // The new tables work with their constraints.
    db.sqlite.prepare("INSERT INTO named_configs (kind, name, type, params_json, created_at, updated_at) VALUES ('analysis', 'CAC_1', 'CAC', '{}', 1, 1)").run();
    expect(() =>
      db.sqlite.prepare("INSERT INTO named_configs (kind, name, type, params_json, created_at, updated_at) VALUES ('bogus', 'X', 'X', '{}', 1, 1)").run(),
    ).toThrow(/CHECK constraint/);
  });

  it('migrates a version-3 database to funding rates and leverage brackets and keeps its klines', async () => {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.home, 'atm.sqlite');
    const old = openDatabase(file);
    await migrate(old, '0003_kline_source');
    expect(tables(old)).not.toContain('funding_rates');
    old.sqlite
      .prepare("INSERT INTO kline_series (symbol, interval, first_open_time, last_open_time, rows, updated_at, source) VALUES ('ETHUSDT', '1h', 0, 3600000, 2, 1, 'testnet')")
      .run();
    await old.close();

    const db = open(file);
    // 0004 and every later one, in order
    expect((await migrate(db)).applied).toEqual(Object.keys(MIGRATIONS).slice(Object.keys(MIGRATIONS).indexOf('0004_funding')));
    expect(db.sqlite.prepare("SELECT rows, source FROM kline_series WHERE symbol = 'ETHUSDT'").get()).toEqual({ rows: 2, source: 'testnet' });
    db.sqlite.prepare("INSERT INTO funding_rates (symbol, funding_time, rate) VALUES ('ETHUSDT', 1, '0.00010000')").run();
    expect(db.sqlite.prepare("SELECT rate, mark_price, source FROM funding_rates").get()).toEqual({ rate: '0.00010000', mark_price: null, source: 'binance' });
    // (symbol, funding_time) is the key
    expect(() => db.sqlite.prepare("INSERT INTO funding_rates (symbol, funding_time, rate) VALUES ('ETHUSDT', 1, '0.2')").run()).toThrow(/UNIQUE|PRIMARY KEY/);
    db.sqlite.prepare("INSERT INTO leverage_brackets (symbol, brackets_json, source, updated_at) VALUES ('ETHUSDT', '[]', 'binance', 1)").run();
    expect(tables(db)).toContain('leverage_brackets');
  });

  it('gives a version-4 database the series decimals column, null (unknown) for the series it has', async () => {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.home, 'atm.sqlite');
    const old = openDatabase(file);
    await migrate(old, '0004_funding');
    old.sqlite.prepare("INSERT INTO kline_series (symbol, interval, first_open_time, last_open_time, rows, updated_at) VALUES ('NEARUSDT', '1m', 0, 60000, 2, 1)").run();
    await old.close();
    const db = open(file);
    expect((await migrate(db)).applied).toContain('0006_series_decimals');
    expect(db.sqlite.prepare("SELECT rows, decimals FROM kline_series WHERE symbol = 'NEARUSDT'").get()).toEqual({ rows: 2, decimals: null });
  });

  it('refuses a database written by a newer atm and changes nothing', async () => {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.home, 'atm.sqlite');
    const db = open(file);
    await migrate(db);
    db.sqlite.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_future', '2030-01-01')").run();
    const before = tables(db);
    await expect(migrate(db)).rejects.toThrow(DatabaseError);
    await expect(migrate(db)).rejects.toThrow(/newer version of atm.*9999_future/);
    expect(tables(db)).toEqual(before);
  });
});
