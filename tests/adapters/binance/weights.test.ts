import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateGovernor } from '../../../src/adapters/binance/governor.js';
import { BinanceRest } from '../../../src/adapters/binance/rest.js';
import { createSigner } from '../../../src/adapters/binance/sign.js';
import { hasWeight, orderCount, requestWeight } from '../../../src/adapters/binance/weights.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';

describe('one request-weight table for the client governor and the local exchange', () => {
  let ex: LocalExchange;
  beforeAll(async () => {
    ex = await LocalExchange.start({ symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 9 });
  });
  afterAll(async () => ex.close());

  it('knows every endpoint the local exchange serves, with Binance weights that depend on parameters', () => {
    const unknown = ex.endpointKeys.filter((k) => !hasWeight(k.split(' ')[0], k.split(' ')[1]));
    expect(unknown).toEqual([]);
    expect([50, 99, 100, 499, 500, 1000, 1001, 1500].map((limit) => requestWeight('GET', '/fapi/v1/klines', { limit }))).toEqual([1, 1, 2, 2, 5, 5, 10, 10]);
    expect(requestWeight('GET', '/fapi/v1/klines', {})).toBe(5); // default limit 500
    expect([5, 50, 100, 500, 1000].map((limit) => requestWeight('GET', '/fapi/v1/depth', { limit: String(limit) }))).toEqual([2, 2, 5, 10, 20]);
    expect([requestWeight('GET', '/fapi/v1/ticker/24hr', { symbol: 'BTCUSDT' }), requestWeight('GET', '/fapi/v1/ticker/24hr')]).toEqual([1, 40]);
    expect([requestWeight('POST', '/fapi/v1/order'), orderCount('POST', '/fapi/v1/order'), orderCount('DELETE', '/fapi/v1/order')]).toEqual([0, 1, 0]);
  });

  it('the server counts each request with the table (X-MBX-USED-WEIGHT-1M rises by its weight)', async () => {
    const cases = [
      '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=50', '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=200',
      '/fapi/v1/klines?symbol=BTCUSDT&interval=1m', '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500',
      '/fapi/v1/depth?symbol=BTCUSDT&limit=5', '/fapi/v1/depth?symbol=BTCUSDT&limit=100', '/fapi/v1/depth?symbol=BTCUSDT',
      '/fapi/v1/depth?symbol=BTCUSDT&limit=1000', '/fapi/v1/ticker/24hr', '/fapi/v1/ticker/24hr?symbol=BTCUSDT',
      '/fapi/v1/ticker/bookTicker', '/fapi/v1/premiumIndex', '/fapi/v1/aggTrades?symbol=BTCUSDT&limit=10',
    ];
    let before = Number((await fetch(`${ex.url}/fapi/v1/ping`)).headers.get('x-mbx-used-weight-1m'));
    let compared = 0;
    for (const path of cases) {
      const minute = Math.floor(Date.now() / 60_000);
      const res = await fetch(ex.url + path);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const after = Number(res.headers.get('x-mbx-used-weight-1m'));
      const url = new URL(ex.url + path);
      const weight = requestWeight('GET', url.pathname, Object.fromEntries(url.searchParams));
      // the server's window is the minute of its clock (the same clock here): skip a request that straddled a boundary
      if (Math.floor(Date.now() / 60_000) === minute) {
        expect({ path, counted: after - before }).toEqual({ path, counted: weight });
        compared++;
      }
      before = after;
    }
    expect(compared).toBeGreaterThanOrEqual(cases.length - 2);
  });

  it("the client's governor books exactly what the server counts", async () => {
    /** A real governor that also sums what it books. */
    class RecordingGovernor extends RateGovernor {
      booked = 0;
      override acquire(weight: number, orders = 0, signal?: AbortSignal): Promise<void> {
        this.booked += weight;
        return super.acquire(weight, orders, signal);
      }
    }
    // a server of its own: nothing else is counted there
    const own = await LocalExchange.start({ symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 9 });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const governor = new RecordingGovernor({ now: () => Date.now() });
        const rest = new BinanceRest({ baseUrl: own.url, apiKey: DEMO_API_KEY, signer: createSigner(DEMO_API_SECRET), governor });
        try {
          const minute = Math.floor(Date.now() / 60_000);
          const before = own.usedWeight;
          await rest.syncTime();
          await rest.request('GET', '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1m', limit: 1500 }, { idempotent: true });
          await rest.request('GET', '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1h', limit: 120 }, { idempotent: true });
          await rest.request('GET', '/fapi/v1/klines', { symbol: 'BTCUSDT', interval: '1h' }, { idempotent: true });
          await rest.request('GET', '/fapi/v1/depth', { symbol: 'BTCUSDT', limit: 1000 }, { idempotent: true });
          await rest.request('GET', '/fapi/v1/depth', { symbol: 'ETHUSDT', limit: 5 }, { idempotent: true });
          await rest.request('GET', '/fapi/v1/ticker/24hr', {}, { idempotent: true });
          await rest.request('GET', '/fapi/v1/openOrders', {}, { security: 'SIGNED', idempotent: true });
          await rest.request('GET', '/fapi/v3/account', {}, { security: 'SIGNED', idempotent: true });
          await rest.request('POST', '/fapi/v1/listenKey', {}, { security: 'USER_STREAM' });
          const counted = own.usedWeight - before;
          if (Math.floor(Date.now() / 60_000) !== minute) continue; // crossed a window: once more
          expect(governor.booked).toBe(counted);
          expect(counted).toBe(1 + 10 + 2 + 5 + 20 + 2 + 40 + 40 + 5 + 1);
          return;
        } finally {
          await rest.close();
        }
      }
      throw new Error('three attempts each crossed a minute boundary');
    } finally {
      await own.close();
    }
  });
});
