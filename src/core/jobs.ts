import type { EventBus } from './bus.js';

export interface JobHandle {
  readonly id: string;
  readonly label: string;
  progress(done: number, total: number): void;
  done(): void;
  fail(error: unknown): void;
  cancel(): void;
  readonly signal: AbortSignal;
}

/**
 * Long-running jobs (downloads, imports, backtests, training, live trading). The TUI shows them
 * and asks for confirmation before quitting while any is running.
 */
export class Jobs {
  private readonly active = new Map<string, { label: string; controller: AbortController }>();
  private seq = 0;

  constructor(private readonly bus: EventBus) {}

  start(label: string): JobHandle {
    const id = `job-${++this.seq}`;
    const controller = new AbortController();
    this.active.set(id, { label, controller });
    this.bus.emit('job.state', { id, label, state: 'running', running: this.active.size });
    const end = (state: 'done' | 'failed' | 'cancelled', error?: unknown) => {
      if (!this.active.delete(id)) return;
      this.bus.emit('job.state', {
        id,
        label,
        state,
        running: this.active.size,
        error: error === undefined ? undefined : error instanceof Error ? error.message : String(error),
      });
    };
    return {
      id,
      label,
      signal: controller.signal,
      progress: (done, total) => this.bus.emit('job.progress', { id, label, done, total }),
      done: () => end('done'),
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

  cancelAll(): void {
    for (const job of this.active.values()) job.controller.abort();
  }
}
