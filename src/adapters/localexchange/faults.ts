import { Rng } from '../../core/random.js';

/**
 * Fault injection for the local exchange.
 *
 * Grammar (also in docs/exchange.md):
 *
 *   spec   := fault ( "," fault )*
 *   fault  := name [ "=" number ] [ "@" probability ]
 *
 * A fault with `@p` fires on each eligible event with probability p (seeded, so runs repeat);
 * with `=N` (for event faults) it fires on every N-th eligible event; with neither it fires on
 * every eligible event. Names:
 *
 *   drop            websocket: the server destroys the TCP connection (no close frame) before a frame
 *   close           websocket: the server sends a close frame (1001) before a frame
 *   nopong          websocket: the server ignores client pings
 *   malformed       websocket: the server sends a frame that is not JSON before a frame
 *   duplicate       websocket: the server sends a stream frame twice
 *   depth-gap       websocket: a depth diff event is not sent (the pu chain breaks)
 *   depth-reorder   websocket: a depth diff event is sent after the one that follows it
 *   429             REST: answer 429 -1003 with Retry-After (see retry-after)
 *   418             REST: ban the client IP for `ban` ms: every request gets 418 -1003 until then
 *   5xx             REST: answer 503 "Service Unavailable."
 *   order-timeout   REST, new orders (POST /fapi/v1/order, /fapi/v1/algoOrder): the order is
 *                   processed but no answer is sent (the client times out; the outcome is unknown)
 *   order-lost      REST, new orders: the request is dropped unprocessed and never answered
 *   slow=MS         REST: delay the response by MS milliseconds (with @p: only some responses)
 *   retry-after=S   the Retry-After seconds sent with injected 429s (default 1)
 *   ban=MS          length of an injected or earned ban (default 5000)
 *
 * Example: `drop=500,depth-gap@0.01,429@0.005,slow=300@0.1`
 */
export const FAULT_NAMES = ['drop', 'close', 'nopong', 'malformed', 'duplicate', 'depth-gap', 'depth-reorder', '429', '418', '5xx', 'order-timeout', 'order-lost', 'slow', 'retry-after', 'ban'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export interface FaultRule {
  name: FaultName;
  value?: number;
  probability?: number;
}

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  if (spec.trim() === '' || spec.trim() === 'none') return rules;
  for (const part of spec.split(',')) {
    const text = part.trim();
    const m = /^([a-z0-9-]+)(?:=([0-9.]+))?(?:@([0-9.]+))?$/.exec(text);
    if (!m) throw new FaultSpecError(`fault ${JSON.stringify(text)} is not of the form name[=number][@probability]`);
    const name = m[1] as FaultName;
    if (!(FAULT_NAMES as readonly string[]).includes(name)) throw new FaultSpecError(`unknown fault ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(', ')}`);
    const value = m[2] !== undefined ? Number(m[2]) : undefined;
    const probability = m[3] !== undefined ? Number(m[3]) : undefined;
    if (value !== undefined && !Number.isFinite(value)) throw new FaultSpecError(`fault ${name}: ${m[2]} is not a number`);
    if (probability !== undefined && !(probability >= 0 && probability <= 1)) throw new FaultSpecError(`fault ${name}: probability ${m[3]} is not between 0 and 1`);
    if ((name === 'slow' || name === 'retry-after' || name === 'ban') && value === undefined) throw new FaultSpecError(`fault ${name} needs a value: ${name}=number`);
    rules.push({ name, value, probability });
  }
  return rules;
}

export class Faults {
  private rules = new Map<FaultName, FaultRule>();
  private readonly counters = new Map<FaultName, number>();
  private readonly fired = new Map<FaultName, number>();
  private rng: Rng;

  constructor(spec = '', seed = 1) {
    this.rng = new Rng(seed ^ 0x5eed);
    this.set(spec);
  }

  /** Replaces the active faults (throws FaultSpecError on a bad spec). */
  set(spec: string): void {
    const rules = parseFaultSpec(spec);
    this.rules = new Map(rules.map((r) => [r.name, r]));
    this.counters.clear();
  }

  get spec(): string {
    return [...this.rules.values()].map((r) => `${r.name}${r.value !== undefined ? '=' + r.value : ''}${r.probability !== undefined ? '@' + r.probability : ''}`).join(',');
  }

  has(name: FaultName): boolean {
    return this.rules.has(name);
  }

  value(name: FaultName, fallback: number): number {
    return this.rules.get(name)?.value ?? fallback;
  }

  /** True when the fault fires for this eligible event. */
  hit(name: FaultName): boolean {
    const r = this.rules.get(name);
    if (!r) return false;
    let fire: boolean;
    if (r.probability !== undefined) fire = this.rng.next() < r.probability;
    else if (r.value !== undefined && name !== 'slow') {
      const n = (this.counters.get(name) ?? 0) + 1;
      this.counters.set(name, n);
      fire = n % Math.max(1, Math.round(r.value)) === 0;
    } else fire = true;
    if (fire) this.fired.set(name, (this.fired.get(name) ?? 0) + 1);
    return fire;
  }

  /** How many times each fault fired. */
  firedCounts(): Record<string, number> {
    return Object.fromEntries(this.fired);
  }
}
