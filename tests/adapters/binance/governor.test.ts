import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { RateGovernor } from '../../../src/adapters/binance/governor.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { SimulatedClock } from '../../../src/core/clock.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Parameters<typeof LocalExchange.start>[0]) {
  const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.05, ...options });
  const client = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl });
  cleanups.push(async () => {
    await client.close();
    await ex.close();
  });
  await client.connect();
  return { ex, client };
}

describe('rate-limit governor (unit, simulated clock)', () => {
  it('queues a burst FIFO so no window ever exceeds its limit', async () => {
    const clock = new SimulatedClock(1_000_000);
    const g = new RateGovernor({ now: () => clock.now(), setTimer: (ms, fn) => clock.setTimer(ms, fn), guardMs: 0 });
    g.configure([{ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 1, limit: 10 }]);
    const passed: number[] = [];
    const all = Array.from({ length: 35 }, () => g.acquire(1).then(() => passed.push(clock.now())));
    await Promise.resolve();
    for (let t = 0; t < 5000; t += 50) {
      clock.advanceBy(50);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    const perWindow = new Map<number, number>();
    for (const t of passed) perWindow.set(Math.floor(t / 1000), (perWindow.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(10);
    expect(passed.length).toBe(35);
  });

  it('takes the used-weight header as the floor of its own count', () => {
    const g = new RateGovernor({ now: () => 60_000 * 100 + 10 });
    g.onResponse(200, { 'x-mbx-used-weight-1m': '2000' });
    expect(g.stats().usedWeight).toBe(2000);
    g.onResponse(200, { 'X-MBX-USED-WEIGHT-1M': '10' });
    expect(g.stats().usedWeight).toBe(2000);
  });
});

describe('rate-limit governor against the local exchange', () => {
  it('a burst of 120 requests against a 40/s limit never gets a 429', async () => {
    const { ex, client } = await setup({ weightLimit: { limit: 40, interval: 'SECOND', intervalNum: 1 } });
    const before = ex.metrics.requests;
    await Promise.all(Array.from({ length: 120 }, () => client.ping()));
    expect(ex.metrics.requests - before).toBe(120);
    expect(ex.metrics.http429).toBe(0);
    expect(ex.metrics.maxWeightInWindow).toBeLessThanOrEqual(40);
    expect(client.rest.governor.stats().delayed).toBeGreaterThan(0);
  });

  it('backs off on 429 for Retry-After, then retries a safe request', async () => {
    const { ex, client } = await setup({});
    ex.faults.set('429=2,retry-after=1');
    const t0 = ex.metrics.arrivals.length;
    await client.ping(); // 1st: fine
    await client.ping(); // 2nd: 429, retried after Retry-After
    const arrivals = ex.metrics.arrivals.slice(t0);
    expect(ex.metrics.http429).toBe(1);
    expect(arrivals.length).toBe(3);
    expect(arrivals[2] - arrivals[1]).toBeGreaterThanOrEqual(950);
  });

  it('stops every request on 418 until the ban ends', async () => {
    const { ex, client } = await setup({});
    ex.faults.set('418=1,ban=1500');
    const err = await client.ping().then(() => undefined, (e) => e);
    expect(err).toMatchObject({ code: -1003, kind: 'banned', status: 418 });
    const banUntil = Number(/banned until (\d+)/.exec(err.exchangeMessage)![1]);
    ex.faults.set('');
    const n0 = ex.metrics.arrivals.length;
    expect(client.rest.governor.banned).toBe(true);
    await Promise.all(Array.from({ length: 5 }, () => client.serverTime()));
    const after = ex.metrics.arrivals.slice(n0);
    expect(after.length).toBe(5);
    for (const t of after) expect(t).toBeGreaterThanOrEqual(banUntil - 5);
  });

  it('earns a 418 ban from the server when 429s are ignored (raw requests)', async () => {
    const { ex } = await setup({ weightLimit: { limit: 3, interval: 'MINUTE', intervalNum: 1 }, banAfter: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${ex.url}/fapi/v1/ping`)).status);
    expect(statuses).toContain(429);
    expect(statuses[statuses.length - 1]).toBe(418);
  });
});
