import { threadId } from 'node:worker_threads';
import { AnalysisEngine, analyzeBatch, type AnalysisResult } from '../core/analysis/engine.js';
import type { Cac } from '../core/analysis/cac.js';
import { columnsLength, type Bar, type KlineColumns } from '../core/analysis/indicators/index.js';
import { KEEP_ROWS, type AnalysisSnapshot, type AnalysisTail } from '../core/analysis/tasks.js';
import type { Handlers } from './protocol.js';

export { KEEP_ROWS };

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

export const analysisHandlers: Handlers<'analysis.start' | 'analysis.update' | 'analysis.tail' | 'analysis.stop' | 'analysis.batch' | 'analysis.list'> = {
  'analysis.start': (task) => {
    const h = new Held(task.cac);
    h.history(task.klines);
    held.set(task.id, h);
    return h.snapshot(task.id);
  },
  'analysis.update': (task) => {
    const h = get(task.id);
    h.feed(task.bar);
    return h.snapshot(task.id);
  },
  'analysis.tail': (task) => get(task.id).tail(task.id, task.count),
  'analysis.stop': (task) => ({ stopped: held.delete(task.id) }),
  'analysis.batch': (task) => analyzeBatch(task.cac, task.klines),
  'analysis.list': () => ({ threadId, ids: [...held.keys()] }),
};
