import type { EventBus } from '../bus.js';
import type { TaskPool } from '../workers/pool.js';
import type { ResultOf, WorkerTask } from '../workers/tasks.js';
import type { Cac } from './cac.js';
import type { Bar, KlineColumns } from './indicators/index.js';
import type { AnalysisSnapshot, AnalysisTail } from './tasks.js';

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
  readonly ids = new Set<number>();
  recovering: Promise<void> | undefined;
  constructor(readonly index: number) {}
}

/**
 * Runs analyses in worker threads. Each analyzer slot is one slot of the analysis pool (one
 * thread), so an analysis' state stays pinned to one thread, and analyses share the pool's thread
 * budget with batch runs. A new analysis goes
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
      /** The analysis pool: one analyzer slot per pool slot. */
      pool: TaskPool;
      source: KlineSource;
      bus?: EventBus;
      now?: () => number;
    },
  ) {
    this.slots = Array.from({ length: options.pool.size }, (_, i) => new Slot(i));
  }

  get slotCount(): number {
    return this.slots.length;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private run<T extends WorkerTask>(slot: Slot, task: T): Promise<ResultOf<T>> {
    return this.options.pool.runOn(slot.index, task);
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
    this.options.pool.hold(slot.index);
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
      for (const id of slot.ids) {
        const e = this.entries.get(id);
        if (e) {
          e.state = 'recovering';
          this.emit(id, 'recovering');
        }
      }
      await this.options.pool.restart(slot.index);
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
    if (!slot.recovering) await this.run(slot, { kind: 'analysis.stop', id }).catch(() => undefined);
    // An empty slot holds no state: its thread may idle out like any other.
    if (slot.ids.size === 0) this.options.pool.release(slot.index);
    this.emit(id, 'stopped');
  }

  /** Test and diagnostics hook: kills the worker of `slot` abruptly. */
  async killWorker(slot: number): Promise<void> {
    await this.run(this.slots[slot], { kind: 'crash' }).catch(() => undefined);
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

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.entries.clear();
    for (const s of this.slots) {
      s.ids.clear();
      this.options.pool.release(s.index);
    }
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
