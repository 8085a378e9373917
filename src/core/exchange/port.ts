/**
 * The exchange port: everything the core needs from a futures exchange, and nothing about how it
 * is reached. Two adapters implement it over one protocol layer (src/adapters/binance): the real
 * Binance USD-M Futures venue (production or testnet) and the built-in local exchange
 * (src/adapters/localexchange), which serves the same Binance protocol on 127.0.0.1.
 *
 * Conventions (the Binance wire conventions, kept on purpose so nothing is lost in translation):
 * - Prices, quantities, balances and rates are decimal strings ("63250.10"), never floats. Use
 *   src/core/futures/decimal.ts for exact arithmetic on them.
 * - Times are integer milliseconds since the Unix epoch, UTC. Ids are numbers.
 * - Symbols are upper case ("BTCUSDT") in calls and results; stream names are built by the adapter.
 * - Errors are thrown as ExchangeError, which keeps Binance's numeric code and message.
 *
 * Stability: this file is a contract other areas build on. Extend it (new optional members, new
 * union members); never rename or remove.
 */

import type { Interval } from '../market/klines.js';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** What kind of failure an ExchangeError is; decides whether a caller may retry. */
export type ExchangeErrorKind =
  /** The exchange rejected the request (HTTP 4xx with a Binance code). Do not retry as is. */
  | 'rejected'
  /** Rate limited (HTTP 429) or IP banned (HTTP 418); `retryAfterMs` says when to try again. */
  | 'rate-limited'
  | 'banned'
  /** Network failure or timeout before any answer: the request did not reach the exchange. */
  | 'network'
  /** The outcome is unknown (timeout after sending an order, 503 "Unknown error", -1006/-1007). */
  | 'unknown-status'
  /** The exchange failed (5xx). Safe to retry only for idempotent requests. */
  | 'server'
  /** The answer could not be parsed. */
  | 'protocol';

