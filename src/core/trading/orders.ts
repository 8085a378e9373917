import type { AutomationState } from '../accounts/types.js';
import { sleep, type Clock } from '../clock.js';
import {
  ExchangeError, type AlgoOrder, type AlgoStatus, type ExchangePort, type NewAlgoOrder, type NewOrder, type Order, type OrderStatus,
  type OrderTradeUpdateEvent, type SymbolInfo, type Subscription, type UserDataEvent,
} from '../exchange/port.js';
import { Dec } from '../futures/decimal.js';
import { checkOrderFilters, checkPrecision, roundPriceToTick, roundQtyToStep } from '../futures/filters.js';
import { accountPrefix, clientOrderId, parseClientOrderId } from './clientIds.js';
import {
  FINAL_STATES, type AuditEntry, type JournalOrder, type JournalPatch, type OrderFill, type OrderIntent, type OrderJournal, type OrderState, type SentOrder,
} from './journal.js';
import { reconcile, type ReconcileHost, type ReconcileReport } from './reconcile.js';
import { RiskManager, type RiskStatus } from './risk.js';

/**
 * The order manager: turns order intents into exchange orders through the exchange port, with a
 * deterministic client id per decision, the journal written before every send, the risk manager
 * asked before every send, and an explicit UNKNOWN state resolved by querying, never by sending
 * blindly. It applies the user data stream (ORDER_TRADE_UPDATE, ALGO_UPDATE, ACCOUNT_UPDATE) and
 * reconciles with the exchange on start and after every reconnect; no order leaves while a
 * reconciliation runs. See docs/trading.md.
 */

export interface OrderManagerOptions {
  accountId: number;
  port: ExchangePort;
  journal: OrderJournal;
  clock: Clock;
  risk?: RiskManager;
  /** The symbols' filters (default: read from exchangeInfo on start). */
  symbols?: SymbolInfo[];
  /**
   * Waits before each query of an order whose outcome is unknown (default 250, 500, 1000, 2000,
   * 4000 ms: about 8 s). When the exchange still says "does not exist" after the last, the order
   * never arrived: it is LOST and may be sent again under the same id.
   */
  unknownQueryDelaysMs?: number[];
  /** How many times a LOST order is sent again under its id, automatically (default 1). */
  maxResends?: number;
  /** Default age after which an open LIMIT / POST_ONLY order is cancelled (default 60 s). */
  limitMaxAgeMs?: number;
  /** How often open limits are aged (default 1000 ms; 0: only when `ageLimits()` is called). */
  agingIntervalMs?: number;
  /** Subscribe to the user data stream on start (default true). */
  userStream?: boolean;
}

export type OrderEvent =
  | { type: 'fill'; order: JournalOrder; fill: OrderFill }
  | { type: 'update'; order: JournalOrder; previous: OrderState }
  | { type: 'reject'; order: JournalOrder; code: number; message: string }
  | { type: 'refused'; clientId: string; intent: OrderIntent; rule: string; reason: string }
  | { type: 'unknown'; order: JournalOrder; error: string }
  | { type: 'resolved'; order: JournalOrder; how: 'found' | 'lost' | 'resent' }
  | { type: 'position'; symbol: string; amount: string }
  | { type: 'reconciled'; report: ReconcileReport }
  | { type: 'stream'; up: boolean; reason: string }
  | { type: 'automation'; state: AutomationState };

export type SubmitResult =
  /** Sent now (the order as the journal holds it after the answer or its resolution). */
  | { status: 'sent'; order: JournalOrder }
  /** This decision's order is already journaled: nothing sent. */
  | { status: 'existing'; order: JournalOrder }
  /** Not sent: the reason (risk, filters, automation off, reconciling). */
  | { status: 'refused'; clientId: string; rule: string; reason: string };

export interface SubmitOptions {
  /** Mark price for the risk check (default: asked from the exchange). */
  markPrice?: string;
  /** The kill switch's closing orders: pass a halted or reducing account and a stopped automation (never the filters). */
  override?: boolean;
  /**
   * Internal: the automatic resend of a LOST order. Its own unknown outcome started a `server`
   * back-off on the symbol; that back-off does not hold back the resend (sent at most `maxResends` times).
   */
  resend?: boolean;
}

const ORDER_STATE: Record<OrderStatus, OrderState> = {
  NEW: 'ACKED', PARTIALLY_FILLED: 'PARTIAL', FILLED: 'FILLED', CANCELED: 'CANCELED', REJECTED: 'REJECTED', EXPIRED: 'EXPIRED', EXPIRED_IN_MATCH: 'EXPIRED',
};
const ALGO_STATE: Record<AlgoStatus, OrderState> = {
  NEW: 'ACKED', TRIGGERING: 'ACKED', TRIGGERED: 'ACKED', FINISHED: 'FILLED', CANCELED: 'CANCELED', REJECTED: 'REJECTED', EXPIRED: 'EXPIRED',
};

const isAlgoType = (type: OrderIntent['type']) => type === 'STOP_MARKET' || type === 'TAKE_PROFIT_MARKET';

function describe(error: unknown): string {
  if (error instanceof ExchangeError) return `${error.code !== 0 ? error.code + ' ' : ''}${error.exchangeMessage}`;
  return (error as Error)?.message ?? String(error);
}

