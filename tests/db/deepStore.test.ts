import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBookSamples, decodeTradeColumns, decodeTrades, encodeBookSamples, encodeTrades, scaledInt, scaledText, type BookSample, type DeepTrade } from '../../src/core/market/deepCodec.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { DeepStore } from '../../src/db/deepStore.js';
import { tempHome } from '../helpers/app.js';

const T0 = Date.UTC(2024, 0, 1);

/** A seeded walk of `n` aggTrades from id `from`: prices with 1 decimal, quantities with 3, exact text. */
export function trades(n: number, from = 1000, seed = 5, start = T0): DeepTrade[] {
  let x = seed;
  let price = 4200000; // 42000.0 × 100 in tenths... kept as integer tenths
  let time = start;
  let tradeId = from * 3;
  const out: DeepTrade[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    price += (x % 21) - 10;
    time += x % 400;
    const count = 1 + (x % 4);
    out.push({
      id: from + i,
      price: scaledText(price, 1),
      qty: scaledText(1 + (x % 250000), 3),
      firstId: tradeId,
      lastId: tradeId + count - 1,
      time,
      buyerMaker: x % 3 === 0,
    });
    tradeId += count;
  }
  return out;
}

export function samples(n: number, levels = 20, seed = 9, start = T0): BookSample[] {
  let x = seed;
  let mid = 420000; // tenths
  const out: BookSample[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    mid += (x % 7) - 3;
    const bids: [string, string][] = [];
    const asks: [string, string][] = [];
    let b = mid - 1;
    let a = mid + 1;
    for (let l = 0; l < levels - (x % 3); l++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      bids.push([scaledText(b, 1), scaledText(1 + (x % 90000), 3)]);
      asks.push([scaledText(a, 1), scaledText(1 + ((x >> 3) % 90000), 3)]);
      b -= 1 + (x % 3);
      a += 1 + ((x >> 5) % 3);
    }
    out.push({ time: start + i * 1000 + (x % 5), bids, asks });
  }
  return out;
}

describe('deep codec', () => {
  it('scales decimal text exactly and prints it back with the same decimals', () => {
    for (const text of ['0.001', '42000.10', '0', '12345678.12345678', '7', '-0.50']) {
      const d = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
      expect(scaledText(scaledInt(text, d), d)).toBe(text);
    }
    expect(scaledText(scaledInt('1.5', 3), 3)).toBe('1.500');
    expect(() => scaledInt('1e5', 0)).toThrow(/not a decimal/);
    expect(() => scaledInt('123456789.12345678', 8)).toThrow(/too large/);
  });

  it('stores values too large for scaled integers as text, still exact', () => {
    const t: DeepTrade[] = [{ id: 1, price: '123456789.12345678', qty: '0.001', firstId: 1, lastId: 1, time: 5, buyerMaker: true }];
    expect(decodeTrades(encodeTrades(t))).toEqual(t);
    expect(decodeTradeColumns(encodeTrades(t))).toMatchObject({ length: 1, price: Float64Array.from([123456789.12345678]), buyerMaker: Uint8Array.from([1]) });
    const s: BookSample[] = [{ time: 1, bids: [['99999999999.123456', '1']], asks: [] }];
    expect(decodeBookSamples(encodeBookSamples(s))).toEqual(s);
  });

  it('round-trips trades and book samples exactly, and packs them small', () => {
    const t = trades(5000);
    const tb = encodeTrades(t);
    expect(decodeTrades(tb)).toEqual(t);
    expect(tb.length / t.length).toBeLessThan(8);
    const s = samples(600);
    const sb = encodeBookSamples(s);
    expect(decodeBookSamples(sb)).toEqual(s);
    // 80 decimal texts a sample; well under 2 bytes each packed
    expect(sb.length / s.length).toBeLessThan(160);
  });

  it('keeps empty sides and single-level books', () => {
    const s: BookSample[] = [
      { time: 10, bids: [], asks: [['5.5', '1']] },
      { time: 1010, bids: [['5.4', '2.25']], asks: [] },
      { time: 2010, bids: [], asks: [] },
    ];
    expect(decodeBookSamples(encodeBookSamples(s))).toEqual([
      { time: 10, bids: [], asks: [['5.5', '1.00']] },
      { time: 1010, bids: [['5.4', '2.25']], asks: [] },
      { time: 2010, bids: [], asks: [] },
    ]);
  });
});

