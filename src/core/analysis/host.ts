import Tinypool from 'tinypool';
import type { EventBus } from '../bus.js';
import { workerEntry, type PoolStats } from '../workers/pools.js';
import type { Cac } from './cac.js';
import type { Bar, KlineColumns } from './indicators/index.js';
import type { AnalysisSnapshot, AnalysisTail } from '../../workers/analysis-tasks.js';
import type { WorkerResult, WorkerTask } from '../../workers/protocol.js';

export type { AnalysisSnapshot, AnalysisTail };

/** Stored klines of a symbol and interval, oldest first (the whole stored history). */
export type KlineSource = (symbol: string, interval: string) => KlineColumns;

export type HostedState = 'starting' | 'running' | 'recovering' | 'failed';

export interface HostedAnalysis {
  id: number;
  symbol: string;
  interval: string;
  /** Analyzer slot (worker) index, 0-based. */
  slot: number;
  /** Thread id of the worker that holds it (after the first answer). */
  threadId: number | null;
  state: HostedState;
  /** Klines analysed. */
  count: number;
  lastOpenTime: number | null;
  /** Wall-clock time of the last answer from the worker (ms). */
  lastUpdate: number | null;
  columns: string[];
  /** The newest output row (NaN = null). */
  last: Float64Array;
  error?: string;
}

declare module '../events.js' {
  interface AppEvents {
    /** An analysis was added, removed, moved or changed state. */
    'analysis.changed': { id: number; state: HostedState | 'stopped' };
    /** An analysis consumed a closed kline. */
    'analysis.updated': {
      id: number;
      openTime: number;
      /** The output row of that kline (NaN = null) and its column names: a chart appends it. */
      columns?: readonly string[];
      row?: Float64Array;
    };
  }
}

interface Entry extends HostedAnalysis {
  cac: Cac;
}

class Slot {
  pool: Tinypool | undefined;
  readonly ids = new Set<number>();
  running = 0;
  completed = 0;
  failed = 0;
  recovering: Promise<void> | undefined;
  constructor(readonly index: number) {}
}

/**
 * Runs analyses in worker threads. Each analyzer slot is a single-thread tinypool, so an analysis'
 * state stays pinned to one thread; the slot count is the analysis pool size. A new analysis goes
 * to the slot holding the fewest (ties: the lowest slot). When a worker dies (a task fails because
 * the thread exited, or the worker answers that it does not know an analysis), the slot is re-created
 * and each of its analyses is replayed from stored klines, so nothing is skipped.
 */
export class AnalyzerHost {
  private readonly slots: Slot[];
  private readonly entries = new Map<number, Entry>();
  private destroyed = false;

  constructor(
    private readonly options: {
      slots: number;
      source: KlineSource;
      bus?: EventBus;
      now?: () => number;
      /** Worker entry (default: dist/workers/analysis.js). */
      filename?: string;
    },
  ) {
    this.slots = Array.from({ length: Math.max(1, options.slots) }, (_, i) => new Slot(i));
  }

