import type { Cac } from './cac.js';
import type { AnalysisResult } from './engine.js';
import type { Bar, KlineColumns } from './indicators/index.js';

/** Rows of output kept per analysis in its worker, for the chart (the newest ones). */
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

/** The analysis worker's tasks (handlers: src/workers/analysis-tasks.ts). */
declare module '../workers/tasks.js' {
  interface WorkerTasks {
    /** Creates (or replaces) analysis `id` in this worker and runs it over `klines`. */
    'analysis.start': { task: { kind: 'analysis.start'; id: number; cac: Cac; klines: KlineColumns }; result: AnalysisSnapshot };
    /** Feeds one closed kline to analysis `id`; fails with "unknown analysis" when the worker lost it. */
    'analysis.update': { task: { kind: 'analysis.update'; id: number; bar: Bar }; result: AnalysisSnapshot };
    /** The newest `count` rows of analysis `id`. */
    'analysis.tail': { task: { kind: 'analysis.tail'; id: number; count: number }; result: AnalysisTail };
    'analysis.stop': { task: { kind: 'analysis.stop'; id: number }; result: { stopped: boolean } };
    /** A one-off batch run (temporary analysis over a range, `atm analyze`). */
    'analysis.batch': { task: { kind: 'analysis.batch'; cac: Cac; klines: KlineColumns }; result: AnalysisResult };
    /** The analyses this worker holds. */
    'analysis.list': { task: { kind: 'analysis.list' }; result: { threadId: number; ids: number[] } };
  }
}
