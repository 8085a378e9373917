import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import type { UserDataEvent } from '../../../src/core/exchange/port.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 15_000, what);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Parameters<typeof LocalExchange.start>[0], clientOptions: Partial<ConstructorParameters<typeof BinanceExchange>[0]> = {}) {
  const ex = await LocalExchange.start({ symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, ...options });
  const client = new BinanceExchange({
    venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET,
    ws: { reconnectBaseMs: 10, reconnectMaxMs: 100 }, ...clientOptions,
  });
  cleanups.push(async () => {
    await client.close();
    await ex.close();
  });
  await client.connect();
  return { ex, client };
}

describe('REST failure handling', () => {
  it('retries a safe request after a 503 but never a new order, whose outcome is then unknown', async () => {
    const { ex, client } = await setup({ manualClock: true });
    ex.faults.set('5xx=2');
    expect(typeof (await client.serverTime())).toBe('number'); // 1st ok
    expect(typeof (await client.serverTime())).toBe('number'); // 2nd 503, retried (3rd ok)
    expect(ex.metrics.http5xx).toBe(1);
    ex.faults.set('5xx=1');
    const err = await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '30000.0' }).then(() => undefined, (e) => e);
    expect(err).toMatchObject({ status: 503, kind: 'unknown-status', exchangeMessage: 'Service Unavailable.' });
    expect(ex.metrics.http5xx).toBe(2);
  });

  it('a timed-out order is reported as status unknown (-1007), not as a failure', async () => {
    const { ex, client } = await setup({ manualClock: true }, { timeoutMs: 300 });
    ex.faults.set('slow=1000');
    const err = await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '30000.0', newClientOrderId: 'slow-1' }).then(() => undefined, (e) => e);
    expect(err).toMatchObject({ code: -1007, kind: 'unknown-status' });
    ex.faults.set('');
    // the order did reach the exchange: querying it settles the question
    const q = await client.queryOrder({ symbol: 'BTCUSDT', origClientOrderId: 'slow-1' });
    expect(q.status).toBe('NEW');
  });
});

describe('user data stream', () => {
  it('renews the listen key on listenKeyExpired and keeps delivering events', async () => {
    const { ex, client } = await setup({ tickMs: 20 });
    ex.engine.listenKeyTtlMs = 400;
    const events: UserDataEvent[] = [];
    const sub = await client.subscribeUserData((e) => events.push(e));
    await until(() => events.some((e) => e.e === 'listenKeyExpired'), 'listenKeyExpired');
    ex.engine.listenKeyTtlMs = 60 * 60_000;
    // after the renewal, order events arrive again
    await until(() => ex.connectionCount > 0 && [...ex.engine.accounts.values()][0].listenKey !== undefined, 'a new listen key and connection');
    const before = events.length;
    await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.100', price: '1000.00', newClientOrderId: 'ud-1' });
    await until(() => events.slice(before).some((e) => e.e === 'ORDER_TRADE_UPDATE' && (e as any).o.c === 'ud-1'), 'the order event after renewal');
    sub.unsubscribe();
  });
});

describe('stream connections', () => {
  it('spreads streams over connections within the per-connection limit and rotates them', async () => {
    const { client } = await setup({ tickMs: 20 }, { ws: { maxStreamsPerConnection: 2, rotateAfterMs: 400, reconnectBaseMs: 10 } });
    const seen = new Set<string>();
    for (const s of ['BTCUSDT', 'ETHUSDT']) {
      client.subscribeAggTrades(s, (e) => seen.add(`${e.s}@aggTrade`));
      client.subscribeBookTicker(s, (e) => seen.add(`${e.s}@bookTicker`));
      client.subscribeMarkPrice(s, (e) => seen.add(`${e.s}@markPrice`));
    }
    // routed: bookTickers on /public (2 → one connection), aggTrade+markPrice on /market (4 → two)
    await until(() => client.streams.stats().open === 3, 'three open connections');
    await until(() => seen.size === 6, 'data on all six streams');
    await until(() => client.streams.stats().reconnects >= 3, 'planned rotations');
    seen.clear();
    await until(() => seen.size === 6, 'data on all six streams after rotation');
  });
});

describe('falling behind', () => {
  it('recycles a connection whose messages stay later than maxLagMs instead of falling behind silently', async () => {
    // a negative limit makes every message "late"
    const { client } = await setup({ tickMs: 20 }, { ws: { maxLagMs: -1, reconnectBaseMs: 10 } });
    let n = 0;
    client.subscribeAggTrades('BTCUSDT', () => n++);
    await until(() => client.streams.stats().lagRecycles >= 2, 'lag recycles');
    const before = n;
    await until(() => n > before, 'data after the recycle');
    expect(client.stats().reconnects).toBeGreaterThanOrEqual(2);
  });

  it('resyncs the server-time offset when it recycles for lag (an exchange clock slower than real time)', async () => {
    // at speed 0.05 the exchange clock falls 0.95 ms behind per ms: event times look ever later
    const { ex, client } = await setup({ tickMs: 20, speed: 0.05 }, { ws: { maxLagMs: 300, reconnectBaseMs: 10 } });
    const offset0 = client.stats().timeOffsetMs;
    client.subscribeAggTrades('BTCUSDT', () => undefined);
    // without a resync the offset never changes and the connection is recycled over and over
    await until(() => client.streams.stats().lagRecycles >= 1 && client.stats().timeOffsetMs < offset0 - 300, 'a lag recycle and a resynced offset');
    expect(ex.speed).toBe(0.05);
  });
});