export class OrderManager implements ReconcileHost {
  readonly accountId: number;
  readonly port: ExchangePort;
  readonly journal: OrderJournal;
  readonly clock: Clock;
  readonly risk: RiskManager;
  readonly prefix: string;
  private readonly symbols = new Map<string, SymbolInfo>();
  private readonly listeners = new Set<(event: OrderEvent) => void>();
  private readonly positionsBySymbol = new Map<string, string>();
  private readonly positionTimes = new Map<string, number>();
  private readonly resolving = new Map<string, Promise<JournalOrder>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly submitting = new Set<string>();
  private equityText = '0';
  private walletText = '0';
  private userSub: Subscription | undefined;
  private reconciling: Promise<ReconcileReport> | undefined;
  private reconcileAgain = false;
  private readyFlag = false;
  private stopped = false;
  private cancelAging: (() => void) | undefined;
  private automationState: AutomationState = 'on';
  private streamDown = false;
  private cancelRetry: (() => void) | undefined;

  constructor(private readonly options: OrderManagerOptions) {
    this.accountId = options.accountId;
    this.port = options.port;
    this.journal = options.journal;
    this.clock = options.clock;
    this.risk = options.risk ?? new RiskManager();
    this.prefix = accountPrefix(options.accountId);
    for (const s of options.symbols ?? []) this.symbols.set(s.symbol, s);
  }

  // ---------------------------------------------------------------------------------------
  // lifecycle
  // ---------------------------------------------------------------------------------------

  /** Reads the filters, subscribes to the user data stream, reconciles; orders are accepted after. */
  async start(): Promise<ReconcileReport> {
    if (this.symbols.size === 0) for (const s of (await this.port.exchangeInfo()).symbols) this.symbols.set(s.symbol, s);
    if (this.options.userStream ?? true) this.userSub = await this.port.subscribeUserData((event) => this.onUserEvent(event));
    const report = await this.reconcile();
    const every = this.options.agingIntervalMs ?? 1000;
    if (every > 0) this.scheduleAging(every);
    return report;
  }

  /** Stops timers and the user stream; waits for requests in flight. Orders stay on the exchange. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.readyFlag = false;
    this.cancelAging?.();
    this.cancelRetry?.();
    this.userSub?.unsubscribe();
    this.userSub = undefined;
    await Promise.allSettled([...this.pending, ...this.resolving.values(), ...(this.reconciling ? [this.reconciling] : [])]);
  }

  /** True once reconciled and not reconciling now: orders are accepted. */
  get ready(): boolean {
    return this.readyFlag && !this.stopped;
  }

  get automation(): AutomationState {
    return this.automationState;
  }

  /** Turns automated orders on or off (`killed` by the kill switch); submit refuses unless `on`. */
  setAutomation(state: AutomationState, why = ''): void {
    if (state === this.automationState) return;
    this.automationState = state;
    this.audit({ kind: 'automation', message: `automation ${state}${why ? ': ' + why : ''}` });
    this.emit({ type: 'automation', state });
  }

