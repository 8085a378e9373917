/**
 * The clock port. Core code never calls Date.now() or setTimeout directly: it asks a Clock, so the
 * same strategy code runs on real time (paper, live) and on simulated time (backtests, tests).
 */
export interface TimerOptions {
  /**
   * A background timer (a watchdog, housekeeping) does not keep the process alive: a command
   * line run may end while it is pending. Default false: a pending timer keeps the process alive,
   * because usually something waits for it (a back-off before a retry); an unref'ed timer there
   * lets Node end the process in the middle of the wait, silently, with exit status 13.
   */
  background?: boolean;
}

export interface Clock {
  /** Milliseconds since the Unix epoch, UTC. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a cancel function. */
  setTimer(ms: number, fn: () => void, options?: TimerOptions): () => void;
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(ms: number, fn: () => void, options: TimerOptions = {}): () => void {
    const handle = setTimeout(fn, ms);
    if (options.background) handle.unref?.();
    return () => clearTimeout(handle);
  }
}

/**
 * Waits `ms` on the clock (a timer that keeps the process alive). Rejects with the signal's
 * reason when the signal aborts first, and cancels the timer then.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal?.reason ?? new Error('aborted'));
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A clock that only moves when told to. Timers fire in time order, ties in creation order, while
 * `advanceTo` passes their due time.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: { due: number; seq: number; fn: () => void }[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward to `time`, firing due timers in order. Time never goes backwards. */
  advanceTo(time: number): void {
    if (time < this.current) throw new RangeError(`SimulatedClock cannot go back from ${this.current} to ${time}`);
    for (;;) {
      let next: { due: number; seq: number; fn: () => void } | undefined;
      for (const t of this.timers) {
        if (t.due <= time && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = next.due;
      next.fn();
    }
    this.current = time;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
