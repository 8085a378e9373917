import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { redactUrl } from '../../../src/adapters/binance/ws.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('trace logging of the Binance adapter', () => {
  it('logs REST requests and websocket control frames at trace, never a key, signature, secret or listen key', async () => {
    const ex = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: 0.05, seed: 4, tickMs: 20, pingIntervalMs: 100 });
    const lines: { level: string; message: string }[] = [];
    const client = new BinanceExchange({
      venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed: true, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET,
      ws: { pingIntervalMs: 50, pongTimeoutMs: 2000, reconnectBaseMs: 10, reconnectMaxMs: 50 },
      onLog: (level, message) => lines.push({ level, message }),
    });
    cleanups.push(async () => {
      await client.close();
      await ex.close();
    });
    const traced = () => lines.filter((l) => l.level === 'trace').map((l) => l.message);
    const has = (re: RegExp) => traced().some((m) => re.test(m));

    await client.connect();
    await client.klines('BTCUSDT', '1m', { limit: 1500 });
    await client.openOrders('BTCUSDT');
    await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '1000.0', timeInForce: 'GTC' }).catch(() => undefined);
    // REST: method, path, weight, status, duration
    expect(has(/^REST GET \/fapi\/v1\/time weight 1 -> 200 in \d+\.\d ms$/)).toBe(true);
    expect(has(/^REST GET \/fapi\/v1\/klines weight 10 -> 200 in /)).toBe(true);
    expect(has(/^REST GET \/fapi\/v1\/openOrders weight 1 -> 200 in /)).toBe(true);
    expect(has(/^REST POST \/fapi\/v1\/order weight 0 -> \d{3} in /)).toBe(true);

    // websocket: connect, subscribe / unsubscribe frames and replies, pings and pongs
    const first = client.subscribeAggTrades('BTCUSDT', () => undefined);
    await waitFor(() => has(/^ws market: open/), 5000, 'the market connection');
    const second = client.subscribeMarkPrice('BTCUSDT', () => undefined);
    await waitFor(() => has(/^ws market: sent \{"method":"SUBSCRIBE","params":\["btcusdt@markPrice(@1s)?"\]/) && has(/^ws market: reply \{"result":null/), 5000, 'a SUBSCRIBE and its reply');
    second.unsubscribe();
    await waitFor(() => has(/^ws market: sent \{"method":"UNSUBSCRIBE"/), 5000, 'an UNSUBSCRIBE');
    await waitFor(() => has(/^ws market: ping sent$/) && has(/^ws market: pong received$/) && has(/^ws market: ping received, pong sent$/), 5000, 'pings and pongs both ways');

    // the user data stream: its URL carries the listen key, which the log must not
    const user = await client.subscribeUserData(() => undefined);
    await waitFor(() => has(/^ws private: open$/), 5000, 'the user data stream');
    // a drop: close and reconnect are traced on both connections
    ex.dropAllConnections();
    await waitFor(() => has(/^ws market: close 1006/) && has(/^ws private: close 1006/) && has(/^ws private: reconnecting in \d+ ms$/), 5000, 'the closes');
    await waitFor(() => traced().filter((m) => /^ws market: open/.test(m)).length >= 2 && traced().filter((m) => m === 'ws private: open').length >= 2, 5000, 'the reconnects');
    expect(has(/^ws private: connecting ws:\/\/127\.0\.0\.1:\d+\/private\/ws\?listenKey=\[redacted\]$/)).toBe(true);
    user.unsubscribe();
    first.unsubscribe();

    const listenKeys = [...ex.engine.accounts.values()].map((a) => a.listenKey).filter((k): k is string => typeof k === 'string' && k.length > 0);
    expect(listenKeys.length).toBeGreaterThan(0);
    const secrets = [DEMO_API_KEY, DEMO_API_SECRET, ...listenKeys];
    for (const { message } of lines) {
      for (const secret of secrets) expect(message).not.toContain(secret);
      expect(message).not.toMatch(/signature|timestamp=|recvWindow/);
    }
  });

  it('redacts the listen key from websocket URLs, routed and legacy, and keeps stream names', () => {
    const key = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1';
    expect(redactUrl(`wss://fstream.binance.com/private/ws?listenKey=${key}&events=ORDER_TRADE_UPDATE`)).toBe('wss://fstream.binance.com/private/ws?listenKey=[redacted]&events=ORDER_TRADE_UPDATE');
    expect(redactUrl(`wss://fstream.binancefuture.com/ws/${key}`)).toBe('wss://fstream.binancefuture.com/ws/[redacted]');
    expect(redactUrl('wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m')).toBe('wss://fstream.binance.com/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m');
    expect(redactUrl('ws://127.0.0.1:1/ws/btcusdt@depth@100ms')).toBe('ws://127.0.0.1:1/ws/btcusdt@depth@100ms');
  });
});