  /** Listens to order events; returns the function that stops listening. */
  on(listener: (event: OrderEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------------------------------
  // state for the trader
  // ---------------------------------------------------------------------------------------

  /** The symbol's position as last known (signed decimal string; "0" when flat or unknown). */
  position(symbol: string): string {
    return this.positionsBySymbol.get(symbol) ?? '0';
  }

  positions(): Record<string, string> {
    return Object.fromEntries(this.positionsBySymbol);
  }

  /** Margin balance (wallet + unrealised PnL) from the last reconciliation or `setEquity`. */
  get equity(): string {
    return this.equityText;
  }

  /** The trader's fresher equity (e.g. from marks); feeds the risk manager. */
  setEquity(equity: string): RiskStatus {
    this.equityText = equity;
    const before = this.risk.status(this.clock.now());
    this.risk.updateEquity(equity, this.clock.now());
    const after = this.risk.status(this.clock.now());
    if (after.state !== before.state) this.audit({ kind: 'risk', message: `risk ${before.state} → ${after.state}${after.reason ? ': ' + after.reason : ''}` });
    return after;
  }

  /** Journal orders in an open state. */
  openOrders(): JournalOrder[] {
    return this.journal.open(this.accountId);
  }

  symbolInfo(symbol: string): SymbolInfo | undefined {
    return this.symbols.get(symbol);
  }

  /** The client id a decision's order gets (the same every time). */
  clientIdFor(intent: Pick<OrderIntent, 'positionIndex' | 'decision'>): string {
    return clientOrderId(this.accountId, intent.positionIndex, intent.decision);
  }

  // ---------------------------------------------------------------------------------------
  // placing orders
  // ---------------------------------------------------------------------------------------

  /**
   * Places one decision's order: the journal first, then the exchange. The same decision
   * (position, kline open time, sequence, purpose) submitted again sends nothing and returns the
   * journaled order, unless it was LOST (never reached the exchange): then it is sent again under
   * the same id.
   */
  async submit(intent: OrderIntent, options: SubmitOptions = {}): Promise<SubmitResult> {
    const work = this.submitInner(intent, options);
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  private async submitInner(intent: OrderIntent, options: SubmitOptions): Promise<SubmitResult> {
    const clientId = this.clientIdFor(intent);
    // one submission per client id at a time: a second one (a retry racing the first) sends nothing
    const busy = this.submitting.has(clientId);
    const existing = this.journal.get(this.accountId, clientId);
    if (existing && (existing.state !== 'LOST' || busy)) return { status: 'existing', order: existing };
    if (busy) return { status: 'refused', clientId, rule: 'in-flight', reason: 'this decision is being submitted' };
    this.submitting.add(clientId);
    try {
      return await this.submitChecked(intent, options, clientId, existing);
    } finally {
      this.submitting.delete(clientId);
    }
  }

  private async submitChecked(intent: OrderIntent, options: SubmitOptions, clientId: string, existing: JournalOrder | undefined): Promise<SubmitResult> {
    const refuse = (rule: string, reason: string): SubmitResult => {
      this.audit({ kind: 'refused', symbol: intent.symbol, clientId, message: `${rule}: ${reason}`, data: { intent } });
      this.emit({ type: 'refused', clientId, intent, rule, reason });
      return { status: 'refused', clientId, rule, reason };
    };
    if (!this.ready) return refuse('not-ready', this.stopped ? 'the order manager is stopped' : this.streamDown ? 'the user data stream is down; waiting for it and a reconciliation' : 'reconciliation with the exchange is not finished');
    if (this.automationState !== 'on' && !options.override) return refuse('automation', `automated trading is ${this.automationState}`);
    const info = this.symbols.get(intent.symbol);
    if (!info) return refuse('symbol', `${intent.symbol} is not listed on ${this.port.venue}`);
    let sent: SentOrder;
    try {
      sent = this.roundToFilters(intent, info);
    } catch (error) {
      return refuse('filter', (error as Error).message);
    }
    // the filters, locally: a request the exchange would refuse is not sent
    let mark: string;
    try {
      mark = options.markPrice ?? (await this.port.premiumIndex(intent.symbol)).markPrice;
    } catch (error) {
      return refuse('mark-price', `the mark price of ${intent.symbol} could not be read: ${describe(error)}`);
    }
    if (sent.quantity !== undefined) {
      const failure = checkPrecision(info, sent.quantity, sent.price) ?? checkOrderFilters(info, {
        type: sent.kind === 'regular' && sent.type === 'LIMIT' ? 'LIMIT' : 'MARKET', side: intent.side, quantity: sent.quantity, price: sent.kind === 'regular' ? sent.price : undefined,
        reduceOnly: intent.reduceOnly, markPrice: mark,
      });
      if (failure) return refuse('filter', `${failure.code} ${failure.msg}`);
    }
    // risk
    const quantity = sent.quantity ?? Dec.parse(this.position(intent.symbol)).abs().toString();
    const decision = this.risk.check(
      // the price band applies to limit prices; a stop may rightly lie far from the mark
      { symbol: intent.symbol, side: intent.side, quantity, price: sent.price, reduceOnly: intent.reduceOnly || intent.closePosition },
      { now: this.clock.now(), markPrice: mark, positionAmt: this.position(intent.symbol), equity: this.equityText },
    );
    const overridden = !decision.ok && ((options.override && (decision.rule === 'halted' || decision.rule === 'reducing')) || (options.resend && decision.rule === 'backoff'));
    if (!decision.ok && !overridden) return refuse(decision.rule, decision.reason);
    const now = this.clock.now();
    if (existing) {
      this.journal.update(this.accountId, clientId, { state: 'NEW', error: undefined }, now);
      this.audit({ kind: 'decision', symbol: intent.symbol, clientId, message: `sending again under the same id (it never reached the exchange): ${this.describeSent(intent, sent)}` });
    } else {
      const order: JournalOrder = {
        accountId: this.accountId, clientId, symbol: intent.symbol, intent, sent, state: 'NEW', executedQty: '0', avgPrice: '0', attempts: 0, createdAt: now, updatedAt: now,
      };
      if (!this.journal.insert(order)) return { status: 'existing', order: this.journal.get(this.accountId, clientId)! };
      this.audit({ kind: 'decision', symbol: intent.symbol, clientId, message: `${this.describeSent(intent, sent)}${intent.reason ? ' — ' + intent.reason : ''}`, data: { intent, sent, mark } });
    }
    const order = await this.send(this.journal.get(this.accountId, clientId)!);
    return { status: 'sent', order };
  }

  /** Rounds quantity and prices to the symbol's grid (quantities down; a SELL limit up, a BUY limit down). */
  private roundToFilters(intent: OrderIntent, info: SymbolInfo): SentOrder {
    const algo = isAlgoType(intent.type);
    const market = intent.type === 'MARKET' || algo;
    let quantity: string | undefined;
    if (intent.quantity !== undefined && !intent.closePosition) {
      quantity = roundQtyToStep(info, Dec.parse(intent.quantity, 'quantity').abs().toString(), market);
      if (Dec.parse(quantity).isZero()) throw new Error(`quantity ${intent.quantity} rounds to 0 at step ${market ? info.marketStepSize : info.stepSize}`);
    } else if (!intent.closePosition) throw new Error('no quantity');
    const roundPrice = (text: string, up: boolean): string => {
      const down = roundPriceToTick(info, text);
      return up && !Dec.parse(down).eq(text) ? Dec.parse(down).add(info.tickSize).toString() : down;
    };
    if (algo) {
      if (intent.triggerPrice === undefined) throw new Error(`${intent.type} needs a trigger price`);
      return { kind: 'algo', type: intent.type, quantity, triggerPrice: roundPrice(intent.triggerPrice, false) };
    }
    if (intent.type === 'MARKET') return { kind: 'regular', type: 'MARKET', quantity };
    if (intent.price === undefined) throw new Error(`${intent.type} needs a price`);
    return { kind: 'regular', type: 'LIMIT', timeInForce: intent.type === 'POST_ONLY' ? 'GTX' : 'GTC', quantity, price: roundPrice(intent.price, intent.side === 'SELL') };
  }

  private describeSent(intent: OrderIntent, sent: SentOrder): string {
    const what = `${intent.side} ${sent.quantity ?? 'close-position'} ${intent.symbol} ${intent.type}`;
    const at = sent.price ? ` @ ${sent.price}` : sent.triggerPrice ? ` trigger ${sent.triggerPrice}` : '';
    return `${what}${at}${intent.reduceOnly ? ' reduce-only' : ''}`;
  }

  /** Sends a journaled order (state NEW) and follows it to an answer or to UNKNOWN → resolution. */
  private async send(order: JournalOrder): Promise<JournalOrder> {
    const { clientId, intent, sent } = order;
    this.journal.update(this.accountId, clientId, { state: 'SENT', attempts: order.attempts + 1 }, this.clock.now());
    this.risk.recordSent(this.clock.now());
    try {
      if (sent.kind === 'algo') {
        const request: NewAlgoOrder = {
          symbol: intent.symbol, side: intent.side, type: sent.type as NewAlgoOrder['type'], triggerPrice: sent.triggerPrice, workingType: intent.workingType ?? 'MARK_PRICE',
          clientAlgoId: clientId, ...(intent.closePosition ? { closePosition: true } : { quantity: sent.quantity, reduceOnly: intent.reduceOnly }),
        };
        const answer = await this.port.newAlgoOrder(request);
        this.applyAlgoOrder(answer);
      } else {
        const request: NewOrder = {
          symbol: intent.symbol, side: intent.side, type: sent.type as NewOrder['type'], quantity: sent.quantity!, newClientOrderId: clientId, newOrderRespType: 'RESULT',
          ...(sent.type === 'LIMIT' ? { price: sent.price, timeInForce: sent.timeInForce } : {}), ...(intent.reduceOnly ? { reduceOnly: true } : {}),
        };
        const answer = await this.port.newOrder(request);
        this.applyOrder(answer);
      }
      this.risk.recordSuccess(intent.symbol);
      this.audit({ kind: 'sent', symbol: intent.symbol, clientId, message: `accepted: ${this.journal.get(this.accountId, clientId)!.state}` });
      await this.syncFillsIfNeeded(this.journal.get(this.accountId, clientId)!);
      return this.journal.get(this.accountId, clientId)!;
    } catch (error) {
      return this.onSendError(clientId, error);
    }
  }

  private async onSendError(clientId: string, error: unknown): Promise<JournalOrder> {
    const order = this.journal.get(this.accountId, clientId)!;
    const now = this.clock.now();
    const text = describe(error);
    const ex = error instanceof ExchangeError ? error : undefined;
    if (ex) {
      const backoff = this.risk.recordError(order.symbol, ex, now);
      if (backoff) this.audit({ kind: 'risk', symbol: order.symbol, clientId, message: `back-off ${backoff.cls} until ${new Date(backoff.until).toISOString()} after ${text}` });
    }
    // rejected as sent (4xx with a code), or held back by a rate limit before being processed
    if (ex && (ex.kind === 'rejected' || ex.kind === 'rate-limited' || ex.kind === 'banned')) {
      if (ex.code === -4116) {
        // the id is open on the exchange already: this very order; find it
        return this.resolve(clientId);
      }
      this.journal.update(this.accountId, clientId, { state: 'REJECTED', error: text }, now);
      const rejected = this.journal.get(this.accountId, clientId)!;
      this.audit({ kind: 'reject', symbol: order.symbol, clientId, message: text, data: { code: ex.code, kind: ex.kind } });
      this.emit({ type: 'reject', order: rejected, code: ex.code, message: ex.exchangeMessage });
      return rejected;
    }
    // anything else after the request may have left: the outcome is unknown
    this.journal.update(this.accountId, clientId, { state: 'UNKNOWN', error: text }, now);
    const unknown = this.journal.get(this.accountId, clientId)!;
    this.audit({ kind: 'unknown', symbol: order.symbol, clientId, message: `outcome unknown: ${text}; querying by client id` });
    this.emit({ type: 'unknown', order: unknown, error: text });
    return this.resolve(clientId);
  }

  /**
   * Resolves an UNKNOWN (or SENT) order by querying it by client id, with the bounded waits of
   * `unknownQueryDelaysMs`. Found: its state. "Does not exist" at the last query: LOST, then sent
   * again under the same id at most `maxResends` times. Queries that keep failing leave it
   * UNKNOWN for the next reconciliation. One resolution per order at a time.
   */
  resolve(clientId: string): Promise<JournalOrder> {
    const running = this.resolving.get(clientId);
    if (running) return running;
    const work = this.resolveInner(clientId)
      .finally(() => this.resolving.delete(clientId))
      .then(async ({ order, resend }) => {
        if (!resend) return order;
        // the submission that sent it first may still hold the id (it awaits this resolution): continue it
        const again = this.submitting.has(clientId)
          ? await this.submitChecked(order.intent, { resend: true }, clientId, this.journal.get(this.accountId, clientId))
          : await this.submitInner(order.intent, { resend: true });
        if (again.status === 'refused') return this.journal.get(this.accountId, clientId)!;
        this.emit({ type: 'resolved', order: again.order, how: 'resent' });
        return again.order;
      });
    this.resolving.set(clientId, work);
    return work;
  }

  private async resolveInner(clientId: string): Promise<{ order: JournalOrder; resend: boolean }> {
    const delays = this.options.unknownQueryDelaysMs ?? [250, 500, 1000, 2000, 4000];
    let lastAnswer: 'missing' | 'error' = 'error';
    for (const delay of delays) {
      if (this.stopped) break;
      await sleep(this.clock, delay);
      const current = this.journal.get(this.accountId, clientId)!;
      if (FINAL_STATES.has(current.state) || current.state === 'ACKED' || current.state === 'PARTIAL') {
        // the user data stream told us meanwhile
        this.audit({ kind: 'resolved', symbol: current.symbol, clientId, message: `resolved by the user data stream: ${current.state}` });
        this.emit({ type: 'resolved', order: current, how: 'found' });
        return { order: current, resend: false };
      }
      const found = await this.query(current);
      if (found === 'missing') {
        lastAnswer = 'missing';
        continue;
      }
      if (found === 'error') {
        lastAnswer = 'error';
        continue;
      }
      await this.syncFillsIfNeeded(found);
      const resolved = this.journal.get(this.accountId, clientId)!;
      this.audit({ kind: 'resolved', symbol: resolved.symbol, clientId, message: `found on the exchange by client id: ${resolved.state}` });
      this.emit({ type: 'resolved', order: resolved, how: 'found' });
      return { order: resolved, resend: false };
    }
    const order = this.journal.get(this.accountId, clientId)!;
    if (lastAnswer !== 'missing' || this.stopped) return { order, resend: false };
    this.journal.update(this.accountId, clientId, { state: 'LOST' }, this.clock.now());
    const lost = this.journal.get(this.accountId, clientId)!;
    this.audit({ kind: 'resolved', symbol: order.symbol, clientId, message: `not on the exchange after ${delays.length} queries over ${delays.reduce((a, b) => a + b, 0)} ms: it never arrived (LOST)` });
    this.emit({ type: 'resolved', order: lost, how: 'lost' });
    return { order: lost, resend: lost.attempts <= (this.options.maxResends ?? 1) && this.ready };
  }

  /** Queries one order by client id and applies the answer; 'missing' for -2013, 'error' for anything else. */
  async query(order: JournalOrder): Promise<JournalOrder | 'missing' | 'error'> {
    try {
      if (order.sent.kind === 'algo') this.applyAlgoOrder(await this.port.queryAlgoOrder({ clientAlgoId: order.clientId }));
      else this.applyOrder(await this.port.queryOrder({ symbol: order.symbol, origClientOrderId: order.clientId }));
      return this.journal.get(this.accountId, order.clientId)!;
    } catch (error) {
      if (error instanceof ExchangeError && error.code === -2013) return 'missing';
      this.audit({ kind: 'query', symbol: order.symbol, clientId: order.clientId, message: `query failed: ${describe(error)}` });
      return 'error';
    }
  }

  // ---------------------------------------------------------------------------------------
  // cancelling and aging
  // ---------------------------------------------------------------------------------------

  /** Cancels one open order by client id; an order already gone is queried for its final state. */
  async cancel(clientId: string, why = 'cancel'): Promise<JournalOrder | undefined> {
    const order = this.journal.get(this.accountId, clientId);
    if (!order || FINAL_STATES.has(order.state)) return order;
    try {
      if (order.sent.kind === 'algo') {
        await this.port.cancelAlgoOrder({ clientAlgoId: clientId });
        this.update(clientId, { state: 'CANCELED' });
      } else this.applyOrder(await this.port.cancelOrder({ symbol: order.symbol, origClientOrderId: clientId }));
      this.audit({ kind: 'cancel', symbol: order.symbol, clientId, message: why });
    } catch (error) {
      this.audit({ kind: 'cancel', symbol: order.symbol, clientId, message: `${why}: ${describe(error)}` });
      if (error instanceof ExchangeError && (error.code === -2011 || error.code === -2013)) await this.query(order);
      else throw error;
    }
    const after = this.journal.get(this.accountId, clientId)!;
    await this.syncFillsIfNeeded(after);
    return after;
  }

  /** Cancels LIMIT / POST_ONLY orders open longer than their max age; returns how many. */
  async ageLimits(): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    for (const o of this.journal.open(this.accountId)) {
      if (o.state !== 'ACKED' && o.state !== 'PARTIAL') continue;
      if (o.intent.type !== 'LIMIT' && o.intent.type !== 'POST_ONLY') continue;
      const maxAge = o.intent.maxAgeMs ?? this.options.limitMaxAgeMs ?? 60_000;
      if (now - o.createdAt < maxAge) continue;
      try {
        await this.cancel(o.clientId, `aged: open ${Math.round((now - o.createdAt) / 1000)} s (max ${Math.round(maxAge / 1000)} s)`);
        n++;
      } catch {
        // logged by cancel; tried again at the next aging
      }
    }
    return n;
  }

  private scheduleAging(every: number): void {
    if (this.stopped) return;
    this.cancelAging = this.clock.setTimer(every, () => {
      const work = (this.ready ? this.ageLimits() : Promise.resolve(0)).catch(() => 0).finally(() => {
        this.pending.delete(work);
        this.scheduleAging(every);
      });
      this.pending.add(work);
    }, { background: true });
  }

  // ---------------------------------------------------------------------------------------
  // reconciliation
  // ---------------------------------------------------------------------------------------

  /**
   * Reads open orders, algo orders, positions and balances and corrects the journal and the local
   * state (docs/trading.md). No order is sent until it ends. A call while one runs runs once more
   * after it (state may have changed meanwhile).
   */
  reconcile(): Promise<ReconcileReport> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.readyFlag = false;
    const run = async (): Promise<ReconcileReport> => {
      let report: ReconcileReport;
      for (let round = 0; ; round++) {
        this.reconcileAgain = false;
        report = await reconcile(this);
        if (!this.reconcileAgain || round >= 3) break;
      }
      return report;
    };
    this.reconciling = run()
      .then((report) => {
        this.readyFlag = !this.stopped;
        this.emit({ type: 'reconciled', report });
        return report;
      })
      .finally(() => {
        this.reconciling = undefined;
      });
    return this.reconciling;
  }

  // ReconcileHost

  /**
   * Sets a symbol's position. With `time` (the exchange's update time), an older report than the
   * last one applied is ignored (a late ACCOUNT_UPDATE after a reconciliation's positionRisk).
   */
  setPosition(symbol: string, amount: string, time?: number): void {
    if (time !== undefined) {
      if (time < (this.positionTimes.get(symbol) ?? 0)) return;
      this.positionTimes.set(symbol, time);
    }
    const before = this.positionsBySymbol.get(symbol) ?? '0';
    if (Dec.parse(before).eq(amount)) return;
    if (Dec.parse(amount).isZero()) this.positionsBySymbol.delete(symbol);
    else this.positionsBySymbol.set(symbol, Dec.parse(amount).toString());
    this.emit({ type: 'position', symbol, amount: Dec.parse(amount).toString() });
  }

  setBalances(wallet: string, equity: string): void {
    this.walletText = wallet;
    this.setEquity(equity);
  }

  get wallet(): string {
    return this.walletText;
  }

  /** Applies an order as the exchange reports it (REST) to its journal row; adopts our unknown ids. */
  applyOrder(o: Order): JournalOrder | undefined {
    let row = this.journal.get(this.accountId, o.clientOrderId);
    if (!row) {
      row = this.adoptRegular(o);
      if (!row) return undefined;
    }
    const patch: JournalPatch = { executedQty: this.maxQty(row, o.executedQty), avgPrice: o.avgPrice };
    if (row.sent.kind === 'algo') patch.actualOrderId = o.orderId;
    else patch.exchangeId = o.orderId;
    const next = ORDER_STATE[o.status];
    if (row.sent.kind !== 'algo' || next !== 'ACKED') patch.state = next;
    return this.update(row.clientId, patch);
  }

  /** Applies an algo order as the exchange reports it. */
  applyAlgoOrder(a: AlgoOrder): JournalOrder | undefined {
    let row = this.journal.get(this.accountId, a.clientAlgoId);
    if (!row) {
      row = this.adoptAlgo(a);
      if (!row) return undefined;
    }
    const patch: JournalPatch = { exchangeId: a.algoId, state: ALGO_STATE[a.algoStatus] };
    if (a.actualOrderId) patch.actualOrderId = Number(a.actualOrderId);
    // a fired conditional order follows its regular order's state (FILLED / PARTIAL via ORDER_TRADE_UPDATE)
    if (patch.state === 'ACKED' && (row.state === 'PARTIAL' || row.state === 'FILLED')) delete patch.state;
    return this.update(row.clientId, patch);
  }

  adoptRegular(o: Order): JournalOrder | undefined {
    const parsed = parseClientOrderId(o.clientOrderId);
    if (!parsed || parsed.accountId !== this.accountId) return undefined;
    const now = this.clock.now();
    const type = o.type === 'LIMIT' ? (o.timeInForce === 'GTX' ? 'POST_ONLY' : 'LIMIT') : 'MARKET';
    const intent: OrderIntent = {
      symbol: o.symbol, side: o.side, type, quantity: o.origQty, price: type === 'MARKET' ? undefined : o.price, reduceOnly: o.reduceOnly,
      positionIndex: parsed.positionIndex, decision: parsed.key, reason: 'adopted from the exchange',
    };
    const row: JournalOrder = {
      accountId: this.accountId, clientId: o.clientOrderId, symbol: o.symbol, intent,
      sent: { kind: 'regular', type: type === 'MARKET' ? 'MARKET' : 'LIMIT', timeInForce: o.timeInForce as SentOrder['timeInForce'], quantity: o.origQty, price: intent.price },
      state: ORDER_STATE[o.status], exchangeId: o.orderId, executedQty: o.executedQty, avgPrice: o.avgPrice, attempts: 1, createdAt: o.time ?? now, updatedAt: now,
    };
    if (!this.journal.insert(row)) return this.journal.get(this.accountId, o.clientOrderId);
    this.audit({ kind: 'adopted', symbol: o.symbol, clientId: o.clientOrderId, message: `an order with this account's id, unknown to the journal, adopted: ${o.side} ${o.origQty} ${o.type} ${o.status}` });
    return row;
  }

  adoptAlgo(a: AlgoOrder): JournalOrder | undefined {
    const parsed = parseClientOrderId(a.clientAlgoId);
    if (!parsed || parsed.accountId !== this.accountId) return undefined;
    if (a.orderType !== 'STOP_MARKET' && a.orderType !== 'TAKE_PROFIT_MARKET') return undefined;
    const now = this.clock.now();
    const intent: OrderIntent = {
      symbol: a.symbol, side: a.side, type: a.orderType, quantity: a.closePosition ? undefined : a.quantity, triggerPrice: a.triggerPrice, workingType: a.workingType,
      reduceOnly: a.reduceOnly, closePosition: a.closePosition, positionIndex: parsed.positionIndex, decision: parsed.key, reason: 'adopted from the exchange',
    };
    const row: JournalOrder = {
      accountId: this.accountId, clientId: a.clientAlgoId, symbol: a.symbol, intent,
      sent: { kind: 'algo', type: a.orderType, quantity: intent.quantity, triggerPrice: a.triggerPrice },
      state: ALGO_STATE[a.algoStatus], exchangeId: a.algoId, executedQty: '0', avgPrice: '0', attempts: 1, createdAt: a.createTime ?? now, updatedAt: now,
    };
    if (!this.journal.insert(row)) return this.journal.get(this.accountId, a.clientAlgoId);
    this.audit({ kind: 'adopted', symbol: a.symbol, clientId: a.clientAlgoId, message: `a conditional order with this account's id, unknown to the journal, adopted: ${a.side} ${a.orderType} ${a.algoStatus}` });
    return row;
  }

  /** Fetches the trades of a filled / partly filled order when the journal lacks some. */
  async syncFillsIfNeeded(order: JournalOrder): Promise<void> {
    const orderId = order.sent.kind === 'algo' ? order.actualOrderId : order.exchangeId;
    if (orderId === undefined || Dec.parse(order.executedQty).isZero()) return;
    const have = this.journal.fills(this.accountId, order.clientId).reduce((sum, f) => sum.add(f.quantity), Dec.ZERO);
    if (have.gte(order.executedQty)) return;
    let trades;
    try {
      trades = await this.port.userTrades(order.symbol, { orderId });
    } catch (error) {
      this.audit({ kind: 'query', symbol: order.symbol, clientId: order.clientId, message: `fills not read: ${describe(error)}` });
      return;
    }
    for (const t of trades) {
      this.recordFill({
        accountId: this.accountId, clientId: order.clientId, symbol: order.symbol, tradeId: t.id, orderId: t.orderId, side: t.side, price: t.price, quantity: t.qty,
        fee: t.commission, feeAsset: t.commissionAsset, realizedPnl: t.realizedPnl, maker: t.maker, time: t.time,
      });
    }
  }

  private recordFill(fill: OrderFill): void {
    if (!this.journal.addFill(fill)) return;
    this.audit({ kind: 'fill', symbol: fill.symbol, clientId: fill.clientId, message: `${fill.side} ${fill.quantity} @ ${fill.price} fee ${fill.fee} ${fill.feeAsset}`, data: { tradeId: fill.tradeId } });
    this.emit({ type: 'fill', order: this.journal.get(this.accountId, fill.clientId)!, fill });
  }

  // ---------------------------------------------------------------------------------------
  // the user data stream
  // ---------------------------------------------------------------------------------------

  /** Applies one user data stream event (public for tests and for replaying events). */
  onUserEvent(event: UserDataEvent): void {
    if (this.stopped) return;
    switch (event.e) {
      case 'ORDER_TRADE_UPDATE':
        this.onOrderTradeUpdate(event as OrderTradeUpdateEvent);
        break;
      case 'ALGO_UPDATE': {
        const o = (event as Extract<UserDataEvent, { e: 'ALGO_UPDATE' }>).o;
        const row = this.journal.get(this.accountId, o.caid);
        if (!row) break;
        const patch: JournalPatch = { exchangeId: o.aid, state: ALGO_STATE[o.X] };
        if (o.ai) patch.actualOrderId = Number(o.ai);
        if (patch.state === 'ACKED' && (row.state === 'PARTIAL' || row.state === 'FILLED')) delete patch.state;
        if (o.X === 'REJECTED' && o.rm) patch.error = String(o.rm);
        this.update(row.clientId, patch);
        break;
      }
      case 'ACCOUNT_UPDATE': {
        const a = (event as Extract<UserDataEvent, { e: 'ACCOUNT_UPDATE' }>).a;
        const time = (event as Extract<UserDataEvent, { e: 'ACCOUNT_UPDATE' }>).T;
        for (const p of a.P) if (p.ps === 'BOTH') this.setPosition(p.s, p.pa, time);
        const usdt = a.B.find((b) => b.a === 'USDT');
        if (usdt) this.walletText = usdt.wb;
        break;
      }
      case 'listenKeyExpired':
        this.audit({ kind: 'stream', message: 'listenKey expired; the adapter creates a new one and reconnects' });
        break;
      case 'USER_STREAM_STATE': {
        const e = event as Extract<UserDataEvent, { e: 'USER_STREAM_STATE' }>;
        this.audit({ kind: 'stream', message: `user data stream ${e.up ? 'back' : 'lost'}: ${e.reason}` });
        this.emit({ type: 'stream', up: e.up, reason: e.reason });
        this.streamDown = !e.up;
        if (e.up) this.reconcileUntilDone();
        else this.readyFlag = false; // no orders while fills may go unseen; the reconciliation on `up` re-enables
        break;
      }
      default:
        break;
    }
  }

  private onOrderTradeUpdate(event: OrderTradeUpdateEvent): void {
    const o = event.o;
    let row = this.journal.get(this.accountId, o.c);
    if (!row) {
      if (!o.c.startsWith(this.prefix)) return;
      row = this.adoptRegular({
        orderId: o.i, symbol: o.s, status: o.X, clientOrderId: o.c, price: o.p, avgPrice: o.ap, origQty: o.q, executedQty: o.z, cumQuote: '0', timeInForce: o.f, type: o.o,
        reduceOnly: o.R, closePosition: o.cp, side: o.S, positionSide: o.ps, stopPrice: o.sp, workingType: o.wt, priceProtect: false, origType: o.ot, time: o.T, updateTime: o.T,
      });
      if (!row) return;
    }
    if (o.x === 'TRADE' && o.t) {
      this.recordFill({
        accountId: this.accountId, clientId: row.clientId, symbol: o.s, tradeId: o.t, orderId: o.i, side: o.S, price: o.L, quantity: o.l, fee: o.n ?? '0',
        feeAsset: o.N ?? 'USDT', realizedPnl: o.rp, maker: o.m, time: o.T,
      });
    }
    const patch: JournalPatch = { executedQty: this.maxQty(row, o.z), avgPrice: o.ap };
    if (row.sent.kind === 'algo') patch.actualOrderId = o.i;
    else patch.exchangeId = o.i;
    const next = ORDER_STATE[o.X];
    if (row.sent.kind !== 'algo' || next !== 'ACKED') patch.state = next;
    this.update(row.clientId, patch);
  }

  // ---------------------------------------------------------------------------------------
  // helpers
  // ---------------------------------------------------------------------------------------

  /** Executed quantities only grow (a late event never takes a fill back). */
  private maxQty(row: JournalOrder, reported: string): string {
    return Dec.parse(reported).gt(row.executedQty) ? reported : row.executedQty;
  }

  /**
   * Writes a patch; a final state never goes back to an open one (a late NEW event after the
   * FILLED answer), except LOST, which a later sighting corrects. Emits `update` on a state change.
   */
  update(clientId: string, patch: JournalPatch): JournalOrder {
    const before = this.journal.get(this.accountId, clientId)!;
    if (patch.state && FINAL_STATES.has(before.state) && before.state !== 'LOST' && !FINAL_STATES.has(patch.state)) delete patch.state;
    if ((patch.state === 'PARTIAL' && before.state === 'FILLED') || (patch.state === 'ACKED' && before.state === 'PARTIAL')) delete patch.state;
    this.journal.update(this.accountId, clientId, patch, this.clock.now());
    const after = this.journal.get(this.accountId, clientId)!;
    if (after.state !== before.state) {
      this.audit({ kind: after.state === 'REJECTED' ? 'reject' : 'order', symbol: after.symbol, clientId, message: `${before.state} → ${after.state}${after.error && after.state === 'REJECTED' ? ': ' + after.error : ''}` });
      this.emit({ type: 'update', order: after, previous: before.state });
      if (after.state === 'REJECTED' && before.state !== 'REJECTED') this.emit({ type: 'reject', order: after, code: 0, message: after.error ?? 'rejected' });
    }
    return after;
  }

  audit(entry: Omit<AuditEntry, 'time' | 'accountId'>): void {
    this.journal.audit({ time: this.clock.now(), accountId: this.accountId, ...entry });
  }

  private emit(event: OrderEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /**
   * Reconciles; on failure tries again after 1, 2, 4 ... 60 s (each failure audited) until it
   * succeeds or the manager stops. Orders stay refused meanwhile.
   */
  private reconcileUntilDone(attempt = 0): void {
    if (this.stopped) return;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const work: Promise<void> = this.reconcile().then(
      () => undefined,
      (error) => {
        if (this.stopped) return;
        const wait = Math.min(60_000, 1000 * 2 ** attempt);
        this.audit({ kind: 'reconcile', message: `reconciliation failed: ${describe(error)}; trying again in ${wait / 1000} s` });
        this.cancelRetry = this.clock.setTimer(wait, () => this.reconcileUntilDone(attempt + 1));
      },
    ).finally(() => this.pending.delete(work));
    this.pending.add(work);
  }
}
