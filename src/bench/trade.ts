import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { AccountKind, AccountRepository, AccountSettings, AccountSnapshot, StoredAccount } from '../core/accounts/types.js';
import { backtestConfigSchema } from '../core/backtest/config.js';
import type { BacktestKlines } from '../core/backtest/engine.js';
import { defaultMarketInputs } from '../core/backtest/inputs.js';
import type { Clock } from '../core/clock.js';
import type { Klines } from '../core/market/klines.js';
import { StrategyRegistry } from '../core/strategy/registry.js';
import { Trader, type ClosedKline, type TraderDeps } from '../core/trading/trader.js';
import { migrate, openDatabase } from '../db/database.js';
import { KlineStore } from '../db/klineStore.js';
import { LeaseStore } from '../db/leaseStore.js';
import { generate } from './backtest.js';
import type { BenchSection } from './index.js';

/**
 * The trader (src/core/trading/trader.ts) on a virtual account, over generated 1m klines:
 *
 * - klineToOrderP50Ms / P99Ms: 50 positions (50 symbols, sma-cross 2/3, so most minutes send
 *   orders) on one account. A local websocket server on 127.0.0.1 sends each minute's 50 closed
 *   klines as Binance kline events; the client parses each, stores it in SQLite (the real
 *   KlineStore, as the market data service does) and hands it to the trader. Measured: from the
 *   'message' event of the kline that completes a minute to the FillSimulator's submit call of an
 *   order that minute sends (all 50 positions stepped in between). Accelerated: the next minute
 *   is sent as soon as the client has handled one.
 * - rss*: 10 positions on one account over TRADE_RSS_MINUTES minutes fed as fast as they are
 *   handled (store + trader, no socket); the resident set
 *   sampled every 250 minutes after a full GC: start (after warm-up), end, max, and the growth over
 *   the second half.
 *
 * Most of a minute's time is the kline store's insert (re-encoding the series' last chunk), which the
 * market data service does for every closed kline before the trader hears of it.
 *
 * The account repository here keeps only the last snapshot and counts rows (g-acct's SQLite store
 * writes them; this measures the trader, not a test double's arrays).
 */
const MIN = 60_000;
const T0 = Date.UTC(2020, 0, 1);
const WARM = 300;
const LATENCY_MINUTES = Number(process.env.ATM_BENCH_TRADE_MINUTES ?? 250);
const RSS_MINUTES = Number(process.env.ATM_BENCH_TRADE_RSS_MINUTES ?? 2500);

class SinkAccounts implements AccountRepository {
  private account: StoredAccount | undefined;
  private last: AccountSnapshot | undefined;
  balanceRows = 0;
  tradeRows = 0;
  list(): StoredAccount[] {
    return this.account ? [this.account] : [];
  }
  get(idOrName: number | string): StoredAccount | undefined {
    return this.account && (idOrName === this.account.id || idOrName === this.account.name) ? this.account : undefined;
  }
  create(name: string, kind: AccountKind, settings: AccountSettings): StoredAccount {
    this.account = { id: 1, name, kind, settings, credentials: { stored: false }, createdAt: 0, updatedAt: 0 };
    return this.account;
  }
  updateSettings(_id: number, settings: AccountSettings): StoredAccount {
    this.account = { ...this.account!, settings };
    return this.account;
  }
  remove(): void {}
  saveCredentials(): void {}
  encryptedSecret(): string | undefined {
    return undefined;
  }
  saveSnapshot(_id: number, snapshot: AccountSnapshot): void {
    this.last = snapshot;
  }
  snapshot(): AccountSnapshot | undefined {
    return this.last;
  }
  appendBalance(): void {
    this.balanceRows++;
  }
  balanceHistory() {
    return [];
  }
  appendTrade(): void {
    this.tradeRows++;
  }
  trades() {
    return [];
  }
}

/** A clock fixed before the generated klines (so every kline after the warm-up is live), with real timers. */
function fixedClock(now: number): Clock {
  return {
    now: () => now,
    setTimer: (ms, fn, options) => {
      const h = setTimeout(fn, ms);
      if (options?.background) h.unref();
      return () => clearTimeout(h);
    },
  };
}

