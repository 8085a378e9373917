import { threadId } from 'node:worker_threads';
import { AnalysisEngine, analyzeBatch, type AnalysisResult } from '../core/analysis/engine.js';
import type { Cac } from '../core/analysis/cac.js';
import { columnsLength, type Bar, type KlineColumns } from '../core/analysis/indicators/index.js';
import type { TaskHandler } from './protocol.js';

/** Rows of output kept per analysis in the worker, for the chart (the newest ones). */
export const KEEP_ROWS = 4096;

export interface AnalysisSnapshot {
  id: number;
  threadId: number;
  count: number;
  lastOpenTime: number | null;
  columns: string[];
  /** The newest row (NaN = null), or empty before any kline. */
  last: Float64Array;
}

export interface AnalysisTail {
  id: number;
  columns: string[];
  openTime: Float64Array;
  /** One array per column, oldest first. */
  values: Float64Array[];
}

declare module './protocol.js' {
  interface WorkerTasks {
    /** Creates (or replaces) analysis `id` in this worker and runs it over `klines`. */
    'analysis.start': { task: { kind: 'analysis.start'; id: number; cac: Cac; klines: KlineColumns }; result: AnalysisSnapshot };
    /** Feeds one closed kline to analysis `id`; fails with "unknown analysis" when the worker lost it. */
    'analysis.update': { task: { kind: 'analysis.update'; id: number; bar: Bar }; result: AnalysisSnapshot };
    /** The newest `count` rows of analysis `id`. */
    'analysis.tail': { task: { kind: 'analysis.tail'; id: number; count: number }; result: AnalysisTail };
    'analysis.stop': { task: { kind: 'analysis.stop'; id: number }; result: { stopped: boolean } };
    /** A one-off batch run (temporary analysis over a range). */
    'analysis.batch': { task: { kind: 'analysis.batch'; cac: Cac; klines: KlineColumns }; result: AnalysisResult };
    /** The analyses this worker holds. */
    'analysis.list': { task: { kind: 'analysis.list' }; result: { threadId: number; ids: number[] } };
  }
}

/** One analysis living in this worker: the engine and a ring of its newest rows. */
class Held {
  readonly engine: AnalysisEngine;
  readonly width: number;
  readonly rows: Float64Array;
  readonly times = new Float64Array(KEEP_ROWS);
  private next = 0;
  stored = 0;

  constructor(cac: Cac) {
    this.engine = new AnalysisEngine(cac);
    this.width = this.engine.columns.length;
    this.rows = new Float64Array(KEEP_ROWS * this.width);
  }

  /** Runs the history in batch (block by block), keeping the newest KEEP_ROWS rows. */
  history(k: KlineColumns): void {
    const n = columnsLength(k);
    const keepFrom = Math.max(0, n - KEEP_ROWS);
    this.engine.advance(k, 0, n, (cols, len, start) => {
      if (start + len <= keepFrom) return;
      for (let i = Math.max(0, keepFrom - start); i < len; i++) {
        const base = this.next * this.width;
        for (let c = 0; c < this.width; c++) this.rows[base + c] = cols[c][i];
        this.times[this.next] = k.openTime[start + i];
        this.next = (this.next + 1) % KEEP_ROWS;
        if (this.stored < KEEP_ROWS) this.stored++;
      }
    });
  }

  feed(bar: Bar): void {
    const row = this.engine.update(bar);
    this.rows.set(row, this.next * this.width);
    this.times[this.next] = bar.openTime;
    this.next = (this.next + 1) % KEEP_ROWS;
    if (this.stored < KEEP_ROWS) this.stored++;
  }

  snapshot(id: number): AnalysisSnapshot {
    const last = this.stored === 0 ? new Float64Array(0) : this.rows.slice(((this.next - 1 + KEEP_ROWS) % KEEP_ROWS) * this.width, ((this.next - 1 + KEEP_ROWS) % KEEP_ROWS) * this.width + this.width);
    return {
      id, threadId, count: this.engine.count, columns: this.engine.columns, last,
      lastOpenTime: this.engine.count > 0 ? this.engine.lastOpenTime : null,
    };
  }

  tail(id: number, count: number): AnalysisTail {
    const n = Math.min(count, this.stored);
    const openTime = new Float64Array(n);
    const values = this.engine.columns.map(() => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      const slot = (this.next - n + i + KEEP_ROWS * 2) % KEEP_ROWS;
      openTime[i] = this.times[slot];
      for (let c = 0; c < this.width; c++) values[c][i] = this.rows[slot * this.width + c];
    }
    return { id, columns: this.engine.columns, openTime, values };
  }
}

const held = new Map<number, Held>();

function get(id: number): Held {
  const h = held.get(id);
  if (!h) throw new Error(`unknown analysis ${id} in worker ${threadId}`);
  return h;
}

export const analysisHandlers: Record<string, TaskHandler> = {
  'analysis.start': (task: { id: number; cac: Cac; klines: KlineColumns }) => {
    const h = new Held(task.cac);
    h.history(task.klines);
    held.set(task.id, h);
    return h.snapshot(task.id);
  },
  'analysis.update': (task: { id: number; bar: Bar }) => {
    const h = get(task.id);
    h.feed(task.bar);
    return h.snapshot(task.id);
  },
  'analysis.tail': (task: { id: number; count: number }) => get(task.id).tail(task.id, task.count),
  'analysis.stop': (task: { id: number }) => ({ stopped: held.delete(task.id) }),
  'analysis.batch': (task: { cac: Cac; klines: KlineColumns }) => analyzeBatch(task.cac, task.klines),
  'analysis.list': () => ({ threadId, ids: [...held.keys()] }),
};
