import type { EventBus } from '../bus.js';
import type { KlineRepository } from '../market/repository.js';
import { nextOpenTime, parseInterval, type Kline, type Klines } from '../market/klines.js';
import type { TaskPool } from '../workers/pool.js';
import { AnalysisParamError, validateCac, type Cac } from './cac.js';
import { attachNnModel, type NnModelLookup } from '../nn/attach.js';
import type { AnalysisResult } from './engine.js';
import { AnalyzerHost, essentialColumns, type AnalysisTail, type HostedAnalysis } from './host.js';
import { INDICATORS, type Bar, type BookSnapshot, type KlineColumns } from './indicators/index.js';
import { describeRange } from './cac.js';
import { PIP_LINES, PIP_MODES, PIP_PARAMS } from './pip.js';

/** A live local order book of one symbol (for WOI). */
export interface BookFeed {
  /** The top levels right now, or undefined while the book is not in sync. */
  snapshot(): BookSnapshot | undefined;
  close(): void;
}

/** What the TUI form and chart need to know about an indicator type. */
export interface IndicatorInfo {
  type: string;
  lines: readonly string[];
  overlay: boolean;
  summary: string;
  params: { name: string; default: number; allowed: string; description: string }[];
}
import type { AnalysisRepository, AnalysisState, StoredAnalysis, StoredCac } from './repository.js';

/** One analysis as the AutoTrade and Currency Analysis pages show it. */
export interface AnalysisView extends StoredAnalysis {
  /** Analyzer slot (0-based) and worker thread, when running. */
  slot: number | null;
  threadId: number | null;
  /** Live state: the stored one, or the host's (starting, recovering, failed) while running. */
  liveState: AnalysisState | 'starting';
  count: number;
  lastUpdate: number | null;
  error?: string;
}

/**
 * Currency analysis: CACs, analyses running in the analyzer threads, and one-off batch runs. The
 * TUI and the `atm analyze` / `atm cac` commands call this through `app.analysis`.
 */
export class AnalysisService {
  private readonly store: AnalysisRepository;
  private readonly host: AnalyzerHost;

  constructor(
    private readonly deps: {
      /** Storage of CACs and analyses. */
      analyses: AnalysisRepository;
      bus: EventBus;
      klines: KlineRepository;
      now: () => number;
      /** The analysis worker pool: analyzer slots and batch runs share its threads. */
      pool: TaskPool;
      /** Keeps live klines of a series coming (the market data service); returns the unwatch. */
      watch?: (symbol: string, interval: string) => () => void;
      /** Opens the local order book of a symbol (the exchange), when one can be kept. */
      book?: (symbol: string) => BookFeed | undefined;
      onError?: (error: unknown) => void;
      /** Whether a symbol is known (stored klines, stored or listed exchange symbols); default: all are. */
      knownSymbol?: (symbol: string) => boolean;
      /** Stored neural network models, for a PIP whose nnModel names one (attached as plain data). */
      nnModels?: NnModelLookup;
    },
  ) {
    this.store = deps.analyses;
    this.host = new AnalyzerHost({
      pool: deps.pool,
      bus: deps.bus,
      now: deps.now,
      source: (symbol, interval) => this.loadKlines(symbol, interval),
    });
    // Closed klines are stored before they are announced: feed them to the analyses, in order.
    this.offs.push(
      deps.bus.on('market.kline', (e) => {
        if (!e.closed) return;
        // The book is sampled now, when the close is announced, not when the queue gets to it.
        const bar = barOf(e.kline, this.bookSnapshot(e.symbol));
        this.enqueue(() => this.pushKline(e.symbol, e.interval, bar));
      }),
      deps.bus.on('market.filled', (e) => this.enqueue(() => this.replaySeries(e.symbol, e.interval))),
    );
  }

  private readonly offs: (() => void)[] = [];
  /** Order books kept for analyses with WOI, by symbol (opened lazily, reference counted). */
  private readonly books = new Map<string, { refs: number; feed?: BookFeed }>();
  private readonly bookRefs = new Map<number, string>();

  private bookSnapshot(symbol: string): BookSnapshot | undefined {
    const entry = this.books.get(symbol);
    if (!entry) return undefined;
    entry.feed ??= this.deps.book?.(symbol);
    return entry.feed?.snapshot();
  }

  private acquireBook(id: number, cac: Cac, symbol: string): void {
    if (!cac.indicators.some((i) => i.type === 'WOI') || this.bookRefs.has(id)) return;
    const entry = this.books.get(symbol) ?? { refs: 0 };
    entry.refs++;
    this.books.set(symbol, entry);
    this.bookRefs.set(id, symbol);
    entry.feed ??= this.deps.book?.(symbol);
  }

