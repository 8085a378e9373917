import type { EventBus } from './bus.js';

export interface JobHandle {
  readonly id: string;
  readonly label: string;
  progress(done: number, total: number): void;
  /** Finished; `result` is a short line kept with the job for the jobs list. */
  done(result?: string): void;
  fail(error: unknown): void;
  cancel(): void;
  readonly signal: AbortSignal;
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** A job as the jobs list shows it: running ones and, for a while, finished ones. */
export interface JobInfo {
  id: string;
  label: string;
  state: JobState;
  done: number;
  total: number;
  startedAt: number;
  endedAt?: number;
  /** Estimated milliseconds left (from the rate so far), while running with some progress. */
  etaMs?: number;
  result?: string;
  error?: string;
}

/** Finished jobs stay in the list this long, and at most this many. */
export const FINISHED_KEPT_MS = 10 * 60_000;
export const FINISHED_KEPT = 20;

/**
 * Long-running jobs (downloads, imports, backtests, training, live trading). The TUI shows them
 * and asks for confirmation before quitting while any is running.
 */
export class Jobs {
  private readonly active = new Map<string, { label: string; controller: AbortController }>();
  /** Every job's figures for the list (running and recently finished), oldest first. */
  private readonly infos = new Map<string, JobInfo>();
  private seq = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly now: () => number = () => Date.now(),
  ) {}

  start(label: string): JobHandle {
    const id = `job-${++this.seq}`;
    const controller = new AbortController();
    this.active.set(id, { label, controller });
    const info: JobInfo = { id, label, state: 'running', done: 0, total: 0, startedAt: this.now() };
    this.infos.set(id, info);
    this.prune();
    this.bus.emit('job.state', { id, label, state: 'running', running: this.active.size });
    const end = (state: 'done' | 'failed' | 'cancelled', error?: unknown, result?: string) => {
      if (!this.active.delete(id)) return;
      info.state = state;
      info.endedAt = this.now();
      if (result !== undefined) info.result = result;
      const message = error === undefined ? undefined : error instanceof Error ? error.message : String(error);
      if (message !== undefined) info.error = message;
      this.bus.emit('job.state', { id, label, state, running: this.active.size, error: message });
    };
    return {
      id,
      label,
      signal: controller.signal,
      progress: (done, total) => {
        info.done = done;
        info.total = total;
        this.bus.emit('job.progress', { id, label, done, total });
      },
      done: (result) => end('done', undefined, result),
      fail: (error) => end('failed', error),
      cancel: () => {
        controller.abort();
        end('cancelled');
      },
    };
  }

  running(): { id: string; label: string }[] {
    return [...this.active].map(([id, job]) => ({ id, label: job.label }));
  }

  /**
   * The jobs list: running jobs and those finished in the last FINISHED_KEPT_MS (at most
   * FINISHED_KEPT), newest first, each with its progress, ETA and result or error.
   */
  list(): JobInfo[] {
    this.prune();
    const now = this.now();
    return [...this.infos.values()].reverse().map((j) => {
      const copy = { ...j };
      if (j.state === 'running' && j.done > 0 && j.total > j.done) copy.etaMs = Math.round(((now - j.startedAt) / j.done) * (j.total - j.done));
      return copy;
    });
  }

  /** Asks a running job to stop (its signal aborts; the job ends itself as cancelled). False when not running. */
  cancel(id: string): boolean {
    const job = this.active.get(id);
    if (!job) return false;
    job.controller.abort();
    return true;
  }

  private prune(): void {
    const now = this.now();
    const finished = [...this.infos.values()].filter((j) => j.state !== 'running');
    for (let i = 0; i < finished.length; i++) {
      const j = finished[i];
      if (now - (j.endedAt ?? now) > FINISHED_KEPT_MS || finished.length - i > FINISHED_KEPT) this.infos.delete(j.id);
    }
  }

  cancelAll(): void {
    for (const job of this.active.values()) job.controller.abort();
  }
}
