import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fundingCoverage, fundingGaps, fundingIntervalHours, type FundingRow } from '../../src/core/market/funding.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { FundingStore } from '../../src/db/fundingStore.js';
import { tempHome } from '../helpers/app.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** `n` 8-hourly fundings from T0 (+ a few ms like Binance's), rates from a seeded walk, exact text. */
function rows(n: number, start = T0, seed = 7, hours = 8): FundingRow[] {
  let x = seed;
  const out: FundingRow[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const units = (x % 20001) - 10000; // −0.0001 … +0.0001 in 1e-8 steps
    const rate = (units < 0 ? '-' : '') + '0.' + String(Math.abs(units)).padStart(8, '0');
    out.push({ time: start + i * hours * H + (x % 7), rate, markPrice: `${40000 + (x % 1000)}.${String(x % 100).padStart(2, '0')}000000` });
  }
  return out;
}

describe('FundingStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<{ db: Database; store: FundingStore }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    return { db, store: new FundingStore(db) };
  }

  it('stores rates as exact text and loads ranges as columns', async () => {
    const { store } = await open();
    const data = rows(100);
    expect(store.insert('BTCUSDT', data)).toEqual({ inserted: 100, duplicates: 0, changed: 0 });
    const all = store.loadRange('BTCUSDT');
    expect(all.length).toBe(100);
    expect(Array.from(all.times)).toEqual(data.map((r) => r.time));
    expect(all.rates).toEqual(data.map((r) => r.rate));
    expect(all.marks).toEqual(data.map((r) => r.markPrice));
    const part = store.loadRange('BTCUSDT', data[10].time, data[19].time);
    expect(part.rates).toEqual(data.slice(10, 20).map((r) => r.rate));
    expect(store.loadRange('ETHUSDT').length).toBe(0);
    expect(store.firstTime('BTCUSDT')).toBe(data[0].time);
    expect(store.lastTime('BTCUSDT')).toBe(data[99].time);
    expect(store.symbols()).toEqual(['BTCUSDT']);
  });

  it('counts duplicates, keeps stored rates unless replace, and never mixes sources', async () => {
    const { store } = await open();
    const data = rows(20);
    store.insert('BTCUSDT', data.slice(0, 12));
    const changed = data.map((r, i) => (i === 3 ? { ...r, rate: '0.00099999' } : i === 4 ? { ...r, rate: r.rate + '00' } : r));
    expect(store.insert('BTCUSDT', changed)).toEqual({ inserted: 8, duplicates: 12, changed: 1 }); // trailing zeros are the same rate
    expect(store.loadRange('BTCUSDT').rates[3]).toBe(data[3].rate);
    expect(store.insert('BTCUSDT', changed.slice(3, 4), { replace: true })).toEqual({ inserted: 0, duplicates: 1, changed: 1 });
    expect(store.loadRange('BTCUSDT').rates[3]).toBe('0.00099999');
    expect(() => store.insert('BTCUSDT', rows(1, T0 + 1000 * H), { source: 'local' })).toThrow(/come from binance.*never mixed/);
    expect(store.lastTime('BTCUSDT')).toBe(data[19].time);
    expect(() => store.insert('BTCUSDT', [{ time: T0 + 900 * H, rate: '1e-4' }])).toThrow(/not a decimal/);
    expect(store.loadRange('BTCUSDT').length).toBe(20); // the refused batch wrote nothing
  });

  it('finds holes in the funding grid at the stated or inferred interval', async () => {
    const { store } = await open();
    const data = rows(30);
    const kept = data.filter((_, i) => !(i >= 5 && i < 8) && i !== 20);
    store.insert('BTCUSDT', kept);
    const [c] = fundingCoverage(store);
    expect(c.intervalHours).toBe(8);
    expect(c.gaps).toEqual([
      { after: data[4].time, before: data[8].time, missing: 3 },
      { after: data[19].time, before: data[21].time, missing: 1 },
    ]);
    expect(c.missing).toBe(4);
    expect(c.count).toBe(26);
    // a 4-hour symbol stated by archive rows: 4 h steps are no gap
    const four = rows(10, T0, 3, 4).map((r) => ({ ...r, intervalHours: 4 }));
    store.insert('ETHUSDT', four);
    expect(fundingCoverage(store, 'ETHUSDT')[0]).toMatchObject({ intervalHours: 4, gaps: [], missing: 0 });
    expect(fundingIntervalHours([0, 4 * H, 8 * H, 20 * H])).toBe(4);
    expect(fundingGaps([0, 8 * H, 40 * H], 8)).toEqual([{ after: 8 * H, before: 40 * H, missing: 3 }]);
  });
});
