import type { RateLimitInfo } from '../../core/exchange/port.js';

/**
 * The rate-limit governor. Every REST request asks it for permission (`acquire`) before it is
 * sent; the governor schedules requests so the exchange's limits are never hit:
 *
 * - It keeps one counter per limit of exchangeInfo.rateLimits (REQUEST_WEIGHT per IP, ORDERS per
 *   account), in fixed windows aligned to the server clock like Binance's (a minute limit resets
 *   at every whole minute of server time).
 * - A request whose weight does not fit in the current window waits for the next one, FIFO (so a
 *   heavy request is not starved by light ones). Weight sent in the last `guardMs` before a
 *   window boundary is carried into the next window, since the server may count it there.
 * - The used-weight / order-count headers of every response correct the counters upwards.
 * - 429 pauses every request for Retry-After (or until the window ends); 418 stops every
 *   request until the ban ends.
 *
 * No timers run while nothing waits; idle costs nothing.
 */
export interface GovernorOptions {
  /** Server-time-corrected clock, ms. */
  now?: () => number;
  setTimer?: (ms: number, fn: () => void) => () => void;
  /** Fraction of each limit the governor lets through (default 1). */
  safety?: number;
  /** Carry-over guard at window boundaries, ms (default 250). */
  guardMs?: number;
}

interface Counter {
  type: RateLimitInfo['rateLimitType'];
  intervalMs: number;
  limit: number;
  /** Header suffix, e.g. "1M" or "10S". */
  tag: string;
  windowStart: number;
  used: number;
  peak: number;
}

interface Waiter {
  weight: number;
  orders: number;
  resolve: () => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const UNIT_MS: Record<RateLimitInfo['interval'], number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
const UNIT_TAG: Record<RateLimitInfo['interval'], string> = { SECOND: 'S', MINUTE: 'M', HOUR: 'H', DAY: 'D' };

export interface GovernorStats {
  usedWeight: number;
  weightLimit: number;
  /** Length of the request-weight window, ms. */
  weightWindowMs: number;
  pausedUntil: number;
  banned: boolean;
  waiting: number;
  /** Times a request had to wait for a window. */
  delayed: number;
  rateLimited429: number;
  banned418: number;
}

export class RateGovernor {
  private counters: Counter[] = [];
  private readonly queue: Waiter[] = [];
  private pausedUntil = 0;
  private banUntil = 0;
  private cancelTimer: (() => void) | undefined;
  private timerDue = 0;
  private readonly recent: { t: number; weight: number; orders: number }[] = [];
  private readonly now: () => number;
  private readonly setTimer: (ms: number, fn: () => void) => () => void;
  private readonly safety: number;
  private readonly guardMs: number;
  private delayed = 0;
  private n429 = 0;
  private n418 = 0;

  constructor(options: GovernorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((ms, fn) => {
      const h = setTimeout(fn, ms);
      return () => clearTimeout(h);
    });
    this.safety = options.safety ?? 1;
    this.guardMs = options.guardMs ?? 250;
    // Binance's 2026 limits until exchangeInfo says otherwise.
    this.configure([
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ]);
  }

  /** Takes the limits from exchangeInfo.rateLimits. */
  configure(limits: readonly RateLimitInfo[]): void {
    const old = this.counters;
    this.counters = limits
      .filter((l) => l.rateLimitType === 'REQUEST_WEIGHT' || l.rateLimitType === 'ORDERS')
      .map((l) => {
        const intervalMs = UNIT_MS[l.interval] * l.intervalNum;
        const prev = old.find((c) => c.type === l.rateLimitType && c.intervalMs === intervalMs);
        return {
          type: l.rateLimitType,
          intervalMs,
          limit: Math.max(1, Math.floor(l.limit * this.safety)),
          tag: `${l.intervalNum}${UNIT_TAG[l.interval]}`,
          windowStart: prev?.windowStart ?? 0,
          used: prev?.used ?? 0,
          peak: prev?.peak ?? 0,
        };
      });
    this.pump();
  }

