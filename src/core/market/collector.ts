import type { EventBus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { ExchangeStats } from '../exchange/port.js';
import { LeaseHeldError, type Lease, type LeaseHolder, type LeaseRepository } from '../leases.js';
import type { Logger } from '../logging.js';
import { missingRanges, PAGE_LIMIT } from './download.js';
import { INTERVAL_MS, nextOpenTime, previousOpenTime, type Interval } from './klines.js';
import type { KlineRepository } from './repository.js';
import type { MarketDataService, MarketFilledEvent, MarketStaleEvent } from './service.js';

/**
 * The collector (issue 14): keeps every collected symbol's 1m klines current from launch, records
 * each stretch it missed with its cause, and backfills history behind the live edge within a
 * share of the exchange's request-weight budget.
 *
 * - Live klines and their gap filling are the market data service's (one watch per symbol, the
 *   service fills from REST whatever the websocket missed); the collector only holds the watches.
 *   The Binance adapter puts up to 1024 streams on one connection, so 200 symbols are one socket.
 * - Gaps: a series that turns stale (a lost or silent connection) opens a gap at the kline after
 *   the last stored one; the service's fills extend it; once current again it is closed (filled
 *   at now). A series that was stored before the collector started opens one with cause
 *   `collector_stopped`. Klines still missing after the fill are recorded as `exchange_missing`.
 * - Backfill goes newest-first, one page of 1000 klines per symbol per round, and sends a page
 *   only when (a) its own weight in the exchange's weight window stays within `weightShare` of the
 *   limit and (b) the window's used weight (every request of this process) stays within
 *   (1 − weightShare) of it, so backfill never pushes the budget near a 429.
 * - Only one collector writes a data directory: it holds the `collector` lease and publishes its
 *   status with each heartbeat; other processes read it (`CollectorService.view`).
 */

export type GapCause = 'disconnected' | 'collector_stopped' | 'maintenance' | 'exchange_missing';
export const GAP_CAUSES: readonly GapCause[] = ['disconnected', 'collector_stopped', 'maintenance', 'exchange_missing'];

export interface CollectorGap {
  id: number;
  symbol: string;
  interval: Interval;
  /** First missing open time. */
  from: number;
  /** Last missing open time; undefined while the collector has not caught up. */
  to?: number;
  cause: GapCause;
  openedAt: number;
  /** When the klines were fetched and stored; undefined while open (always for exchange_missing). */
  filledAt?: number;
}

/** The storage port of gaps (src/db/collectorStore.ts, migration 0009). */
export interface CollectorGapRepository {
  open(gap: { symbol: string; interval: Interval; from: number; cause: GapCause; openedAt: number }): number;
  /** Sets the gap's range end and, when given, the time it was filled. */
  update(id: number, to: number, filledAt?: number): void;
  remove(id: number): void;
  /** A closed gap in one call (exchange_missing stretches). */
  record(gap: Omit<CollectorGap, 'id'>): number;
  /** Gaps newest first (of one symbol, only open ones). */
  list(options?: { symbol?: string; open?: boolean; limit?: number }): CollectorGap[];
}

/** Gaps kept in memory (an App built without the database's collector store, e.g. in tests). */
export class MemoryGapRepository implements CollectorGapRepository {
  private readonly rows: CollectorGap[] = [];
  private nextId = 1;
  open(gap: { symbol: string; interval: Interval; from: number; cause: GapCause; openedAt: number }): number {
    this.rows.push({ ...gap, id: this.nextId });
    return this.nextId++;
  }
  update(id: number, to: number, filledAt?: number): void {
    const row = this.rows.find((r) => r.id === id);
    if (row) Object.assign(row, { to, filledAt });
  }
  remove(id: number): void {
    const i = this.rows.findIndex((r) => r.id === id);
    if (i >= 0) this.rows.splice(i, 1);
  }
  record(gap: Omit<CollectorGap, 'id'>): number {
    this.rows.push({ ...gap, id: this.nextId });
    return this.nextId++;
  }
  list(options: { symbol?: string; open?: boolean; limit?: number } = {}): CollectorGap[] {
    const out = this.rows
      .filter((r) => (!options.symbol || r.symbol === options.symbol) && (!options.open || r.filledAt === undefined))
      .sort((a, b) => b.from - a.from || b.id - a.id);
    return options.limit ? out.slice(0, options.limit) : out;
  }
}

/** The deep data recorder of one symbol (aggTrades + order book; issue 14 part B). */
export interface DeepRecorder {
  stop(): void | Promise<void>;
  stats(): unknown;
}
export type DeepRecorderFactory = (symbol: string) => DeepRecorder;

export interface CollectConfig {
  enabled: boolean;
  symbols: 'all' | string[];
  intervals: string[];
  backfillDays: number;
  weightShare: number;
  deep: string[];
}

/** What a collector publishes with each heartbeat (and `atm data status` shows). */
export interface CollectorStatus {
  pid: number;
  label: string;
  venue?: string;
  startedAt: number;
  symbols: number;
  /** Series behind the exchange right now. */
  stale: number;
  messagesPerSecond: number;
  lagMs: number;
  /** Klines stored by this collector since 00:00 UTC (live and filled; backfill counted apart). */
  rowsToday: number;
  backfilledToday: number;
  openGaps: number;
  backfill: { symbolsDone: number; symbols: number; fraction: number; weightUsed: number };
  deep: { symbol: string; stats: unknown }[];
}

export interface CollectorDeps {
  bus: EventBus;
  clock: Clock;
  log: Logger;
  market: MarketDataService;
  store: KlineRepository;
  gaps: CollectorGapRepository;
  config: CollectConfig;
  /** Connection figures (messages/s, lag, the used weight and its limit). */
  stats: () => ExchangeStats | undefined;
  deep?: DeepRecorderFactory;
  /** Why the exchange is disconnected right now (a reason naming maintenance gives that cause). */
  disconnectReason?: () => string | undefined;
  label: string;
  pid?: number;
}

const INTERVAL: Interval = '1m';
const DAY = 86_400_000;
/** IP weight of one klines page of 1000 (Binance: limit 500..1000 → 5). */
const PAGE_WEIGHT = 5;
/** Pauses of the backfill loop when the budget is used up or nothing is left (ms). */
const BACKFILL_WAIT_MS = 500;

/** The first minute at or after `t` (backfillDays may be any fraction of a day). */
const minuteCeil = (t: number) => Math.ceil(t / INTERVAL_MS[INTERVAL]) * INTERVAL_MS[INTERVAL];

interface SeriesState {
  symbol: string;
  release?: () => void;
  gap?: { id: number; from: number; to?: number; cause: GapCause };
  /** Backfill: the next page ends before this open time; undefined until the live edge exists. */
  cursor?: number;
  target?: number;
  /** Open time of the live edge when backfill began (progress denominator). */
  edge?: number;
  done: boolean;
}

/** The cause of a gap from a stale reason or a disconnect reason (undefined: no gap to record). */
export function gapCauseOf(reason: string | undefined): GapCause | undefined {
  if (!reason || reason === 'source' || reason === 'starting') return undefined;
  if (/maint/i.test(reason)) return 'maintenance';
  return 'disconnected';
}

/** One running collector. Built and started by CollectorService (which holds the lease). */
export class Collector {
  private readonly series = new Map<string, SeriesState>();
  private readonly offs: (() => void)[] = [];
  private readonly deepRecorders = new Map<string, DeepRecorder>();
  private stopped = false;
  private readonly startedAt: number;
  private day = 0;
  private rowsToday = 0;
  private backfilledToday = 0;
  /** Backfill's own requests in the current weight window: [time, weight]. */
  private readonly spent: [number, number][] = [];
  private backfillWeight = 0;
  private wake?: () => void;
  private loop?: Promise<void>;
  private lastDisconnectReason?: string;

  constructor(private readonly deps: CollectorDeps, readonly symbols: readonly string[]) {
    this.startedAt = deps.clock.now();
  }

  start(): void {
    const { bus, market, store, gaps, clock } = this.deps;
    this.offs.push(bus.on('market.stale', (e) => this.onStale(e)));
    this.offs.push(bus.on('market.filled', (e) => this.onFilled(e)));
    this.offs.push(bus.on('market.kline', (e) => {
      if (e.closed && e.interval === INTERVAL && this.series.has(e.symbol)) this.count(1, false);
    }));
    this.offs.push(bus.on('exchange.state', (s) => {
      if (s.kind === 'disconnected') this.lastDisconnectReason = s.reason;
      if (s.kind === 'connected') this.wake?.();
    }));
    // gaps left open by a collector that was killed: carried on (closed when caught up)
    const open = new Map<string, CollectorGap>();
    for (const g of gaps.list({ open: true })) if (g.interval === INTERVAL && g.cause !== 'exchange_missing' && !open.has(g.symbol)) open.set(g.symbol, g);
    for (const symbol of this.symbols) {
      const s: SeriesState = { symbol, done: false };
      this.series.set(symbol, s);
      const carried = open.get(symbol);
      const last = store.lastOpenTime(symbol, INTERVAL);
      if (carried) s.gap = { id: carried.id, from: carried.from, to: carried.to, cause: carried.cause };
      else if (last !== undefined) {
        const from = nextOpenTime(last, INTERVAL);
        s.gap = { id: gaps.open({ symbol, interval: INTERVAL, from, cause: 'collector_stopped', openedAt: clock.now() }), from, cause: 'collector_stopped' };
      }
      s.release = market.watch(symbol, INTERVAL);
      // already current (another watch of this series was running): nothing was missed
      if (!market.isStale(symbol, INTERVAL)) this.closeGap(s);
    }
    for (const symbol of this.deps.config.deep) {
      if (!this.deps.deep) break;
      try {
        this.deepRecorders.set(symbol, this.deps.deep(symbol));
      } catch (error) {
        this.deps.log.warn({ component: 'collector', symbol, err: (error as Error).message }, `cannot record deep data of ${symbol}: ${(error as Error).message}`);
      }
    }
    this.loop = this.backfillLoop().catch((error: unknown) => {
      this.deps.log.error({ component: 'collector', err: (error as Error).message }, `backfill stopped: ${(error as Error).message}`);
    });
    this.deps.log.info({ component: 'collector', symbols: this.symbols.length }, `collecting ${this.symbols.length} symbols`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of this.offs) off();
    this.wake?.();
    for (const s of this.series.values()) s.release?.();
    for (const r of this.deepRecorders.values()) await r.stop();
    await this.loop;
  }

  status(): CollectorStatus {
    const stats = this.deps.stats();
    this.rollDay();
    let done = 0;
    let fraction = 0;
    let stale = 0;
    for (const s of this.series.values()) {
      if (s.done) done++;
      fraction += this.progressOf(s);
      if (this.deps.market.isStale(s.symbol, INTERVAL)) stale++;
    }
    return {
      pid: this.deps.pid ?? process.pid,
      label: this.deps.label,
      venue: stats?.venue,
      startedAt: this.startedAt,
      symbols: this.series.size,
      stale,
      messagesPerSecond: stats?.messagesPerSecond ?? 0,
      lagMs: stats?.lagMs ?? 0,
      rowsToday: this.rowsToday,
      backfilledToday: this.backfilledToday,
      openGaps: [...this.series.values()].filter((s) => s.gap).length,
      backfill: { symbolsDone: done, symbols: this.series.size, fraction: this.series.size ? fraction / this.series.size : 1, weightUsed: this.backfillWeight },
      deep: [...this.deepRecorders].map(([symbol, r]) => ({ symbol, stats: r.stats() })),
    };
  }

  /** Backfill progress of one symbol, 0..1 (1 when done). */
  progressOf(s: SeriesState): number {
    if (s.done) return 1;
    if (s.cursor === undefined || s.edge === undefined || s.target === undefined || s.edge <= s.target) return 0;
    return Math.min(1, Math.max(0, (s.edge - s.cursor) / (s.edge - s.target)));
  }

  /** Per-symbol backfill state (for data status). */
  backfillOf(symbol: string): { fraction: number; done: boolean; target?: number } | undefined {
    const s = this.series.get(symbol);
    return s && { fraction: this.progressOf(s), done: s.done, target: s.target };
  }

  // ---- gaps ----

  private onStale(e: MarketStaleEvent): void {
    if (e.interval !== INTERVAL) return;
    const s = this.series.get(e.symbol);
    if (!s) return;
    if (!e.stale) {
      this.closeGap(s);
      return;
    }
    if (s.gap) return;
    // the service hears of a disconnection first: the reason comes from the app's connection state
    const reason = e.reason === 'disconnected' ? (this.deps.disconnectReason?.() ?? this.lastDisconnectReason) : undefined;
    const cause = gapCauseOf(reason) ?? gapCauseOf(e.reason);
    if (!cause) return;
    const last = this.deps.store.lastOpenTime(s.symbol, INTERVAL);
    if (last === undefined) return;
    const from = nextOpenTime(last, INTERVAL);
    s.gap = { id: this.deps.gaps.open({ symbol: s.symbol, interval: INTERVAL, from, cause, openedAt: this.deps.clock.now() }), from, cause };
  }

  private onFilled(e: MarketFilledEvent): void {
    if (e.interval !== INTERVAL) return;
    const s = this.series.get(e.symbol);
    if (!s) return;
    this.count(e.stored, false);
    // the fill stored up to the exchange's last closed kline (live events wait meanwhile)
    const last = this.deps.store.lastOpenTime(s.symbol, INTERVAL);
    if (s.gap && last !== undefined && last >= s.gap.from) s.gap.to = Math.max(s.gap.to ?? last, last);
  }

  private closeGap(s: SeriesState): void {
    const gap = s.gap;
    if (!gap) return;
    s.gap = undefined;
    const { gaps, store, clock } = this.deps;
    const last = store.lastOpenTime(s.symbol, INTERVAL);
    // the end: the last kline stored before the live one that closed it, at least what was filled
    const to = Math.max(gap.to ?? -Infinity, last !== undefined ? previousOpenTime(last, INTERVAL) : -Infinity);
    if (gap.to === undefined && (last === undefined || last <= gap.from)) {
      // nothing was missed (a short outage inside one minute, or the next kline came live)
      gaps.remove(gap.id);
      return;
    }
    const end = gap.to ?? to;
    if (end < gap.from) {
      gaps.remove(gap.id);
      return;
    }
    gaps.update(gap.id, end, clock.now());
    for (const hole of store.gaps(s.symbol, INTERVAL, gap.from, end)) {
      gaps.record({ symbol: s.symbol, interval: INTERVAL, from: hole.from, to: hole.to, cause: 'exchange_missing', openedAt: clock.now() });
    }
  }

  private count(rows: number, backfill: boolean): void {
    this.rollDay();
    if (backfill) this.backfilledToday += rows;
    else this.rowsToday += rows;
  }

  private rollDay(): void {
    const day = Math.floor(this.deps.clock.now() / DAY);
    if (day !== this.day) {
      this.day = day;
      this.rowsToday = 0;
      this.backfilledToday = 0;
    }
  }

  // ---- backfill ----

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimer(ms, () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  /**
   * Waits until a request of `weight` fits backfill's share: its own weight in the window and
   * the window's total used weight both leave room. Returns false when stopped.
   */
  private async budget(weight: number): Promise<boolean> {
    const share = this.deps.config.weightShare;
    for (let i = 0; !this.stopped; i++) {
      const stats = this.deps.stats();
      if (stats) {
        const limit = stats.weightLimit > 0 ? stats.weightLimit : 2400;
        const windowMs = stats.weightWindowMs ?? 60_000;
        const now = this.deps.clock.now();
        while (this.spent.length > 0 && this.spent[0][0] <= now - windowMs) this.spent.shift();
        const own = this.spent.reduce((a, [, w]) => a + w, 0);
        if (own + weight <= share * limit && stats.usedWeight + weight <= (1 - share) * limit) {
          this.spent.push([now, weight]);
          this.backfillWeight += weight;
          return true;
        }
      }
      await this.sleep(BACKFILL_WAIT_MS);
    }
    return false;
  }

  private async backfillLoop(): Promise<void> {
    const days = this.deps.config.backfillDays;
    if (days <= 0) {
      for (const s of this.series.values()) s.done = true;
      return;
    }
    while (!this.stopped) {
      let worked = false;
      let moved = false;
      let pending = 0;
      for (const s of this.series.values()) {
        if (this.stopped) return;
        if (s.done) continue;
        pending++;
        if (s.cursor === undefined) {
          // begins behind the live edge once the service has filled up to it
          const last = this.deps.store.lastOpenTime(s.symbol, INTERVAL);
          if (last === undefined || this.deps.market.isStale(s.symbol, INTERVAL)) continue;
          s.edge = last;
          s.cursor = last;
          const first = this.deps.market.symbols().find((x) => x.symbol === s.symbol)?.firstKlineTime ?? undefined;
          s.target = Math.max(minuteCeil(last - days * DAY + INTERVAL_MS[INTERVAL]), first ?? -Infinity);
        }
        if (s.cursor <= s.target!) {
          s.done = true;
          continue;
        }
        const from = Math.max(s.target!, s.cursor - PAGE_LIMIT * INTERVAL_MS[INTERVAL]);
        const to = previousOpenTime(s.cursor, INTERVAL);
        const pages = missingRanges(this.deps.store, s.symbol, INTERVAL, from, to).length;
        if (pages > 0) {
          if (!(await this.budget(pages * PAGE_WEIGHT))) return;
          if (this.deps.market.cannotWatch(s.symbol, INTERVAL)) break; // no exchange now: wait for it
          try {
            const report = await this.deps.market.download({ symbol: s.symbol, interval: INTERVAL, from, to, now: to + INTERVAL_MS[INTERVAL] });
            this.count(report.stored, true);
            if (report.firstKlineTime > s.target!) s.target = report.firstKlineTime;
          } catch (error) {
            this.deps.log.warn({ component: 'collector', symbol: s.symbol, err: (error as Error).message }, `backfill of ${s.symbol} paused: ${(error as Error).message}`);
            break;
          }
          worked = true;
        } else moved = true;
        s.cursor = from;
        if (s.cursor <= s.target!) s.done = true;
      }
      if (this.stopped) return;
      if (pending === 0) {
        this.deps.log.info({ component: 'collector' }, `backfill done: ${days} days behind the live edge of ${this.series.size} symbols`);
        return;
      }
      // stretches already stored cost no request: walk on at once (yielding), else wait a little
      if (worked || moved) await new Promise<void>((resolve) => setImmediate(resolve));
      else await this.sleep(BACKFILL_WAIT_MS * 4);
    }
  }
}

/** What the facade shows of the collector, whoever runs it. */
export interface CollectorView {
  /** self: this process collects; other: another process holds the lease; none: nobody collects. */
  role: 'self' | 'other' | 'none';
  holder?: { pid: number; label: string; host: string };
  status?: CollectorStatus;
  /** Age of the holder's last heartbeat (ms). */
  heartbeatAgeMs?: number;
}

/** Per symbol data status (`atm data status`). */
export interface SymbolDataStatus {
  symbol: string;
  first?: number;
  /** The live edge: the newest stored 1m kline. */
  last?: number;
  rows: number;
  backfill?: { fraction: number; done: boolean };
  gaps: CollectorGap[];
}

export interface CollectorServiceDeps extends Omit<CollectorDeps, 'label' | 'pid'> {
  leases?: LeaseRepository;
  /** Connects the exchange (resolves once connected). */
  connect: () => Promise<unknown>;
  /** Exchange symbols listed as trading USDT perpetuals (for `symbols: all`). */
  listedSymbols?: () => string[];
}

export const HEARTBEAT_MS = 5_000;
const TAKEOVER_POLL_MS = 10_000;

/**
 * The collector role of this process: runs a Collector while holding the `collector` lease, or
 * shows the holder's status. `app.collector` is one of these.
 */
export class CollectorService {
  private collector?: Collector;
  private lease?: Lease;
  private cancelHeartbeat?: () => void;
  private cancelPoll?: () => void;
  private closed = false;
  private warned = false;
  /** The deep data recorder (aggTrades + book) for `market.collect.deep` symbols, once wired. */
  deepFactory?: DeepRecorderFactory;

  constructor(private readonly deps: CollectorServiceDeps) {}

  get running(): boolean {
    return this.collector !== undefined;
  }

  /** The symbols configured (resolving `all` against the exchange's list, once connected). */
  resolveSymbols(): string[] {
    const c = this.deps.config.symbols;
    if (c !== 'all') return [...new Set(c)];
    return this.deps.listedSymbols?.() ?? [];
  }

  /**
   * Takes the lease and starts collecting (connecting the exchange first). Throws LeaseHeldError
   * naming the holder when another process collects.
   */
  async start(label: string): Promise<CollectorStatus> {
    if (this.collector) return this.collector.status();
    if (!this.deps.leases) throw new Error('no lease store: cannot collect');
    const lease = this.deps.leases.acquire('collector', { label });
    this.lease = lease;
    // kept alive while the exchange is awaited (it may take long): a stale heartbeat frees the lease
    const keep = () => {
      if (this.lease !== lease || this.collector) return;
      lease.heartbeat();
      this.cancelHeartbeat = this.deps.clock.setTimer(HEARTBEAT_MS, keep, { background: true });
    };
    this.cancelHeartbeat = this.deps.clock.setTimer(HEARTBEAT_MS, keep, { background: true });
    try {
      await this.deps.connect();
      if (this.closed || this.lease !== lease) throw new Error('stopped');
      // the exchange's symbols stored once, before the watches: otherwise each watch's first fill
      // asks exchangeInfo for itself (200 symbols: 200 large answers at once)
      const known = new Set(this.deps.market.symbols().map((s) => s.symbol));
      if (this.deps.config.symbols === 'all' || this.deps.config.symbols.some((s) => !known.has(s))) await this.deps.market.refreshSymbols();
      let symbols = this.resolveSymbols();
      if (this.deps.config.symbols === 'all') {
        for (let i = 0; i < 40 && symbols.length === 0; i++) {
          await new Promise<void>((resolve) => this.deps.clock.setTimer(250, resolve));
          symbols = this.resolveSymbols();
        }
      }
      const collector = new Collector({ ...this.deps, deep: this.deepFactory ?? this.deps.deep, label, pid: process.pid }, symbols);
      this.collector = collector;
      collector.start();
      this.cancelHeartbeat?.();
      this.beat();
      return collector.status();
    } catch (error) {
      this.cancelHeartbeat?.();
      this.lease = undefined;
      lease.release();
      throw error;
    }
  }

  /**
   * For the TUI: collects when enabled and no other process does; otherwise watches the lease
   * and takes over when its holder is gone.
   */
  autoStart(label: string): void {
    if (!this.deps.config.enabled || this.closed || this.collector || !this.deps.leases) return;
    this.start(label).catch((error: unknown) => {
      // said once, not at every retry (an unreachable exchange would repeat it every 10 s)
      if (!(error instanceof LeaseHeldError) && !this.warned) {
        this.warned = true;
        this.deps.log.warn({ component: 'collector', err: (error as Error).message }, `collector not started: ${(error as Error).message}; retrying every ${TAKEOVER_POLL_MS / 1000} s`);
      }
      if (this.closed) return;
      this.cancelPoll = this.deps.clock.setTimer(TAKEOVER_POLL_MS, () => this.autoStart(label), { background: true });
    });
  }

  private beat(): void {
    const lease = this.lease;
    const collector = this.collector;
    if (!lease || !collector) return;
    const status = collector.status();
    if (!lease.heartbeat(status)) {
      this.deps.log.warn({ component: 'collector' }, 'the collector lease was taken over: collection stopped');
      void this.stop();
      return;
    }
    this.deps.bus.emit('collector.status', status);
    this.cancelHeartbeat = this.deps.clock.setTimer(HEARTBEAT_MS, () => this.beat(), { background: true });
  }

  /** Stops collecting and releases the lease. */
  async stop(): Promise<void> {
    this.cancelHeartbeat?.();
    this.cancelPoll?.();
    const collector = this.collector;
    this.collector = undefined;
    await collector?.stop();
    this.lease?.release();
    this.lease = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** Who collects, and their status. */
  view(): CollectorView {
    if (this.collector) return { role: 'self', status: this.collector.status(), heartbeatAgeMs: 0 };
    const holder: LeaseHolder | undefined = this.deps.leases?.holder('collector');
    if (!holder) return { role: 'none' };
    return {
      role: 'other',
      holder: { pid: holder.pid, label: holder.label, host: holder.host },
      status: (holder.status ?? undefined) as CollectorStatus | undefined,
      heartbeatAgeMs: Math.max(0, this.deps.clock.now() - holder.heartbeatAt),
    };
  }

  /** Gaps recorded by the collector, newest first. */
  gaps(options?: { symbol?: string; open?: boolean; limit?: number }): CollectorGap[] {
    return this.deps.gaps.list(options);
  }

  /** Per symbol: stored range (the live edge), backfill progress, every gap with its cause. */
  dataStatus(symbol?: string): SymbolDataStatus[] {
    const configured = this.deps.config.symbols === 'all' ? [] : this.deps.config.symbols;
    const names = new Set<string>(symbol ? [symbol] : [...configured, ...this.deps.store.symbols()]);
    const allGaps = this.deps.gaps.list({ symbol });
    const listed = new Map(this.deps.market.symbols().map((x) => [x.symbol, x]));
    return [...names].sort().map((name) => {
      const info = this.deps.store.series(name).find((s) => s.interval === INTERVAL);
      const own = this.collector?.backfillOf(name);
      let backfill = own && { fraction: own.fraction, done: own.done };
      if (!backfill && info?.first != null && info.last != null && this.deps.config.backfillDays > 0) {
        // not collecting here: how much of backfillDays behind the live edge is stored
        const first = listed.get(name)?.firstKlineTime ?? undefined;
        const from = Math.max(minuteCeil(info.last - this.deps.config.backfillDays * DAY + INTERVAL_MS[INTERVAL]), first ?? -Infinity);
        const span = info.last - from + INTERVAL_MS[INTERVAL];
        const missing = missingRanges(this.deps.store, name, INTERVAL, from, info.last).reduce((a, r) => a + r.to - r.from + INTERVAL_MS[INTERVAL], 0);
        const fraction = span > 0 ? Math.max(0, 1 - missing / span) : 1;
        backfill = { fraction, done: missing === 0 };
      }
      return {
        symbol: name,
        first: info?.first ?? undefined,
        last: info?.last ?? undefined,
        rows: info?.rows ?? 0,
        backfill,
        gaps: allGaps.filter((g) => g.symbol === name),
      };
    });
  }
}

declare module '../events.js' {
  interface AppEvents {
    /** The collector of this process published its status (with each heartbeat). */
    'collector.status': CollectorStatus;
  }
}
