import {
  ExchangeError, type Account, type AggTrade, type AggTradeEvent, type AggTradeQuery, type Balance, type BookTicker,
  type BookTickerEvent, type DepthSnapshot, type DepthUpdateEvent, type ExchangeInfo, type ExchangePort, type ExchangeStats,
  type KlineEvent, type KlineQuery, type KlineRow, type LeverageBracket,
  type MarginType, type MarkPriceEvent, type NewOrder, type Order, type OrderBookHandle, type OrderBookView, type OrderRef,
  type PositionRisk, type PremiumIndex, type RateLimitInfo, type StreamConnectionState, type Subscription, type SymbolInfo, type UserDataEvent,
  type UserTrade, type UserTradeQuery, type AlgoCancelResult, type AlgoOrder, type AlgoOrderQuery, type AlgoOrderRef, type NewAlgoOrder,
} from '../../core/exchange/port.js';
import type { FundingRateQuery, FundingRateRow } from '../../core/exchange/port.js';
import type { Interval } from '../../core/market/klines.js';
import { LocalOrderBook } from './orderbook.js';
import { BinanceRest, type Params } from './rest.js';
import { createSigner } from './sign.js';
import { StreamClient, UserStream, type AdapterLog } from './ws.js';

/** Connection attempts (each already retried by the REST client) on 429 / 5xx answers. */
const CONNECT_ATTEMPTS = 6;

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => {
      clearTimeout(h);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const h = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface BinanceExchangeOptions {
  /** "binance", "testnet" or "local" */
  venue: string;
  simulated?: boolean;
  restUrl: string;
  wsUrl: string;
  /** Routed websocket paths (/public, /market, /private); false for the legacy /ws, /stream. */
  routed?: boolean;
  apiKey?: string;
  /** HMAC secret, or an Ed25519 PKCS#8 PEM private key. Never logged. */
  apiSecret?: string;
  recvWindow?: number;
  timeoutMs?: number;
  /** Websocket tuning (tests use short intervals). */
  ws?: { pingIntervalMs?: number; pongTimeoutMs?: number; reconnectBaseMs?: number; reconnectMaxMs?: number; maxStreamsPerConnection?: number; maxLagMs?: number; rotateAfterMs?: number };
  onLog?: AdapterLog;
}

function filter(raw: any, type: string): any {
  return (raw.filters as any[]).find((f) => f.filterType === type) ?? {};
}

/** exchangeInfo symbol object → typed SymbolInfo. */
export function parseSymbol(raw: any): SymbolInfo {
  const price = filter(raw, 'PRICE_FILTER');
  const lot = filter(raw, 'LOT_SIZE');
  const mlot = filter(raw, 'MARKET_LOT_SIZE');
  const pct = filter(raw, 'PERCENT_PRICE');
  return {
    symbol: raw.symbol, pair: raw.pair, contractType: raw.contractType, status: raw.status, baseAsset: raw.baseAsset, quoteAsset: raw.quoteAsset,
    marginAsset: raw.marginAsset, pricePrecision: raw.pricePrecision, quantityPrecision: raw.quantityPrecision,
    tickSize: price.tickSize ?? '0', minPrice: price.minPrice ?? '0', maxPrice: price.maxPrice ?? '0',
    stepSize: lot.stepSize ?? '0', minQty: lot.minQty ?? '0', maxQty: lot.maxQty ?? '0',
    marketStepSize: mlot.stepSize ?? lot.stepSize ?? '0', marketMinQty: mlot.minQty ?? lot.minQty ?? '0', marketMaxQty: mlot.maxQty ?? lot.maxQty ?? '0',
    minNotional: filter(raw, 'MIN_NOTIONAL').notional ?? '0',
    multiplierUp: pct.multiplierUp, multiplierDown: pct.multiplierDown, maxNumOrders: filter(raw, 'MAX_NUM_ORDERS').limit,
    maxNumAlgoOrders: filter(raw, 'MAX_NUM_ALGO_ORDERS').limit,
    maintMarginPercent: raw.maintMarginPercent, requiredMarginPercent: raw.requiredMarginPercent, liquidationFee: raw.liquidationFee,
    onboardDate: raw.onboardDate, deliveryDate: raw.deliveryDate, orderTypes: raw.orderTypes ?? [], timeInForce: raw.timeInForce ?? [],
  };
}

/**
 * The Binance USD-M adapter of the ExchangePort. The same code talks to Binance (production or
 * testnet) and to the local exchange: only the URLs differ.
 */
export class BinanceExchange implements ExchangePort {
  readonly venue: string;
  readonly simulated: boolean;
  readonly rest: BinanceRest;
  readonly streams: StreamClient;
  private readonly handlers = new Map<string, Set<(data: any) => void>>();
  private readonly books = new Map<string, { book: LocalOrderBook; refs: number; listeners: Set<(b: OrderBookView) => void>; off: () => void }>();
  private readonly userStreams = new Set<UserStream>();
  private symbolsCache: ExchangeInfo | undefined;
  private closed = false;

  constructor(readonly options: BinanceExchangeOptions) {
    this.venue = options.venue;
    this.simulated = options.simulated ?? false;
    this.rest = new BinanceRest({
      baseUrl: options.restUrl,
      apiKey: options.apiKey,
      signer: options.apiSecret ? createSigner(options.apiSecret) : undefined,
      recvWindow: options.recvWindow,
      timeoutMs: options.timeoutMs,
      onRequest: options.onLog && ((r) => options.onLog!('trace', `REST ${r.method} ${r.path} weight ${r.weight} -> ${r.status || `no answer (${r.error})`} in ${r.ms.toFixed(1)} ms`)),
    });
    this.streams = new StreamClient({
      baseUrl: options.wsUrl,
      routed: options.routed ?? true,
      now: () => this.rest.serverNow(),
      pingIntervalMs: options.ws?.pingIntervalMs,
      pongTimeoutMs: options.ws?.pongTimeoutMs,
      reconnectBaseMs: options.ws?.reconnectBaseMs,
      reconnectMaxMs: options.ws?.reconnectMaxMs,
      maxStreamsPerConnection: options.ws?.maxStreamsPerConnection,
      maxLagMs: options.ws?.maxLagMs,
      rotateAfterMs: options.ws?.rotateAfterMs,
      onMessage: (stream, data) => this.dispatch(stream, data),
      onConnected: (streams, reconnect) => this.onConnected(streams, reconnect),
      onLagRecycle: () => {
        this.rest.syncTime().catch((error: unknown) => this.log('warn', `server time resync failed: ${(error as Error).message}`));
      },
      onState: (state) => {
        for (const listener of [...this.streamStateListeners]) listener(state);
      },
      onLog: options.onLog,
    });
  }

  private readonly streamStateListeners = new Set<(state: StreamConnectionState) => void>();

  onStreamState(listener: (state: StreamConnectionState) => void): Subscription {
    this.streamStateListeners.add(listener);
    return { unsubscribe: () => this.streamStateListeners.delete(listener) };
  }

  log(level: 'info' | 'warn', message: string): void {
    this.options.onLog?.(level, message);
  }

  serverNow(): number {
    return this.rest.serverNow();
  }

  /**
   * Checks the venue answers and prepares the client: server time offset and the rate limits of
   * exchangeInfo. Throws ExchangeError when unreachable.
   *
   * A venue that answers 429 or 5xx is reachable: those answers are waited out (a 429 for its
   * Retry-After, which the governor holds every request for; a 5xx with a growing back-off) and
   * the steps retried, at most `CONNECT_ATTEMPTS` times and never past the signal.
   * `reachTimeoutMs` bounds only the wait for a first answer (an unreachable venue): once any
   * HTTP answer has come, a long Retry-After is waited out, not cut short.
   */
  async connect(signal?: AbortSignal, reachTimeoutMs?: number): Promise<void> {
    const reach = new AbortController();
    const answersBefore = this.rest.roundTrips;
    const timer =
      reachTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (this.rest.roundTrips === answersBefore) {
              reach.abort(new ExchangeError(0, `${this.options.venue} did not answer within ${reachTimeoutMs} ms`, 'network', undefined, 'connect'));
            }
          }, reachTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, reach.signal]) : reach.signal;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.rest.syncTime(combined);
          const info = await this.exchangeInfo(combined);
          this.rest.governor.configure(info.rateLimits);
          return;
        } catch (error) {
          const busy = error instanceof ExchangeError && (error.kind === 'rate-limited' || error.kind === 'server');
          if (!busy || attempt >= CONNECT_ATTEMPTS || combined.aborted) throw error;
          this.log('warn', `${this.options.venue} answered ${error.status ?? ''} ${error.code} ${error.message}; retrying the connection (${attempt}/${CONNECT_ATTEMPTS - 1})`);
          // rate-limited: the governor already holds the next request until Retry-After has passed
          if (error.kind === 'server') await abortableDelay(Math.min(4000, 250 * 2 ** (attempt - 1)), combined);
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- market data ----

  async ping(): Promise<void> {
    await this.rest.request('GET', '/fapi/v1/ping', {}, { idempotent: true });
  }

  async serverTime(): Promise<number> {
    return (await this.rest.request<{ serverTime: number }>('GET', '/fapi/v1/time', {}, { idempotent: true })).serverTime;
  }

  async exchangeInfo(signal?: AbortSignal): Promise<ExchangeInfo> {
    const raw = await this.rest.request<any>('GET', '/fapi/v1/exchangeInfo', {}, { idempotent: true, signal });
    const info: ExchangeInfo = {
      serverTime: raw.serverTime,
      rateLimits: raw.rateLimits as RateLimitInfo[],
      symbols: (raw.symbols as any[]).map(parseSymbol),
      raw,
    };
    this.symbolsCache = info;
    return info;
  }

  async klines(symbol: string, interval: Interval, query: KlineQuery = {}): Promise<KlineRow[]> {
    const limit = query.limit ?? 500;
    return this.rest.request<KlineRow[]>('GET', '/fapi/v1/klines', { symbol, interval, startTime: query.startTime, endTime: query.endTime, limit }, { idempotent: true });
  }

  async depth(symbol: string, limit = 1000): Promise<DepthSnapshot> {
    return this.rest.request<DepthSnapshot>('GET', '/fapi/v1/depth', { symbol, limit }, { idempotent: true });
  }

  async aggTrades(symbol: string, query: AggTradeQuery = {}): Promise<AggTrade[]> {
    return this.rest.request<AggTrade[]>('GET', '/fapi/v1/aggTrades', { symbol, fromId: query.fromId, startTime: query.startTime, endTime: query.endTime, limit: query.limit }, { idempotent: true });
  }

  async premiumIndex(symbol: string): Promise<PremiumIndex> {
    return this.rest.request<PremiumIndex>('GET', '/fapi/v1/premiumIndex', { symbol }, { idempotent: true });
  }

  async fundingRateHistory(symbol: string, query: FundingRateQuery = {}): Promise<FundingRateRow[]> {
    const rows = await this.rest.request<FundingRateRow[]>('GET', '/fapi/v1/fundingRate', { symbol, startTime: query.startTime, endTime: query.endTime, limit: query.limit }, { idempotent: true });
    return rows.map((r) => ({ symbol: r.symbol, fundingRate: String(r.fundingRate), fundingTime: Number(r.fundingTime), markPrice: r.markPrice === undefined || r.markPrice === null ? undefined : String(r.markPrice) }));
  }

  async bookTicker(symbol: string): Promise<BookTicker> {
    return this.rest.request<BookTicker>('GET', '/fapi/v1/ticker/bookTicker', { symbol }, { idempotent: true });
  }

  // ---- streams ----

  private on(stream: string, handler: (data: any) => void): Subscription {
    let set = this.handlers.get(stream);
    if (!set) {
      set = new Set();
      this.handlers.set(stream, set);
    }
    set.add(handler);
    this.streams.subscribe(stream);
    let done = false;
    return {
      unsubscribe: () => {
        if (done) return;
        done = true;
        set!.delete(handler);
        if (set!.size === 0) {
          this.handlers.delete(stream);
          this.streams.unsubscribe(stream);
        }
      },
    };
  }

  private dispatch(stream: string, data: any): void {
    const set = this.handlers.get(stream);
    if (!set) return;
    for (const h of set) h(data);
  }

  private onConnected(streams: string[], reconnect: boolean): void {
    if (!reconnect) return;
    for (const s of streams) {
      const m = /^([a-z0-9]+)@depth@100ms$/.exec(s);
      if (m) this.books.get(m[1].toUpperCase())?.book.resync();
    }
  }

  subscribeKlines(symbol: string, interval: Interval, handler: (event: KlineEvent) => void): Subscription {
    return this.on(`${symbol.toLowerCase()}@kline_${interval}`, handler);
  }

  subscribeDepth(symbol: string, handler: (event: DepthUpdateEvent) => void): Subscription {
    return this.on(`${symbol.toLowerCase()}@depth@100ms`, handler);
  }

  subscribeAggTrades(symbol: string, handler: (event: AggTradeEvent) => void): Subscription {
    return this.on(`${symbol.toLowerCase()}@aggTrade`, handler);
  }

  subscribeBookTicker(symbol: string, handler: (event: BookTickerEvent) => void): Subscription {
    return this.on(`${symbol.toLowerCase()}@bookTicker`, handler);
  }

  subscribeMarkPrice(symbol: string, handler: (event: MarkPriceEvent) => void): Subscription {
    return this.on(`${symbol.toLowerCase()}@markPrice@1s`, handler);
  }

  orderBook(symbol: string, onUpdate?: (book: OrderBookView) => void): OrderBookHandle {
    const key = symbol.toUpperCase();
    let entry = this.books.get(key);
    if (!entry) {
      const listeners = new Set<(b: OrderBookView) => void>();
      const book = new LocalOrderBook(key, {
        fetchSnapshot: () => this.depth(key, 1000),
        onUpdate: (b) => {
          for (const l of listeners) l(b);
        },
        onError: (error) => this.log('warn', `order book ${key} snapshot failed: ${error.message}`),
      });
      const sub = this.subscribeDepth(key, (e) => book.onEvent(e));
      entry = { book, refs: 0, listeners, off: () => sub.unsubscribe() };
      this.books.set(key, entry);
      book.resync();
    }
    entry.refs++;
    if (onUpdate) entry.listeners.add(onUpdate);
    const e = entry;
    let done = false;
    return {
      book: e.book,
      ready: () => e.book.ready(),
      unsubscribe: () => {
        if (done) return;
        done = true;
        if (onUpdate) e.listeners.delete(onUpdate);
        if (--e.refs === 0) {
          e.off();
          e.book.stop();
          this.books.delete(key);
        }
      },
    };
  }

  /** The local books kept (tests and the bench). */
  book(symbol: string): LocalOrderBook | undefined {
    return this.books.get(symbol.toUpperCase())?.book;
  }

  // ---- orders ----

  async newOrder(order: NewOrder): Promise<Order> {
    const params: Params = {
      symbol: order.symbol, side: order.side, type: order.type, positionSide: order.positionSide, timeInForce: order.type === 'LIMIT' ? order.timeInForce ?? 'GTC' : order.timeInForce,
      quantity: order.quantity, price: order.price, reduceOnly: order.reduceOnly === undefined ? undefined : String(order.reduceOnly),
      newClientOrderId: order.newClientOrderId, newOrderRespType: order.newOrderRespType, goodTillDate: order.goodTillDate,
    };
    return this.rest.request<Order>('POST', '/fapi/v1/order', params, { security: 'SIGNED' });
  }

  private refParams(ref: OrderRef): Params {
    return 'orderId' in ref ? { symbol: ref.symbol, orderId: ref.orderId } : { symbol: ref.symbol, origClientOrderId: ref.origClientOrderId };
  }

  async cancelOrder(ref: OrderRef): Promise<Order> {
    return this.rest.request<Order>('DELETE', '/fapi/v1/order', this.refParams(ref), { security: 'SIGNED' });
  }

  async queryOrder(ref: OrderRef): Promise<Order> {
    return this.rest.request<Order>('GET', '/fapi/v1/order', this.refParams(ref), { security: 'SIGNED', idempotent: true });
  }

  async openOrders(symbol?: string): Promise<Order[]> {
    return this.rest.request<Order[]>('GET', '/fapi/v1/openOrders', { symbol }, { security: 'SIGNED', idempotent: true });
  }

  async cancelAllOrders(symbol: string): Promise<void> {
    await this.rest.request('DELETE', '/fapi/v1/allOpenOrders', { symbol }, { security: 'SIGNED', idempotent: true });
  }

  // ---- algo (conditional) orders ----

  async newAlgoOrder(order: NewAlgoOrder): Promise<AlgoOrder> {
    const flag = (b: boolean | undefined) => (b === undefined ? undefined : String(b));
    const params: Params = {
      algoType: 'CONDITIONAL', symbol: order.symbol, side: order.side, positionSide: order.positionSide, type: order.type,
      timeInForce: order.timeInForce, quantity: order.quantity, price: order.price, triggerPrice: order.triggerPrice,
      workingType: order.workingType, closePosition: flag(order.closePosition), priceProtect: flag(order.priceProtect),
      reduceOnly: flag(order.reduceOnly), activatePrice: order.activatePrice, callbackRate: order.callbackRate, clientAlgoId: order.clientAlgoId,
    };
    // weight 0 on the IP, one on the account's order counters; never retried (like newOrder)
    return this.rest.request<AlgoOrder>('POST', '/fapi/v1/algoOrder', params, { security: 'SIGNED' });
  }

  private algoRefParams(ref: AlgoOrderRef): Params {
    return 'algoId' in ref ? { algoId: ref.algoId } : { clientAlgoId: ref.clientAlgoId };
  }

  async cancelAlgoOrder(ref: AlgoOrderRef): Promise<AlgoCancelResult> {
    return this.rest.request<AlgoCancelResult>('DELETE', '/fapi/v1/algoOrder', this.algoRefParams(ref), { security: 'SIGNED' });
  }

  async queryAlgoOrder(ref: AlgoOrderRef): Promise<AlgoOrder> {
    return this.rest.request<AlgoOrder>('GET', '/fapi/v1/algoOrder', this.algoRefParams(ref), { security: 'SIGNED', idempotent: true });
  }

  async openAlgoOrders(symbol?: string): Promise<AlgoOrder[]> {
    return this.rest.request<AlgoOrder[]>('GET', '/fapi/v1/openAlgoOrders', { symbol }, { security: 'SIGNED', idempotent: true });
  }

  async cancelAllAlgoOrders(symbol: string): Promise<void> {
    await this.rest.request('DELETE', '/fapi/v1/algoOpenOrders', { symbol }, { security: 'SIGNED', idempotent: true });
  }

  async allAlgoOrders(symbol: string, query: AlgoOrderQuery = {}): Promise<AlgoOrder[]> {
    return this.rest.request<AlgoOrder[]>('GET', '/fapi/v1/allAlgoOrders', { symbol, algoId: query.algoId, startTime: query.startTime, endTime: query.endTime, limit: query.limit }, { security: 'SIGNED', idempotent: true });
  }

  // ---- account ----

  async account(): Promise<Account> {
    return this.rest.request<Account>('GET', '/fapi/v3/account', {}, { security: 'SIGNED', idempotent: true });
  }

  async balances(): Promise<Balance[]> {
    return this.rest.request<Balance[]>('GET', '/fapi/v3/balance', {}, { security: 'SIGNED', idempotent: true });
  }

  async positionRisk(symbol?: string): Promise<PositionRisk[]> {
    return this.rest.request<PositionRisk[]>('GET', '/fapi/v3/positionRisk', { symbol }, { security: 'SIGNED', idempotent: true });
  }

  async setLeverage(symbol: string, leverage: number): Promise<{ leverage: number; maxNotionalValue: string; symbol: string }> {
    return this.rest.request('POST', '/fapi/v1/leverage', { symbol, leverage }, { security: 'SIGNED' });
  }

  async setMarginType(symbol: string, marginType: MarginType): Promise<void> {
    await this.rest.request('POST', '/fapi/v1/marginType', { symbol, marginType }, { security: 'SIGNED' });
  }

  async leverageBrackets(symbol: string): Promise<LeverageBracket> {
    const r = await this.rest.request<LeverageBracket | LeverageBracket[]>('GET', '/fapi/v1/leverageBracket', { symbol }, { security: 'SIGNED', idempotent: true });
    return Array.isArray(r) ? r[0] : r;
  }

  async userTrades(symbol: string, query: UserTradeQuery = {}): Promise<UserTrade[]> {
    return this.rest.request<UserTrade[]>('GET', '/fapi/v1/userTrades', { symbol, ...query }, { security: 'SIGNED', idempotent: true });
  }

  async subscribeUserData(handler: (event: UserDataEvent) => void): Promise<Subscription> {
    if (!this.rest.hasKey) throw new ExchangeError(-2014, 'API-key format invalid.', 'rejected', 401, 'user data stream (no API key configured)');
    const us = new UserStream({
      baseUrl: this.options.wsUrl,
      routed: this.options.routed ?? true,
      keyProvider: async () => (await this.rest.request<{ listenKey: string }>('POST', '/fapi/v1/listenKey', {}, { security: 'USER_STREAM', idempotent: true })).listenKey,
      keepAliveFn: async () => {
        await this.rest.request('PUT', '/fapi/v1/listenKey', {}, { security: 'USER_STREAM', idempotent: true });
      },
      onEvent: handler,
      onLog: this.options.onLog,
      pingIntervalMs: this.options.ws?.pingIntervalMs,
      pongTimeoutMs: this.options.ws?.pongTimeoutMs,
    });
    await us.start();
    this.userStreams.add(us);
    return {
      unsubscribe: () => {
        us.close();
        this.userStreams.delete(us);
      },
    };
  }

  // ---- stats / lifecycle ----

  stats(): ExchangeStats {
    const s = this.streams.stats();
    const g = this.rest.governor.stats();
    return {
      venue: this.venue,
      simulated: this.simulated,
      connections: s.open,
      streams: s.streams,
      messagesPerSecond: s.messagesPerSecond,
      messagesTotal: s.messagesTotal,
      lagMs: s.lagMs,
      maxLagMs: s.maxLagMs,
      queued: s.queued,
      reconnects: s.reconnects,
      usedWeight: g.usedWeight,
      weightLimit: g.weightLimit,
      weightWindowMs: g.weightWindowMs,
      timeOffsetMs: this.rest.timeOffsetMs,
      books: [...this.books.values()].map(({ book }) => ({
        symbol: book.symbol, state: book.status, lastUpdateId: book.lastUpdateId, bestBid: book.bestBid()?.[0], bestAsk: book.bestAsk()?.[0], resyncs: book.resyncs,
      })),
    };
  }

  /** Cached symbol list from the last exchangeInfo. */
  get symbols(): SymbolInfo[] {
    return this.symbolsCache?.symbols ?? [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const us of this.userStreams) us.close();
    for (const { book } of this.books.values()) book.stop();
    this.streams.close();
    await this.rest.close();
  }
}
