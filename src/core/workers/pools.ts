import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import Tinypool from 'tinypool';
import type { TransferListItem } from 'node:worker_threads';
import type { EventBus } from '../bus.js';
import { packageRoot } from '../paths.js';
import type { WorkerTask, WorkerResult } from '../../workers/protocol.js';

export type PoolName = 'analysis' | 'simulation';

export interface PoolStats {
  name: PoolName;
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

/** The compiled worker entry point (workers always run compiled JavaScript from dist/). */
export function workerEntry(name: string): string {
  const file = join(packageRoot(), 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) throw new Error(`worker entry ${file} is missing: run \`npm run build\``);
  return pathToFileURL(file).href;
}

class Pool {
  private pool: Tinypool | undefined;
  private running = 0;
  private completed = 0;
  private failed = 0;

  constructor(
    readonly name: PoolName,
    readonly maxThreads: number,
    private readonly idleTimeoutMs: number,
    private readonly bus: EventBus | undefined,
  ) {}

  /** The tinypool, created on first use (nothing runs until a task needs it). */
  private get tinypool(): Tinypool {
    if (!this.pool) {
      this.pool = new Tinypool({
        filename: workerEntry(this.name),
        minThreads: 0,
        maxThreads: this.maxThreads,
        idleTimeout: this.idleTimeoutMs,
      });
    }
    return this.pool;
  }

  async run<T extends WorkerTask>(task: T, transferList?: TransferListItem[]): Promise<WorkerResult<T>> {
    const pool = this.tinypool;
    this.running++;
    this.changed();
    try {
      const result = await pool.run(task, { transferList: transferList as any });
      this.completed++;
      return result as WorkerResult<T>;
    } catch (error) {
      this.failed++;
      throw error;
    } finally {
      this.running--;
      this.changed();
    }
  }

  private changed(): void {
    this.bus?.emit('workers.changed', { pool: this.name });
  }

  stats(): PoolStats {
    const pool = this.pool;
    const threads = pool ? pool.threads.length : 0;
    const queued = pool ? pool.queueSize : 0;
    return {
      name: this.name,
      maxThreads: this.maxThreads,
      threads,
      running: Math.max(0, this.running - queued),
      queued,
      completed: this.completed,
      failed: this.failed,
    };
  }

  async destroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
  }
}

/** The analysis and simulation worker pools (tinypool), created lazily, idle at zero threads. */
export class WorkerPools {
  readonly analysis: Pool;
  readonly simulation: Pool;

  constructor(options: { sizing: PoolSizing; idleTimeoutMs: number; bus?: EventBus }) {
    this.analysis = new Pool('analysis', options.sizing.analysis, options.idleTimeoutMs, options.bus);
    this.simulation = new Pool('simulation', options.sizing.simulation, options.idleTimeoutMs, options.bus);
  }

  private analyzers: (() => PoolStats) | undefined;

  /**
   * Counts the analyzer threads (one single-thread pool per analyzer slot, see
   * src/core/analysis/host.ts) into the analysis pool's figures.
   */
  attachAnalyzers(stats: () => PoolStats): void {
    this.analyzers = stats;
  }

  stats(): PoolStats[] {
    const a = this.analysis.stats();
    const extra = this.analyzers?.();
    const analysis: PoolStats = extra
      ? {
          name: 'analysis', maxThreads: a.maxThreads + extra.maxThreads, threads: a.threads + extra.threads, running: a.running + extra.running,
          queued: a.queued + extra.queued, completed: a.completed + extra.completed, failed: a.failed + extra.failed,
        }
      : a;
    return [analysis, this.simulation.stats()];
  }

  async destroy(): Promise<void> {
    await Promise.all([this.analysis.destroy(), this.simulation.destroy()]);
  }
}
