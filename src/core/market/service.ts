import type { EventBus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { ExchangePort, KlineEvent, Subscription } from '../exchange/port.js';
import type { Logger } from '../logging.js';
import { downloadKlines, ensureSymbol, sourceOfPort, type DownloadOptions, type DownloadReport } from './download.js';
import type { ColumnDecimals } from './export.js';
import { statSync } from 'node:fs';
import { importArchives, listArchiveFiles, type ImportOptions, type ImportSummary } from './importer.js';
import { INTERVAL_MS, klinesFromRows, nextOpenTime, previousOpenTime, type Gap, type Interval, type Kline, type Klines } from './klines.js';
import type { KlineRepository, SeriesInfo, StoredSymbol, SymbolRepository } from './repository.js';
import type { DeepRepository } from './deep.js';
import { DeepDataService } from './deepService.js';

/** Events of the market data service. */
export interface MarketKlineEvent {
  symbol: string;
  interval: Interval;
  kline: Kline;
  /** True for a closed (final, stored) kline, false for an update of the forming one. */
  closed: boolean;
}

export interface MarketStaleEvent {
  symbol: string;
  interval: Interval;
  stale: boolean;
  /** Why it is behind: 'starting', 'gap', 'silent', 'disconnected', 'error'. */
  reason?: string;
}

export interface MarketFilledEvent {
  symbol: string;
  interval: Interval;
  from: number;
  to: number;
  stored: number;
}

/** The top of an order book as plain data (what a page draws). */
export interface BookTop {
  symbol: string;
  /** False until the local book has synced with the exchange's snapshot (levels are empty then). */
  synced: boolean;
  /** Best first: [price, quantity] as the exchange's decimal strings. */
  bids: [string, string][];
  asks: [string, string][];
  /** Local time of this update (ms). */
  time: number;
}

/** One aggregated trade as plain data. */
export interface MarketTrade {
  time: number;
  price: string;
  qty: string;
  /** True when the buyer was the maker (a sell hit the bid). */
  sell: boolean;
}

/** Ends a live feed handed out by the facade (safe to call more than once). */
export interface Feed {
  close(): void;
}

declare module '../events.js' {
  interface AppEvents {
    /** A kline of a watched symbol changed (forming) or closed (stored). */
    'market.kline': MarketKlineEvent;
    /** A watched symbol became stale (behind the exchange) or current again. */
    'market.stale': MarketStaleEvent;
    /** Missing klines were fetched from REST and stored. */
    'market.filled': MarketFilledEvent;
    /** Stored klines of a series changed (import, download, live). */
    'market.stored': { symbol: string; interval: Interval };
    /** The exchange's symbols were imported into the database. */
    'market.symbols': { count: number };
  }
}

export interface MarketDataDeps {
  bus: EventBus;
  clock: Clock;
  store: KlineRepository;
  symbols: SymbolRepository;
  log: Logger;
  /** Klines fetched when a watched series has nothing stored yet (default 1000). */
  initialKlines?: number;
  /** The connected exchange, if any: attached now and whenever 'exchange.state' says connected. */
  exchange?: () => ExchangePort | undefined;
  /** Deep data (aggTrades, book samples): `deep` answers empty without it. */
  deep?: DeepRepository;
}

interface Watch {
  symbol: string;
  interval: Interval;
  refs: number;
  sub?: Subscription;
  forming?: Kline;
  stale: boolean;
  /** Serializes event handling and fills, so closed klines are stored in order. */
  chain: Promise<void>;
  /** Cancels the silence timer. */
  cancelTimer?: () => void;
  /** Local ms between closed klines (smoothed): the silence timer waits a few of these. */
  period: number;
  lastArrival?: number;
  /** Latest exchange event time seen (ms, exchange clock). */
  exchangeTime?: number;
  generation: number;
}

const key = (symbol: string, interval: Interval) => `${symbol}\u0000${interval}`;

/** A websocket kline event as a Kline. */
export function eventKline(event: KlineEvent): Kline {
  const k = event.k;
  return {
    openTime: k.t,
    open: Number(k.o),
    high: Number(k.h),
    low: Number(k.l),
    close: Number(k.c),
    volume: Number(k.v),
    quoteVolume: Number(k.q),
    trades: k.n,
    takerBuyVolume: Number(k.V),
    takerBuyQuoteVolume: Number(k.Q),
  };
}

/**
 * The market data service: imports and downloads history, and keeps the klines of the symbols in
 * use current from the exchange's websocket.
 *
 * Live rule: every closed kline is stored exactly once and in order. When a closed kline arrives
 * whose open time is past the one expected (the stored last + 1 interval), the hole is fetched
 * from REST and stored first; the symbol is stale meanwhile ('market.stale'). A watch also turns
 * stale when no closed kline arrives for three kline periods (a silent or dropped socket) or the
 * exchange disconnects, and fills from REST when it hears from the exchange again. Everything is
 * event-driven: one timer per watch, re-armed on each closed kline.
 */
export class MarketDataService {
  private port?: ExchangePort;
  /** Symbols the connected exchange lists (from its exchangeInfo). */
  private listed?: Set<string>;
  private readonly watches = new Map<string, Watch>();
  private readonly offState: () => void;

  private deepService?: DeepDataService;

  /** Deep data: stored aggTrades, book samples and gaps, archive import, the chart strip (deepService.ts). */
  get deep(): DeepDataService {
    this.deepService ??= new DeepDataService({ store: this.deps.deep, bus: this.deps.bus });
    return this.deepService;
  }

  constructor(private readonly deps: MarketDataDeps) {
    this.offState = deps.bus.on('exchange.state', (state) => {
      if (state.kind === 'disconnected') for (const w of this.watches.values()) this.setStale(w, true, 'disconnected');
      if (state.kind === 'connected') {
        const port = deps.exchange?.();
        if (port && port !== this.port) this.attach(port);
        else for (const w of this.watches.values()) this.enqueueFill(w, 'reconnected');
      }
    });
    const port = deps.exchange?.();
    if (port) this.attach(port);
  }

  /** Missing open times between the stored klines of a series. */
  gaps(symbol: string, interval: Interval, from?: number, to?: number): Gap[] {
    return this.deps.store.gaps(symbol, interval, from, to);
  }

  /** Stored klines of a series exactly as stored (complete buckets only when aggregated). */
  storedKlines(symbol: string, interval: Interval, from?: number, to?: number): Klines {
    return this.deps.store.loadRange(symbol, interval, from, to);
  }

  /**
   * The decimals the series' archive files printed per column (for `exportArchive`'s
   * `decimals`), or undefined when it never came from one. An interval that is not stored is
   * aggregated from 1m: its prices carry 1m's decimals, and so do its summed volumes.
   */
  archiveDecimals(symbol: string, interval: Interval): ColumnDecimals | undefined {
    return this.deps.store.decimals(symbol, interval) ?? (this.deps.store.sourceOf(symbol, interval) === undefined ? this.deps.store.decimals(symbol, '1m') : undefined);
  }


  // ---- queries ----

  /** Stored klines (higher intervals aggregated from 1m when not stored), with the forming one appended when watched. */
  klines(symbol: string, interval: Interval, from?: number, to?: number): Klines {
    const stored = this.deps.store.loadRange(symbol, interval, from, to, { partial: true });
    return stored;
  }

  /** The forming (not yet closed) kline of a watched series. */
  forming(symbol: string, interval: Interval = '1m'): Kline | undefined {
    return this.watches.get(key(symbol, interval))?.forming;
  }

  isStale(symbol: string, interval?: Interval): boolean {
    for (const w of this.watches.values()) if (w.symbol === symbol && (!interval || w.interval === interval) && w.stale) return true;
    return false;
  }

  /** Watched series that are behind the exchange. */
  staleSeries(): { symbol: string; interval: Interval }[] {
    return [...this.watches.values()].filter((w) => w.stale).map((w) => ({ symbol: w.symbol, interval: w.interval }));
  }

  watched(): { symbol: string; interval: Interval; stale: boolean }[] {
    return [...this.watches.values()].map((w) => ({ symbol: w.symbol, interval: w.interval, stale: w.stale }));
  }

  series(symbol?: string): SeriesInfo[] {
    return this.deps.store.series(symbol);
  }

  symbols(): StoredSymbol[] {
    return this.deps.symbols.list();
  }

  /** The connected exchange's venue name, or undefined when none is connected. */
  venue(): string | undefined {
    return this.port?.venue;
  }

  // ---- live feeds (plain data; the exchange port stays inside) ----

  /**
   * The order book of `symbol` on the connected exchange: `onUpdate` gets its top `depth` levels
   * per side on every change. Throws when no exchange is connected.
   */
  book(symbol: string, onUpdate: (top: BookTop) => void, depth = 10): Feed {
    const handle = this.requirePort().orderBook(symbol, (view) => {
      onUpdate({
        symbol,
        synced: view.synced,
        bids: view.synced ? view.bids(depth).map(([p, q]) => [p, q] as [string, string]) : [],
        asks: view.synced ? view.asks(depth).map(([p, q]) => [p, q] as [string, string]) : [],
        time: this.deps.clock.now(),
      });
    });
    return { close: () => handle.unsubscribe() };
  }

  /** The aggregated trades of `symbol` on the connected exchange. Throws when none is connected. */
  trades(symbol: string, onTrade: (trade: MarketTrade) => void): Feed {
    const sub = this.requirePort().subscribeAggTrades(symbol, (e) => onTrade({ time: e.T, price: e.p, qty: e.q, sell: e.m }));
    return { close: () => sub.unsubscribe() };
  }

  // ---- commands ----

  importArchives(paths: readonly string[], options: ImportOptions = {}): ImportSummary {
    const summary = importArchives(this.deps.store, paths, options);
    for (const s of summary.series) this.deps.bus.emit('market.stored', { symbol: s.symbol, interval: s.interval });
    return summary;
  }

  /**
   * `importArchives` one file at a time, yielding to the event loop between files, so a screen
   * stays responsive through a long import (better-sqlite3 is synchronous: one file, parsed and
   * written in its one transaction, is the slice). Progress is reported in bytes after each file;
   * `signal` stops before the next file (what was imported stays). The summary is the same as one
   * `importArchives` over every file, with `cancelled` set when stopped.
   */
  async importArchivesInSlices(paths: readonly string[], options: ImportOptions & { signal?: AbortSignal } = {}): Promise<ImportSummary & { cancelled: boolean }> {
    const started = performance.now();
    const files = listArchiveFiles(paths);
    const sizes = files.map((f) => statSync(f).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const parts: ImportSummary[] = [];
    const series = new Map<string, ImportSummary['series'][number]>();
    let done = 0;
    let cancelled = false;
    options.onProgress?.(0, total, '');
    for (let i = 0; i < files.length; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      const part = this.importArchives([files[i]], { ...options, onProgress: undefined });
      parts.push(part);
      for (const s of part.series) series.set(`${s.symbol}\u0000${s.interval}`, s);
      done += sizes[i];
      options.onProgress?.(done, total, files[i]);
    }
    const sum = (key: 'rows' | 'inserted' | 'duplicates' | 'repeated' | 'failed') => parts.reduce((a, p) => a + p[key], 0);
    return {
      files: parts.flatMap((p) => p.files),
      series: [...series.values()],
      rows: sum('rows'),
      inserted: sum('inserted'),
      duplicates: sum('duplicates'),
      repeated: sum('repeated'),
      failed: sum('failed'),
      elapsedMs: performance.now() - started,
      cancelled,
    };
  }

  /** Deletes every stored kline of a series (and returns the chunks removed). */
  deleteSeries(symbol: string, interval: Interval): number {
    const removed = this.deps.store.deleteSeriesKlines(symbol, interval);
    this.deps.bus.emit('market.stored', { symbol, interval });
    return removed;
  }

  async download(options: DownloadOptions): Promise<DownloadReport> {
    const port = this.requirePort();
    const report = await downloadKlines({ port, store: this.deps.store, symbols: this.deps.symbols, clock: this.deps.clock }, options);
    if (report.stored > 0) this.deps.bus.emit('market.stored', { symbol: options.symbol, interval: options.interval });
    return report;
  }

  /**
   * True when the connected exchange lists `symbol` (trading or not), false when it does not,
   * undefined while not known (no exchange, or its symbols not imported yet).
   */
  isListed(symbol: string): boolean | undefined {
    return this.listed?.has(symbol);
  }

  /** Imports the exchange's symbols and filters into the database. */
  async refreshSymbols(): Promise<number> {
    const port = this.requirePort();
    const info = await port.exchangeInfo();
    if (port === this.port) this.listed = new Set(info.symbols.map((s) => s.symbol));
    const raw: Record<string, unknown> = {};
    const rawSymbols = (info.raw as { symbols?: { symbol: string }[] } | undefined)?.symbols;
    if (Array.isArray(rawSymbols)) for (const s of rawSymbols) raw[s.symbol] = s;
    return this.deps.symbols.upsertAll(info.symbols, raw, this.deps.clock.now());
  }

  /** Uses this exchange for downloads and live klines (re-subscribes every watch). */
  attach(port: ExchangePort): void {
    if (this.port === port) return;
    this.detachStreams();
    this.port = port;
    this.listed = undefined;
    for (const w of this.watches.values()) this.start(w);
    // the exchange's symbols and filters into the database, once per connection
    this.refreshSymbols().then(
      (count) => this.deps.bus.emit('market.symbols', { count }),
      (error: unknown) => this.deps.log.warn({ component: 'market', err: (error as Error).message }, `cannot import the exchange's symbols: ${(error as Error).message}`),
    );
  }

  detach(): void {
    this.detachStreams();
    this.port = undefined;
    this.listed = undefined;
  }

  /**
   * Why the connected exchange cannot keep `symbol`/`interval` current, or undefined when it can:
   * 'no-exchange', 'not-listed' (the exchange does not list it), 'source' (the stored klines come
   * from another source, e.g. real Binance klines while on the simulated exchange: never mixed).
   */
  cannotWatch(symbol: string, interval: Interval = '1m'): 'no-exchange' | 'not-listed' | 'source' | undefined {
    if (!this.port) return 'no-exchange';
    if (this.listed && !this.listed.has(symbol)) return 'not-listed';
    const stored = this.deps.store.sourceOf(symbol, interval);
    if (stored !== undefined && stored !== sourceOfPort(this.port)) return 'source';
    return undefined;
  }

  /**
   * Keeps `symbol`/`interval` current while the returned function has not been called (watches
   * are counted: the last release stops the stream).
   */
  watch(symbol: string, interval: Interval = '1m'): () => void {
    const k = key(symbol, interval);
    let w = this.watches.get(k);
    if (!w) {
      w = { symbol, interval, refs: 0, stale: true, chain: Promise.resolve(), period: INTERVAL_MS[interval], generation: 0 };
      this.watches.set(k, w);
      if (this.port) this.start(w);
    }
    w.refs++;
    const watch = w;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      watch.refs--;
      if (watch.refs === 0) {
        this.stop(watch);
        this.watches.delete(k);
      }
    };
  }

  /** Waits until every queued fill and event of the watches has been handled (tests, shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      const chains = [...this.watches.values()].map((w) => w.chain);
      await Promise.all(chains);
      if ([...this.watches.values()].every((w, i) => w.chain === chains[i])) return;
    }
  }

  close(): void {
    this.offState();
    this.detachStreams();
    this.watches.clear();
  }

  // ---- internals ----

  private requirePort(): ExchangePort {
    if (!this.port) throw new Error('no exchange is connected');
    return this.port;
  }

  private detachStreams(): void {
    for (const w of this.watches.values()) this.stop(w);
  }

  private start(w: Watch): void {
    const port = this.port;
    if (!port) return;
    w.generation++;
    const generation = w.generation;
    if (this.cannotWatch(w.symbol, w.interval) === 'source') {
      // stored klines of another source (real vs simulated): this exchange never writes into them
      this.setStale(w, true, 'source');
      return;
    }
    this.setStale(w, true, 'starting');
    // subscribe first, then fill: events that arrive during the fill wait in the chain
    w.sub = port.subscribeKlines(w.symbol, w.interval, (event) => {
      if (w.generation !== generation) return;
      this.onEvent(w, event);
    });
    this.enqueueFill(w, 'starting');
  }

  private stop(w: Watch): void {
    w.generation++;
    w.sub?.unsubscribe();
    w.sub = undefined;
    w.cancelTimer?.();
    w.cancelTimer = undefined;
    w.forming = undefined;
  }

  private setStale(w: Watch, stale: boolean, reason?: string): void {
    if (w.stale === stale) return;
    w.stale = stale;
    this.deps.bus.emit('market.stale', { symbol: w.symbol, interval: w.interval, stale, reason });
  }

  private enqueue(w: Watch, task: () => Promise<void> | void): void {
    w.chain = w.chain.then(task).catch((error: unknown) => {
      this.deps.log.warn({ component: 'market', symbol: w.symbol, interval: w.interval, err: (error as Error).message }, `market data for ${w.symbol} ${w.interval} is behind: ${(error as Error).message}`);
      this.setStale(w, true, 'error');
      this.armTimer(w);
    });
  }

  /** Fills from the stored last kline (or the initial window) up to the exchange's last closed kline. */
  private enqueueFill(w: Watch, reason: string): void {
    const generation = w.generation;
    this.enqueue(w, async () => {
      if (!this.port || w.generation !== generation) return;
      this.setStale(w, true, reason);
      const now = await this.port.serverTime();
      w.exchangeTime = Math.max(w.exchangeTime ?? 0, now);
      await this.fill(w, undefined, now);
      if (w.generation !== generation) return;
      this.setStale(w, false);
      this.armTimer(w);
    });
  }

  /** Fetches and stores the missing klines up to `to` (default: the last closed at `now`). */
  private async fill(w: Watch, to: number | undefined, now: number): Promise<void> {
    const port = this.port;
    if (!port) return;
    const last = this.deps.store.lastOpenTime(w.symbol, w.interval);
    const from = last !== undefined ? nextOpenTime(last, w.interval) : now - (this.deps.initialKlines ?? 1000) * INTERVAL_MS[w.interval];
    const end = to ?? now;
    if (from > end) return;
    await ensureSymbol({ port, store: this.deps.store, symbols: this.deps.symbols, clock: this.deps.clock }, w.symbol);
    const report = await downloadKlines(
      { port, store: this.deps.store, symbols: this.deps.symbols, clock: this.deps.clock },
      { symbol: w.symbol, interval: w.interval, from, to: end, now },
    );
    if (report.stored > 0) {
      this.deps.bus.emit('market.filled', { symbol: w.symbol, interval: w.interval, from, to: end, stored: report.stored });
      this.deps.bus.emit('market.stored', { symbol: w.symbol, interval: w.interval });
    }
  }

  private onEvent(w: Watch, event: KlineEvent): void {
    const kline = eventKline(event);
    w.exchangeTime = Math.max(w.exchangeTime ?? 0, event.E);
    if (!event.k.x) {
      // a forming kline: show it at once (no need to wait for fills)
      w.forming = kline;
      this.deps.bus.emit('market.kline', { symbol: w.symbol, interval: w.interval, kline, closed: false });
      return;
    }
    const generation = w.generation;
    this.enqueue(w, async () => {
      if (w.generation !== generation) return;
      const last = this.deps.store.lastOpenTime(w.symbol, w.interval);
      if (last !== undefined && kline.openTime <= last) return; // already stored (by a fill)
      if (last !== undefined && kline.openTime > nextOpenTime(last, w.interval)) {
        this.setStale(w, true, 'gap');
        await this.fill(w, previousOpenTime(kline.openTime, w.interval), Math.max(event.E, event.k.T + 1));
        if (w.generation !== generation) return;
        const after = this.deps.store.lastOpenTime(w.symbol, w.interval);
        if (after !== undefined && kline.openTime <= after) return;
      }
      if (!this.port) return;
      this.deps.store.insert(w.symbol, w.interval, klinesFromRows([kline]), { source: sourceOfPort(this.port) });
      if (w.forming && w.forming.openTime <= kline.openTime) w.forming = undefined;
      const now = this.deps.clock.now();
      if (w.lastArrival !== undefined) w.period = Math.max(50, 0.7 * w.period + 0.3 * (now - w.lastArrival));
      w.lastArrival = now;
      this.deps.bus.emit('market.kline', { symbol: w.symbol, interval: w.interval, kline, closed: true });
      this.deps.bus.emit('market.stored', { symbol: w.symbol, interval: w.interval });
      this.setStale(w, false);
      this.armTimer(w);
    });
  }

  /** Arms the silence timer: no closed kline for three periods means the stream is behind. */
  private armTimer(w: Watch): void {
    w.cancelTimer?.();
    const generation = w.generation;
    w.cancelTimer = this.deps.clock.setTimer(
      3 * w.period + 2_000,
      () => {
        w.cancelTimer = undefined;
        if (w.generation !== generation || !this.port) return;
        this.setStale(w, true, 'silent');
        this.enqueueFill(w, 'silent');
      },
      { background: true }, // a watchdog: nothing waits for it
    );
  }
}
