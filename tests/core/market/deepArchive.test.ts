import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { importDeepArchives, parseAggTradesCsv, parseBookDepthCsv, parseDeepFileName, AGG_TRADE_COLUMNS } from '../../../src/core/market/deepArchive.js';
import { tradeOf, type DeepTrade } from '../../../src/core/market/deep.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { DeepStore } from '../../../src/db/deepStore.js';
import { tempHome } from '../../helpers/app.js';
import { writeZip } from './fixtures.js';

/** Trades as a Binance aggTrades archive CSV writes them. */
function aggCsv(trades: readonly DeepTrade[], header: boolean): string {
  const rows = trades.map((t) => `${t.id},${t.price},${t.qty},${t.firstId},${t.lastId},${t.time},${t.buyerMaker}`);
  return (header ? AGG_TRADE_COLUMNS.join(',') + '\n' : '') + rows.join('\n') + '\n';
}

describe('deep archive files', () => {
  const tmp = tempHome('atm-deep-archive-');
  const dir = join(tmp.home, 'archive');
  let ex: LocalExchange;
  let client: BinanceExchange;
  let served: DeepTrade[] = [];
  let db: Database;
  let store: DeepStore;

  beforeAll(async () => {
    mkdirSync(dir);
    // (the local exchange's market runs while asked: the wait below is bounded by count and time)
    ex = await LocalExchange.start({ symbols: ['ETHUSDT'], historyDays: 0.02, seed: 4, tickMs: 20 });
    client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed: true });
    await client.connect();
    // what the local exchange serves (its market runs while asked; bounded wait for 400 trades)
    let rows: DeepTrade[] = [];
    for (let i = 0; i < 400 && rows.length < 400; i++) {
      rows = (await client.aggTrades('ETHUSDT', { limit: 1000 })).map(tradeOf);
      if (rows.length < 400) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    served = (await client.aggTrades('ETHUSDT', { fromId: rows[0].id, limit: 400 })).map(tradeOf);
    expect(served).toHaveLength(400);
    db = openDatabase(join(tmp.home, 'atm.sqlite'));
    await migrate(db);
    store = new DeepStore(db);
  });
  afterAll(async () => {
    await client.close();
    await ex.close();
    await db.close();
    tmp.cleanup();
  });

  it('recognises file names', () => {
    expect(parseDeepFileName('/x/BTCUSDT-aggTrades-2024-01-01.zip')).toEqual({ symbol: 'BTCUSDT', kind: 'aggTrades', period: '2024-01-01' });
    expect(parseDeepFileName('BTCUSDT-bookDepth-2024-01-01.csv')).toEqual({ symbol: 'BTCUSDT', kind: 'bookDepth', period: '2024-01-01' });
    expect(parseDeepFileName('BTCUSDT-1m-2024-01-01.zip')).toBeUndefined();
  });

  it('imports aggTrades files with and without header equal to what the local exchange serves, refuses a bad checksum, and changes nothing on re-import', () => {
    const first = served.slice(0, 200);
    const second = served.slice(200);
    writeZip(dir, 'ETHUSDT-aggTrades-2024-01-01', aggCsv(first, true));
    writeFileSync(join(dir, 'ETHUSDT-aggTrades-2024-01-02.csv'), aggCsv(second, false));
    const bad = writeZip(dir, 'ETHUSDT-aggTrades-2024-01-03', aggCsv(served.slice(0, 10), false));
    const bytes = readFileSync(bad);
    bytes[bytes.length - 30] ^= 0xff;
    writeFileSync(bad, bytes);
    const files = ['ETHUSDT-aggTrades-2024-01-01.zip', 'ETHUSDT-aggTrades-2024-01-02.csv', 'ETHUSDT-aggTrades-2024-01-03.zip'].map((f) => join(dir, f));
    const summary = importDeepArchives(store, files);
    expect(summary.failed).toBe(1);
    expect(summary.files[0]).toMatchObject({ kind: 'aggTrades', rows: 200, inserted: 200, header: true, checksum: 'ok' });
    expect(summary.files[1]).toMatchObject({ rows: 200, inserted: 200, header: false, checksum: 'absent' });
    expect(summary.files[2].error).toMatch(/does not match/);
    expect(store.loadTrades('ETHUSDT')).toEqual(served);
    const again = importDeepArchives(store, files.slice(0, 2));
    expect(again).toMatchObject({ inserted: 0, duplicates: 400, failed: 0 });
  });

  it('names the line and column of a bad row, and reads bookDepth files as they are', () => {
    expect(() => parseAggTradesCsv(Buffer.from('1,2.5,0.1,1,1,1700000000000,true\n2,abc,0.1,2,2,1700000000001,false\n'), 'f.csv')).toThrow(/f\.csv: line 2, column 2 \(price\)/);
    const depth = 'timestamp,percentage,depth,notional\n2024-01-01 00:00:07,-1.00,1234.567,41234567.89\n2024-01-01 00:00:07,1.00,999.100,33456789.01\n';
    const parsed = parseBookDepthCsv(Buffer.from(depth));
    expect(parsed.header).toBe(true);
    expect(parsed.rows).toEqual([
      { time: Date.UTC(2024, 0, 1, 0, 0, 7), percentage: '-1.00', depth: '1234.567', notional: '41234567.89' },
      { time: Date.UTC(2024, 0, 1, 0, 0, 7), percentage: '1.00', depth: '999.100', notional: '33456789.01' },
    ]);
    writeZip(dir, 'ETHUSDT-bookDepth-2024-01-01', depth.split('\n').slice(1).join('\n'));
    const summary = importDeepArchives(store, [join(dir, 'ETHUSDT-bookDepth-2024-01-01.zip')]);
    expect(summary.files[0]).toMatchObject({ kind: 'bookDepth', rows: 2, inserted: 2, header: false, checksum: 'ok' });
    expect(store.loadBookDepth('ETHUSDT')).toEqual(parsed.rows);
  });
});

/** `atm data import` with deep archive files, as a user runs it (the built program). */
describe('atm data import with aggTrades files (command line)', () => {
  const tmp = tempHome('atm-cli-deep-');
  const archive = join(tmp.home, 'archive');
  const atm = (...args: string[]) => spawnSync(process.execPath, ['bin/atm.js', '--home', join(tmp.home, 'home'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    mkdirSync(archive);
  });
  afterAll(() => tmp.cleanup());

  it('imports a folder of aggTrades files, says what it did, and refuses a damaged one with exit status 2', () => {
    const trades: DeepTrade[] = Array.from({ length: 50 }, (_, i) => ({ id: 100 + i, price: `${2000 + (i % 7)}.${i % 10}0`, qty: `0.${String(i + 1).padStart(3, '0')}`, firstId: 500 + i, lastId: 500 + i, time: 1_704_067_200_000 + i * 250, buyerMaker: i % 2 === 0 }));
    writeZip(archive, 'SOLUSDT-aggTrades-2024-01-01', aggCsv(trades, true));
    let r = atm('data', 'import', archive);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('SOLUSDT-aggTrades-2024-01-01.zip (SOLUSDT-aggTrades-2024-01-01.csv): 50 aggTrades, 50 imported, 0 already stored, checksum ok');
    const path = join(archive, 'SOLUSDT-aggTrades-2024-01-01.zip');
    const bytes = readFileSync(path);
    bytes[bytes.length - 30] ^= 0xff;
    writeFileSync(path, bytes);
    r = atm('data', 'import', path);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/refused, nothing imported: .*does not match/);
  });
});
