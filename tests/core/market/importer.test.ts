import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readArchiveFile } from '../../../src/core/market/archive.js';
import { exportArchive } from '../../../src/core/market/export.js';
import { importArchives } from '../../../src/core/market/importer.js';
import { klinesEqual, klinesFromRows } from '../../../src/core/market/klines.js';
import { verifyKlines } from '../../../src/core/market/verify.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { tempHome } from '../../helpers/app.js';
import { makeRows, toCsv, writeZip } from './fixtures.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

describe('archive import', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup() {
    const tmp = tempHome('atm-import-');
    cleanups.push(tmp.cleanup);
    const db: Database = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const dir = join(tmp.home, 'archive');
    mkdirSync(dir);
    return { db, store: new KlineStore(db), dir };
  }
  const snapshot = (db: Database) => db.sqlite.prepare('SELECT symbol, interval, chunk_start, count, data FROM kline_chunks ORDER BY 1, 2, 3').all();

  it('imports daily zips with and without header and checksums, a folder at a time, reporting duplicates and gaps', async () => {
    const { store, dir } = await setup();
    const rows = makeRows(T0, 4 * 1440, '1m', 17);
    // day 1 with header + checksum, day 2 without header + checksum, day 4 without checksum; day 3 missing
    writeZip(dir, 'BTCUSDT-1m-2024-01-01', toCsv(rows.slice(0, 1440), '1m', true));
    writeZip(dir, 'BTCUSDT-1m-2024-01-02', toCsv(rows.slice(1440, 2880), '1m', false));
    writeZip(dir, 'BTCUSDT-1m-2024-01-04', toCsv(rows.slice(3 * 1440), '1m', false, '\r\n'), false);
    writeFileSync(join(dir, 'README.txt'), 'not an archive file'); // ignored inside folders
    const summary = importArchives(store, [dir]);
    expect(summary.failed).toBe(0);
    expect(summary.files.map((f) => [f.header, f.checksum, f.inserted])).toEqual([
      [true, 'ok', 1440],
      [false, 'ok', 1440],
      [false, 'absent', 1440],
    ]);
    expect(summary.series).toEqual([
      { symbol: 'BTCUSDT', interval: '1m', first: T0, last: T0 + 4 * DAY - 60_000, gaps: [{ from: T0 + 2 * DAY, to: T0 + 3 * DAY - 60_000, missing: 1440 }], missing: 1440 },
    ]);
    // an overlapping file (a monthly csv covering days 2-3): only day 3 is new
    const monthly = join(dir, 'BTCUSDT-1m-2024-01.csv');
    writeFileSync(monthly, toCsv(rows.slice(1440, 3 * 1440), '1m', true));
    const again = importArchives(store, [monthly]);
    expect(again.files[0]).toMatchObject({ rows: 2880, inserted: 1440, duplicates: 1440, changed: 0 });
    expect(again.series[0].gaps).toEqual([]);
    expect(klinesEqual(store.loadRange('BTCUSDT', '1m'), klinesFromRows(rows))).toBe(true);
  });

  it('re-importing the same files changes nothing', async () => {
    const { db, store, dir } = await setup();
    const path = writeZip(dir, 'ETHUSDT-5m-2024-01', toCsv(makeRows(T0, 8928, '5m', 3), '5m', true));
    importArchives(store, [path]);
    const before = snapshot(db);
    const second = importArchives(store, [path, path]);
    expect(second.inserted).toBe(0);
    expect(second.duplicates).toBe(2 * 8928);
    expect(snapshot(db)).toEqual(before);
  });

  it('a corrupt file is refused with its name and reason and leaves the database as it was; the others still import', async () => {
    const { db, store, dir } = await setup();
    const rows = makeRows(T0, 2 * 1440, '1m', 8);
    const good = writeZip(dir, 'BTCUSDT-1m-2024-01-01', toCsv(rows.slice(0, 1440), '1m', true));
    importArchives(store, [good]);
    const before = snapshot(db);
    // day 2: a bad value on line 900 (after 898 good rows)
    const lines = toCsv(rows.slice(1440), '1m', true).split('\n');
    lines[899] = lines[899].replace(/^(\d+),([^,]+),([^,]+),/, '$1,$2,x.5,');
    const bad = writeZip(dir, 'BTCUSDT-1m-2024-01-02', lines.join('\n'));
    // day 3 (other symbol): damaged zip bytes with a checksum that no longer matches
    const other = writeZip(dir, 'ETHUSDT-1m-2024-01-01', toCsv(makeRows(T0, 100, '1m', 2), '1m', true));
    const bytes = readFileSync(other);
    bytes[40] ^= 0x55;
    writeFileSync(other, bytes);
    const third = writeZip(dir, 'SOLUSDT-1m-2024-01-01', toCsv(makeRows(T0, 60, '1m', 4), '1m', false));
    const summary = importArchives(store, [bad, other, third]);
    expect(summary.failed).toBe(2);
    expect(summary.files[0].error).toContain('BTCUSDT-1m-2024-01-02.zip!BTCUSDT-1m-2024-01-02.csv: line 900, column 3 (high): "x.5" is not a non-negative number');
    expect(summary.files[1].error).toMatch(/ETHUSDT-1m-2024-01-01.zip: sha256 [0-9a-f]{64} does not match/);
    expect(summary.files[2]).toMatchObject({ inserted: 60, symbol: 'SOLUSDT' });
    expect(snapshot(db).filter((r) => (r as { symbol: string }).symbol !== 'SOLUSDT')).toEqual(before);
    expect(store.series().map((s) => s.symbol)).toEqual(['BTCUSDT', 'SOLUSDT']);
  });

  it('exports in the archive layout (monthly zips with checksums) that import back identically; verify finds problems', async () => {
    const { store, dir } = await setup();
    const rows = makeRows(Date.UTC(2024, 0, 31, 22), 300, '1m', 12); // crosses into February
    store.insert('BTCUSDT', '1m', klinesFromRows(rows));
    const files = exportArchive(store.loadRange('BTCUSDT', '1m'), 'BTCUSDT', '1m', join(dir, 'out'));
    expect(files.map((f) => f.split('/').pop())).toEqual(['BTCUSDT-1m-2024-01.zip', 'BTCUSDT-1m-2024-02.zip']);
    const back = files.flatMap((f) => readArchiveFile(f));
    expect(back.every((b) => b.checksum === 'ok' && b.header)).toBe(true);
    expect(back[0].klines.length + back[1].klines.length).toBe(300);
    expect(verifyKlines('BTCUSDT', '1m', store.loadRange('BTCUSDT', '1m')).ok).toBe(true);
    const broken = rows.filter((_, i) => i !== 10).map((r, i) => (i === 20 ? { ...r, high: r.low - 0.001 } : i === 30 ? { ...r, takerBuyVolume: r.volume + 1 } : r));
    const result = verifyKlines('BTCUSDT', '1m', klinesFromRows(broken));
    expect(result.ok).toBe(false);
    expect(result.missing).toBe(1);
    expect(result.counts.ohlc).toBe(1);
    expect(result.counts.taker).toBe(1);
  });
});