describe('DeepStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<{ db: Database; store: DeepStore }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    return { db, store: new DeepStore(db) };
  }

  it('stores trades exactly, skips ids already stored, and fills holes in id order', async () => {
    const { store } = await open();
    const all = trades(50_000);
    // the middle first, then everything (the overlap is skipped), in shuffled order
    const middle = all.slice(20_000, 30_000);
    expect(store.insertTrades('BTCUSDT', middle)).toMatchObject({ inserted: 10_000, duplicates: 0, chunks: 1 });
    const shuffled = [...all].reverse();
    const report = store.insertTrades('BTCUSDT', shuffled);
    expect(report.inserted).toBe(40_000);
    expect(report.duplicates).toBe(10_000);
    expect(store.loadTrades('BTCUSDT')).toEqual(all);
    expect(store.lastTrade('BTCUSDT')).toEqual(all[all.length - 1]);
    // the same trades as numeric columns (the chart strip's read), in id order too
    const columns = store.loadTradeColumns('BTCUSDT');
    expect(columns.length).toBe(all.length);
    expect(Array.from(columns.id)).toEqual(all.map((t) => t.id));
    expect(Array.from(columns.time)).toEqual(all.map((t) => t.time));
    expect(Array.from(columns.price)).toEqual(all.map((t) => Number(t.price)));
    expect(Array.from(columns.qty)).toEqual(all.map((t) => Number(t.qty)));
    expect(Array.from(columns.buyerMaker)).toEqual(all.map((t) => (t.buyerMaker ? 1 : 0)));
    expect(store.loadTradeColumns('BTCUSDT', all[100].time, all[200].time).length).toBe(all.filter((t) => t.time >= all[100].time && t.time <= all[200].time).length);
    // a time range
    const from = all[12_345].time;
    const to = all[33_333].time;
    expect(store.loadTrades('BTCUSDT', from, to)).toEqual(all.filter((t) => t.time >= from && t.time <= to));
    // again: nothing new
    expect(store.insertTrades('BTCUSDT', all)).toMatchObject({ inserted: 0, duplicates: 50_000, chunks: 0 });
    // another source is refused for the symbol
    expect(() => store.insertTrades('BTCUSDT', trades(1, 999_999), { source: 'local' })).toThrow(/never mixed/);
    const [info] = store.summary('BTCUSDT');
    expect(info).toMatchObject({ symbol: 'BTCUSDT', trades: 50_000, firstTradeTime: all[0].time, lastTradeTime: all[all.length - 1].time });
    expect(info.tradeBytes).toBeGreaterThan(0);
  });

  it('stores book samples and bookDepth rows exactly, and gaps with their cause', async () => {
    const { store } = await open();
    const s = samples(4000);
    expect(store.insertBookSamples('ETHUSDT', s)).toMatchObject({ inserted: 4000, chunks: 2 });
    expect(store.insertBookSamples('ETHUSDT', s.slice(100, 200))).toMatchObject({ inserted: 0, duplicates: 100 });
    expect(store.loadBookSamples('ETHUSDT')).toEqual(s);
    expect(store.loadBookSamples('ETHUSDT', s[10].time, s[20].time)).toEqual(s.slice(10, 21));
    expect(store.lastBookSampleTime('ETHUSDT')).toBe(s[s.length - 1].time);
    const depth = [
      { time: T0, percentage: '-1.00', depth: '123.456', notional: '5000000.12' },
      { time: T0, percentage: '1.00', depth: '98.7', notional: '4100000.00' },
    ];
    expect(store.insertBookDepth('ETHUSDT', depth)).toMatchObject({ inserted: 2, duplicates: 0 });
    expect(store.insertBookDepth('ETHUSDT', depth)).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(store.loadBookDepth('ETHUSDT')).toEqual(depth);
    store.addGap({ symbol: 'ETHUSDT', kind: 'book', from: T0 + 5000, to: T0 + 9000, cause: 'resync' });
    store.addGap({ symbol: 'ETHUSDT', kind: 'trades', from: T0 + 1000, to: T0 + 2000, cause: 'disconnected', fromId: 5, toId: 9 });
    expect(store.gaps('ETHUSDT')).toEqual([
      { symbol: 'ETHUSDT', kind: 'trades', from: T0 + 1000, to: T0 + 2000, cause: 'disconnected', fromId: 5, toId: 9 },
      { symbol: 'ETHUSDT', kind: 'book', from: T0 + 5000, to: T0 + 9000, cause: 'resync' },
    ]);
    expect(store.gaps('ETHUSDT', T0 + 3000)).toHaveLength(1);
    expect(store.summary()[0]).toMatchObject({ symbol: 'ETHUSDT', samples: 4000, depthRows: 2, gaps: 2 });
  });
});