  get slotCount(): number {
    return this.slots.length;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private pool(slot: Slot): Tinypool {
    if (!slot.pool) {
      slot.pool = new Tinypool({
        filename: this.options.filename ?? workerEntry('analysis'),
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: 2 ** 31 - 1,
      });
    }
    return slot.pool;
  }

  private async run<T extends WorkerTask>(slot: Slot, task: T): Promise<WorkerResult<T>> {
    const pool = this.pool(slot);
    slot.running++;
    this.changedPools();
    try {
      const result = (await pool.run(task)) as WorkerResult<T>;
      slot.completed++;
      return result;
    } catch (error) {
      slot.failed++;
      throw error;
    } finally {
      slot.running--;
      this.changedPools();
    }
  }

  private changedPools(): void {
    this.options.bus?.emit('workers.changed', { pool: 'analysis' });
  }

  private emit(id: number, state: HostedState | 'stopped'): void {
    this.options.bus?.emit('analysis.changed', { id, state });
  }

  private leastLoaded(): Slot {
    let best = this.slots[0];
    for (const s of this.slots) if (s.ids.size < best.ids.size) best = s;
    return best;
  }

  private apply(entry: Entry, snap: AnalysisSnapshot): void {
    entry.threadId = snap.threadId;
    entry.count = snap.count;
    entry.lastOpenTime = snap.lastOpenTime;
    entry.columns = snap.columns;
    entry.last = snap.last;
    entry.lastUpdate = this.now();
  }

  /** Starts analysis `id` (replacing one with the same id) over the stored klines. */
  async start(spec: { id: number; cac: Cac; symbol: string; interval: string }): Promise<HostedAnalysis> {
    if (this.entries.has(spec.id)) await this.stop(spec.id);
    const slot = this.leastLoaded();
    const entry: Entry = {
      ...spec, slot: slot.index, threadId: null, state: 'starting', count: 0, lastOpenTime: null, lastUpdate: null, columns: [], last: new Float64Array(0),
    };
    this.entries.set(spec.id, entry);
    slot.ids.add(spec.id);
    this.emit(spec.id, 'starting');
    await slot.recovering;
    await this.load(slot, entry);
    return this.view(entry);
  }

  /** Replays analysis `id` from the stored klines (same slot, same CAC). */
  async replay(id: number): Promise<HostedAnalysis | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const slot = this.slots[entry.slot];
    await slot.recovering;
    await this.load(slot, entry);
    // no row: a chart of it reloads (a replay may have changed rows it holds)
    if (entry.state === 'running' && entry.lastOpenTime !== null) this.options.bus?.emit('analysis.updated', { id: entry.id, openTime: entry.lastOpenTime });
    return this.view(entry);
  }

  /** Replays an analysis from the stored klines into its slot's worker. */
  private async load(slot: Slot, entry: Entry): Promise<void> {
    try {
      const klines = essentialColumns(this.options.source(entry.symbol, entry.interval));
      const snap = await this.run(slot, { kind: 'analysis.start', id: entry.id, cac: entry.cac, klines });
      this.apply(entry, snap);
      entry.state = 'running';
      entry.error = undefined;
    } catch (error) {
      if (this.entries.get(entry.id) !== entry) return;
      if (!this.destroyed && (await this.lostState(slot))) {
        await this.recover(slot);
        return;
      }
      entry.state = 'failed';
      entry.error = (error as Error).message;
    }
    this.emit(entry.id, entry.state);
  }

  /**
   * Feeds one closed kline to every running analysis of `symbol`/`interval`. Klines at or before an
   * analysis' last open time are ignored (a replay already covered them).
   */
  async pushKline(symbol: string, interval: string, bar: Bar): Promise<void> {
    const targets = [...this.entries.values()].filter((e) => e.symbol === symbol && e.interval === interval);
    await Promise.all(targets.map((e) => this.update(e.id, bar)));
  }

