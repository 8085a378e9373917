import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import type { ResultOf, WorkerTask } from './tasks.js';

export type PoolName = 'analysis' | 'simulation';

export interface PoolStats {
  name: PoolName;
  /** The thread budget: at most this many threads run this pool's tasks. */
  maxThreads: number;
  /** Live worker threads right now (0 when idle: pools shrink to zero). */
  threads: number;
  running: number;
  queued: number;
  completed: number;
  failed: number;
}

export interface PoolSizing {
  analysis: number;
  simulation: number;
}

/**
 * Splits the configured thread count between the pools: `ratio` of the threads to analysis, the
 * rest to simulation, each at least one. `threads: 'auto'` means CPU count - 1 (at least 1).
 */
export function sizePools(threads: number | 'auto', ratio: number, cpus = availableParallelism()): PoolSizing {
  const total = threads === 'auto' ? Math.max(1, cpus - 1) : threads;
  const analysis = Math.max(1, Math.round(total * ratio));
  const simulation = Math.max(1, total - analysis);
  return { analysis, simulation };
}

export interface RunOptions {
  /** Buffers moved (not copied) to the worker. */
  transfer?: TransferListItem[];
}

/**
 * The worker-pool port: a fixed thread budget of `size` slots, each at most one thread. `run`
 * gives a task to the first free slot (FIFO when all are busy); `runOn` pins a task to one slot,
 * for work whose state lives in that thread (the analyzer slots). A slot is `hold`-ed while it
 * keeps state, so it never idles out; otherwise an idle slot's thread exits after the idle
 * timeout. The implementation (tinypool) is src/workers/pool.ts; the core only sees this.
 */
export interface TaskPool {
  readonly name: PoolName;
  /** The thread budget (number of slots). */
  readonly size: number;
  run<T extends WorkerTask>(task: T, options?: RunOptions): Promise<ResultOf<T>>;
  runOn<T extends WorkerTask>(slot: number, task: T, options?: RunOptions): Promise<ResultOf<T>>;
  /** Keeps the slot's thread alive (it holds state) until `release`. */
  hold(slot: number): void;
  release(slot: number): void;
  /** Ends the slot's thread now (a dead or wedged worker); the next task starts a fresh one. */
  restart(slot: number): Promise<void>;
  stats(): PoolStats;
  destroy(): Promise<void>;
}

/** The two pools of the program. */
export interface TaskPools {
  analysis: TaskPool;
  simulation: TaskPool;
}
