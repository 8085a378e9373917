import type { RiskLimits, RiskState } from '../accounts/types.js';
import type { ExchangeError } from '../exchange/port.js';
import { Dec } from '../futures/decimal.js';

/**
 * The risk manager: checked before every order, in every mode. Pure: it holds numbers and
 * answers; time comes in as arguments, so it is tested without a clock or an exchange.
 *
 * Account state (RiskState):
 * - HALTED by drawdown: equity ≤ peak × (1 − maxDrawdown). Stays halted until `resume()` (a
 *   person decides).
 * - HALTED by the daily loss: equity ≤ dayOpen × (1 − dailyLossLimit), dayOpen being the first
 *   equity seen in the UTC day. Lifted at the next 00:00 UTC (the new day opens at that equity).
 * - REDUCING when either loss reaches REDUCING_AT (80 %) of its limit: only orders that reduce a
 *   position (reduce-only, or against the position and not past it) pass.
 * - ACTIVE otherwise.
 *
 * Per order: the price band against the mark price, the position notional and leverage after the
 * order (orders that reduce always pass these), the orders-per-minute cap, and the back-off.
 *
 * Back-off: an exchange error stops orders of its class for a while, doubling on each repeat and
 * reset by a success, so an error never turns into a retry storm:
 * - `margin` (-2019 margin insufficient, -2027/-2028 position limits): that symbol, 30 s → 15 min;
 * - `filter` (-1111 precision, -1013, -4003…-4024 filters, -4164 notional, -2022 reduce-only): that
 *   symbol, 60 s → 30 min (the same order would fail the same way; the decision must change);
 * - `rate` (429 / 418): every symbol, for Retry-After (at least 1 s; 60 s when not said);
 * - `server` (5xx, unknown outcome, network): that symbol, 1 s → 60 s;
 * - `other` rejections: that symbol, 10 s → 10 min.
 */

export const REDUCING_AT = 0.8;
export const DEFAULT_PRICE_BAND = 0.05;
export const DEFAULT_MAX_ORDERS_PER_MINUTE = 30;

export type BackoffClass = 'margin' | 'filter' | 'rate' | 'server' | 'other';

const BACKOFF: Record<BackoffClass, { baseMs: number; maxMs: number }> = {
  margin: { baseMs: 30_000, maxMs: 15 * 60_000 },
  filter: { baseMs: 60_000, maxMs: 30 * 60_000 },
  rate: { baseMs: 60_000, maxMs: 60 * 60_000 },
  server: { baseMs: 1_000, maxMs: 60_000 },
  other: { baseMs: 10_000, maxMs: 10 * 60_000 },
};

const MARGIN_CODES = new Set([-2019, -2027, -2028, -2018]);
const FILTER_CODES = new Set([-1111, -1013, -2022, -4164, -4003, -4004, -4005, -4013, -4014, -4016, -4023, -4024, -4001, -4002, -1102]);

/** Which back-off class an exchange error falls in (undefined: no back-off, e.g. -2011 unknown order). */
export function backoffClass(error: Pick<ExchangeError, 'code' | 'kind'>): BackoffClass | undefined {
  if (error.kind === 'rate-limited' || error.kind === 'banned') return 'rate';
  if (error.kind === 'server' || error.kind === 'unknown-status' || error.kind === 'network' || error.kind === 'protocol') return 'server';
  if (MARGIN_CODES.has(error.code)) return 'margin';
  if (FILTER_CODES.has(error.code)) return 'filter';
  if (error.code === -2011 || error.code === -2013 || error.code === -5022 || error.code === -4116) return undefined;
  return 'other';
}

/** The order as the risk manager sees it. Decimal strings. */
export interface RiskOrder {
  symbol: string;
  side: 'BUY' | 'SELL';
  quantity: string;
  /** Limit or trigger price; absent for MARKET (the mark price stands in). */
  price?: string;
  reduceOnly?: boolean;
}

/** What the caller knows at the moment of the order. */
export interface RiskContext {
  now: number;
  markPrice: string;
  /** The symbol's position now, signed. */
  positionAmt: string;
  /** Margin balance (equity) of the account. */
  equity: string;
}

export type RiskRule = 'halted' | 'reducing' | 'price-band' | 'max-notional' | 'max-leverage' | 'orders-per-minute' | 'backoff';

export type RiskDecision = { ok: true } | { ok: false; rule: RiskRule; reason: string; retryAt?: number };

export interface RiskStatus {
  state: RiskState;
  reason?: string;
  /** Daily-loss halts: when the halt lifts (next 00:00 UTC). */
  until?: number;
  peakEquity?: string;
  dayOpenEquity?: string;
  day?: number;
}

interface Backoff {
  until: number;
  count: number;
  reason: string;
}

const DAY_MS = 86_400_000;

