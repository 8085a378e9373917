import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { startDeepRecording, tradeOf, type DeepRecording } from '../../../src/core/market/deep.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { DeepStore } from '../../../src/db/deepStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 30_000, what);
const SYMBOLS = ['BTCUSDT', 'ETHUSDT'];

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(faults = '') {
  const tmp = tempHome();
  cleanups.push(tmp.cleanup);
  const db = openDatabase(join(tmp.home, 'atm.sqlite'));
  cleanups.push(() => db.close());
  await migrate(db);
  const ex = await LocalExchange.start({ symbols: SYMBOLS, historyDays: 0.02, seed: 11, tickMs: 20, faults });
  const client = new BinanceExchange({
    venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed: true,
    ws: { reconnectBaseMs: 10, reconnectMaxMs: 100, pingIntervalMs: 200, pongTimeoutMs: 300 },
  });
  cleanups.push(async () => {
    await client.close();
    await ex.close();
  });
  await client.connect();
  return { ex, client, store: new DeepStore(db) };
}

function expectContiguous(ids: number[]): void {
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1] + 1) throw new Error(`aggregate trade id ${ids[i - 1]} is followed by ${ids[i]}`);
}

describe('deep data recording from the local exchange', () => {
  it('records two symbols across forced book resyncs, marking each resync as a book gap, with trades continuous and equal to REST', async () => {
    const { ex, client, store } = await setup('depth-gap=25');
    const recordings: DeepRecording[] = SYMBOLS.map((s) => startDeepRecording({ port: client, store }, s, { levels: 10, sampleMs: 50, flushMs: 200 }));
    cleanups.push(async () => {
      for (const r of recordings) await r.stop();
    });
    await until(
      // the book also resyncs on its own while starting: wait for the injected fault to have fired too
      () => (ex.faults.firedCounts()['depth-gap'] ?? 0) > 0 && SYMBOLS.every((s) => store.gaps(s).some((g) => g.kind === 'book' && g.cause === 'resync') && store.loadBookSamples(s).length > 20 && store.loadTrades(s).length > 50),
      'a resync gap, samples and trades for both symbols',
    );
    for (const r of recordings) await r.stop();
    expect(ex.faults.firedCounts()['depth-gap']).toBeGreaterThan(0);
    for (const [i, symbol] of SYMBOLS.entries()) {
      const stats = recordings[i].stats();
      expect(stats.resyncs).toBeGreaterThan(0);
      expect(stats.pendingTrades + stats.pendingSamples).toBe(0);
      // book samples: ordered, best first, never crossed, at most the levels asked
      const samples = store.loadBookSamples(symbol);
      expect(samples.length).toBe(stats.samples);
      for (let k = 1; k < samples.length; k++) expect(samples[k].time).toBeGreaterThan(samples[k - 1].time);
      for (const s of samples) {
        expect(s.bids.length).toBeLessThanOrEqual(10);
        expect(Number(s.bids[0][0])).toBeLessThan(Number(s.asks[0][0]));
        for (let l = 1; l < s.bids.length; l++) expect(Number(s.bids[l][0])).toBeLessThan(Number(s.bids[l - 1][0]));
        for (let l = 1; l < s.asks.length; l++) expect(Number(s.asks[l][0])).toBeGreaterThan(Number(s.asks[l - 1][0]));
      }
      // every resync gap lies between two stored samples (no sample inside it)
      const gaps = store.gaps(symbol).filter((g) => g.kind === 'book');
      for (const g of gaps) {
        expect(samples.some((s) => s.time === g.to)).toBe(true);
        expect(samples.some((s) => s.time > g.from && s.time < g.to)).toBe(false);
      }
      // trades: ids continuous, and exactly what the exchange serves by id
      const trades = store.loadTrades(symbol);
      expectContiguous(trades.map((t) => t.id));
      const served = (await client.aggTrades(symbol, { fromId: trades[0].id, limit: 1000 })).map(tradeOf).slice(0, trades.length);
      expect(trades.slice(0, served.length)).toEqual(served);
      expect(store.gaps(symbol).filter((g) => g.kind === 'trades')).toEqual([]);
    }
  });

  it('fetches the trades missed while stopped from REST on restart, and marks the book gap as recorder_stopped', async () => {
    const { client, store } = await setup();
    const symbol = 'BTCUSDT';
    const first = startDeepRecording({ port: client, store }, symbol, { sampleMs: 50, flushMs: 100 });
    cleanups.push(() => first.stop());
    await until(() => first.stats().trades > 20 && first.stats().samples > 3, 'first run recorded');
    await first.stop();
    const lastId = store.lastTrade(symbol)!.id;
    // the market trades on while nothing records (bounded wait for 50 trades)
    for (let i = 0; i < 200; i++) {
      if ((await client.aggTrades(symbol, { fromId: lastId + 1, limit: 100 })).length >= 50) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const second = startDeepRecording({ port: client, store }, symbol, { sampleMs: 50, flushMs: 100 });
    cleanups.push(() => second.stop());
    await until(() => second.stats().refetched > 0 && second.stats().trades > second.stats().refetched && second.stats().samples > 3, 'second run filled the hole');
    await second.stop();
    const trades = store.loadTrades(symbol);
    expectContiguous(trades.map((t) => t.id));
    expect(trades.some((t) => t.id === lastId + 1)).toBe(true);
    expect(store.gaps(symbol).filter((g) => g.kind === 'trades')).toEqual([]);
    // the book between the runs is one recorder_stopped gap from the first run's last sample
    // (the local book may also resync while it starts: those are resync gaps)
    const book = store.gaps(symbol).filter((g) => g.kind === 'book');
    expect(book.every((g) => g.cause === 'recorder_stopped' || g.cause === 'resync')).toBe(true);
    const stopped = book.filter((g) => g.cause === 'recorder_stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0].from).toBe(first.stats().lastSampleTime);
    expect(stopped[0].to).toBe(store.loadBookSamples(symbol).find((s) => s.time > stopped[0].from)?.time);
  });

  it('keeps trade ids continuous across dropped aggTrade connections (the missed ids fetched from REST)', async () => {
    const { ex, client, store } = await setup('drop=150');
    const symbol = 'ETHUSDT';
    const recording = startDeepRecording({ port: client, store }, symbol, { sampleMs: 50, flushMs: 100 });
    cleanups.push(() => recording.stop());
    await until(() => (ex.faults.firedCounts()['drop'] ?? 0) >= 3 && recording.stats().trades > 300, 'three dropped connections');
    await recording.stop();
    const trades = store.loadTrades(symbol);
    expectContiguous(trades.map((t) => t.id));
    expect(store.gaps(symbol).filter((g) => g.kind === 'trades')).toEqual([]);
    const served = (await client.aggTrades(symbol, { fromId: trades[0].id, limit: 1000 })).map(tradeOf);
    expect(trades.slice(0, served.length)).toEqual(served.slice(0, trades.length));
    expect(recording.stats().refetched).toBeGreaterThan(0);
    // (the local exchange's drop fault hits the aggTrade connection; the depth one stays up)
  });
});