  /** Waits until a request of `weight` (and `orders` order-count units) may be sent, then books it. */
  acquire(weight: number, orders = 0, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { weight, orders, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason ?? new Error('aborted'));
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      if (this.queue.length > 1 || !this.tryPass()) this.delayed++;
      this.pump();
    });
  }

  /** Feeds a response's headers (any case) and status. */
  onResponse(status: number, headers: Record<string, string | string[] | undefined>, body?: { code?: number; msg?: string }): void {
    const now = this.now();
    for (const [rawName, rawValue] of Object.entries(headers)) {
      const name = rawName.toLowerCase();
      const m = /^x-mbx-(used-weight|order-count)-(\d+[smhd])$/.exec(name);
      if (!m || rawValue === undefined) continue;
      const value = Number(Array.isArray(rawValue) ? rawValue[0] : rawValue);
      if (!Number.isFinite(value)) continue;
      const type = m[1] === 'used-weight' ? 'REQUEST_WEIGHT' : 'ORDERS';
      const tag = m[2].toUpperCase();
      for (const c of this.counters) {
        if (c.type !== type || c.tag !== tag) continue;
        this.roll(c, now);
        if (value > c.used) c.used = value;
        if (c.used > c.peak) c.peak = c.used;
      }
    }
    if (status === 429 || status === 418) {
      const retryAfter = headerValue(headers, 'retry-after');
      let until = retryAfter !== undefined && Number.isFinite(Number(retryAfter)) ? now + Number(retryAfter) * 1000 : 0;
      if (status === 418) {
        this.n418++;
        const banned = /banned until (\d+)/i.exec(body?.msg ?? '');
        if (banned) until = Math.max(until, Number(banned[1]));
        if (until === 0) until = now + 120_000;
        this.banUntil = Math.max(this.banUntil, until);
      } else {
        this.n429++;
        if (until === 0) {
          // Wait for the end of the window that is full.
          const weight = this.counters.find((c) => c.type === 'REQUEST_WEIGHT');
          until = weight ? weight.windowStart + weight.intervalMs + this.guardMs : now + 1000;
          for (const c of this.counters) if (c.type === 'REQUEST_WEIGHT') c.used = c.limit;
        }
      }
      this.pausedUntil = Math.max(this.pausedUntil, until);
      this.rearm();
    }
  }

  /** Milliseconds until requests may flow again (0 = now). */
  blockedForMs(): number {
    return Math.max(0, Math.max(this.pausedUntil, this.banUntil) - this.now());
  }

  get banned(): boolean {
    return this.banUntil > this.now();
  }

  stats(): GovernorStats {
    const now = this.now();
    const w = this.counters.find((c) => c.type === 'REQUEST_WEIGHT');
    if (w) this.roll(w, now);
    return {
      usedWeight: w?.used ?? 0,
      weightLimit: w?.limit ?? 0,
      weightWindowMs: w?.intervalMs ?? 60_000,
      pausedUntil: Math.max(this.pausedUntil, this.banUntil),
      banned: this.banUntil > now,
      waiting: this.queue.length,
      delayed: this.delayed,
      rateLimited429: this.n429,
      banned418: this.n418,
    };
  }

  /** Fails every waiting request (on close). */
  rejectAll(error: Error): void {
    const waiters = this.queue.splice(0);
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const w of waiters) {
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      w.reject(error);
    }
  }

  private roll(c: Counter, now: number): void {
    const start = Math.floor(now / c.intervalMs) * c.intervalMs;
    if (start === c.windowStart) return;
    c.windowStart = start;
    // What was sent just before the boundary may be counted by the server in this window.
    let carried = 0;
    for (const r of this.recent) if (r.t >= start - this.guardMs) carried += c.type === 'ORDERS' ? r.orders : r.weight;
    c.used = carried;
  }

  /** Books the head waiter if it fits now. */
  private tryPass(): boolean {
    const head = this.queue[0];
    if (!head) return false;
    const now = this.now();
    if (Math.max(this.pausedUntil, this.banUntil) > now) return false;
    for (const c of this.counters) {
      this.roll(c, now);
      const need = c.type === 'ORDERS' ? head.orders : head.weight;
      if (need > 0 && c.used + need > c.limit) return false;
    }
    for (const c of this.counters) {
      c.used += c.type === 'ORDERS' ? head.orders : head.weight;
      if (c.used > c.peak) c.peak = c.used;
    }
    this.recent.push({ t: now, weight: head.weight, orders: head.orders });
    while (this.recent.length > 0 && this.recent[0].t < now - this.guardMs) this.recent.shift();
    this.queue.shift();
    if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
    head.resolve();
    return true;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.tryPass()) {
      // keep passing
    }
    this.rearm();
  }

  /** Arms one timer for the moment the head of the queue can pass. */
  private rearm(): void {
    if (this.queue.length === 0) {
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      return;
    }
    const now = this.now();
    let due = Math.max(this.pausedUntil, this.banUntil, now);
    const head = this.queue[0];
    for (const c of this.counters) {
      const need = c.type === 'ORDERS' ? head.orders : head.weight;
      if (need > 0 && c.used + need > c.limit) due = Math.max(due, c.windowStart + c.intervalMs + this.guardMs);
    }
    if (this.cancelTimer && this.timerDue === due) return;
    this.cancelTimer?.();
    this.timerDue = due;
    this.cancelTimer = this.setTimer(Math.max(0, due - now), () => {
      this.cancelTimer = undefined;
      this.pump();
    });
  }
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}
