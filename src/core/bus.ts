import type { AppEvents } from './events.js';

export type EventName = keyof AppEvents;
export type Handler<K extends EventName> = (payload: AppEvents[K]) => void;

/**
 * The in-process event bus. Synchronous, single-threaded and ordered: handlers run in
 * subscription order at the moment of `emit`, so every component sees events in the same order
 * (the NautilusTrader message-bus model). There are no timers and no queues: idle costs nothing.
 *
 * A handler that throws does not stop the others; the error goes to `onHandlerError`.
 */
export class EventBus {
  private readonly handlers = new Map<EventName, Set<Handler<any>>>();
  private readonly anyHandlers = new Set<(name: EventName, payload: unknown) => void>();
  /** Emit timestamps in a ring, for the event rate shown on the Dashboard. */
  private readonly stamps = new Float64Array(4096);
  private stampIndex = 0;
  private total = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private onHandlerError: (name: EventName, error: unknown) => void = () => {},
  ) {}

  /** Where errors thrown by handlers go (the log, once logging exists). */
  setErrorHandler(handler: (name: EventName, error: unknown) => void): void {
    this.onHandlerError = handler;
  }

  on<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler);
    return () => this.off(name, handler);
  }

  once<K extends EventName>(name: K, handler: Handler<K>): () => void {
    const off = this.on(name, (payload) => {
      off();
      handler(payload);
    });
    return off;
  }

  off<K extends EventName>(name: K, handler: Handler<K>): void {
    this.handlers.get(name)?.delete(handler);
  }

  /** Subscribes to every event (diagnostics, recording). */
  onAny(handler: (name: EventName, payload: unknown) => void): () => void {
    this.anyHandlers.add(handler);
    return () => this.anyHandlers.delete(handler);
  }

  emit<K extends EventName>(name: K, payload: AppEvents[K]): void {
    this.stamps[this.stampIndex] = this.now();
    this.stampIndex = (this.stampIndex + 1) % this.stamps.length;
    this.total++;
    const set = this.handlers.get(name);
    if (set) {
      for (const handler of [...set]) {
        try {
          handler(payload);
        } catch (error) {
          this.onHandlerError(name, error);
        }
      }
    }
    for (const handler of this.anyHandlers) {
      try {
        handler(name, payload);
      } catch (error) {
        this.onHandlerError(name, error);
      }
    }
  }

  listenerCount(name: EventName): number {
    return this.handlers.get(name)?.size ?? 0;
  }

  /** Total events emitted since start. */
  get emitted(): number {
    return this.total;
  }

  /**
   * Events per second over the last `windowMs` (default 5 s), computed from the stamp ring
   * when asked; nothing runs in the background. Saturates at ring size / window.
   */
  rate(windowMs = 5000): number {
    const cutoff = this.now() - windowMs;
    const n = Math.min(this.total, this.stamps.length);
    let count = 0;
    for (let i = 1; i <= n; i++) {
      const idx = (this.stampIndex - i + this.stamps.length) % this.stamps.length;
      if (this.stamps[idx] < cutoff) break;
      count++;
    }
    return (count * 1000) / windowMs;
  }
}
