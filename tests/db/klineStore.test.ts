import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aggregateKlines } from '../../src/core/market/aggregate.js';
import { concatKlines, klinesEqual, klinesFromRows, rangeOf, sliceKlines } from '../../src/core/market/klines.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { KlineStore, KlineStoreError } from '../../src/db/klineStore.js';
import { tempHome } from '../helpers/app.js';
import { makeKlines, makeRows } from '../core/market/fixtures.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

describe('KlineStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function store(): Promise<{ db: Database; store: KlineStore }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    return { db, store: new KlineStore(db) };
  }

  it('stores in day chunks and loads ranges exactly', async () => {
    const { db, store: s } = await store();
    const k = makeKlines(T0 + 600 * 60_000, 3 * 1440, '1m', 5); // starts mid-day
    const r = s.insert('BTCUSDT', '1m', k);
    expect(r).toEqual({ inserted: k.length, duplicates: 0, changed: 0, chunks: 4 });
    expect((db.sqlite.prepare('SELECT COUNT(*) AS n FROM kline_chunks').get() as { n: number }).n).toBe(4);
    expect(klinesEqual(s.loadRange('BTCUSDT', '1m'), k)).toBe(true);
    const from = T0 + DAY + 5 * 60_000;
    const to = T0 + 2 * DAY + 7 * 60_000;
    expect(klinesEqual(s.loadRange('BTCUSDT', '1m', from, to), rangeOf(k, from, to))).toBe(true);
    expect(s.loadRange('BTCUSDT', '1m', T0 - DAY, T0).length).toBe(0);
    expect(s.loadRange('ETHUSDT', '1m').length).toBe(0);
    const [info] = s.series('BTCUSDT');
    expect(info).toMatchObject({ symbol: 'BTCUSDT', interval: '1m', first: k.openTime[0], last: k.openTime[k.length - 1], rows: k.length, missing: 0, chunks: 4 });
    expect(info.bytes / k.length).toBeLessThan(24);
  });

  it('re-importing the same data changes nothing; overlaps add only the new klines', async () => {
    const { db, store: s } = await store();
    const k = makeKlines(T0, 2000, '1m', 1);
    s.insert('BTCUSDT', '1m', sliceKlines(k, 0, 1500));
    const before = db.sqlite.prepare('SELECT chunk_start, data FROM kline_chunks ORDER BY chunk_start').all();
    const seriesBefore = db.sqlite.prepare('SELECT * FROM kline_series').all();
    expect(s.insert('BTCUSDT', '1m', sliceKlines(k, 0, 1500))).toEqual({ inserted: 0, duplicates: 1500, changed: 0, chunks: 0 });
    expect(db.sqlite.prepare('SELECT chunk_start, data FROM kline_chunks ORDER BY chunk_start').all()).toEqual(before);
    expect(db.sqlite.prepare('SELECT * FROM kline_series').all()).toEqual(seriesBefore);
    expect(s.insert('BTCUSDT', '1m', sliceKlines(k, 1000, 2000))).toMatchObject({ inserted: 500, duplicates: 500 });
    expect(klinesEqual(s.loadRange('BTCUSDT', '1m'), k)).toBe(true);
  });

  it('reports gaps; keeps stored values unless replace; sorts unsorted input and drops in-input duplicates', async () => {
    const { store: s } = await store();
    const rows = makeRows(T0, 3000, '1m', 2);
    const holes = rows.filter((_, i) => !(i >= 100 && i < 110) && i !== 2000);
    const shuffled = [...holes].reverse();
    s.insert('BTCUSDT', '1m', klinesFromRows([...shuffled, holes[5]]));
    expect(s.gaps('BTCUSDT', '1m')).toEqual([
      { from: T0 + 100 * 60_000, to: T0 + 109 * 60_000, missing: 10 },
      { from: T0 + 2000 * 60_000, to: T0 + 2000 * 60_000, missing: 1 },
    ]);
    expect(s.series()[0].missing).toBe(11);
    const changed = { ...rows[0], close: rows[0].close + 1 };
    expect(s.insert('BTCUSDT', '1m', klinesFromRows([changed]))).toMatchObject({ inserted: 0, duplicates: 1, changed: 1, chunks: 0 });
    expect(s.loadRange('BTCUSDT', '1m', T0, T0).close[0]).toBe(rows[0].close);
    s.insert('BTCUSDT', '1m', klinesFromRows([changed]), { replace: true });
    expect(s.loadRange('BTCUSDT', '1m', T0, T0).close[0]).toBe(changed.close);
    // filling the holes closes the gaps
    s.insert('BTCUSDT', '1m', klinesFromRows(rows.slice(100, 110).concat(rows[2000])));
    expect(s.gaps('BTCUSDT', '1m')).toEqual([]);
  });

  it('never mixes sources: simulated klines are refused by a series of real ones and the other way round', async () => {
    const { store: s } = await store();
    const real = makeKlines(T0, 100, '1m', 1);
    s.insert('BTCUSDT', '1m', real);
    expect(s.sourceOf('BTCUSDT', '1m')).toBe('binance');
    expect(() => s.insert('BTCUSDT', '1m', makeKlines(T0 + 100 * 60_000, 10, '1m', 2), { source: 'local' })).toThrow(/holds binance klines; local klines are never mixed/);
    expect(s.loadRange('BTCUSDT', '1m').length).toBe(100);
    s.insert('ETHUSDT', '1m', makeKlines(T0, 10, '1m', 3), { source: 'local' });
    expect(s.series().map((x) => [x.symbol, x.source])).toEqual([['BTCUSDT', 'binance'], ['ETHUSDT', 'local']]);
    expect(() => s.insert('ETHUSDT', '1m', makeKlines(T0 + 600_000, 10, '1m', 3))).toThrow(KlineStoreError);
  });

  it('keeps the decimals the archive files printed, per column the most of every insert, and drops them with the series', async () => {
    const { store: s } = await store();
    const d = { open: 4, high: 4, low: 4, close: 4, volume: 0, quoteVolume: 3, takerBuyVolume: 0, takerBuyQuoteVolume: 3 };
    s.insert('NEARUSDT', '1m', makeKlines(T0, 10, '1m', 1));
    expect(s.decimals('NEARUSDT', '1m')).toBeUndefined(); // not from an archive: unknown
    s.insert('NEARUSDT', '1m', makeKlines(T0 + 600_000, 10, '1m', 2), { decimals: d });
    expect(s.decimals('NEARUSDT', '1m')).toEqual(d);
    // a later file printing more volume decimals and fewer price decimals: the most of each
    s.insert('NEARUSDT', '1m', makeKlines(T0 + 1_200_000, 10, '1m', 3), { decimals: { ...d, open: 3, volume: 1 } });
    expect(s.decimals('NEARUSDT', '1m')).toEqual({ ...d, volume: 1 });
    // even a file whose every row was stored already records them (a database from before 0006)
    s.insert('NEARUSDT', '1m', makeKlines(T0, 10, '1m', 1), { decimals: { ...d, takerBuyVolume: 2 } });
    expect(s.decimals('NEARUSDT', '1m')?.takerBuyVolume).toBe(2);
    expect(s.decimals('NEARUSDT', '5m')).toBeUndefined();
    s.deleteSeriesKlines('NEARUSDT', '1m');
    expect(s.decimals('NEARUSDT', '1m')).toBeUndefined();
  });

  it('a failed write leaves the store as it was (one transaction)', async () => {
    const { db, store: s } = await store();
    const k = makeKlines(T0, 3 * 1440, '1m', 4);
    s.insert('BTCUSDT', '1m', sliceKlines(k, 0, 1440));
    db.sqlite.exec(`CREATE TRIGGER fail_third BEFORE INSERT ON kline_chunks WHEN NEW.chunk_start = ${T0 + 2 * DAY} BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    expect(() => s.insert('BTCUSDT', '1m', k)).toThrow('disk full');
    expect(s.loadRange('BTCUSDT', '1m').length).toBe(1440);
    expect(s.series()[0].rows).toBe(1440);
  });

  it('serves higher intervals aggregated from 1m when they are not stored, and stored ones as they are', async () => {
    const { store: s } = await store();
    const k = makeKlines(T0, 3 * 1440 + 30, '1m', 9);
    s.insert('BTCUSDT', '1m', k);
    const hours = s.loadRange('BTCUSDT', '1h');
    expect(hours.length).toBe(72);
    expect(klinesEqual(hours, aggregateKlines(k, '1m', '1h'))).toBe(true);
    expect(s.loadRange('BTCUSDT', '1h', 0, Number.MAX_SAFE_INTEGER, { partial: true }).length).toBe(73);
    const from = T0 + 5 * 3_600_000;
    const sub = s.loadRange('BTCUSDT', '4h', from, T0 + DAY);
    expect(sub.openTime[0]).toBe(T0 + 4 * 3_600_000);
    const direct = makeKlines(T0, 10, '1h', 3);
    s.insert('BTCUSDT', '1h', direct);
    expect(klinesEqual(s.loadRange('BTCUSDT', '1h'), direct)).toBe(true);
    expect(klinesEqual(s.loadRange('BTCUSDT', '1m'), concatKlines([k]))).toBe(true);
    // only 1h stored for another symbol: 4h comes from 1h
    const hourly = makeKlines(T0, 48, '1h', 4);
    s.insert('ETHUSDT', '1h', hourly);
    expect(klinesEqual(s.loadRange('ETHUSDT', '4h'), aggregateKlines(hourly, '1h', '4h'))).toBe(true);
    expect(s.loadRange('ETHUSDT', '4h').length).toBe(12);
  });
});