/** An exchange error with Binance's code and message preserved. */
export class ExchangeError extends Error {
  constructor(
    /** Binance's error code (e.g. -2011), or 0 when the failure has none (network, parse). */
    readonly code: number,
    /** Binance's message, unchanged. */
    readonly exchangeMessage: string,
    readonly kind: ExchangeErrorKind,
    /** HTTP status, when there was a response. */
    readonly status?: number,
    /** What was being done: "POST /fapi/v1/order BTCUSDT". Never contains keys or signatures. */
    readonly context?: string,
    /** For rate-limited / banned: milliseconds until requests are allowed again. */
    readonly retryAfterMs?: number,
  ) {
    super(`${context ? context + ': ' : ''}${code !== 0 ? `${code} ` : ''}${exchangeMessage}`);
    this.name = 'ExchangeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------------------------

// Kline intervals (names, lengths, calendar stepping of 1M) are defined once, in ../market/klines.ts.

export interface RateLimitInfo {
  rateLimitType: 'REQUEST_WEIGHT' | 'ORDERS' | 'RAW_REQUESTS';
  interval: 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY';
  intervalNum: number;
  limit: number;
}

/** A tradable contract with its filters, typed. Decimal fields are strings. */
export interface SymbolInfo {
  symbol: string;
  pair: string;
  contractType: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  marginAsset: string;
  pricePrecision: number;
  quantityPrecision: number;
  /** PRICE_FILTER */
  tickSize: string;
  minPrice: string;
  maxPrice: string;
  /** LOT_SIZE (LIMIT orders) */
  stepSize: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE */
  marketStepSize: string;
  marketMinQty: string;
  marketMaxQty: string;
  /** MIN_NOTIONAL.notional */
  minNotional: string;
  /** PERCENT_PRICE, when present */
  multiplierUp?: string;
  multiplierDown?: string;
  /** MAX_NUM_ORDERS.limit (regular and algo orders together) */
  maxNumOrders?: number;
  /** MAX_NUM_ALGO_ORDERS.limit (open conditional orders per symbol) */
  maxNumAlgoOrders?: number;
  maintMarginPercent: string;
  requiredMarginPercent: string;
  liquidationFee?: string;
  onboardDate?: number;
  deliveryDate?: number;
  orderTypes: string[];
  timeInForce: string[];
}

export interface ExchangeInfo {
  serverTime: number;
  rateLimits: RateLimitInfo[];
  symbols: SymbolInfo[];
  /** The raw symbol objects as sent, for fields this type does not carry. */
  raw?: unknown;
}

// ---------------------------------------------------------------------------------------------
// Market data
// ---------------------------------------------------------------------------------------------

/**
 * One kline exactly as Binance sends it:
 * [openTime, open, high, low, close, volume, closeTime, quoteVolume, tradeCount,
 *  takerBuyBaseVolume, takerBuyQuoteVolume, ignore]
 */
export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

/** `GET /fapi/v1/fundingRate` query. With no time range Binance returns the latest rows. */
export interface FundingRateQuery {
  startTime?: number;
  endTime?: number;
  /** 1..1000, default 100. */
  limit?: number;
}

/** One settled funding from `GET /fapi/v1/fundingRate` (ascending by fundingTime). */
export interface FundingRateRow {
  symbol: string;
  /** Exact decimal text, e.g. "0.00010000". */
  fundingRate: string;
  fundingTime: number;
  /** Mark price at the funding time (Binance sends "" for some old rows). */
  markPrice?: string;
}

export interface KlineQuery {
  startTime?: number;
  endTime?: number;
  /** 1..1500, default 500. */
  limit?: number;
}

/** A price level: [price, quantity], decimal strings. Quantity "0" in a diff deletes the level. */
export type PriceLevel = [string, string];

export interface DepthSnapshot {
  lastUpdateId: number;
  /** Message output time. */
  E: number;
  /** Transaction time. */
  T: number;
  /** Best first (descending). */
  bids: PriceLevel[];
  /** Best first (ascending). */
  asks: PriceLevel[];
}

export interface AggTrade {
  /** Aggregate trade id */
  a: number;
  p: string;
  q: string;
  /** first / last trade id */
  f: number;
  l: number;
  /** Trade time */
  T: number;
  /** Buyer is the maker (so the taker sold). */
  m: boolean;
}

export interface AggTradeQuery {
  fromId?: number;
  startTime?: number;
  endTime?: number;
  /** 1..1000, default 500 */
  limit?: number;
}

export interface PremiumIndex {
  symbol: string;
  markPrice: string;
  indexPrice: string;
  estimatedSettlePrice: string;
  lastFundingRate: string;
  interestRate: string;
  nextFundingTime: number;
  time: number;
}

export interface BookTicker {
  symbol: string;
  bidPrice: string;
  bidQty: string;
  askPrice: string;
  askQty: string;
  time: number;
}

// ---- stream events (the payloads of the websocket streams, field names as Binance sends) ----

export interface KlineEvent {
  e: 'kline';
  E: number;
  s: string;
  k: {
    t: number; T: number; s: string; i: Interval; f: number; L: number;
    o: string; c: string; h: string; l: string; v: string; n: number;
    /** true once the kline is closed (final) */
    x: boolean;
    q: string; V: string; Q: string; B: string;
  };
}

export interface AggTradeEvent extends AggTrade {
  e: 'aggTrade';
  E: number;
  s: string;
}

export interface DepthUpdateEvent {
  e: 'depthUpdate';
  E: number;
  T: number;
  s: string;
  /** First update id in this event */
  U: number;
  /** Final update id in this event */
  u: number;
  /** Final update id of the previous event (futures chain on this) */
  pu: number;
  b: PriceLevel[];
  a: PriceLevel[];
}

export interface BookTickerEvent {
  e: 'bookTicker';
  u: number;
  E: number;
  T: number;
  s: string;
  b: string;
  B: string;
  a: string;
  A: string;
}

export interface MarkPriceEvent {
  e: 'markPriceUpdate';
  E: number;
  s: string;
  /** mark price */
  p: string;
  /** index price */
  i: string;
  /** estimated settle price */
  P: string;
  /** funding rate */
  r: string;
  /** next funding time */
  T: number;
}

/** Cancels a subscription. Idempotent. */
export interface Subscription {
  unsubscribe(): void;
}

/** The market stream connections went down (with the reason) or came back. */
export interface StreamConnectionState {
  up: boolean;
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Order entry and account
// ---------------------------------------------------------------------------------------------

export type OrderSide = 'BUY' | 'SELL';
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type OrderType = 'LIMIT' | 'MARKET';
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'GTX' | 'GTD';
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';
export type MarginType = 'ISOLATED' | 'CROSSED';

export interface NewOrder {
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: string;
  /** Required for LIMIT. */
  price?: string;
  /** Required for LIMIT; default GTC there. */
  timeInForce?: TimeInForce;
  positionSide?: PositionSide;
  reduceOnly?: boolean;
  /** ^[.A-Z:/a-z0-9_-]{1,36}$ ; generated by the exchange when absent. */
  newClientOrderId?: string;
  /** ACK (default) or RESULT (final state for MARKET/IOC/FOK). */
  newOrderRespType?: 'ACK' | 'RESULT';
  /** For GTD: ms, >= now + 600 s. */
  goodTillDate?: number;
}

/** An order as Binance reports it (new / cancel / query / openOrders). */
export interface Order {
  orderId: number;
  symbol: string;
  status: OrderStatus;
  clientOrderId: string;
  price: string;
  avgPrice: string;
  origQty: string;
  executedQty: string;
  cumQty?: string;
  cumQuote: string;
  timeInForce: string;
  type: string;
  reduceOnly: boolean;
  closePosition: boolean;
  side: OrderSide;
  positionSide: PositionSide;
  stopPrice: string;
  workingType: string;
  priceProtect: boolean;
  origType: string;
  priceMatch?: string;
  selfTradePreventionMode?: string;
  goodTillDate?: number;
  /** query/openOrders only */
  time?: number;
  updateTime: number;
}

/** Identifies one order: by exchange id or by client id. */
export type OrderRef = { symbol: string; orderId: number } | { symbol: string; origClientOrderId: string };

export interface Balance {
  accountAlias: string;
  asset: string;
  balance: string;
  crossWalletBalance: string;
  crossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  marginAvailable: boolean;
  updateTime: number;
}

export interface AccountAsset {
  asset: string;
  walletBalance: string;
  unrealizedProfit: string;
  marginBalance: string;
  maintMargin: string;
  initialMargin: string;
  positionInitialMargin: string;
  openOrderInitialMargin: string;
  crossWalletBalance: string;
  crossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  updateTime: number;
}

export interface AccountPosition {
  symbol: string;
  positionSide: PositionSide;
  positionAmt: string;
  unrealizedProfit: string;
  isolatedMargin: string;
  notional: string;
  isolatedWallet: string;
  initialMargin: string;
  maintMargin: string;
  updateTime: number;
}

/** GET /fapi/v3/account */
export interface Account {
  totalInitialMargin: string;
  totalMaintMargin: string;
  totalWalletBalance: string;
  totalUnrealizedProfit: string;
  totalMarginBalance: string;
  totalPositionInitialMargin: string;
  totalOpenOrderInitialMargin: string;
  totalCrossWalletBalance: string;
  totalCrossUnPnl: string;
  availableBalance: string;
  maxWithdrawAmount: string;
  assets: AccountAsset[];
  positions: AccountPosition[];
}

/** GET /fapi/v3/positionRisk row */
export interface PositionRisk {
  symbol: string;
  positionSide: PositionSide;
  positionAmt: string;
  entryPrice: string;
  breakEvenPrice: string;
  markPrice: string;
  unRealizedProfit: string;
  liquidationPrice: string;
  isolatedMargin: string;
  notional: string;
  marginAsset: string;
  isolatedWallet: string;
  initialMargin: string;
  maintMargin: string;
  positionInitialMargin: string;
  openOrderInitialMargin: string;
  adl: number;
  bidNotional: string;
  askNotional: string;
  updateTime: number;
}

export interface LeverageBracketTier {
  bracket: number;
  initialLeverage: number;
  notionalCap: number;
  notionalFloor: number;
  maintMarginRatio: number;
  cum: number;
}

export interface LeverageBracket {
  symbol: string;
  notionalCoef?: number;
  brackets: LeverageBracketTier[];
}

export interface UserTrade {
  buyer: boolean;
  commission: string;
  commissionAsset: string;
  id: number;
  maker: boolean;
  orderId: number;
  price: string;
  qty: string;
  quoteQty: string;
  realizedPnl: string;
  side: OrderSide;
  positionSide: PositionSide;
  symbol: string;
  time: number;
}

export interface UserTradeQuery {
  orderId?: number;
  startTime?: number;
  endTime?: number;
  fromId?: number;
  limit?: number;
}

// ---- algo (conditional) orders: /fapi/v1/algoOrder (since 2025-12-09 the only way to place them) ----

export type AlgoOrderType = 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT' | 'TRAILING_STOP_MARKET';
/** NEW → TRIGGERING → TRIGGERED (the regular order exists: `actualOrderId`) → FINISHED; or CANCELED / REJECTED / EXPIRED. */
export type AlgoStatus = 'NEW' | 'CANCELED' | 'TRIGGERING' | 'TRIGGERED' | 'FINISHED' | 'REJECTED' | 'EXPIRED';
/** The price a trigger watches: the mark price or the last trade price (default). */
export type WorkingType = 'MARK_PRICE' | 'CONTRACT_PRICE';

/**
 * POST /fapi/v1/algoOrder (algoType CONDITIONAL). STOP* BUY fires when the watched price is
 * ≥ triggerPrice, SELL when ≤; TAKE_PROFIT* the reverse. *_MARKET places a MARKET order when it
 * fires, STOP/TAKE_PROFIT a LIMIT at `price`. A trigger that would fire at once is rejected (-2021).
 */
export interface NewAlgoOrder {
  symbol: string;
  side: OrderSide;
  type: AlgoOrderType;
  /** Not with closePosition. */
  quantity?: string;
  /** Limit price of STOP / TAKE_PROFIT. */
  price?: string;
  /** Required except for TRAILING_STOP_MARKET. */
  triggerPrice?: string;
  /** Default CONTRACT_PRICE. */
  workingType?: WorkingType;
  /** GTC (default), IOC, FOK, GTX for the order placed when it fires. */
  timeInForce?: TimeInForce;
  positionSide?: PositionSide;
  /** Close the whole position when it fires (STOP_MARKET / TAKE_PROFIT_MARKET; no quantity, no reduceOnly). */
  closePosition?: boolean;
  reduceOnly?: boolean;
  /** Do not fire while mark and last price differ by more than the symbol's triggerProtect. */
  priceProtect?: boolean;
  /** TRAILING_STOP_MARKET: the price that arms it (default: armed at once), and the callback in percent [0.1, 10]. */
  activatePrice?: string;
  callbackRate?: string;
  /** ^[.A-Z:/a-z0-9_-]{1,36}$ , unique among open algo orders; generated when absent. */
  clientAlgoId?: string;
}

/** An algo order as Binance reports it (place / query / openAlgoOrders / allAlgoOrders). */
export interface AlgoOrder {
  algoId: number;
  clientAlgoId: string;
  algoType: 'CONDITIONAL';
  orderType: AlgoOrderType;
  symbol: string;
  side: OrderSide;
  positionSide: PositionSide;
  timeInForce: string;
  quantity: string;
  algoStatus: AlgoStatus;
  /** Query answers: the regular order placed when it fired ("" before). */
  actualOrderId?: string;
  actualPrice?: string;
  triggerPrice: string;
  price: string;
  selfTradePreventionMode?: string;
  workingType: WorkingType;
  priceMatch?: string;
  closePosition: boolean;
  priceProtect: boolean;
  reduceOnly: boolean;
  activatePrice?: string;
  callbackRate?: string;
  createTime: number;
  updateTime: number;
  triggerTime: number;
  goodTillDate?: number;
}

/** Identifies one algo order (no symbol needed). */
export type AlgoOrderRef = { algoId: number } | { clientAlgoId: string };

/** DELETE /fapi/v1/algoOrder answer. */
export interface AlgoCancelResult {
  algoId: number;
  clientAlgoId: string;
  /** "200" on success (a string, as Binance sends it). */
  code: string;
  msg: string;
}

export interface AlgoOrderQuery {
  startTime?: number;
  endTime?: number;
  /** Algo orders from this id on. */
  algoId?: number;
  limit?: number;
}

// ---- user data stream events ----

export interface OrderTradeUpdateEvent {
  e: 'ORDER_TRADE_UPDATE';
  E: number;
  T: number;
  o: {
    s: string; c: string; S: OrderSide; o: string; f: string; q: string; p: string; ap: string; sp: string;
    /** execution type: NEW, CANCELED, CALCULATED, EXPIRED, TRADE, AMENDMENT */
    x: string;
    X: OrderStatus;
    i: number; l: string; z: string; L: string; N?: string; n?: string; T: number; t: number;
    b: string; a: string; m: boolean; R: boolean; wt: string; ot: string; ps: PositionSide; cp: boolean;
    rp: string; [key: string]: unknown;
  };
}

export interface AccountUpdateEvent {
  e: 'ACCOUNT_UPDATE';
  E: number;
  T: number;
  a: {
    m: string;
    B: { a: string; wb: string; cw: string; bc: string }[];
    P: { s: string; pa: string; ep: string; bep?: string; cr: string; up: string; mt: string; iw: string; ps: PositionSide }[];
  };
}

export interface ListenKeyExpiredEvent {
  e: 'listenKeyExpired';
  E: number | string;
  listenKey: string;
}

export interface MarginCallEvent {
  e: 'MARGIN_CALL';
  E: number;
  cw: string;
  p: { s: string; ps: PositionSide; pa: string; mt: string; iw: string; mp: string; up: string; mm: string }[];
}

/** An algo order changed: `X` its status, `ai` the regular order once it fired. */
export interface AlgoUpdateEvent {
  e: 'ALGO_UPDATE';
  E: number;
  T: number;
  o: {
    /** clientAlgoId, algoId, algoType, order type, symbol, side, positionSide, timeInForce, quantity */
    caid: string; aid: number; at: 'CONDITIONAL'; o: AlgoOrderType; s: string; S: OrderSide; ps: PositionSide; f: string; q: string;
    X: AlgoStatus;
    /** actual (regular) order id once triggered, else "" */
    ai: string;
    /** trigger price, limit price, working type, closePosition, priceProtect, reduceOnly, trigger time */
    tp: string; p: string; wt: WorkingType; cp: boolean; pP: boolean; R: boolean; tt: number;
    /** rejection reason (REJECTED) */
    rm?: string;
    [key: string]: unknown;
  };
}

/** A triggered conditional order's regular order was rejected (`r` the reason). */
export interface ConditionalOrderTriggerRejectEvent {
  e: 'CONDITIONAL_ORDER_TRIGGER_REJECT';
  E: number;
  T: number;
  or: { s: string; i: number; r: string };
}

/**
 * Not a Binance event: the adapter's note that the user data stream connection was lost (`up:
 * false`) or is back (`up: true`, with a new listenKey when the old one expired). Events sent
 * while it was down are lost, so a trader reconciles when it comes back.
 */
export interface UserStreamStateEvent {
  e: 'USER_STREAM_STATE';
  E: number;
  up: boolean;
  reason: string;
}

/** Events of the user data stream; unknown ones are passed with their `e`. */
export type UserDataEvent =
  | OrderTradeUpdateEvent
  | AccountUpdateEvent
  | ListenKeyExpiredEvent
  | MarginCallEvent
  | AlgoUpdateEvent
  | ConditionalOrderTriggerRejectEvent
  | UserStreamStateEvent
  | { e: string; E: number; [key: string]: unknown };

// ---------------------------------------------------------------------------------------------
// Connection statistics (the Dashboard's Exchange block)
// ---------------------------------------------------------------------------------------------

export interface OrderBookState {
  symbol: string;
  /** syncing: buffering / waiting for a snapshot; live: consistent; */
  state: 'syncing' | 'live' | 'stopped';
  lastUpdateId: number;
  bestBid?: string;
  bestAsk?: string;
  resyncs: number;
}

export interface ExchangeStats {
  venue: string;
  simulated: boolean;
  /** Open websocket connections / subscribed streams. */
  connections: number;
  streams: number;
  /** Messages received per second over the last few seconds. */
  messagesPerSecond: number;
  messagesTotal: number;
  /** Event time → local receive time, ms (includes clock offset correction); last and max of the window. */
  lagMs: number;
  maxLagMs: number;
  /** Messages waiting to be delivered to handlers right now (bounded). */
  queued: number;
  reconnects: number;
  /** REST used weight in the current minute, and the limit. */
  usedWeight: number;
  weightLimit: number;
  /** Length of the request-weight window, ms (Binance: 60 000; absent: a minute). */
  weightWindowMs?: number;
  /** Server time − local time, ms. */
  timeOffsetMs: number;
  books: OrderBookState[];
}

// ---------------------------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------------------------

export interface ExchangePort {
  /** "binance", "testnet" or "local". */
  readonly venue: string;
  /** True for the built-in local exchange. */
  readonly simulated: boolean;

  // ---- reference / market data (no key needed) ----
  ping(): Promise<void>;
  serverTime(): Promise<number>;
  exchangeInfo(): Promise<ExchangeInfo>;
  /** Rows in Binance order (ascending open time); `rowsToKlines` (src/core/market/download.ts) makes columns. */
  klines(symbol: string, interval: Interval, query?: KlineQuery): Promise<KlineRow[]>;
  /** limit: 5, 10, 20, 50, 100, 500, 1000 */
  depth(symbol: string, limit?: number): Promise<DepthSnapshot>;
  aggTrades(symbol: string, query?: AggTradeQuery): Promise<AggTrade[]>;
  premiumIndex(symbol: string): Promise<PremiumIndex>;
  bookTicker(symbol: string): Promise<BookTicker>;
  /** Funding rate history, ascending (weight: the shared 500 / 5 min / IP fundingRate limit). */
  fundingRateHistory(symbol: string, query?: FundingRateQuery): Promise<FundingRateRow[]>;

  // ---- streams (each call returns a handle; handlers run on the event loop, in order) ----
  /**
   * Outages of the market stream connections: `up: false` with the reason when one is lost,
   * `up: true` once all are back (optional: a port without streams never reports).
   */
  onStreamState?(listener: (state: StreamConnectionState) => void): Subscription;
  /**
   * Kline updates as the exchange sends them (forming and closed, possibly with holes after a
   * reconnect, possibly twice). Gap filling and de-duplication happen in one place, the market
   * data service (core/market/service.ts), not here.
   */
  subscribeKlines(symbol: string, interval: Interval, handler: (event: KlineEvent) => void): Subscription;
  /** Raw diff depth updates (`<s>@depth@100ms`). Most users want `orderBook` instead. */
  subscribeDepth(symbol: string, handler: (event: DepthUpdateEvent) => void): Subscription;
  subscribeAggTrades(symbol: string, handler: (event: AggTradeEvent) => void): Subscription;
  subscribeBookTicker(symbol: string, handler: (event: BookTickerEvent) => void): Subscription;
  subscribeMarkPrice(symbol: string, handler: (event: MarkPriceEvent) => void): Subscription;
  /**
   * A local order book kept by the snapshot + diff procedure (resynced on any gap). `onUpdate`
   * runs after each applied diff with the book; read it synchronously.
   */
  orderBook(symbol: string, onUpdate?: (book: OrderBookView) => void): OrderBookHandle;

  // ---- order entry (key + secret needed) ----
  newOrder(order: NewOrder): Promise<Order>;
  cancelOrder(ref: OrderRef): Promise<Order>;
  queryOrder(ref: OrderRef): Promise<Order>;
  openOrders(symbol?: string): Promise<Order[]>;
  cancelAllOrders(symbol: string): Promise<void>;

  // ---- algo (conditional) orders: stops and take-profits (regular order calls do not see them) ----
  newAlgoOrder(order: NewAlgoOrder): Promise<AlgoOrder>;
  /** Unknown or no longer open → ExchangeError -2011. */
  cancelAlgoOrder(ref: AlgoOrderRef): Promise<AlgoCancelResult>;
  /** Unknown → ExchangeError -2013. */
  queryAlgoOrder(ref: AlgoOrderRef): Promise<AlgoOrder>;
  openAlgoOrders(symbol?: string): Promise<AlgoOrder[]>;
  cancelAllAlgoOrders(symbol: string): Promise<void>;
  allAlgoOrders(symbol: string, query?: AlgoOrderQuery): Promise<AlgoOrder[]>;

  // ---- account ----
  account(): Promise<Account>;
  balances(): Promise<Balance[]>;
  positionRisk(symbol?: string): Promise<PositionRisk[]>;
  setLeverage(symbol: string, leverage: number): Promise<{ leverage: number; maxNotionalValue: string; symbol: string }>;
  setMarginType(symbol: string, marginType: MarginType): Promise<void>;
  leverageBrackets(symbol: string): Promise<LeverageBracket>;
  userTrades(symbol: string, query?: UserTradeQuery): Promise<UserTrade[]>;
  /** The user data stream (listenKey kept alive by the adapter). */
  subscribeUserData(handler: (event: UserDataEvent) => void): Promise<Subscription>;

  /** Live figures for the Dashboard. */
  stats(): ExchangeStats;
  /** Closes every connection; pending requests fail. */
  close(): Promise<void>;
}

/** A read-only view of a local order book. Levels are decimal strings, best first. */
export interface OrderBookView {
  readonly symbol: string;
  readonly lastUpdateId: number;
  readonly synced: boolean;
  bestBid(): PriceLevel | undefined;
  bestAsk(): PriceLevel | undefined;
  /** Top `n` levels per side, best first. */
  bids(n?: number): PriceLevel[];
  asks(n?: number): PriceLevel[];
}

export interface OrderBookHandle extends Subscription {
  readonly book: OrderBookView;
  /** Resolves once the book is synced for the first time. */
  ready(): Promise<void>;
}