  async update(id: number, bar: Bar): Promise<HostedAnalysis | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    const slot = this.slots[entry.slot];
    await slot.recovering;
    if (entry.state === 'failed' || (entry.lastOpenTime !== null && bar.openTime <= entry.lastOpenTime)) return this.view(entry);
    try {
      const snap = await this.run(slot, { kind: 'analysis.update', id, bar });
      this.apply(entry, snap);
      this.options.bus?.emit('analysis.updated', { id, openTime: bar.openTime, columns: snap.columns, row: snap.last });
    } catch (error) {
      if (this.destroyed || !(await this.lostState(slot))) throw error;
      await this.recover(slot);
      // The replay covers every stored kline; feed this one if it was not stored yet.
      const again = this.entries.get(id);
      if (again && again.state === 'running' && (again.lastOpenTime === null || bar.openTime > again.lastOpenTime)) {
        const snap = await this.run(slot, { kind: 'analysis.update', id, bar });
        this.apply(again, snap);
        this.options.bus?.emit('analysis.updated', { id, openTime: bar.openTime, columns: snap.columns, row: snap.last });
      }
    }
    return this.view(entry);
  }

  /**
   * After a failed task: did the slot's worker die (tinypool starts a fresh thread in its place,
   * which holds nothing)? Asks the worker which analyses it holds; no answer counts as dead.
   */
  private async lostState(slot: Slot): Promise<boolean> {
    if (slot.recovering) return true;
    try {
      const { ids } = await this.run(slot, { kind: 'analysis.list' });
      const held = new Set(ids);
      for (const id of slot.ids) {
        const e = this.entries.get(id);
        if (e && e.state !== 'starting' && !held.has(id)) return true;
      }
      return false;
    } catch {
      return true;
    }
  }

  /** Re-creates a slot's worker and replays its analyses (once, however many callers noticed). */
  private recover(slot: Slot): Promise<void> {
    if (slot.recovering) return slot.recovering;
    slot.recovering = (async () => {
      const old = slot.pool;
      slot.pool = undefined;
      for (const id of slot.ids) {
        const e = this.entries.get(id);
        if (e) {
          e.state = 'recovering';
          this.emit(id, 'recovering');
        }
      }
      await old?.destroy().catch(() => {});
      for (const id of [...slot.ids]) {
        const e = this.entries.get(id);
        if (!e) continue;
        try {
          const klines = essentialColumns(this.options.source(e.symbol, e.interval));
          const snap = await this.run(slot, { kind: 'analysis.start', id, cac: e.cac, klines });
          this.apply(e, snap);
          e.state = 'running';
        } catch (error) {
          e.state = 'failed';
          e.error = (error as Error).message;
        }
        this.emit(id, e.state);
      }
    })().finally(() => {
      slot.recovering = undefined;
    });
    return slot.recovering;
  }

  async tail(id: number, count: number): Promise<AnalysisTail | undefined> {
    const entry = this.entries.get(id);
    if (!entry || entry.state !== 'running') return undefined;
    const slot = this.slots[entry.slot];
    await slot.recovering;
    return this.run(slot, { kind: 'analysis.tail', id, count });
  }

  async stop(id: number): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    const slot = this.slots[entry.slot];
    slot.ids.delete(id);
    if (slot.pool && !slot.recovering) await this.run(slot, { kind: 'analysis.stop', id }).catch(() => undefined);
    if (slot.ids.size === 0 && slot.pool && !slot.recovering) {
      const pool = slot.pool;
      slot.pool = undefined;
      await pool.destroy();
      this.changedPools();
    }
    this.emit(id, 'stopped');
  }

  /** Test and diagnostics hook: kills the worker of `slot` abruptly. */
  async killWorker(slot: number): Promise<void> {
    const s = this.slots[slot];
    if (!s.pool) return;
    await this.run(s, { kind: 'crash' }).catch(() => undefined);
  }

  /** Which worker thread answers for `slot` right now, and what it holds. */
  async probe(slot: number): Promise<{ threadId: number; ids: number[] }> {
    return this.run(this.slots[slot], { kind: 'analysis.list' });
  }

  get(id: number): HostedAnalysis | undefined {
    const e = this.entries.get(id);
    return e ? this.view(e) : undefined;
  }

  list(): HostedAnalysis[] {
    return [...this.entries.values()].map((e) => this.view(e));
  }

  private view(e: Entry): HostedAnalysis {
    const { cac: _cac, ...rest } = e;
    return { ...rest };
  }

  /** The analyzer threads in the Dashboard's pool shape. */
  stats(): PoolStats {
    let threads = 0;
    let running = 0;
    let queued = 0;
    let completed = 0;
    let failed = 0;
    for (const s of this.slots) {
      threads += s.pool ? s.pool.threads.length : 0;
      queued += s.pool ? s.pool.queueSize : 0;
      running += s.running;
      completed += s.completed;
      failed += s.failed;
    }
    return { name: 'analysis', maxThreads: this.slots.length, threads, running: Math.max(0, running - queued), queued, completed, failed };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.entries.clear();
    await Promise.all(
      this.slots.map(async (s) => {
        s.ids.clear();
        const pool = s.pool;
        s.pool = undefined;
        await pool?.destroy();
      }),
    );
  }
}

/**
 * Only the fields the indicators read, cut to the valid rows: what is copied to the worker. (A
 * typed-array view is cloned with its whole buffer, so spare capacity is cut with a copy.)
 */
export function essentialColumns(k: KlineColumns): KlineColumns {
  const n = k.length ?? k.close.length;
  const cut = (a: Float64Array) => (a.length === n && a.byteOffset === 0 && a.buffer.byteLength === n * 8 ? a : a.slice(0, n));
  return {
    length: n, openTime: cut(k.openTime), open: cut(k.open), high: cut(k.high), low: cut(k.low), close: cut(k.close),
    volume: cut(k.volume), takerBuyVolume: cut(k.takerBuyVolume),
  };
}