describe('archive import checks open times (issue 8, defect 4)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup() {
    const tmp = tempHome('atm-import-check-');
    cleanups.push(tmp.cleanup);
    const db: Database = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const dir = join(tmp.home, 'archive');
    mkdirSync(dir);
    return { db, store: new KlineStore(db), dir };
  }

  it('refuses a row whose open time is off the interval grid, naming file, line and the spacing', async () => {
    const { store, dir } = await setup();
    const rows = makeRows(T0, 1440, '1m', 21);
    // line 101 (after the header, row 100): open time moved by 30 s
    const lines = toCsv(rows, '1m', true).split('\n');
    const shifted = rows[99].openTime + 30_000;
    lines[100] = lines[100].replace(/^\d+,/, `${shifted},`);
    const file = join(dir, 'BTCUSDT-1m-2024-01-01.csv');
    writeFileSync(file, lines.join('\n'));
    const summary = importArchives(store, [file]);
    expect(summary.failed).toBe(1);
    expect(summary.files[0].error).toContain(`${file}: line 101`);
    expect(summary.files[0].error).toContain('not on the 1m grid');
    expect(summary.files[0].error).toContain('1m klines open every minute');
    expect(store.series()).toEqual([]);
  });

  it('refuses 1m rows in a file named -5m- (so status can never show negative missing klines)', async () => {
    const { store, dir } = await setup();
    const rows = makeRows(T0, 600, '1m', 22); // starts on the 5m grid: line 2 (00:01) is the first off it
    const path = writeZip(dir, 'ETHUSDT-5m-2024-01-01', toCsv(rows, '1m', false));
    const summary = importArchives(store, [path]);
    expect(summary.failed).toBe(1);
    const error = summary.files[0].error!;
    expect(error).toContain('ETHUSDT-5m-2024-01-01.zip!ETHUSDT-5m-2024-01-01.csv: line 2');
    expect(error).toContain('5m klines open every 5 minutes');
    expect(error).toContain('1 minute after the row before, as in a 1m file');
    expect(store.series()).toEqual([]);
    // the same rows named as 1m import
    expect(importArchives(store, [path], { interval: '1m' }).files[0]).toMatchObject({ inserted: 600 });
    expect(store.series()).toMatchObject([{ symbol: 'ETHUSDT', interval: '1m', rows: 600, missing: 0 }]);
  });

  it('checks monthly and weekly grids too', async () => {
    const { store, dir } = await setup();
    const months = makeRows(Date.UTC(2023, 0, 1), 12, '1M', 23);
    const good = join(dir, 'BTCUSDT-1mo-2023.csv');
    writeFileSync(good, toCsv(months, '1M', true));
    expect(importArchives(store, [good]).files[0]).toMatchObject({ inserted: 12 });
    const weeks = makeRows(Date.UTC(2024, 0, 1), 10, '1w', 24); // 2024-01-01 is a Monday
    const badWeeks = weeks.map((w, i) => (i === 3 ? { ...w, openTime: w.openTime + 86_400_000 } : w));
    const bad = join(dir, 'BTCUSDT-1w-2024.csv');
    writeFileSync(bad, toCsv(badWeeks, '1w', false));
    const r = importArchives(store, [bad]);
    expect(r.files[0].error).toContain('line 4');
    expect(r.files[0].error).toContain('1w klines open every week (Mondays 00:00 UTC)');
  });

  it('counts rows repeated inside one file, and refuses a repeated open time whose values differ', async () => {
    const { store, dir } = await setup();
    const rows = makeRows(T0, 300, '1m', 25);
    // rows 10..19 appear twice (identical), once more at the end out of order
    const repeated = [...rows.slice(0, 20), ...rows.slice(10, 20), ...rows.slice(20), rows[5]];
    const same = join(dir, 'SOLUSDT-1m-2024-01-01.csv');
    writeFileSync(same, toCsv(repeated, '1m', false));
    const summary = importArchives(store, [same]);
    expect(summary.failed).toBe(0);
    expect(summary.files[0]).toMatchObject({ rows: 311, inserted: 300, duplicates: 0, repeated: 11 });
    expect(summary.repeated).toBe(11);
    expect(klinesEqual(store.loadRange('SOLUSDT', '1m'), klinesFromRows(rows))).toBe(true);

    const conflicting = [...rows, { ...rows[42], close: rows[42].close + 0.001 }];
    const bad = join(dir, 'XRPUSDT-1m-2024-01-01.csv');
    writeFileSync(bad, toCsv(conflicting, '1m', true));
    const r = importArchives(store, [bad]);
    expect(r.failed).toBe(1);
    expect(r.files[0].error).toContain(`${bad}: line 302`);
    expect(r.files[0].error).toContain('line 44 and line 302 both have open time 2024-01-01 00:42 with different values');
    expect(store.series().map((s) => s.symbol)).toEqual(['SOLUSDT']);
  });

  it('says it imported nothing for an empty file or a folder without archive files', async () => {
    const { store, dir } = await setup();
    const empty = join(dir, 'BTCUSDT-1m-2024-01-01.csv');
    writeFileSync(empty, '');
    const headerOnly = join(dir, 'BTCUSDT-1m-2024-01-02.csv');
    writeFileSync(headerOnly, 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n');
    const summary = importArchives(store, [empty, headerOnly]);
    expect(summary.rows).toBe(0);
    expect(summary.failed).toBe(0);
    expect(summary.files.map((f) => f.empty)).toEqual([true, true]);
    const nothing = join(dir, 'nothing');
    mkdirSync(nothing);
    writeFileSync(join(nothing, 'notes.txt'), 'no klines here');
    expect(() => importArchives(store, [nothing])).toThrow(`${nothing}: no archive files (.zip or .csv) found`);
  });
});
