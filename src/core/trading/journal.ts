import type { AlgoOrderType, OrderSide, TimeInForce, WorkingType } from '../exchange/port.js';
import type { DecisionKey } from './clientIds.js';

/**
 * The order journal: every order is written here BEFORE it is sent, with its client id, so a
 * process that dies at any moment finds on restart what it may have sent, and asks the exchange
 * about it by that id instead of sending again. Implemented on SQLite by src/db/orderStore.ts
 * (tables `orders`, `order_fills`, `audit_log`; migration 0008).
 *
 * States (docs/trading.md):
 *   NEW      journaled, not yet sent
 *   SENT     the request is leaving / has left; no answer yet
 *   ACKED    the exchange holds it open (NEW on the exchange; for algo orders: waiting to fire)
 *   PARTIAL  partly filled, the rest open
 *   FILLED, CANCELED, REJECTED, EXPIRED   final, as the exchange says
 *   UNKNOWN  sent, but the outcome is not known (timeout, 5xx, connection lost): resolved by
 *            querying by client id, never by sending blindly
 *   LOST     it never reached the exchange (queried: "does not exist" after a bounded wait);
 *            final; the same decision may be sent again under the same id
 */
export type OrderState = 'NEW' | 'SENT' | 'ACKED' | 'PARTIAL' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'UNKNOWN' | 'LOST';

export const FINAL_STATES: ReadonlySet<OrderState> = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'LOST']);
/** States in which the exchange may hold the order (or may, for SENT/UNKNOWN). */
export const OPEN_STATES: ReadonlySet<OrderState> = new Set(['NEW', 'SENT', 'ACKED', 'PARTIAL', 'UNKNOWN']);

/** What was decided, before rounding to the filters (the journal keeps the rounded order too). */
export interface OrderIntent {
  symbol: string;
  side: OrderSide;
  /**
   * MARKET; LIMIT (GTC); POST_ONLY (LIMIT GTX: rejected rather than taking); STOP_MARKET and
   * TAKE_PROFIT_MARKET (conditional orders, sent through the algo order endpoint).
   */
  type: 'MARKET' | 'LIMIT' | 'POST_ONLY' | Extract<AlgoOrderType, 'STOP_MARKET' | 'TAKE_PROFIT_MARKET'>;
  /** Decimal string; absent only for a conditional order with `closePosition`. */
  quantity?: string;
  /** LIMIT / POST_ONLY price. */
  price?: string;
  /** STOP_MARKET / TAKE_PROFIT_MARKET trigger. */
  triggerPrice?: string;
  workingType?: WorkingType;
  reduceOnly?: boolean;
  closePosition?: boolean;
  /** Which configured position (index in the account's positions) and which decision. */
  positionIndex: number;
  decision: DecisionKey;
  /** LIMIT / POST_ONLY: cancel when still open after this many ms (the manager's default otherwise). */
  maxAgeMs?: number;
  /** Why, in words (the strategy's reason), for the audit log and the AutoTrade page. */
  reason?: string;
}

/** The order as sent (rounded to the symbol's filters). */
export interface SentOrder {
  kind: 'regular' | 'algo';
  type: string;
  timeInForce?: TimeInForce;
  quantity?: string;
  price?: string;
  triggerPrice?: string;
}

export interface JournalOrder {
  accountId: number;
  clientId: string;
  symbol: string;
  intent: OrderIntent;
  sent: SentOrder;
  state: OrderState;
  /** orderId (regular) or algoId (conditional), once known. */
  exchangeId?: number;
  /** A conditional order's regular order, once it fired. */
  actualOrderId?: number;
  /** Cumulative, as the exchange last reported. */
  executedQty: string;
  avgPrice: string;
  /** How many times it was sent (a LOST order sent again under its id counts twice). */
  attempts: number;
  /** The last error, "code message". */
  error?: string;
  createdAt: number;
  updatedAt: number;
}

export type JournalPatch = Partial<Pick<JournalOrder, 'state' | 'exchangeId' | 'actualOrderId' | 'executedQty' | 'avgPrice' | 'attempts' | 'error'>>;

/** One execution of an order (from ORDER_TRADE_UPDATE or userTrades), kept once per trade id. */
export interface OrderFill {
  accountId: number;
  clientId: string;
  symbol: string;
  tradeId: number;
  orderId: number;
  side: OrderSide;
  price: string;
  quantity: string;
  fee: string;
  feeAsset: string;
  realizedPnl: string;
  maker: boolean;
  time: number;
}

/** One line of the append-only audit log: every decision, refusal, order event and correction. */
export interface AuditEntry {
  id?: number;
  time: number;
  accountId: number;
  /** decision, refused, sent, ack, fill, reject, unknown, resolved, cancel, aged, correction, adopted, reconcile, risk, kill, stream */
  kind: string;
  symbol?: string;
  clientId?: string;
  message: string;
  data?: unknown;
}

export interface OrderJournal {
  /** Writes a new order; false (and nothing written) when the account already has this client id. */
  insert(order: JournalOrder): boolean;
  get(accountId: number, clientId: string): JournalOrder | undefined;
  update(accountId: number, clientId: string, patch: JournalPatch, time: number): void;
  /** Orders in an open state (OPEN_STATES), oldest first. */
  open(accountId: number): JournalOrder[];
  /** Orders, newest first. */
  list(accountId: number, options?: { limit?: number; symbol?: string }): JournalOrder[];
  /** Records a fill; false when this trade id was already recorded (a duplicate event). */
  addFill(fill: OrderFill): boolean;
  fills(accountId: number, clientId?: string): OrderFill[];
  audit(entry: AuditEntry): void;
  auditLog(accountId: number, options?: { from?: number; kind?: string; limit?: number }): AuditEntry[];
}
