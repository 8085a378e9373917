import type { EventBus } from '../bus.js';
import type { Database } from '../../db/database.js';
import type { KlineRepository } from '../market/repository.js';
import { parseInterval, type Klines } from '../market/klines.js';
import type { WorkerPools } from '../workers/pools.js';
import { AnalysisParamError, validateCac, type Cac } from './cac.js';
import { analyzeBatch, type AnalysisResult } from './engine.js';
import { AnalyzerHost, type AnalysisTail, type HostedAnalysis } from './host.js';
import { INDICATORS, type Bar, type KlineColumns } from './indicators/index.js';
import { describeRange } from './cac.js';
import { PIP_LINES, PIP_MODES, PIP_PARAMS } from './pip.js';

/** What the TUI form and chart need to know about an indicator type. */
export interface IndicatorInfo {
  type: string;
  lines: readonly string[];
  overlay: boolean;
  summary: string;
  params: { name: string; default: number; allowed: string; description: string }[];
}
import { AnalysisStore, type AnalysisState, type StoredAnalysis, type StoredCac } from './store.js';

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
  readonly store: AnalysisStore;
  readonly host: AnalyzerHost;

  constructor(
    private readonly deps: { db: Database; bus: EventBus; klines: KlineRepository; slots: number; now: () => number; pools?: WorkerPools; workerFile?: string },
  ) {
    this.store = new AnalysisStore(deps.db, deps.now);
    this.host = new AnalyzerHost({
      slots: deps.slots,
      bus: deps.bus,
      now: deps.now,
      filename: deps.workerFile,
      source: (symbol, interval) => this.loadKlines(symbol, interval),
    });
    deps.pools?.attachAnalyzers(() => this.host.stats());
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

  /** Validates and saves a CAC (blank name → CAC_<n>). */
  async saveCac(input: Cac | unknown, id?: number): Promise<StoredCac> {
    const cac = validateCac(input);
    return this.store.saveCac(cac, id);
  }

  async deleteCac(id: number): Promise<void> {
    for (const a of await this.store.listAnalyses()) if (a.configId === id) await this.host.stop(a.id);
    await this.store.deleteCac(id);
  }

  // ---- analyses ----

  /** Applies a CAC to a symbol: stores the analysis and starts it over the stored klines. */
  async createAnalysis(cacId: number, symbol: string, interval: string): Promise<AnalysisView> {
    const stored = (await this.store.listCacs()).find((c) => c.id === cacId);
    if (!stored) throw new AnalysisParamError('analysis', 'cac', `no CAC with id ${cacId}`);
    parseInterval(interval);
    const a = await this.store.createAnalysis(cacId, symbol.toUpperCase(), interval);
    await this.startHosted(a, stored.cac);
    return (await this.list()).find((v) => v.id === a.id)!;
  }

  private async startHosted(a: StoredAnalysis, cac: Cac): Promise<void> {
    const hosted = await this.host.start({ id: a.id, cac, symbol: a.symbol, interval: a.interval });
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

  async stopAnalysis(id: number): Promise<void> {
    await this.host.stop(id);
    await this.store.updateAnalysis(id, { state: 'stopped' });
  }

  async deleteAnalysis(id: number): Promise<void> {
    await this.host.stop(id);
    await this.store.deleteAnalysis(id);
  }

  /** Feeds one closed kline (already stored) to the analyses of its series. */
  async pushKline(symbol: string, interval: string, bar: Bar): Promise<void> {
    await this.host.pushKline(symbol, interval, bar);
    for (const h of this.host.list()) {
      if (h.symbol === symbol && h.interval === interval) await this.store.updateAnalysis(h.id, { lastOpenTime: h.lastOpenTime });
    }
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
    if (!this.deps.pools) return analyzeBatch(cac, klines);
    return this.deps.pools.analysis.run({ kind: 'analysis.batch', cac, klines });
  }

  async close(): Promise<void> {
    await this.host.destroy();
  }
}
