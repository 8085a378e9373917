import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { EventBus } from '../../../src/core/bus.js';
import { RealClock } from '../../../src/core/clock.js';
import { rowsToKlines } from '../../../src/core/market/download.js';
import { concatKlines, klinesEqual, type Klines } from '../../../src/core/market/klines.js';
import { MarketDataService } from '../../../src/core/market/service.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { SymbolStore } from '../../../src/db/symbolStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The one gap-filling path: the market data service stores every closed kline exactly once and in
 * order whatever the stream does (drops, duplicates, reconnects), against the real local exchange
 * over loopback (the adapter passes kline events through as they come).
 */
describe('market data service: one path fills kline gaps', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(faults = '') {
    // one market minute every 100 ms of real time
    const ex = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: 0.05, seed: 3, speed: 600, tickMs: 25, faults });
    cleanups.push(() => ex.close());
    const port = new BinanceExchange({
      venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed: true,
      ws: { reconnectBaseMs: 10, reconnectMaxMs: 100, pingIntervalMs: 200, pongTimeoutMs: 300 },
    });
    await port.connect();
    cleanups.push(() => port.close());
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const store = new KlineStore(db);
    const bus = new EventBus();
    const service = new MarketDataService({ bus, clock: new RealClock(), store, symbols: new SymbolStore(db), log: pino({ level: 'silent' }), exchange: () => port });
    cleanups.push(() => service.close());
    const events = { closed: [] as number[], fills: 0, stale: [] as { stale: boolean; reason?: string }[], raw: [] as number[] };
    bus.on('market.kline', (e) => e.closed && events.closed.push(e.kline.openTime));
    bus.on('market.filled', () => events.fills++);
    bus.on('market.stale', (e) => events.stale.push({ stale: e.stale, reason: e.reason }));
    // what the stream itself delivers (closed klines), to see the fault happen
    const raw = port.subscribeKlines('BTCUSDT', '1m', (e) => e.k.x && events.raw.push(e.k.t));
    cleanups.push(() => raw.unsubscribe());
    service.watch('BTCUSDT', '1m');
    await waitFor(() => store.lastOpenTime('BTCUSDT', '1m') !== undefined && !service.isStale('BTCUSDT'), 10_000, 'the first fill');
    return { ex, port, store, bus, service, events, market: ex.markets.get('BTCUSDT')! };
  }

  /** Stops the market and waits until the last closed kline is stored; then checks the store against the exchange. */
  async function expectComplete(s: Awaited<ReturnType<typeof setup>>): Promise<Klines> {
    s.ex.pause();
    s.ex.faults.set('');
    const lastClosed = s.market.current.t - 60_000;
    await waitFor(() => s.store.lastOpenTime('BTCUSDT', '1m') === lastClosed, 15_000, 'the last closed kline stored');
    await s.service.settled();
    const all = s.store.loadRange('BTCUSDT', '1m');
    expect(s.store.gaps('BTCUSDT', '1m')).toEqual([]);
    const parts: Klines[] = [];
    for (let cursor = all.openTime[0]; cursor <= lastClosed;) {
      const rows = await s.port.klines('BTCUSDT', '1m', { startTime: cursor, endTime: lastClosed, limit: 1500 });
      if (rows.length === 0) break;
      parts.push(rowsToKlines(rows));
      cursor = rows[rows.length - 1][6] + 1;
    }
    expect(klinesEqual(all, concatKlines(parts))).toBe(true);
    // each live closed kline was announced once, in order
    for (let i = 1; i < s.events.closed.length; i++) expect(s.events.closed[i]).toBeGreaterThan(s.events.closed[i - 1]);
    return all;
  }

  it('drops: the holes a dropped connection leaves are filled from REST before later klines are stored', async () => {
    const s = await setup();
    const fillsBefore = s.events.fills;
    s.ex.faults.set('drop=6'); // every 6th frame the server cuts the TCP connection
    await waitFor(() => s.port.streams.stats().reconnects >= 3 && s.events.closed.length >= 10 && s.events.fills > fillsBefore, 30_000, 'closed klines, reconnects and gap fills');
    expect(s.events.stale.some((e) => e.stale && e.reason === 'gap')).toBe(true);
    await expectComplete(s);
  });

  it('duplicates: a closed kline the stream repeats is stored and announced once', async () => {
    const s = await setup('duplicate');
    await waitFor(() => s.events.closed.length >= 8, 20_000, 'closed klines');
    // the stream did deliver duplicates
    expect(s.events.raw.length).toBeGreaterThan(new Set(s.events.raw).size);
    const all = await expectComplete(s);
    expect(new Set(all.openTime.subarray(0, all.length)).size).toBe(all.length);
  });

  it('reconnect: klines that closed while the exchange was away are filled when it is back, with no live kline to reveal the hole', async () => {
    const s = await setup();
    await waitFor(() => s.events.closed.length >= 3, 20_000, 'live klines');
    // an outage: every stream frame kills the connection; the exchange service reports it
    s.bus.emit('exchange.state', { kind: 'disconnected', venue: 'local', reason: 'test outage', simulated: true });
    s.ex.faults.set('drop');
    const t0 = s.market.current.t;
    await waitFor(() => s.market.current.t >= t0 + 4 * 60_000, 10_000, 'four market minutes of outage');
    // the market stops, so no later closed kline arrives live to reveal the hole
    s.ex.pause();
    s.ex.faults.set('');
    const lastClosed = s.market.current.t - 60_000;
    expect(s.store.lastOpenTime('BTCUSDT', '1m')).toBeLessThan(lastClosed);
    s.bus.emit('exchange.state', { kind: 'connected', venue: 'local', simulated: true });
    await s.service.settled();
    // the fill the reconnect started has stored everything, at once (no timer involved)
    expect(s.store.lastOpenTime('BTCUSDT', '1m')).toBe(lastClosed);
    expect(s.events.stale).toContainEqual({ stale: true, reason: 'disconnected' });
    expect(s.events.stale.at(-1)).toEqual({ stale: false, reason: undefined });
    await expectComplete(s);
  });
});