function row(k: BacktestKlines, j: number): Klines {
  const one = (x: number) => Float64Array.of(x);
  return {
    length: 1, openTime: one(k.openTime[j]), open: one(k.open[j]), high: one(k.high[j]), low: one(k.low[j]), close: one(k.close[j]), volume: one(k.volume[j]),
    quoteVolume: one(0), trades: one(1), takerBuyVolume: one(k.takerBuyVolume[j]), takerBuyQuoteVolume: one(0),
  };
}

interface Rig {
  store: KlineStore;
  trader: Trader;
  accounts: SinkAccounts;
  listeners: Set<(symbol: string, kline?: ClosedKline) => void>;
  close(): void;
}

async function rig(symbols: string[], klines: BacktestKlines[], onOrder: () => void): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'atm-bench-trade-'));
  const db = openDatabase(join(dir, 'atm.sqlite'));
  await migrate(db);
  return {
    ...rigOn(db, symbols, klines, onOrder),
    close: () => {
      void db.close().then(() => rmSync(dir, { recursive: true, force: true }));
    },
  } as Rig;
}

function rigOn(db: ReturnType<typeof openDatabase>, symbols: string[], klines: BacktestKlines[], onOrder: () => void): Omit<Rig, 'close'> {
  const store = new KlineStore(db);
  const clock = fixedClock(T0 + WARM * MIN + 2 * MIN);
  const leases = new LeaseStore(db, clock.now);
  const accounts = new SinkAccounts();
  const listeners = new Set<(symbol: string, kline?: ClosedKline) => void>();
  for (let s = 0; s < symbols.length; s++) {
    const k = klines[s];
    const warm: Klines = {
      length: WARM, openTime: k.openTime.slice(0, WARM), open: k.open.slice(0, WARM), high: k.high.slice(0, WARM), low: k.low.slice(0, WARM), close: k.close.slice(0, WARM),
      volume: k.volume.slice(0, WARM), quoteVolume: new Float64Array(WARM), trades: new Float64Array(WARM).fill(1), takerBuyVolume: k.takerBuyVolume.slice(0, WARM), takerBuyQuoteVolume: new Float64Array(WARM),
    };
    store.insert(symbols[s], '1m', warm);
  }
  const config = backtestConfigSchema.parse({
    account: { initialBalance: '100000', slippageBps: 1 },
    positions: symbols.map((symbol) => ({ symbol, leverage: 2, strategy: { name: 'sma-cross', params: { fast: 2, slow: 3 } }, control: { assumedRatio: 1 / symbols.length } })),
  });
  accounts.create('bench', 'virtual', { account: config.account, positions: config.positions, risk: {}, automation: 'on' });
  const deps: TraderDeps = {
    accounts, leases, clock, log: pino({ level: 'silent' }), label: 'bench', strategies: new StrategyRegistry(undefined), inputs: defaultMarketInputs(),
    market: {
      storedKlines: (symbol, from, to) => store.loadRange(symbol, '1m', from, to),
      watch: () => () => {},
      onStored: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
    onEvent: (e) => {
      if (e.kind === 'order') onOrder();
    },
  };
  const trader = Trader.start(deps, 'bench');
  return { store, trader, accounts, listeners };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latency(): Promise<Record<string, number>> {
  const n = 50;
  const symbols = Array.from({ length: n }, (_, i) => `B${i}USDT`);
  const klines = symbols.map((_, i) => generate(WARM + LATENCY_MINUTES + 1, 500 + i, 100 + 10 * i));
  let arrival = 0;
  let measuring = false;
  const samples: number[] = [];
  const r = await rig(symbols, klines, () => {
    if (measuring) samples.push(performance.now() - arrival);
    measuring = false; // one sample per minute: the first order after the completing kline
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as { port: number }).port;
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', (ws) => resolve(ws)));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  const server = await serverSide;
  let handled = 0;
  let minuteDone: (() => void) | undefined;
  client.on('message', (data) => {
    const t0 = performance.now();
    const e = JSON.parse(String(data)) as { s: string; k: { t: number; o: string; h: string; l: string; c: string; v: string; V: string; x: boolean } };
    const s = Number(e.s.slice(1, -4));
    const one = row(klines[s], (e.k.t - T0) / MIN);
    r.store.insert(e.s, '1m', one); // the market data service stores each closed kline before telling
    const kline: ClosedKline = { openTime: e.k.t, open: Number(e.k.o), high: Number(e.k.h), low: Number(e.k.l), close: Number(e.k.c), volume: Number(e.k.v), takerBuyVolume: Number(e.k.V) };
    handled++;
    if (handled % n === 0) {
      arrival = t0;
      measuring = true;
    }
    for (const l of r.listeners) l(e.s, kline);
    measuring = false;
    if (handled % n === 0) minuteDone?.();
  });
  const started = performance.now();
  for (let j = WARM; j < WARM + LATENCY_MINUTES; j++) {
    const done = new Promise<void>((resolve) => (minuteDone = resolve));
    for (let s = 0; s < n; s++) {
      const k = klines[s];
      server.send(JSON.stringify({ e: 'kline', E: k.openTime[j] + MIN, s: symbols[s], k: { t: k.openTime[j], T: k.openTime[j] + MIN - 1, s: symbols[s], i: '1m', o: String(k.open[j]), h: String(k.high[j]), l: String(k.low[j]), c: String(k.close[j]), v: String(k.volume[j]), V: String(k.takerBuyVolume[j]), x: true } }));
    }
    await done;
  }
  const wall = performance.now() - started;
  const minutes = r.trader.minutes;
  const orders = r.trader.ordersSent;
  r.trader.stop();
  client.close();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  r.close();
  samples.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    klineToOrderP50Ms: round(percentile(samples, 50)),
    klineToOrderP99Ms: round(percentile(samples, 99)),
    klineToOrderMaxMs: round(samples[samples.length - 1] ?? NaN),
    klineToOrderSamples: samples.length,
    latencySymbols: n,
    latencyMinutes: minutes,
    latencyOrders: orders,
    latencyMinutesPerSec: Math.round(minutes / (wall / 1000)),
  };
}

async function rss(): Promise<Record<string, number>> {
  const n = 10;
  const symbols = Array.from({ length: n }, (_, i) => `R${i}USDT`);
  const klines = symbols.map((_, i) => generate(WARM + RSS_MINUTES + 1, 900 + i, 50 + 20 * i));
  const r = await rig(symbols, klines, () => {});
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  const sample = () => {
    gc?.();
    return process.memoryUsage().rss / 1048576;
  };
  const points: number[] = [sample()];
  const started = performance.now();
  for (let j = WARM; j < WARM + RSS_MINUTES; j++) {
    for (let s = 0; s < n; s++) {
      const one = row(klines[s], j);
      r.store.insert(symbols[s], '1m', one);
      const kline: ClosedKline = { openTime: one.openTime[0], open: one.open[0], high: one.high[0], low: one.low[0], close: one.close[0], volume: one.volume[0], takerBuyVolume: one.takerBuyVolume[0] };
      for (const l of r.listeners) l(symbols[s], kline);
    }
    if ((j - WARM + 1) % 250 === 0) points.push(sample());
  }
  const wall = performance.now() - started;
  const minutes = r.trader.minutes;
  const fills = r.trader.fillCount;
  r.trader.stop();
  r.close();
  const half = points.slice(Math.floor(points.length / 2));
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    rssPositions: n,
    rssMinutes: minutes,
    rssFills: fills,
    rssStartMb: round(points[0]),
    rssEndMb: round(points[points.length - 1]),
    rssMaxMb: round(Math.max(...points)),
    rssSecondHalfGrowthMb: round(half[half.length - 1] - half[0]),
    rssGcExposed: gc ? 1 : 0,
    rssMinutesPerSec: Math.round(minutes / (wall / 1000)),
  };
}

export const section: BenchSection = {
  name: 'trade',
  async run() {
    const l = await latency();
    return { ...l, ...(await rss()) };
  },
};