  private releaseBook(id: number): void {
    const symbol = this.bookRefs.get(id);
    if (symbol === undefined) return;
    this.bookRefs.delete(id);
    const entry = this.books.get(symbol);
    if (entry && --entry.refs <= 0) {
      entry.feed?.close();
      this.books.delete(symbol);
    }
  }
  private readonly unwatch = new Map<number, () => void>();
  private chain: Promise<void> = Promise.resolve();

  /** Runs live-kline work one item at a time, in arrival order. */
  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((error: unknown) => this.deps.onError?.(error));
  }

  /** Replays the analyses of a series from the stored klines (after missing klines were filled). */
  private async replaySeries(symbol: string, interval: string): Promise<void> {
    for (const h of this.host.list()) if (h.symbol === symbol && h.interval === interval) await this.host.replay(h.id);
  }

  /** Every stored kline of a series (oldest first). */
  loadKlines(symbol: string, interval: string, from?: number, to?: number): Klines {
    return this.deps.klines.loadRange(symbol, parseInterval(interval), from, to);
  }

  /** Every indicator type (and PIP) with its lines and parameters. */
  catalog(): { indicators: IndicatorInfo[]; pip: { lines: readonly string[]; modes: readonly string[]; params: IndicatorInfo['params'] } } {
    const params = (list: typeof PIP_PARAMS) => list.map((p) => ({ name: p.name, default: p.default, allowed: describeRange(p), description: p.description }));
    return {
      indicators: Object.values(INDICATORS).map((s) => ({ type: s.type, lines: s.lines, overlay: s.overlay, summary: s.summary, params: params(s.params) })),
      pip: { lines: PIP_LINES, modes: PIP_MODES, params: params(PIP_PARAMS) },
    };
  }

  // ---- CACs ----

  listCacs(): Promise<StoredCac[]> {
    return this.store.listCacs();
  }

  /** A stored CAC by id or name. */
  getCac(idOrName: number | string): Promise<StoredCac | undefined> {
    return this.store.getCac(idOrName);
  }

  /** Validates and saves a CAC (blank name → CAC_<n>). */
  async saveCac(input: Cac | unknown, id?: number): Promise<StoredCac> {
    const cac = validateCac(input);
    return this.store.saveCac(cac, id);
  }

  async deleteCac(id: number): Promise<void> {
    for (const a of await this.store.listAnalyses()) {
      if (a.configId !== id) continue;
      this.unwatchOne(a.id);
      await this.host.stop(a.id);
    }
    await this.store.deleteCac(id);
  }

  // ---- analyses ----

  /** Applies a CAC to a symbol: stores the analysis and starts it over the stored klines. */
  async createAnalysis(cacId: number, symbol: string, interval: string): Promise<AnalysisView> {
    const stored = (await this.store.listCacs()).find((c) => c.id === cacId);
    if (!stored) throw new AnalysisParamError('analysis', 'cac', `no CAC with id ${cacId}`);
    parseInterval(interval);
    const upper = symbol.toUpperCase();
    if (this.deps.knownSymbol && !this.deps.knownSymbol(upper)) {
      throw new AnalysisParamError('analysis', 'symbol', `${upper} is not a known symbol: nothing is stored for it and no exchange lists it`);
    }
    const twin = (await this.store.listAnalyses()).find((x) => x.configId === cacId && x.symbol === upper && x.interval === interval);
    if (twin) throw new AnalysisParamError('analysis', 'symbol', `${stored.cac.name} is already applied to ${upper} ${interval} (analysis ${twin.id})`);
    const a = await this.store.createAnalysis(cacId, upper, interval);
    await this.startHosted(a, stored.cac);
    return (await this.list()).find((v) => v.id === a.id)!;
  }

  private async startHosted(a: StoredAnalysis, cac: Cac): Promise<void> {
    const hosted = await this.host.start({ id: a.id, cac: this.withModel(cac), symbol: a.symbol, interval: a.interval });
    if (this.deps.watch && !this.unwatch.has(a.id)) this.unwatch.set(a.id, this.deps.watch(a.symbol, a.interval));
    this.acquireBook(a.id, cac, a.symbol);
    await this.store.updateAnalysis(a.id, { state: hosted.state === 'failed' ? 'failed' : 'running', lastOpenTime: hosted.lastOpenTime });
  }

  /**
   * Restarts every analysis stored as running (after a program restart), each replayed over all
   * stored klines of its series: it continues exactly where the stored klines end, without a gap.
   */
  resume(): Promise<number> {
    this.resuming ??= this.resumeAll();
    return this.resuming;
  }

  private resuming: Promise<number> | undefined;

  private async resumeAll(): Promise<number> {
    const cacs = new Map((await this.store.listCacs()).map((c) => [c.id, c.cac]));
    let started = 0;
    for (const a of await this.store.listAnalyses()) {
      if (a.state !== 'running' && a.state !== 'recovering') continue;
      if (this.host.get(a.id)) continue;
      const cac = cacs.get(a.configId);
      if (!cac) continue;
      await this.startHosted(a, cac);
      started++;
    }
    return started;
  }

  private unwatchOne(id: number): void {
    this.unwatch.get(id)?.();
    this.unwatch.delete(id);
    this.releaseBook(id);
  }

  /**
   * Restarts one stopped (or failed) analysis: replayed over all stored klines of its series, it
   * continues where they end and then follows new ones, as after a program restart.
   */
  async resumeAnalysis(id: number): Promise<void> {
    const hosted = this.host.get(id);
    if (hosted && hosted.state !== 'failed') return;
    const a = (await this.store.listAnalyses()).find((x) => x.id === id);
    if (!a) throw new AnalysisParamError('analysis', 'id', `no analysis with id ${id}`);
    const stored = (await this.store.listCacs()).find((c) => c.id === a.configId);
    if (!stored) throw new AnalysisParamError('analysis', 'cac', `analysis ${id}: its CAC (id ${a.configId}) no longer exists`);
    if (hosted) await this.host.stop(id);
    await this.startHosted(a, stored.cac);
  }

  async stopAnalysis(id: number): Promise<void> {
    this.unwatchOne(id);
    await this.host.stop(id);
    await this.store.updateAnalysis(id, { state: 'stopped' });
  }

  async deleteAnalysis(id: number): Promise<void> {
    this.unwatchOne(id);
    await this.host.stop(id);
    await this.store.deleteAnalysis(id);
  }

  /**
   * Feeds one closed kline (already stored) to the analyses of its series. An analysis that would
   * skip klines (the new one is not the next after its last) is replayed from the stored klines
   * instead, so it never has a gap.
   */
  async pushKline(symbol: string, interval: string, bar: Bar): Promise<void> {
    const iv = parseInterval(interval);
    for (const h of this.host.list()) {
      if (h.symbol !== symbol || h.interval !== interval || h.state !== 'running') continue;
      if (h.lastOpenTime !== null && bar.openTime > nextOpenTime(h.lastOpenTime, iv)) await this.host.replay(h.id);
      else await this.host.update(h.id, bar);
      const now = this.host.get(h.id);
      if (now) await this.store.updateAnalysis(h.id, { lastOpenTime: now.lastOpenTime });
    }
  }

  /** The live state of a running analysis in its worker (plain data), if it runs. */
  live(id: number): HostedAnalysis | undefined {
    return this.host.get(id);
  }

  /** Analyzer slot count (the analysis pool's thread budget). */
  get slotCount(): number {
    return this.host.slotCount;
  }

  async list(): Promise<AnalysisView[]> {
    const stored = await this.store.listAnalyses();
    return stored.map((a) => {
      const h: HostedAnalysis | undefined = this.host.get(a.id);
      return {
        ...a,
        slot: h ? h.slot : null,
        threadId: h ? h.threadId : null,
        liveState: h ? (h.state === 'starting' ? 'starting' : h.state) : a.state === 'running' ? 'stopped' : a.state,
        count: h ? h.count : 0,
        lastOpenTime: h?.lastOpenTime ?? a.lastOpenTime,
        lastUpdate: h?.lastUpdate ?? null,
        error: h?.error,
      };
    });
  }

  /** The newest output rows of a running analysis (for the chart). */
  tail(id: number, count: number): Promise<AnalysisTail | undefined> {
    return this.host.tail(id, count);
  }

  /** A temporary analysis over given klines, computed in the analysis worker pool. */
  async runBatch(cac: Cac, klines: KlineColumns): Promise<AnalysisResult> {
    return this.deps.pool.run({ kind: 'analysis.batch', cac: this.withModel(cac), klines: essentialColumns(klines) });
  }

  /** The CAC with its PIP's neural network model attached (see core/nn/attach.ts). */
  private withModel(cac: Cac): Cac {
    return cac.pip?.nnModel ? attachNnModel(cac, this.deps.nnModels ?? (() => undefined)) : cac;
  }

  async close(): Promise<void> {
    for (const off of this.offs) off();
    for (const id of [...this.unwatch.keys()]) this.unwatchOne(id);
    await this.chain;
    await this.host.destroy();
  }
}

/** A closed kline from the market data service as the indicators see it. */
export function barOf(k: Kline, book?: BookSnapshot): Bar {
  return {
    openTime: k.openTime, open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume, takerBuyVolume: k.takerBuyVolume, book,
  };
}

/** Converts top-of-book levels (decimal strings, best first) to a snapshot. */
export function bookFromLevels(bids: readonly (readonly [string, string])[], asks: readonly (readonly [string, string])[]): BookSnapshot {
  return {
    bidPrice: Float64Array.from(bids, (l) => Number(l[0])),
    bidQty: Float64Array.from(bids, (l) => Number(l[1])),
    askPrice: Float64Array.from(asks, (l) => Number(l[0])),
    askQty: Float64Array.from(asks, (l) => Number(l[1])),
  };
}
