import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 20_000, what);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: ConstructorParameters<typeof Object>[0] & Parameters<typeof LocalExchange.start>[0], routed = true) {
  const ex = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: 0.05, seed: 3, ...options });
  const client = new BinanceExchange({
    venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed,
    ws: { reconnectBaseMs: 10, reconnectMaxMs: 100, pingIntervalMs: 200, pongTimeoutMs: 300 },
  });
  cleanups.push(async () => {
    await client.close();
    await ex.close();
  });
  await client.connect();
  return { ex, client };
}

describe('websocket streams from the local exchange', () => {
  it('keeps the local order book equal to the exchange book after gaps, reordering and drops', async () => {
    const { ex, client } = await setup({ tickMs: 20, faults: 'depth-gap=9,depth-reorder=13,drop=400' });
    const handle = client.orderBook('BTCUSDT');
    await handle.ready();
    const book = client.book('BTCUSDT')!;
    // three resyncs, at least one of them after a sequence gap (the other faults cause resyncs too)
    await until(() => book.resyncs >= 3 && (ex.faults.firedCounts()['depth-gap'] ?? 0) > 0, 'three resyncs, one after a gap');
    // stop the faults and the market, then let one clean update through
    ex.faults.set('');
    ex.pause();
    const m = ex.markets.get('BTCUSDT')!;
    // step the market by hand until an update reaches the client and nothing is pending
    await until(() => {
      if (book.synced && book.lastUpdateId === m.updateId) return true;
      ex.tick(20);
      return false;
    }, 'book caught up');
    expect(book.bids(1000)).toEqual(m.levels('bid', 1000));
    expect(book.asks(1000)).toEqual(m.levels('ask', 1000));
    expect(book.bestBid()![0]).toBe(m.price(m.bestBid));
    expect(book.bestAsk()![0]).toBe(m.price(m.bestAsk));
    expect(ex.faults.firedCounts()['depth-gap']).toBeGreaterThan(0);
    handle.unsubscribe();
  });

  it('serves live SUBSCRIBE / LIST_SUBSCRIPTIONS / UNSUBSCRIBE, combined and raw, routed and legacy', async () => {
    const { ex, client } = await setup({ tickMs: 20 }, false);
    const trades: unknown[] = [];
    const sub = client.subscribeAggTrades('BTCUSDT', (e) => trades.push(e));
    const tickers: unknown[] = [];
    client.subscribeBookTicker('BTCUSDT', (e) => tickers.push(e));
    await until(() => trades.length > 5 && tickers.length > 2, 'aggTrades and bookTickers on the legacy path');
    sub.unsubscribe();
    // raw socket on the routed market path
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${ex.wsUrl}/market/ws`);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'btcusdt@depth'], id: 1 }));
    ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
    await until(() => frames.some((f) => f.id === 2), 'list reply');
    expect(frames.find((f) => f.id === 1)).toEqual({ result: null, id: 1 });
    expect(frames.find((f) => f.id === 2)).toEqual({ result: ['btcusdt@aggTrade', 'btcusdt@depth'], id: 2 });
    await until(() => frames.some((f) => f.e === 'aggTrade'), 'raw aggTrade');
    // depth is acknowledged on /market but never delivered there
    expect(frames.some((f) => f.e === 'depthUpdate')).toBe(false);
    const agg = frames.find((f) => f.e === 'aggTrade');
    expect(Object.keys(agg)).toEqual(['e', 'E', 's', 'a', 'p', 'q', 'nq', 'f', 'l', 'T', 'm']);
    ws.send('not json');
    ws.send(JSON.stringify({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 4 }));
    await until(() => frames.some((f) => f.id === 4), 'property error');
    expect(frames.find((f) => f.code === 3)?.msg).toMatch(/^Invalid JSON/);
    expect(frames.find((f) => f.id === 4)).toEqual({ code: 1, msg: 'Invalid value type: expected Boolean', id: 4 });
    ws.terminate();
  });

  it('reconnects when the server stops answering pings', async () => {
    const { ex, client } = await setup({ tickMs: 20, faults: 'nopong' });
    const trades: unknown[] = [];
    client.subscribeAggTrades('BTCUSDT', (e) => trades.push(e));
    await until(() => client.streams.stats().reconnects >= 1, 'a reconnect after missed pongs');
    ex.faults.set('');
    const before = trades.length;
    await until(() => trades.length > before + 5, 'data after the reconnect');
  });

  it('survives malformed frames and counts them', async () => {
    const { client } = await setup({ tickMs: 20, faults: 'malformed=5' });
    const trades: unknown[] = [];
    client.subscribeAggTrades('BTCUSDT', (e) => trades.push(e));
    await until(() => trades.length > 20 && client.streams.stats().parseErrors > 2, 'trades despite malformed frames');
    expect(client.streams.stats().reconnects).toBe(0);
  });
});
