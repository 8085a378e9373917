import { Worker } from 'node:worker_threads';
import { BinanceExchange } from '../adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange, type LocalExchangeOptions } from '../adapters/localexchange/server.js';
import type { AggTradeEvent } from '../core/exchange/port.js';
import type { BenchSection } from './index.js';

/**
 * Exchange figures: websocket messages per second received and applied from the local exchange
 * with zero loss, REST round trips per second, and the order book's resync time after an
 * injected gap. The local exchange runs in a worker thread so the generator and the client each
 * have a core.
 */
async function startWorker(options: LocalExchangeOptions): Promise<{ port: number; worker: Worker; send(msg: unknown): void; metrics(): Promise<any>; close(): Promise<void> }> {
  const worker = new Worker(new URL('../adapters/localexchange/worker.js', import.meta.url), { workerData: options });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { kind: string; port: number }) => resolve(m.port));
  });
  return {
    port,
    worker,
    send: (msg) => worker.postMessage(msg),
    metrics: () => new Promise((resolve) => {
      const on = (m: { kind: string; metrics: unknown }) => {
        if (m.kind === 'metrics') {
          worker.off('message', on);
          resolve(m.metrics);
        }
      };
      worker.on('message', on);
      worker.postMessage({ kind: 'metrics' });
    }),
    close: async () => {
      worker.postMessage({ kind: 'close' });
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

function wait(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function websocketThroughput(): Promise<Record<string, unknown>> {
  const server = await startWorker({ speed: 1000, historyDays: 0.1, seed: 11 });
  const client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: `http://127.0.0.1:${server.port}`, wsUrl: `ws://127.0.0.1:${server.port}` });
  try {
    await client.connect();
    const symbols = client.symbols.map((s) => s.symbol);
    const lastId = new Map<string, number>();
    let received = 0;
    let gaps = 0;
    let notional = 0;
    for (const s of symbols) {
      client.subscribeAggTrades(s, (e: AggTradeEvent) => {
        received++;
        const prev = lastId.get(e.s);
        if (prev !== undefined && e.a !== prev + 1) gaps++;
        lastId.set(e.s, e.a);
        notional += +e.p * +e.q; // "applied": parsed and accumulated
      });
    }
    await wait(1500); // warm up
    const r0 = received;
    const g0 = gaps;
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization();
    await wait(5000);
    const seconds = (performance.now() - t0) / 1000;
    // how busy the client's thread was: messages per busy second estimates its capacity
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const stats = client.streams.stats();
    return {
      wsMessagesPerSecond: Math.round((received - r0) / seconds),
      wsMessagesCounted: received - r0,
      wsLostMessages: gaps - g0,
      wsMaxLagMs: Math.round(stats.maxLagMs),
      wsClientThreadBusyPercent: Math.round(elu * 1000) / 10,
      wsClientCapacityPerSecondEstimate: elu > 0 ? Math.round((received - r0) / seconds / elu) : null,
      wsReconnects: stats.reconnects,
      wsStreams: symbols.length,
      appliedNotionalCheck: notional > 0 ? 'ok' : 'none',
    };
  } finally {
    await client.close();
    await server.close();
  }
}

async function restRoundTrips(): Promise<Record<string, unknown>> {
  const server = await startWorker({ manualClock: true, historyDays: 0.05, symbols: ['BTCUSDT'], weightLimit: { limit: 10_000_000, interval: 'MINUTE', intervalNum: 1 }, orderLimits: [{ limit: 10_000_000, interval: 'MINUTE', intervalNum: 1 }] });
  const client = new BinanceExchange({ venue: 'local', restUrl: `http://127.0.0.1:${server.port}`, wsUrl: `ws://127.0.0.1:${server.port}`, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
  try {
    await client.connect();
    const run = async (n: number, concurrency: number, fn: () => Promise<unknown>) => {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next++ < n) await fn();
      }));
      return Math.round(n / ((performance.now() - t0) / 1000));
    };
    const sequential = await run(2000, 1, () => client.serverTime());
    const concurrent = await run(6000, 16, () => client.serverTime());
    const signed = await run(2000, 8, () => client.balances());
    const orders = await run(1000, 8, async () => {
      const o = await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '30000.0' });
      await client.cancelOrder({ symbol: 'BTCUSDT', orderId: o.orderId });
    });
    return { restRoundTripsPerSecondSequential: sequential, restRoundTripsPerSecond16InFlight: concurrent, signedRoundTripsPerSecond: signed, orderPlaceCancelPairsPerSecond: orders };
  } finally {
    await client.close();
    await server.close();
  }
}

async function resyncTime(): Promise<Record<string, unknown>> {
  const server = await startWorker({ historyDays: 0.05, symbols: ['BTCUSDT'], faults: 'depth-gap=15' });
  const client = new BinanceExchange({ venue: 'local', restUrl: `http://127.0.0.1:${server.port}`, wsUrl: `ws://127.0.0.1:${server.port}` });
  try {
    await client.connect();
    const handle = client.orderBook('BTCUSDT');
    await handle.ready();
    const book = client.book('BTCUSDT')!;
    const times: number[] = [];
    let seen = book.resyncs;
    const start = Date.now();
    while (times.length < 8 && Date.now() - start < 30_000) {
      await wait(20);
      if (book.resyncs > seen && book.synced) {
        seen = book.resyncs;
        times.push(book.lastResyncMs);
      }
    }
    times.sort((a, b) => a - b);
    handle.unsubscribe();
    return {
      bookResyncs: times.length,
      bookResyncMedianMs: times.length ? Math.round(times[Math.floor(times.length / 2)] * 10) / 10 : null,
      bookResyncMaxMs: times.length ? Math.round(times[times.length - 1] * 10) / 10 : null,
      bookLevels: book.levelCount,
    };
  } finally {
    await client.close();
    await server.close();
  }
}

/**
 * The first request after an idle stretch: the exchange runs in-process on a clock the bench
 * moves (no real waiting), every symbol, speed 1. Each figure is the wall time of one
 * `/fapi/v1/depth` request that has to catch the market up over the idle stretch first.
 */
export async function catchUpTimes(idleMinutes: readonly number[] = [1, 10, 60, 1440]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  // the first run warms the JIT up (a program that has run a while is warm); not reported
  let warm = false;
  for (const minutes of [1, ...idleMinutes]) {
    let t = 1_780_000_000_000;
    const ex = await LocalExchange.start({ realClock: () => t, seed: 5, historyDays: 1 });
    try {
      // warm up: the history and the first steps exist, as in a program that has run a while
      await (await fetch(`${ex.url}/fapi/v1/ticker/24hr?symbol=BTCUSDT`)).json();
      t += minutes * 60_000;
      const t0 = performance.now();
      const res = await fetch(`${ex.url}/fapi/v1/depth?symbol=BTCUSDT&limit=5`);
      await res.json();
      const name = minutes >= 60 ? `catchUp${minutes / 60}hMs` : `catchUp${minutes}mMs`;
      if (warm) out[name] = Math.round((performance.now() - t0) * 10) / 10;
      warm = true;
    } finally {
      await ex.close();
    }
  }
  return out;
}

export const section: BenchSection = {
  name: 'exchange',
  async run() {
    return { ...(await websocketThroughput()), ...(await restRoundTrips()), ...(await resyncTime()), ...(await catchUpTimes()) };
  },
};
