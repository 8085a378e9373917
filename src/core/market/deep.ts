import type { AggTrade, ExchangePort, OrderBookHandle, Subscription } from '../exchange/port.js';
import { RealClock, type Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import type { BookSample, DeepTrade, TradeColumns } from './deepCodec.js';
import { sourceOfPort } from './download.js';
import type { KlineSource } from './repository.js';

export type { BookSample, DeepTrade };

/**
 * Deep market data: aggregated trades and the order book, recorded from the exchange's streams
 * (the exchange serves neither historically through its API, except aggTrades by id) and imported
 * from Binance's public archive files.
 *
 * Book recording (stated in docs/market-data.md, "Deep data"): the top `levels` (default 20) of
 * each side of the locally maintained book (ExchangePort.orderBook: snapshot + diff stream,
 * resynced on any gap) sampled every `sampleMs` (default 1 s). A sample is only taken from a
 * synced book; when the book resynced (or was not synced) between two samples, the span between
 * them is a `book` gap with cause `resync` (or `disconnected` while the stream was down).
 *
 * Trades: the aggTrade stream, checked for continuity by aggregate trade id. Missing ids (a
 * reconnect, a restart) are fetched from REST (`aggTrades(fromId)`, bounded pages); what cannot
 * be fetched is a `trades` gap (cause `disconnected`, or `recorder_stopped` for the hole since
 * the previous run).
 */

export type DeepKind = 'trades' | 'book';
export type DeepGapCause = 'resync' | 'disconnected' | 'recorder_stopped';
export const DEEP_GAP_CAUSES: readonly DeepGapCause[] = ['resync', 'disconnected', 'recorder_stopped'];

export interface DeepGap {
  symbol: string;
  kind: DeepKind;
  /** Last time known good and first time known good again (ms). */
  from: number;
  to: number;
  cause: DeepGapCause;
  /** Trades: the missing aggregate trade ids (inclusive), when known. */
  fromId?: number;
  toId?: number;
}

/** One row of a Binance `bookDepth` archive file, as the file has it. */
export interface BookDepthRow {
  time: number;
  /** Distance from the mid price in percent, signed (negative: bids). */
  percentage: string;
  /** Cumulative quantity within that distance. */
  depth: string;
  notional: string;
}

export interface DeepInsertReport {
  inserted: number;
  duplicates: number;
  chunks: number;
  /** Bytes of packed data written. */
  bytes: number;
}

export interface DeepSeriesInfo {
  symbol: string;
  trades: number;
  firstTradeTime: number | null;
  lastTradeTime: number | null;
  tradeBytes: number;
  samples: number;
  firstSampleTime: number | null;
  lastSampleTime: number | null;
  bookBytes: number;
  depthRows: number;
  gaps: number;
}

/** The deep data storage port (src/db/deepStore.ts implements it on SQLite; calls are synchronous). */
export interface DeepRepository {
  /** Stores trades (any order); ids already stored are skipped. A symbol holds trades of one source. */
  insertTrades(symbol: string, trades: readonly DeepTrade[], options?: { source?: KlineSource }): DeepInsertReport;
  /** Trades with times in [from, to], by id. */
  loadTrades(symbol: string, from?: number, to?: number): DeepTrade[];
  /** The same trades as columns of numbers (charts and sums: decodes without building text). */
  loadTradeColumns(symbol: string, from?: number, to?: number): TradeColumns;
  /** Trades in the chunks overlapping [from, to] (an upper bound of loadTrades' length, without decoding). */
  countTrades(symbol: string, from?: number, to?: number): number;
  lastTrade(symbol: string): DeepTrade | undefined;
  insertBookSamples(symbol: string, samples: readonly BookSample[]): DeepInsertReport;
  loadBookSamples(symbol: string, from?: number, to?: number): BookSample[];
  /** Samples in the chunks overlapping [from, to] (an upper bound, without decoding). */
  countBookSamples(symbol: string, from?: number, to?: number): number;
  lastBookSampleTime(symbol: string): number | undefined;
  insertBookDepth(symbol: string, rows: readonly BookDepthRow[]): DeepInsertReport;
  loadBookDepth(symbol: string, from?: number, to?: number): BookDepthRow[];
  addGap(gap: DeepGap): void;
  /** Gaps overlapping [from, to], oldest first. */
  gaps(symbol?: string, from?: number, to?: number): DeepGap[];
  summary(symbol?: string): DeepSeriesInfo[];
}

/** An exchange aggTrade as stored. */
export function tradeOf(t: AggTrade): DeepTrade {
  return { id: t.a, price: t.p, qty: t.q, firstId: t.f, lastId: t.l, time: t.T, buyerMaker: t.m };
}

// ---------------------------------------------------------------------------------------------
// The recorder
// ---------------------------------------------------------------------------------------------

export interface DeepRecorderDeps {
  port: ExchangePort;
  store: DeepRepository;
  /** Sample times and the sample and flush timers (default: the real clock). */
  clock?: Clock;
  log?: Logger;
}

export interface DeepRecorderOptions {
  /** Book levels kept per side per sample (default 20). */
  levels?: number;
  /** Book sample period, ms (default 1000). */
  sampleMs?: number;
  /** Pending trades and samples are written this often, ms (default 10 000), and on stop. */
  flushMs?: number;
  /** REST pages (1000 trades each) fetched at most to fill one hole in the trade ids (default 20). */
  maxFillPages?: number;
}

export interface DeepStats {
  symbol: string;
  /** Trades stored by this recorder (stream and REST fills). */
  trades: number;
  /** Trades fetched from REST to fill id holes. */
  refetched: number;
  samples: number;
  lastTradeId: number | undefined;
  lastTradeTime: number | undefined;
  lastSampleTime: number | undefined;
  bookSynced: boolean;
  /** Book resyncs seen. */
  resyncs: number;
  /** Gaps recorded by this recorder. */
  gaps: number;
  /** Packed bytes written. */
  bytes: number;
  pendingTrades: number;
  pendingSamples: number;
  errors: number;
}

export interface DeepRecording {
  stop(): Promise<void>;
  stats(): DeepStats;
}

/**
 * Records one symbol's aggTrades and order book samples into `deps.store` until `stop()`.
 * On start, the span since the previous run's last stored sample is a `recorder_stopped` book
 * gap; the trades since its last stored trade are fetched from REST when possible.
 */
export function startDeepRecording(deps: DeepRecorderDeps, symbol: string, options: DeepRecorderOptions = {}): DeepRecording {
  return new DeepRecorder(deps, symbol, options).start();
}

/** Rows kept in memory at most per kind while the store cannot be written. */
const MAX_PENDING = 500_000;

class DeepRecorder implements DeepRecording {
  private readonly now: () => number;
  private readonly levels: number;
  private readonly sampleMs: number;
  private readonly flushMs: number;
  private readonly maxFillPages: number;
  private readonly source: KlineSource;
  private pendingTrades: DeepTrade[] = [];
  private pendingSamples: BookSample[] = [];
  private lastId: number | undefined;
  private lastTime: number | undefined;
  private lastSampleTime: number | undefined;
  /** The previous run's last stored sample: the start of a `recorder_stopped` gap. */
  private stoppedSince: number | undefined;
  private seenResyncs = 0;
  private bookDownSince: number | undefined;
  private bookDownCause: DeepGapCause = 'resync';
  private streamUp = true;
  /** The market stream went down since the previous sample (a resync seen now is its doing). */
  private downSinceSample = false;
  private fills: Promise<void> = Promise.resolve();
  private firstTrade = true;
  private tradeSub?: Subscription;
  private stateSub?: Subscription;
  private book?: OrderBookHandle;
  private readonly clock: Clock;
  private readonly timers: (() => void)[] = [];
  private stopped = false;
  private readonly counts = { trades: 0, refetched: 0, samples: 0, gaps: 0, bytes: 0, errors: 0 };

  constructor(private readonly deps: DeepRecorderDeps, readonly symbol: string, options: DeepRecorderOptions) {
    this.clock = deps.clock ?? new RealClock();
    this.now = () => this.clock.now();
    this.levels = options.levels ?? 20;
    this.sampleMs = options.sampleMs ?? 1000;
    this.flushMs = options.flushMs ?? 10_000;
    this.maxFillPages = options.maxFillPages ?? 20;
    this.source = sourceOfPort(deps.port);
  }

  start(): this {
    const { port, store } = this.deps;
    const last = store.lastTrade(this.symbol);
    this.lastId = last?.id;
    this.lastTime = last?.time;
    this.stoppedSince = store.lastBookSampleTime(this.symbol);
    this.stateSub = port.onStreamState?.((state) => {
      this.streamUp = state.up;
      if (!state.up) this.downSinceSample = true;
    });
    this.tradeSub = port.subscribeAggTrades(this.symbol, (e) => this.onTrade(tradeOf(e)));
    this.book = port.orderBook(this.symbol);
    this.every(this.sampleMs, () => this.sample());
    this.every(this.flushMs, () => this.flush());
    return this;
  }

  /** Runs `fn` every `ms` until stop (a timer that keeps the process alive: recording is work). */
  private every(ms: number, fn: () => void): void {
    const slot = this.timers.length;
    const arm = () => {
      this.timers[slot] = this.clock.setTimer(ms, () => {
        if (this.stopped) return;
        fn();
        arm();
      });
    };
    arm();
  }

  private onTrade(t: DeepTrade): void {
    if (this.stopped) return;
    if (this.lastId !== undefined && t.id <= this.lastId) return; // a repeat (reconnect, duplicate frame)
    if (this.lastId !== undefined && t.id > this.lastId + 1) {
      const cause: DeepGapCause = this.firstTrade ? 'recorder_stopped' : 'disconnected';
      this.queueFill(this.lastId + 1, t.id - 1, this.lastTime ?? t.time, t.time, cause);
    }
    this.firstTrade = false;
    this.lastId = t.id;
    this.lastTime = t.time;
    this.pendingTrades.push(t);
  }

  /** Fetches trades [fromId, toId] from REST (serialized), or records what stays missing as a gap. */
  private queueFill(fromId: number, toId: number, fromTime: number, toTime: number, cause: DeepGapCause): void {
    this.fills = this.fills.then(async () => {
      let next = fromId;
      let before = fromTime;
      try {
        for (let page = 0; page < this.maxFillPages && next <= toId && !this.stopped; page++) {
          const rows = await this.deps.port.aggTrades(this.symbol, { fromId: next, limit: 1000 });
          const wanted = rows.filter((r) => r.a >= next && r.a <= toId).map(tradeOf);
          if (wanted.length === 0 || wanted[0].id !== next) break; // the exchange no longer has them
          for (let i = 1; i < wanted.length; i++) if (wanted[i].id !== wanted[i - 1].id + 1) wanted.length = i;
          this.pendingTrades.push(...wanted);
          this.counts.refetched += wanted.length;
          next = wanted[wanted.length - 1].id + 1;
          before = wanted[wanted.length - 1].time;
          if (rows.length < 1000) break;
        }
      } catch (error) {
        this.counts.errors++;
        this.deps.log?.warn({ component: 'deep', symbol: this.symbol, err: (error as Error).message }, 'aggTrades REST fill failed');
      }
      if (next <= toId) this.addGap({ symbol: this.symbol, kind: 'trades', from: before, to: toTime, cause, fromId: next, toId });
    });
  }

  private addGap(gap: DeepGap): void {
    try {
      this.deps.store.addGap(gap);
      this.counts.gaps++;
    } catch (error) {
      this.counts.errors++;
      this.deps.log?.error({ component: 'deep', symbol: this.symbol, err: (error as Error).message }, 'cannot store a deep data gap');
    }
  }

  private resyncCount(): number {
    return this.deps.port.stats().books.find((b) => b.symbol === this.symbol)?.resyncs ?? 0;
  }

  private sample(): void {
    if (this.stopped || !this.book) return;
    const now = this.now();
    const view = this.book.book;
    const resyncs = this.resyncCount();
    const resynced = resyncs > this.seenResyncs;
    this.seenResyncs = resyncs;
    const cause: DeepGapCause = this.streamUp && !this.downSinceSample ? 'resync' : 'disconnected';
    this.downSinceSample = !this.streamUp;
    if (!view.synced) {
      if (this.bookDownSince === undefined && this.lastSampleTime !== undefined) {
        this.bookDownSince = this.lastSampleTime;
        this.bookDownCause = cause;
      } else if (cause === 'disconnected') this.bookDownCause = cause;
      return;
    }
    if (this.bookDownSince !== undefined) {
      this.addGap({ symbol: this.symbol, kind: 'book', from: this.bookDownSince, to: now, cause: this.bookDownCause });
      this.bookDownSince = undefined;
    } else if (resynced && this.lastSampleTime !== undefined) {
      // resynced between two samples: the changes in between were lost
      this.addGap({ symbol: this.symbol, kind: 'book', from: this.lastSampleTime, to: now, cause });
    } else if (this.lastSampleTime === undefined && this.stoppedSince !== undefined && now - this.stoppedSince > 2 * this.sampleMs) {
      this.addGap({ symbol: this.symbol, kind: 'book', from: this.stoppedSince, to: now, cause: 'recorder_stopped' });
    }
    this.pendingSamples.push({ time: now, bids: view.bids(this.levels), asks: view.asks(this.levels) });
    this.lastSampleTime = now;
  }

  /** Writes what is pending; on a failed write keeps it for the next flush (bounded: the oldest go first). */
  private flush(): void {
    const { store } = this.deps;
    const trades = this.pendingTrades;
    const samples = this.pendingSamples;
    this.pendingTrades = [];
    this.pendingSamples = [];
    try {
      if (trades.length > 0) {
        const report = store.insertTrades(this.symbol, trades, { source: this.source });
        this.counts.trades += report.inserted;
        this.counts.bytes += report.bytes;
      }
    } catch (error) {
      this.keep(trades, 'pendingTrades', error);
    }
    try {
      if (samples.length > 0) {
        const report = store.insertBookSamples(this.symbol, samples);
        this.counts.samples += report.inserted;
        this.counts.bytes += report.bytes;
      }
    } catch (error) {
      this.keep(samples, 'pendingSamples', error);
    }
  }

  private keep(rows: DeepTrade[] | BookSample[], key: 'pendingTrades' | 'pendingSamples', error: unknown): void {
    this.counts.errors++;
    this.deps.log?.error({ component: 'deep', symbol: this.symbol, err: (error as Error).message }, 'cannot store deep data; kept for the next write');
    const bound = <T>(list: T[]): T[] => (list.length > MAX_PENDING ? list.slice(list.length - MAX_PENDING) : list);
    if (key === 'pendingTrades') this.pendingTrades = bound([...(rows as DeepTrade[]), ...this.pendingTrades]);
    else this.pendingSamples = bound([...(rows as BookSample[]), ...this.pendingSamples]);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.tradeSub?.unsubscribe();
    this.stateSub?.unsubscribe();
    this.book?.unsubscribe();
    await this.fills;
    this.flush();
  }

  stats(): DeepStats {
    return {
      symbol: this.symbol,
      ...this.counts,
      lastTradeId: this.lastId,
      lastTradeTime: this.lastTime,
      lastSampleTime: this.lastSampleTime,
      bookSynced: this.book?.book.synced ?? false,
      resyncs: this.seenResyncs,
      pendingTrades: this.pendingTrades.length,
      pendingSamples: this.pendingSamples.length,
    };
  }
}