/** What must survive a restart (the trader stores it with the account's snapshot): peak, day, halts. */
export interface RiskMemory {
  peakEquity?: string;
  dayOpenEquity?: string;
  day: number;
  drawdownHalt?: string;
  dailyHaltUntil: number;
  dailyReason?: string;
}

export class RiskManager {
  private peak: Dec | undefined;
  private dayOpen: Dec | undefined;
  private day = -1;
  private drawdownHalt: string | undefined;
  private dailyHaltUntil = 0;
  private dailyReason: string | undefined;
  private reducingReason: string | undefined;
  private readonly sent: number[] = [];
  private readonly backoffs = new Map<string, Backoff>();

  constructor(public limits: RiskLimits = {}) {}

  /** Feeds the account's equity; returns the state after it. */
  updateEquity(equityText: string, now: number): RiskState {
    const equity = Dec.parse(equityText, 'equity');
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.dayOpen = equity;
      if (this.dailyHaltUntil <= now) {
        this.dailyHaltUntil = 0;
        this.dailyReason = undefined;
      }
    }
    if (!this.peak || equity.gt(this.peak)) this.peak = equity;
    this.reducingReason = undefined;
    const { maxDrawdown, dailyLossLimit } = this.limits;
    if (maxDrawdown !== undefined && this.peak.gt(Dec.ZERO)) {
      const drawdown = this.peak.sub(equity).div(this.peak);
      if (!this.drawdownHalt && drawdown.gte(Dec.fromNumber(maxDrawdown))) {
        this.drawdownHalt = `drawdown ${pct(drawdown)} reached the limit ${pct(Dec.fromNumber(maxDrawdown))} (peak ${this.peak.toString(2)}, equity ${equity.toString(2)})`;
      } else if (drawdown.gte(Dec.fromNumber(maxDrawdown * REDUCING_AT))) {
        this.reducingReason = `drawdown ${pct(drawdown)} is past ${REDUCING_AT * 100} % of the limit ${pct(Dec.fromNumber(maxDrawdown))}`;
      }
    }
    if (dailyLossLimit !== undefined && this.dayOpen && this.dayOpen.gt(Dec.ZERO)) {
      const loss = this.dayOpen.sub(equity).div(this.dayOpen);
      if (loss.gte(Dec.fromNumber(dailyLossLimit))) {
        if (this.dailyHaltUntil <= now) {
          this.dailyHaltUntil = (day + 1) * DAY_MS;
          this.dailyReason = `the day's loss ${pct(loss)} reached the daily limit ${pct(Dec.fromNumber(dailyLossLimit))}; halted until 00:00 UTC`;
        }
      } else if (!this.reducingReason && loss.gte(Dec.fromNumber(dailyLossLimit * REDUCING_AT))) {
        this.reducingReason = `the day's loss ${pct(loss)} is past ${REDUCING_AT * 100} % of the daily limit ${pct(Dec.fromNumber(dailyLossLimit))}`;
      }
    }
    return this.status(now).state;
  }

  status(now: number): RiskStatus {
    const base = { peakEquity: this.peak?.toString(), dayOpenEquity: this.dayOpen?.toString(), day: this.day };
    if (this.drawdownHalt) return { ...base, state: 'HALTED', reason: this.drawdownHalt };
    if (this.dailyHaltUntil > now) return { ...base, state: 'HALTED', reason: this.dailyReason, until: this.dailyHaltUntil };
    if (this.reducingReason) return { ...base, state: 'REDUCING', reason: this.reducingReason };
    return { ...base, state: 'ACTIVE' };
  }

  /** The state a restart must not forget (a restart mid-day must not reopen the day at a lower equity). */
  memory(): RiskMemory {
    return {
      peakEquity: this.peak?.toString(), dayOpenEquity: this.dayOpen?.toString(), day: this.day, drawdownHalt: this.drawdownHalt,
      dailyHaltUntil: this.dailyHaltUntil, dailyReason: this.dailyReason,
    };
  }

  /** Takes back what `memory()` gave (before the first `updateEquity`). */
  restore(m: RiskMemory): void {
    this.peak = m.peakEquity !== undefined ? Dec.parse(m.peakEquity) : undefined;
    this.dayOpen = m.dayOpenEquity !== undefined ? Dec.parse(m.dayOpenEquity) : undefined;
    this.day = m.day;
    this.drawdownHalt = m.drawdownHalt;
    this.dailyHaltUntil = m.dailyHaltUntil;
    this.dailyReason = m.dailyReason;
  }

  /** Lifts a drawdown halt (a person's decision); the peak restarts from the next equity. */
  resume(): void {
    this.drawdownHalt = undefined;
    this.peak = undefined;
  }

  /** Checks one order. Does not record it: call `recordSent` when it is sent. */
  check(order: RiskOrder, ctx: RiskContext): RiskDecision {
    const status = this.status(ctx.now);
    const qty = Dec.parse(order.quantity, 'quantity');
    const pos = Dec.parse(ctx.positionAmt, 'position');
    const signed = order.side === 'BUY' ? qty : qty.neg();
    const after = pos.add(signed);
    // reduces: against the position and not past it
    const reduces = !pos.isZero() && pos.sign() !== signed.sign() && qty.lte(pos.abs());
    if (status.state === 'HALTED') return { ok: false, rule: 'halted', reason: `trading halted: ${status.reason}`, retryAt: status.until };
    if (status.state === 'REDUCING' && !reduces) return { ok: false, rule: 'reducing', reason: `only reducing orders: ${status.reason}` };
    const key = order.symbol;
    for (const k of [`*:rate`, ...(['margin', 'filter', 'server', 'other'] as const).map((c) => `${key}:${c}`)]) {
      const b = this.backoffs.get(k);
      if (b && b.until > ctx.now) return { ok: false, rule: 'backoff', reason: `backing off ${k.startsWith('*') ? 'every symbol' : key} for ${Math.ceil((b.until - ctx.now) / 1000)} s after ${b.reason}`, retryAt: b.until };
    }
    const mark = Dec.parse(ctx.markPrice, 'mark price');
    if (order.price !== undefined && mark.gt(Dec.ZERO)) {
      const band = this.limits.priceBand ?? DEFAULT_PRICE_BAND;
      const off = Dec.parse(order.price, 'price').sub(mark).abs().div(mark);
      if (off.gt(Dec.fromNumber(band))) return { ok: false, rule: 'price-band', reason: `price ${order.price} is ${pct(off)} from the mark price ${ctx.markPrice} (band ${pct(Dec.fromNumber(band))})` };
    }
    if (!reduces && !order.reduceOnly) {
      const notional = after.abs().mul(mark);
      if (this.limits.maxPositionNotional !== undefined && notional.gt(this.limits.maxPositionNotional)) {
        return { ok: false, rule: 'max-notional', reason: `position notional after the order ${notional.toString(2)} USDT exceeds the limit ${this.limits.maxPositionNotional}` };
      }
      const equity = Dec.parse(ctx.equity, 'equity');
      if (this.limits.maxLeverage !== undefined) {
        if (equity.lte(Dec.ZERO)) return { ok: false, rule: 'max-leverage', reason: `equity ${ctx.equity} leaves no room for a position` };
        const leverage = notional.div(equity);
        if (leverage.gt(Dec.fromNumber(this.limits.maxLeverage))) {
          return { ok: false, rule: 'max-leverage', reason: `leverage after the order ${leverage.toString(2)}× exceeds the limit ${this.limits.maxLeverage}×` };
        }
      }
    }
    const cap = this.limits.maxOrdersPerMinute ?? DEFAULT_MAX_ORDERS_PER_MINUTE;
    this.prune(ctx.now);
    if (this.sent.length >= cap) return { ok: false, rule: 'orders-per-minute', reason: `${this.sent.length} orders in the last minute (cap ${cap})`, retryAt: this.sent[0] + 60_000 };
    return { ok: true };
  }

  /** An order request is leaving (counts towards the orders-per-minute cap). */
  recordSent(now: number): void {
    this.prune(now);
    this.sent.push(now);
  }

  /** An order request failed: starts or lengthens the back-off of its class; returns it (undefined: none). */
  recordError(symbol: string, error: Pick<ExchangeError, 'code' | 'kind' | 'exchangeMessage'> & { retryAfterMs?: number }, now: number): { cls: BackoffClass; until: number } | undefined {
    const cls = backoffClass(error);
    if (!cls) return undefined;
    const key = cls === 'rate' ? '*:rate' : `${symbol}:${cls}`;
    const prev = this.backoffs.get(key);
    const count = (prev?.count ?? 0) + 1;
    const { baseMs, maxMs } = BACKOFF[cls];
    const wait = cls === 'rate' ? Math.max(1000, error.retryAfterMs ?? baseMs) : Math.min(maxMs, baseMs * 2 ** (count - 1));
    const until = now + wait;
    this.backoffs.set(key, { until, count, reason: `${error.code !== 0 ? error.code + ' ' : ''}${error.exchangeMessage}` });
    return { cls, until };
  }

  /** An order request succeeded: the symbol's back-offs start again from their base. */
  recordSuccess(symbol: string): void {
    for (const c of ['margin', 'filter', 'server', 'other']) {
      const b = this.backoffs.get(`${symbol}:${c}`);
      if (b) b.count = 0;
    }
  }

  /** The back-offs in force (for the AutoTrade page and the audit log). */
  backoffsInForce(now: number): { key: string; until: number; reason: string }[] {
    return [...this.backoffs].filter(([, b]) => b.until > now).map(([key, b]) => ({ key, until: b.until, reason: b.reason }));
  }

  private prune(now: number): void {
    while (this.sent.length > 0 && this.sent[0] <= now - 60_000) this.sent.shift();
  }
}

function pct(d: Dec): string {
  return `${d.mul(100).toString(2)} %`;
}
