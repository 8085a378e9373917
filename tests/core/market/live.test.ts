import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { EventBus } from '../../../src/core/bus.js';
import { RealClock } from '../../../src/core/clock.js';
import type { ExchangePort } from '../../../src/core/exchange/port.js';
import { aggregateKlines } from '../../../src/core/market/aggregate.js';
import { downloadKlines, firstKlineTime, rowsToKlines } from '../../../src/core/market/download.js';
import { concatKlines, klinesEqual, sliceKlines, type Interval, type Klines } from '../../../src/core/market/klines.js';
import { MarketDataService } from '../../../src/core/market/service.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { SymbolStore } from '../../../src/db/symbolStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/screen.js';
import pino from 'pino';

/**
 * Market data against the real local exchange on 127.0.0.1 (Binance protocol over HTTP and
 * websockets): resumable download, live klines with REST gap fill after injected websocket
 * drops, and aggregation equal to the klines the exchange serves itself.
 */
describe('market data against the local exchange', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(options: { speed?: number; historyDays?: number } = {}) {
    const server = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: options.historyDays ?? 2, speed: options.speed ?? 1, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const port = new BinanceExchange({
      venue: 'local', simulated: true, restUrl: server.url, wsUrl: server.wsUrl, routed: true, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET,
      ws: { reconnectBaseMs: 50, reconnectMaxMs: 400 },
    });
    await port.connect();
    cleanups.push(() => port.close());
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db: Database = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const store = new KlineStore(db);
    const symbols = new SymbolStore(db);
    return { server, port, store, symbols, db, clock: new RealClock() };
  }

  /** Every kline the exchange serves in [from, to], paged like a client would. */
  async function served(port: ExchangePort, interval: Interval, from: number, to: number): Promise<Klines> {
    const parts: Klines[] = [];
    let cursor = from;
    while (cursor <= to) {
      const rows = await port.klines('BTCUSDT', interval, { startTime: cursor, endTime: to, limit: 1500 });
      if (rows.length === 0) break;
      parts.push(rowsToKlines(rows));
      cursor = rows[rows.length - 1][6] + 1;
    }
    return concatKlines(parts);
  }

  it('downloads from the first kline, resumes after an interruption, and stores what the exchange serves', async () => {
    const { port, store, symbols, clock } = await setup();
    const deps = { port, store, symbols, clock };
    const controller = new AbortController();
    const first = await downloadKlines(deps, {
      symbol: 'BTCUSDT', interval: '1m', from: Date.UTC(2015, 0, 1), signal: controller.signal,
      onProgress: (p) => {
        if (p.requests === 1) controller.abort(); // interrupted after the first page
      },
    });
    expect(first.cancelled).toBe(true);
    expect(first.stored).toBe(1000);
    expect(store.firstOpenTime('BTCUSDT', '1m')).toBe(first.firstKlineTime); // never earlier than the first kline
    expect(symbols.get('BTCUSDT')?.firstKlineTime).toBe(first.firstKlineTime);
    const second = await downloadKlines(deps, { symbol: 'BTCUSDT', interval: '1m', from: Date.UTC(2015, 0, 1) });
    expect(second.cancelled).toBe(false);
    expect(second.missingBefore).toBe(second.stored);
    expect(second.stored).toBeGreaterThan(1000);
    expect(store.gaps('BTCUSDT', '1m')).toEqual([]);
    const all = store.loadRange('BTCUSDT', '1m');
    expect(klinesEqual(all, await served(port, '1m', all.openTime[0], all.openTime[all.length - 1]))).toBe(true);
    // the stored first kline time is reused: no search the second time
    expect(second.requests).toBeLessThanOrEqual(Math.ceil(second.stored / 1000) + 1);

    // aggregation from stored 1m equals what the exchange serves for higher intervals
    for (const interval of ['5m', '15m', '1h', '4h'] as Interval[]) {
      const ours = aggregateKlines(all, '1m', interval);
      const theirs = await served(port, interval as Interval, ours.openTime[1], ours.openTime[ours.length - 1]);
      // the first bucket may start before the exchange's first kline: compare from the second
      const sub = sliceKlines(ours, 1);
      expect(sub.length, interval).toBe(theirs.length);
      // prices, volumes (quote volumes too: the local exchange serves exact decimals) and counts exactly
      for (const f of ['openTime', 'open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades', 'takerBuyVolume', 'takerBuyQuoteVolume'] as const) {
        expect(Array.from(sub[f].subarray(0, sub.length)), `${interval} ${f}`).toEqual(Array.from(theirs[f].subarray(0, theirs.length)));
      }
    }
  });

  it('download rides out injected 429 and 5xx answers (waiting out Retry-After) and still stores everything', async () => {
    const { server, port, store, symbols, clock } = await setup({ historyDays: 2 });
    const deps = { port, store, symbols, clock };
    await firstKlineTime(deps, 'BTCUSDT'); // found before the faults start
    server.faults.set('429=3,5xx=4,retry-after=1');
    const report = await downloadKlines(deps, { symbol: 'BTCUSDT', interval: '1m' });
    server.faults.set('');
    expect(report.stored).toBe(report.missingBefore);
    expect(report.stored).toBeGreaterThan(2 * 1440 - 5);
    expect(store.gaps('BTCUSDT', '1m')).toEqual([]);
    expect(server.metrics.http429).toBeGreaterThan(0);
    expect(server.metrics.http5xx).toBeGreaterThan(0);
    expect(server.metrics.http418).toBe(0); // stayed inside the limits: never banned
  });

  it('live: after injected websocket drops the holes are filled from REST, no closed kline missing (accelerated soak)', async () => {
    const { server, port, store, symbols, clock } = await setup({ speed: 300, historyDays: 1 });
    const bus = new EventBus();
    const log = pino({ level: 'silent' });
    const service = new MarketDataService({ bus, clock, store, symbols, log, exchange: () => port });
    cleanups.push(() => service.close());
    let filled = 0;
    let closed = 0;
    const staleChanges: boolean[] = [];
    bus.on('market.filled', () => filled++);
    bus.on('market.kline', (e) => e.closed && closed++);
    bus.on('market.stale', (e) => staleChanges.push(e.stale));
    service.watch('BTCUSDT', '1m');
    await waitFor(() => !service.isStale('BTCUSDT'), 10_000, 'the first fill');
    const startLast = store.lastOpenTime('BTCUSDT', '1m')!;
    server.faults.set('drop=12'); // every 12th websocket frame the server cuts the TCP connection
    await waitFor(() => closed >= 25 && filled >= 2, 40_000, 'live klines and gap fills during drops');
    server.faults.set('');
    const target = store.lastOpenTime('BTCUSDT', '1m')! + 3 * 60_000;
    await waitFor(() => (store.lastOpenTime('BTCUSDT', '1m') ?? 0) >= target && !service.isStale('BTCUSDT'), 20_000, 'current again');
    await service.settled();
    const all = store.loadRange('BTCUSDT', '1m');
    expect(store.gaps('BTCUSDT', '1m')).toEqual([]);
    expect(all.openTime[all.length - 1]).toBeGreaterThan(startLast + 25 * 60_000);
    expect(klinesEqual(all, await served(port, '1m', all.openTime[0], all.openTime[all.length - 1]))).toBe(true);
    expect(staleChanges).toContain(true);
    expect(staleChanges.at(-1)).toBe(false);
    expect(service.forming('BTCUSDT', '1m')?.openTime ?? Infinity).toBeGreaterThan(all.openTime[all.length - 1]);
  });
});
