import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseError, migrate, openDatabase, writeTransaction, type Database } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { tempHome } from '../helpers/app.js';
import { makeKlines } from '../core/market/fixtures.js';

/** Two connections to one file stand for two processes (the process tests are in tests/e2e/data-concurrent). */
describe('write transactions between connections to one database file', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function two(): Promise<[Database, Database]> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const a = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => a.close());
    await migrate(a);
    const b = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => b.close());
    return [a, b];
  }

  it('are IMMEDIATE: the write lock is held from the start, so a second writer waits instead of failing mid-way', async () => {
    const [a, b] = await two();
    writeTransaction(a.sqlite, () => {
      // inside A's transaction B cannot even begin one (it would wait for the lock)
      b.sqlite.pragma('busy_timeout = 20');
      expect(() => b.sqlite.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i);
    });
    // after A: B begins at once
    b.sqlite.exec('BEGIN IMMEDIATE');
    b.sqlite.exec('COMMIT');
  });

  it('give up after a bounded number of attempts with a message naming the database', async () => {
    const [a, b] = await two();
    b.sqlite.pragma('busy_timeout = 10');
    a.sqlite.exec('BEGIN IMMEDIATE');
    try {
      let runs = 0;
      expect(() => writeTransaction(b.sqlite, () => runs++, 3)).toThrow(DatabaseError);
      expect(runs).toBe(0);
      expect(() => writeTransaction(b.sqlite, () => runs++, 2)).toThrow(`the database ${b.path} stayed locked by another process`);
    } finally {
      a.sqlite.exec('ROLLBACK');
    }
  });

  it('a kline insert on one connection sees and keeps what the other stored meanwhile', async () => {
    const [a, b] = await two();
    const k = makeKlines(Date.UTC(2024, 0, 1), 1440, '1m', 9);
    const sa = new KlineStore(a);
    const sb = new KlineStore(b);
    sb.loadRange('BTCUSDT', '1m'); // B has read before A writes
    expect(sa.insert('BTCUSDT', '1m', k).inserted).toBe(1440);
    expect(sb.insert('BTCUSDT', '1m', k)).toMatchObject({ inserted: 0, duplicates: 1440 });
  });

  it('a second migrate of a database migrated by another connection does nothing', async () => {
    const [, b] = await two();
    const report = await migrate(b);
    expect(report.applied).toEqual([]);
    expect(report.current).toMatch(/^\d{4}_/);
  });
});
