import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalExchange, type LocalExchangeOptions } from '../../../src/adapters/localexchange/server.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 10_000, what);

const open: LocalExchange[] = [];
afterEach(async () => {
  for (const ex of open.splice(0)) await ex.close();
});

async function start(options: LocalExchangeOptions): Promise<LocalExchange> {
  const ex = await LocalExchange.start({ symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 21, ...options });
  open.push(ex);
  return ex;
}

async function get(ex: LocalExchange, path: string): Promise<unknown> {
  const res = await fetch(`${ex.url}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

/** What a client can see of the market, without the event times. */
async function marketView(ex: LocalExchange): Promise<unknown> {
  const view: unknown[] = [];
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
    view.push(await get(ex, `/fapi/v1/klines?symbol=${symbol}&interval=1m&limit=20`));
    view.push(await get(ex, `/fapi/v1/aggTrades?symbol=${symbol}&limit=200`));
    const depth = (await get(ex, `/fapi/v1/depth?symbol=${symbol}&limit=100`)) as { lastUpdateId: number; bids: unknown; asks: unknown };
    view.push([depth.lastUpdateId, depth.bids, depth.asks]);
  }
  return view;
}

describe('local exchange market clock', () => {
  it('does not step while nobody listens; a request catches up to exactly the market that stepped all along', async () => {
    let t = 1_780_000_000_000;
    const realClock = () => t;
    const lazy = await start({ realClock, tickMs: 100 });
    const stepped = await start({ realClock, tickMs: 100 });
    expect(lazy.stepping).toBe(false);
    // `stepped` steps every 100 ms (what its timer does while someone listens) ...
    for (let i = 0; i < 900; i++) {
      t += 100;
      expect(stepped.catchUp()).toBeUndefined();
    }
    expect(stepped.metrics.steps).toBe(900);
    // ... `lazy` does nothing for those 90 s: no timer, no step
    expect(lazy.metrics.steps).toBe(0);
    expect(lazy.stepping).toBe(false);
    // the first request generates the 900 steps from the seed before it is answered
    const lazyView = await marketView(lazy);
    expect(lazy.metrics.steps).toBe(900);
    expect(lazyView).toEqual(await marketView(stepped));
    const klines = (lazyView as unknown[][][])[0];
    expect(klines.at(-1)![0]).toBe(Math.floor((1_780_000_000_000 + 90_000) / 60_000) * 60_000);
    expect(lazy.stepping).toBe(false);
  });

  it('arms the step timer only while a stream is subscribed', async () => {
    const ex = await start({ tickMs: 20 });
    expect(ex.stepping).toBe(false);
    const ws = new WebSocket(`${ex.wsUrl}/market/stream?streams=btcusdt@kline_1m`);
    let frames = 0;
    ws.on('message', () => frames++);
    await until(() => frames >= 2, 'kline frames');
    expect(ex.stepping).toBe(true);
    ws.close();
    await until(() => ex.connectionCount === 0 && !ex.stepping, 'the timer to stop once nobody listens');
    const steps = ex.metrics.steps;
    // a request catches up (some steps), and leaves no timer behind
    await get(ex, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    expect(ex.metrics.steps).toBeGreaterThanOrEqual(steps);
    expect(ex.stepping).toBe(false);
  });

  it('reports every time on the one accelerated clock the market runs on (--speed)', async () => {
    const t0 = 1_780_000_000_000;
    let t = t0;
    const ex = await start({ realClock: () => t, tickMs: 100, speed: 60 });
    const time = async () => ((await get(ex, '/fapi/v1/time')) as { serverTime: number }).serverTime;
    expect(await time()).toBe(t0);
    t += 1000; // one real second = one market minute
    expect(await time()).toBe(t0 + 60_000);
    const klines = (await get(ex, '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=2')) as [number][];
    expect(klines.at(-1)![0]).toBe(Math.floor((t0 + 60_000) / 60_000) * 60_000);
    const premium = (await get(ex, '/fapi/v1/premiumIndex?symbol=BTCUSDT')) as { time: number };
    expect(premium.time).toBe(t0 + 60_000);
    const depth = (await get(ex, '/fapi/v1/depth?symbol=BTCUSDT&limit=5')) as { E: number; T: number };
    expect([depth.E, depth.T]).toEqual([t0 + 60_000, t0 + 60_000]);
    // stream event times: the same clock
    const ws = new WebSocket(`${ex.wsUrl}/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m`);
    const events: { e: string; E: number; T?: number }[] = [];
    ws.on('message', (data) => events.push((JSON.parse(data.toString()) as { data: { e: string; E: number; T?: number } }).data));
    await new Promise((resolve) => ws.once('open', resolve));
    t += 500;
    await until(() => events.some((e) => e.e === 'aggTrade') && events.some((e) => e.e === 'kline'), 'aggTrade and kline events');
    ws.close();
    for (const e of events) expect(e.E).toBe(t0 + 90_000);
    for (const e of events.filter((x) => x.e === 'aggTrade')) expect(e.T!).toBeLessThanOrEqual(e.E);
  });

  it('generates a market\'s history only when something needs it, the same whenever that is', async () => {
    let t = 1_780_000_000_000;
    const realClock = () => t;
    const early = await start({ realClock, tickMs: 100, historyDays: 0.5 });
    const late = await start({ realClock, tickMs: 100, historyDays: 0.5 });
    for (const m of [...early.markets.values(), ...late.markets.values()]) expect(m.historyGenerated).toBe(false);
    const historyOf = async (ex: LocalExchange) => get(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=0&endTime=${1_780_000_000_000 - 60_001}&limit=1000`);
    const first = await historyOf(early);
    expect(early.markets.get('BTCUSDT')!.historyGenerated).toBe(true);
    expect(early.markets.get('ETHUSDT')!.historyGenerated).toBe(false);
    expect((first as unknown[]).length).toBe(720); // half a day of minutes before the start
    // the other exchange makes it only after two market minutes have closed: the same history
    t += 150_000;
    await get(late, '/fapi/v1/ping');
    expect(late.markets.get('BTCUSDT')!.historyGenerated).toBe(false);
    expect(await historyOf(late)).toEqual(first);
    // and the live klines follow it in order
    const all = (await get(late, '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1000')) as [number][];
    for (let i = 1; i < all.length; i++) expect(all[i][0] - all[i - 1][0]).toBe(60_000);
  });
});

