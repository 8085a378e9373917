import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Tinypool from 'tinypool';
import { packageRoot } from '../core/paths.js';
import type { PoolName, PoolStats, RunOptions, TaskPool } from '../core/workers/pool.js';
import type { ResultOf, WorkerTask } from '../core/workers/tasks.js';

/** The compiled worker entry point (workers always run compiled JavaScript from dist/). */
export function workerEntry(name: string): string {
  const file = join(packageRoot(), 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) throw new Error(`worker entry ${file} is missing: run \`npm run build\``);
  return pathToFileURL(file).href;
}

interface Job {
  task: WorkerTask;
  options?: RunOptions;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

class Slot {
  pool: Tinypool | undefined;
  running = 0;
  held = false;
  idleTimer: NodeJS.Timeout | undefined;
  constructor(readonly index: number) {}
}

/**
 * The one worker pool class (see the TaskPool port in src/core/workers/pool.ts): `size` slots,
 * each a single-thread tinypool created on first use. Free tasks (`run`) wait in one FIFO and go
 * to the first free slot, so the pool never runs more than `size` threads, whether its tasks are
 * pinned analyses or one-off batches. An idle slot that holds no state ends its thread after
 * `idleTimeoutMs`; a slot that holds state keeps it. A worker that dies fails its task, and the
 * slot starts a fresh thread for the next one.
 */
export class WorkerPool implements TaskPool {
  private readonly slots: Slot[];
  private readonly waiting: Job[] = [];
  private completed = 0;
  private failed = 0;
  private destroyed = false;

  constructor(
    private readonly options: {
      name: PoolName;
      size: number;
      /** Worker entry file URL (default: dist/workers/<name>.js). */
      filename?: string;
      idleTimeoutMs: number;
      /** Called whenever running/queued/thread figures change. */
      onChange?: () => void;
    },
  ) {
    this.slots = Array.from({ length: Math.max(1, options.size) }, (_, i) => new Slot(i));
  }

  get name(): PoolName {
    return this.options.name;
  }

  get size(): number {
    return this.slots.length;
  }

  run<T extends WorkerTask>(task: T, options?: RunOptions): Promise<ResultOf<T>> {
    if (this.destroyed) return Promise.reject(new Error(`the ${this.name} pool is closed`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, options, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
      this.changed();
    });
  }

  runOn<T extends WorkerTask>(slot: number, task: T, options?: RunOptions): Promise<ResultOf<T>> {
    if (this.destroyed) return Promise.reject(new Error(`the ${this.name} pool is closed`));
    return this.exec(this.slot(slot), task, options) as Promise<ResultOf<T>>;
  }

  hold(slot: number): void {
    const s = this.slot(slot);
    s.held = true;
    this.cancelIdle(s);
  }

  release(slot: number): void {
    const s = this.slot(slot);
    s.held = false;
    this.scheduleIdle(s);
  }

  async restart(slot: number): Promise<void> {
    const s = this.slot(slot);
    const pool = s.pool;
    s.pool = undefined;
    this.cancelIdle(s);
    await pool?.destroy().catch(() => undefined);
    this.changed();
  }

  private slot(index: number): Slot {
    const s = this.slots[index];
    if (!s) throw new RangeError(`${this.name} pool has no slot ${index} (size ${this.slots.length})`);
    return s;
  }

  /** Free slots take waiting tasks: first those with a live thread and no state, then any. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      const free = this.slots.filter((s) => s.running === 0);
      if (free.length === 0) return;
      const rank = (s: Slot) => (s.pool ? 0 : 2) + (s.held ? 1 : 0);
      free.sort((a, b) => rank(a) - rank(b) || a.index - b.index);
      const job = this.waiting.shift()!;
      this.exec(free[0], job.task, job.options).then(job.resolve, job.reject);
    }
  }

  private tinypool(s: Slot): Tinypool {
    s.pool ??= new Tinypool({
      filename: this.options.filename ?? workerEntry(this.name),
      minThreads: 0,
      maxThreads: 1,
      // idling is managed here per slot (a slot holding state must never idle out)
      idleTimeout: 2 ** 31 - 1,
    });
    return s.pool;
  }

  private async exec(s: Slot, task: WorkerTask, options?: RunOptions): Promise<unknown> {
    const pool = this.tinypool(s);
    s.running++;
    this.cancelIdle(s);
    this.changed();
    try {
      const result = await pool.run(task, { transferList: options?.transfer as never });
      this.completed++;
      return result;
    } catch (error) {
      this.failed++;
      throw error;
    } finally {
      s.running--;
      if (!this.destroyed) {
        this.scheduleIdle(s);
        this.dispatch();
      }
      this.changed();
    }
  }

  private cancelIdle(s: Slot): void {
    if (s.idleTimer) clearTimeout(s.idleTimer);
    s.idleTimer = undefined;
  }

  private scheduleIdle(s: Slot): void {
    this.cancelIdle(s);
    if (s.held || s.running > 0 || !s.pool || this.destroyed) return;
    s.idleTimer = setTimeout(() => {
      s.idleTimer = undefined;
      if (s.held || s.running > 0 || !s.pool) return;
      const pool = s.pool;
      s.pool = undefined;
      void pool.destroy().catch(() => undefined).then(() => this.changed());
    }, this.options.idleTimeoutMs);
    // Ending an idle thread is housekeeping: it must not keep a finished command alive.
    s.idleTimer.unref();
  }

  private changed(): void {
    this.options.onChange?.();
  }

  stats(): PoolStats {
    let threads = 0;
    let running = 0;
    let queued = this.waiting.length;
    for (const s of this.slots) {
      const inside = s.pool ? s.pool.queueSize : 0;
      threads += s.pool ? s.pool.threads.length : 0;
      running += s.running - inside;
      queued += inside;
    }
    return { name: this.name, maxThreads: this.slots.length, threads, running: Math.max(0, running), queued, completed: this.completed, failed: this.failed };
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error(`the ${this.name} pool is closed`));
    await Promise.all(
      this.slots.map(async (s) => {
        this.cancelIdle(s);
        const pool = s.pool;
        s.pool = undefined;
        await pool?.destroy().catch(() => undefined);
      }),
    );
  }
}
