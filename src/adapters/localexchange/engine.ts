import { randomBytes } from 'node:crypto';
import {
  DEFAULT_BRACKETS, MAKER_FEE_RATE, TAKER_FEE_RATE, averageEntry, fundingPayment, initialMargin, liquidationPrice,
  maintenanceMargin, maxLeverageFor, tradeFee, unrealizedPnl,
} from '../../core/futures/accounting.js';
import { Dec } from '../../core/futures/decimal.js';
import { checkOrderFilters } from '../../core/futures/filters.js';
import type { MarginType, OrderSide, OrderStatus, UserDataEvent, UserTrade } from '../../core/exchange/port.js';
import type { SymbolMarket } from './market.js';
import { symbolInfo } from './symbols.js';
import type { SimAlgoOrder } from './algo.js';

/** An error the local exchange returns as `{code, msg}` with an HTTP status. */
export class SimError extends Error {
  constructor(readonly code: number, readonly msg: string, readonly status = 400) {
    super(msg);
  }
}

/** An optional integer parameter (a time or an id): -1100 unless it is digits, as Binance answers. */
export function intParam(p: Record<string, string>, name: string): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,20}$/.test(v)) throw new SimError(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`);
  return Number(v);
}

/**
 * `limit` of a list endpoint: `fallback` when absent; otherwise an integer from 1 to `max` (or one
 * of `allowed`), else -1130 as Binance answers on every endpoint (its message has the typo).
 */
export function limitParam(p: Record<string, string>, fallback: number, max: number, allowed?: number[]): number {
  if (p.limit === undefined) return fallback;
  const limit = /^[0-9]{1,9}$/.test(p.limit) ? Number(p.limit) : NaN;
  if (!(limit >= 1 && limit <= max) || (allowed && !allowed.includes(limit))) throw new SimError(-1130, "Data sent for paramter 'limit' is not valid.");
  return limit;
}

export interface SimOrder {
  orderId: number;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: 'LIMIT' | 'MARKET' | 'LIQUIDATION';
  timeInForce: string;
  reduceOnly: boolean;
  /** limit price in ticks (0 for MARKET) */
  price: number;
  origQty: number;
  executedQty: number;
  cumQuote: Dec;
  status: OrderStatus;
  time: number;
  updateTime: number;
  goodTillDate: number;
  /** user quantity resting in the book (steps) */
  resting: number;
  /** Set when a triggered algo (conditional) order placed this order. */
  trigger?: TriggerOrigin;
}

/** What a regular order placed by a triggered algo order reports of it (`ot`, `sp`, `wt`, `cp`, `pP`). */
export interface TriggerOrigin {
  origType: string;
  /** trigger price text */
  stopPrice: string;
  workingType: 'MARK_PRICE' | 'CONTRACT_PRICE';
  closePosition: boolean;
  priceProtect: boolean;
}

export interface SimPosition {
  amt: Dec;
  entry: Dec;
  isolatedWallet: Dec;
  updateTime: number;
}

/** A trade as the local exchange records it: Binance's userTrades row (one-way mode only). */
export type SimTrade = Omit<UserTrade, 'positionSide'> & { positionSide: 'BOTH' };

export interface SimAccount {
  apiKey: string;
  secret: string;
  wallet: Dec;
  positions: Map<string, SimPosition>;
  leverage: Map<string, number>;
  marginType: Map<string, MarginType>;
  orders: Map<number, SimOrder>;
  /** Algo (conditional) orders by algoId (see algo.ts). */
  algos: Map<number, SimAlgoOrder>;
  trades: SimTrade[];
  income: { symbol: string; incomeType: string; income: string; asset: string; info: string; time: number; tranId: number; tradeId: string }[];
  listenKey?: string;
  listenKeyExpires: number;
  updateTime: number;
}

export const DEFAULT_LEVERAGE = 20;
const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export interface OrderParams {
  symbol?: string;
  side?: string;
  type?: string;
  quantity?: string;
  price?: string;
  timeInForce?: string;
  positionSide?: string;
  reduceOnly?: string;
  newClientOrderId?: string;
  newOrderRespType?: string;
  goodTillDate?: string;
  closePosition?: string;
  priceMatch?: string;
}

/**
 * Accounts, orders and positions of the local exchange, with the futures rules of
 * src/core/futures (fees, margin, maintenance brackets, liquidation, funding). One-way position
 * mode only (positionSide BOTH).
 */
export class Engine {
  readonly accounts = new Map<string, SimAccount>();
  private readonly byListenKey = new Map<string, SimAccount>();
  private orderSeq = 1_000_000;
  private tradeSeq = 5_000_000;
  private tranSeq = 9_000_000;
  /** Receives every user data event (the server routes it to the account's sockets). */
  onUserEvent: ((account: SimAccount, event: UserDataEvent) => void) | undefined;
  listenKeyTtlMs = 60 * 60_000;

  constructor(
    readonly markets: Map<string, SymbolMarket>,
    /** The exchange clock (market time): every time the engine reports. */
    private readonly now: () => number,
    /** Real time: listen keys lapse 60 real minutes after the last keepalive, whatever the speed. */
    private readonly realNow: () => number = now,
  ) {
    for (const m of markets.values()) m.userFill = (side, price, qty) => this.fillResting(m, side, price, qty);
  }

  addAccount(apiKey: string, secret: string, usdt: string): SimAccount {
    const account: SimAccount = {
      apiKey, secret, wallet: Dec.parse(usdt), positions: new Map(), leverage: new Map(), marginType: new Map(),
      orders: new Map(), algos: new Map(), trades: [], income: [], listenKeyExpires: 0, updateTime: this.now(),
    };
    this.accounts.set(apiKey, account);
    return account;
  }

  market(symbol: string | undefined): SymbolMarket {
    if (!symbol) throw new SimError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const m = this.markets.get(symbol);
    if (!m) throw new SimError(-1121, 'Invalid symbol.');
    return m;
  }

  leverageOf(a: SimAccount, symbol: string): number {
    return a.leverage.get(symbol) ?? DEFAULT_LEVERAGE;
  }

  marginTypeOf(a: SimAccount, symbol: string): MarginType {
    return a.marginType.get(symbol) ?? 'CROSSED';
  }

  position(a: SimAccount, symbol: string): SimPosition {
    let p = a.positions.get(symbol);
    if (!p) {
      p = { amt: Dec.ZERO, entry: Dec.ZERO, isolatedWallet: Dec.ZERO, updateTime: 0 };
      a.positions.set(symbol, p);
    }
    return p;
  }

  mark(symbol: string): Dec {
    return Dec.parse(this.market(symbol).markPriceText());
  }

  // ---------------------------------------------------------------------------------------
  // margin figures
  // ---------------------------------------------------------------------------------------

  openOrderMargin(a: SimAccount, symbol?: string): Dec {
    let sum = Dec.ZERO;
    for (const o of a.orders.values()) {
      if ((o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') || o.reduceOnly || (symbol && o.symbol !== symbol)) continue;
      const m = this.markets.get(o.symbol)!;
      sum = sum.add(initialMargin(m.qty(o.origQty - o.executedQty), m.price(o.price), this.leverageOf(a, o.symbol)));
    }
    return sum;
  }

  figures(a: SimAccount) {
    let crossUpnl = Dec.ZERO;
    let isoWallets = Dec.ZERO;
    let posIM = Dec.ZERO;
    let mm = Dec.ZERO;
    let upnl = Dec.ZERO;
    for (const [symbol, p] of a.positions) {
      if (p.amt.isZero()) continue;
      const mark = this.mark(symbol);
      const u = unrealizedPnl(p.amt, p.entry, mark);
      upnl = upnl.add(u);
      mm = mm.add(maintenanceMargin(DEFAULT_BRACKETS, p.amt.mul(mark)));
      if (this.marginTypeOf(a, symbol) === 'ISOLATED') isoWallets = isoWallets.add(p.isolatedWallet);
      else {
        crossUpnl = crossUpnl.add(u);
        posIM = posIM.add(initialMargin(p.amt, mark, this.leverageOf(a, symbol)));
      }
    }
    const ooIM = this.openOrderMargin(a);
    const crossWallet = a.wallet.sub(isoWallets);
    const available = crossWallet.add(crossUpnl).sub(posIM).sub(ooIM);
    return { crossUpnl, isoWallets, posIM, ooIM, mm, upnl, crossWallet, available };
  }

  // ---------------------------------------------------------------------------------------
  // orders
  // ---------------------------------------------------------------------------------------

  /** `trigger`: the order is placed by a triggered algo order (its client id may repeat an open order's). */
  newOrder(a: SimAccount, p: OrderParams, trigger?: TriggerOrigin): Record<string, unknown> {
    const m = this.market(p.symbol);
    const symbol = m.spec.symbol;
    if (p.side !== 'BUY' && p.side !== 'SELL') throw new SimError(-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    if (!p.type) throw new SimError(-1102, "Mandatory parameter 'type' was not sent, was empty/null, or malformed.");
    if (['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'].includes(p.type)) {
      throw new SimError(-4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.');
    }
    if (p.type !== 'LIMIT' && p.type !== 'MARKET') throw new SimError(-1116, 'Invalid orderType.');
    if (p.positionSide && p.positionSide !== 'BOTH') throw new SimError(-4061, "Order's position side does not match user's setting.");
    if (p.priceMatch) throw new SimError(-1104, "Not all sent parameters were read; read '0' parameter(s) but was sent '1'.");
    if (p.quantity === undefined) throw new SimError(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    let tif = p.timeInForce ?? (p.type === 'LIMIT' ? undefined : 'GTC');
    if (p.type === 'LIMIT') {
      if (!tif) throw new SimError(-1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
      if (!['GTC', 'IOC', 'FOK', 'GTX', 'GTD'].includes(tif)) throw new SimError(-1115, 'Invalid timeInForce.');
      if (p.price === undefined) throw new SimError(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
    } else tif = 'GTC';
    if (p.reduceOnly !== undefined && p.reduceOnly !== 'true' && p.reduceOnly !== 'false') throw new SimError(-1102, "Mandatory parameter 'reduceOnly' was not sent, was empty/null, or malformed.");
    const reduceOnly = p.reduceOnly === 'true';
    const clientOrderId = p.newClientOrderId ?? `sim_${randomBytes(11).toString('base64url')}`;
    if (!CLIENT_ID_RE.test(clientOrderId)) throw new SimError(-4015, 'Client order id is not valid.');
    if (!trigger) for (const o of a.orders.values()) {
      if (o.clientOrderId === clientOrderId && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')) throw new SimError(-4116, 'ClientOrderId is duplicated.');
    }
    const info = symbolInfo(m.spec);
    const mark = m.markPriceText();
    const failure = checkOrderFilters(info, { type: p.type, side: p.side, quantity: p.quantity, price: p.price, reduceOnly, markPrice: mark });
    if (failure) throw new SimError(failure.code, failure.msg);
    let gtd = 0;
    if (tif === 'GTD') {
      gtd = Number(p.goodTillDate);
      if (!Number.isFinite(gtd) || gtd < this.now() + 600_000) throw new SimError(-4188, 'Good till date must be greater than current time plus 600 seconds.');
    }
    const qtySteps = Math.round(Number(p.quantity) / m.stepValue);
    const priceTicks = p.type === 'LIMIT' ? Math.round(Number(p.price) / m.tickValue) : 0;
    const pos = this.position(a, symbol);
    const signed = p.side === 'BUY' ? 1 : -1;
    if (reduceOnly) {
      const opposite = pos.amt.sign() === -signed;
      if (!opposite || Dec.parse(p.quantity).gt(pos.amt.abs())) throw new SimError(-2022, 'ReduceOnly Order is rejected.');
    } else {
      // margin for the part that increases the position
      const qty = Dec.parse(p.quantity);
      const closing = pos.amt.sign() === -signed ? pos.amt.abs().min(qty) : Dec.ZERO;
      const increase = qty.sub(closing);
      const refPrice = p.type === 'LIMIT' ? Dec.parse(p.price!) : Dec.parse(mark);
      const lev = this.leverageOf(a, symbol);
      const newNotional = pos.amt.abs().add(increase).mul(refPrice);
      if (maxLeverageFor(DEFAULT_BRACKETS, newNotional) < lev && increase.gt(Dec.ZERO)) throw new SimError(-2027, 'Exceeded the maximum allowable position at current leverage.');
      const need = initialMargin(increase, refPrice, lev).add(tradeFee(refPrice, increase, TAKER_FEE_RATE));
      if (increase.gt(Dec.ZERO) && this.figures(a).available.lt(need)) throw new SimError(-2019, 'Margin is insufficient.');
    }
    if (tif === 'GTX' && p.type === 'LIMIT') {
      const crosses = p.side === 'BUY' ? m.bestAsk > 0 && priceTicks >= m.bestAsk : m.bestBid > 0 && priceTicks <= m.bestBid;
      if (crosses) throw new SimError(-5022, 'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history');
    }
    if (tif === 'FOK') {
      if (this.liquidity(m, p.side, priceTicks) < qtySteps) throw new SimError(-5021, 'Due to the order could not be filled immediately, the FOK order has been rejected. The order will not be recorded in the order history');
    }
    const now = this.now();
    const order: SimOrder = {
      orderId: ++this.orderSeq, clientOrderId, symbol, side: p.side, type: p.type, timeInForce: tif, reduceOnly,
      price: priceTicks, origQty: qtySteps, executedQty: 0, cumQuote: Dec.ZERO, status: 'NEW', time: now, updateTime: now,
      goodTillDate: gtd, resting: 0, trigger,
    };
    a.orders.set(order.orderId, order);
    this.pruneOrders(a);
    const ack = this.orderJson(order, false);
    this.emitOrder(a, order, 'NEW');
    // execute against the book
    const fills = m.take(p.side, qtySteps, priceTicks, now, (side, price, qty) => this.fillResting(m, side, price, qty));
    for (const f of fills) this.applyFill(a, order, m, f.price, f.qty, false);
    const remaining = order.origQty - order.executedQty;
    if (remaining > 0) {
      if (p.type === 'MARKET' || tif === 'IOC' || tif === 'FOK') {
        order.status = 'EXPIRED';
        order.updateTime = now;
        this.emitOrder(a, order, 'EXPIRED');
      } else {
        order.resting = remaining;
        m.addUser(p.side === 'BUY' ? 'bid' : 'ask', priceTicks, remaining);
      }
    }
    return p.newOrderRespType === 'RESULT' ? this.orderJson(order, false) : ack;
  }

  /** Keeps memory bounded: beyond 20,000 orders, the oldest finished ones are forgotten. */
  private pruneOrders(a: SimAccount): void {
    if (a.orders.size <= 20_000) return;
    for (const [id, o] of a.orders) {
      if (a.orders.size <= 15_000) break;
      if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') a.orders.delete(id);
    }
  }

  /** Quantity available up to a limit (0 = any), for FOK. */
  private liquidity(m: SymbolMarket, side: OrderSide, limit: number): number {
    const levels = m.levels(side === 'BUY' ? 'ask' : 'bid', 1000);
    let sum = 0;
    for (const [p, q] of levels) {
      const ticks = Math.round(Number(p) / m.tickValue);
      if (limit > 0 && (side === 'BUY' ? ticks > limit : ticks < limit)) break;
      sum += Math.round(Number(q) / m.stepValue);
    }
    return sum;
  }

  /** Fills resting user orders at a level hit by a taker; returns the steps filled. */
  fillResting(m: SymbolMarket, side: 'bid' | 'ask', price: number, qty: number): number {
    const orderSide: OrderSide = side === 'bid' ? 'BUY' : 'SELL';
    const candidates: { a: SimAccount; o: SimOrder }[] = [];
    for (const a of this.accounts.values()) {
      for (const o of a.orders.values()) {
        if (o.resting > 0 && o.symbol === m.spec.symbol && o.side === orderSide && o.price === price) candidates.push({ a, o });
      }
    }
    candidates.sort((x, y) => x.o.time - y.o.time || x.o.orderId - y.o.orderId);
    let filled = 0;
    for (const { a, o } of candidates) {
      if (filled >= qty) break;
      const take = Math.min(o.resting, qty - filled);
      o.resting -= take;
      m.addUser(side, price, -take);
      this.applyFill(a, o, m, price, take, true);
      filled += take;
    }
    return filled;
  }

  private applyFill(a: SimAccount, o: SimOrder, m: SymbolMarket, priceTicks: number, steps: number, maker: boolean): void {
    const now = this.now();
    const price = Dec.parse(m.price(priceTicks));
    const qty = Dec.parse(m.qty(steps));
    const fee = tradeFee(price, qty, maker ? MAKER_FEE_RATE : TAKER_FEE_RATE);
    const pos = this.position(a, o.symbol);
    const signed = o.side === 'BUY' ? qty : qty.neg();
    const isolated = this.marginTypeOf(a, o.symbol) === 'ISOLATED';
    const lev = this.leverageOf(a, o.symbol);
    let realized = Dec.ZERO;
    if (pos.amt.isZero() || pos.amt.sign() === signed.sign()) {
      pos.entry = averageEntry(pos.amt, pos.entry, qty, price);
      pos.amt = pos.amt.add(signed);
      if (isolated) pos.isolatedWallet = pos.isolatedWallet.add(initialMargin(qty, price, lev));
    } else {
      const closeQty = pos.amt.abs().min(qty);
      realized = closeQty.mul(price.sub(pos.entry)).mul(Dec.fromInt(pos.amt.sign()));
      if (isolated && !pos.amt.isZero()) pos.isolatedWallet = pos.isolatedWallet.sub(pos.isolatedWallet.mul(closeQty).div(pos.amt.abs()));
      pos.amt = pos.amt.add(signed);
      if (pos.amt.isZero()) {
        pos.entry = Dec.ZERO;
        pos.isolatedWallet = Dec.ZERO;
      } else if (pos.amt.sign() === signed.sign()) {
        pos.entry = price;
        if (isolated) pos.isolatedWallet = initialMargin(pos.amt, price, lev);
      }
    }
    a.wallet = a.wallet.add(realized).sub(fee);
    pos.updateTime = now;
    a.updateTime = now;
    o.executedQty += steps;
    o.cumQuote = o.cumQuote.add(price.mul(qty));
    o.status = o.executedQty >= o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    o.updateTime = now;
    const tradeId = ++this.tradeSeq;
    a.trades.push({
      buyer: o.side === 'BUY', commission: fee.toString(8), commissionAsset: 'USDT', id: tradeId, maker, orderId: o.orderId,
      price: price.toString(), qty: qty.toString(), quoteQty: price.mul(qty).toString(), realizedPnl: realized.toString(8), side: o.side,
      positionSide: 'BOTH', symbol: o.symbol, time: now,
    });
    if (a.trades.length > 10_000) a.trades.splice(0, a.trades.length - 10_000);
    if (!realized.isZero()) this.addIncome(a, o.symbol, 'REALIZED_PNL', realized, String(tradeId));
    this.addIncome(a, o.symbol, 'COMMISSION', fee.neg(), String(tradeId));
    this.emitOrder(a, o, 'TRADE', { price, qty, fee, maker, tradeId, realized });
    this.emitAccount(a, 'ORDER', [o.symbol]);
  }

  private addIncome(a: SimAccount, symbol: string, type: string, amount: Dec, tradeId: string): void {
    a.income.push({ symbol, incomeType: type, income: amount.toString(8), asset: 'USDT', info: type, time: this.now(), tranId: ++this.tranSeq, tradeId });
    if (a.income.length > 10_000) a.income.splice(0, a.income.length - 10_000);
  }

  findOrder(a: SimAccount, p: { symbol?: string; orderId?: string; origClientOrderId?: string }, missingCode: number): SimOrder {
    const m = this.market(p.symbol);
    if (p.orderId === undefined && p.origClientOrderId === undefined) throw new SimError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    let found: SimOrder | undefined;
    if (p.orderId !== undefined) found = a.orders.get(Number(p.orderId));
    else for (const o of a.orders.values()) if (o.clientOrderId === p.origClientOrderId) found = o;
    if (!found || found.symbol !== m.spec.symbol) {
      throw new SimError(missingCode, missingCode === -2011 ? 'Unknown order sent.' : 'Order does not exist.');
    }
    return found;
  }

  cancelOrder(a: SimAccount, p: { symbol?: string; orderId?: string; origClientOrderId?: string }): Record<string, unknown> {
    const o = this.findOrder(a, p, -2011);
    if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') throw new SimError(-2011, 'Unknown order sent.');
    this.cancel(a, o, 'CANCELED');
    return this.orderJson(o, false);
  }

  private cancel(a: SimAccount, o: SimOrder, status: 'CANCELED' | 'EXPIRED'): void {
    const m = this.markets.get(o.symbol)!;
    if (o.resting > 0) m.addUser(o.side === 'BUY' ? 'bid' : 'ask', o.price, -o.resting);
    o.resting = 0;
    o.status = status;
    o.updateTime = this.now();
    this.emitOrder(a, o, status);
  }

  cancelAll(a: SimAccount, symbol: string | undefined): void {
    const m = this.market(symbol);
    for (const o of a.orders.values()) if (o.symbol === m.spec.symbol && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')) this.cancel(a, o, 'CANCELED');
  }

  openOrders(a: SimAccount, symbol?: string): SimOrder[] {
    if (symbol !== undefined) this.market(symbol);
    return [...a.orders.values()].filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!symbol || o.symbol === symbol));
  }

  /** Expires GTD orders whose time has come. */
  expireOrders(): void {
    const now = this.now();
    for (const a of this.accounts.values()) {
      for (const o of a.orders.values()) {
        if (o.goodTillDate > 0 && o.goodTillDate <= now && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')) this.cancel(a, o, 'EXPIRED');
      }
    }
  }

  orderJson(o: SimOrder, withTime: boolean): Record<string, unknown> {
    const m = this.markets.get(o.symbol)!;
    const executed = Dec.parse(m.qty(o.executedQty));
    const avg = executed.isZero() ? Dec.ZERO : o.cumQuote.div(executed);
    const out: Record<string, unknown> = {
      orderId: o.orderId,
      symbol: o.symbol,
      status: o.status,
      clientOrderId: o.clientOrderId,
      price: o.type === 'LIMIT' ? m.price(o.price) : '0',
      avgPrice: avg.toString(Math.max(5, m.spec.priceDecimals)),
      origQty: m.qty(o.origQty),
      executedQty: m.qty(o.executedQty),
      cumQty: m.qty(o.executedQty),
      cumQuote: o.cumQuote.toString(Math.min(8, m.spec.priceDecimals + m.spec.qtyDecimals)),
      timeInForce: o.timeInForce,
      type: o.type,
      reduceOnly: o.reduceOnly,
      closePosition: o.trigger?.closePosition ?? false,
      side: o.side,
      positionSide: 'BOTH',
      stopPrice: o.trigger?.stopPrice ?? '0',
      workingType: o.trigger?.workingType ?? 'CONTRACT_PRICE',
      priceProtect: o.trigger?.priceProtect ?? false,
      origType: o.trigger?.origType ?? o.type,
      priceMatch: 'NONE',
      selfTradePreventionMode: 'EXPIRE_MAKER',
      goodTillDate: o.goodTillDate,
    };
    if (withTime) out.time = o.time;
    out.updateTime = o.updateTime;
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // account settings
  // ---------------------------------------------------------------------------------------

  setLeverage(a: SimAccount, symbol: string | undefined, leverage: string | undefined): Record<string, unknown> {
    const m = this.market(symbol);
    const lev = Number(leverage);
    if (!Number.isInteger(lev) || lev < 1 || lev > 125) throw new SimError(-4028, `Leverage ${leverage} is not valid`);
    a.leverage.set(m.spec.symbol, lev);
    const tier = [...DEFAULT_BRACKETS].reverse().find((b) => b.initialLeverage >= lev) ?? DEFAULT_BRACKETS[0];
    this.onUserEvent?.(a, { e: 'ACCOUNT_CONFIG_UPDATE', E: this.now(), T: this.now(), ac: { s: m.spec.symbol, l: lev } });
    return { leverage: lev, maxNotionalValue: String(tier.notionalCap), symbol: m.spec.symbol };
  }

  setMarginType(a: SimAccount, symbol: string | undefined, type: string | undefined): void {
    const m = this.market(symbol);
    if (type !== 'ISOLATED' && type !== 'CROSSED') throw new SimError(-4044, 'The margin type is invalid.');
    if (this.marginTypeOf(a, m.spec.symbol) === type) throw new SimError(-4046, 'No need to change margin type.');
    const openAlgo = [...a.algos.values()].some((o) => o.status === 'NEW' && o.symbol === m.spec.symbol);
    if (this.openOrders(a, m.spec.symbol).length > 0 || openAlgo) throw new SimError(-4047, 'Margin type cannot be changed if there exists open orders.');
    if (!this.position(a, m.spec.symbol).amt.isZero()) throw new SimError(-4048, 'Margin type cannot be changed if there exists position.');
    a.marginType.set(m.spec.symbol, type);
  }

  // ---------------------------------------------------------------------------------------
  // account reports
  // ---------------------------------------------------------------------------------------

  positionRiskRow(a: SimAccount, symbol: string, version: 2 | 3): Record<string, unknown> {
    const m = this.markets.get(symbol)!;
    const p = this.position(a, symbol);
    const mark = this.mark(symbol);
    const notional = p.amt.mul(mark);
    const upnl = unrealizedPnl(p.amt, p.entry, mark);
    const isolated = this.marginTypeOf(a, symbol) === 'ISOLATED';
    const lev = this.leverageOf(a, symbol);
    const mm = maintenanceMargin(DEFAULT_BRACKETS, notional);
    const im = initialMargin(p.amt, mark, lev);
    let liq = '0';
    if (!p.amt.isZero()) {
      let wallet: Dec;
      if (isolated) wallet = p.isolatedWallet;
      else {
        const f = this.figures(a);
        const otherMM = f.mm.sub(mm);
        const otherUpnl = f.upnl.sub(upnl);
        wallet = f.crossWallet.sub(otherMM).add(otherUpnl);
      }
      const lp = liquidationPrice(DEFAULT_BRACKETS, p.amt.sign() > 0 ? 'LONG' : 'SHORT', p.amt, p.entry, wallet);
      liq = lp ? lp.round(m.spec.priceDecimals + 2).toString() : '0';
    }
    const oo = this.openOrderMargin(a, symbol);
    const breakEven = p.amt.isZero() ? Dec.ZERO : p.entry.mul(p.amt.sign() > 0 ? Dec.parse('1.0005') : Dec.parse('0.9995'));
    if (version === 3) {
      return {
        symbol, positionSide: 'BOTH', positionAmt: p.amt.toString(m.spec.qtyDecimals), entryPrice: p.entry.toString(8), breakEvenPrice: breakEven.toString(8),
        markPrice: mark.toString(8), unRealizedProfit: upnl.toString(8), liquidationPrice: liq, isolatedMargin: isolated ? p.isolatedWallet.add(upnl).toString(8) : '0',
        notional: notional.toString(8), marginAsset: 'USDT', isolatedWallet: isolated ? p.isolatedWallet.toString(8) : '0', initialMargin: im.add(oo).toString(8),
        maintMargin: mm.toString(8), positionInitialMargin: im.toString(8), openOrderInitialMargin: oo.toString(8), adl: p.amt.isZero() ? 0 : 2,
        bidNotional: '0', askNotional: '0', updateTime: p.updateTime,
      };
    }
    const tier = DEFAULT_BRACKETS.find((b) => b.initialLeverage >= lev && b.bracket === Math.max(...DEFAULT_BRACKETS.filter((x) => x.initialLeverage >= lev).map((x) => x.bracket))) ?? DEFAULT_BRACKETS[0];
    return {
      symbol, positionAmt: p.amt.toString(m.spec.qtyDecimals), entryPrice: p.entry.toString(8), breakEvenPrice: breakEven.toString(8), markPrice: mark.toString(8),
      unRealizedProfit: upnl.toString(8), liquidationPrice: liq, leverage: String(lev), maxNotionalValue: String(tier.notionalCap),
      marginType: isolated ? 'isolated' : 'cross', isolatedMargin: isolated ? p.isolatedWallet.add(upnl).toString(8) : '0.00000000', isAutoAddMargin: 'false',
      positionSide: 'BOTH', notional: notional.toString(8), isolatedWallet: isolated ? p.isolatedWallet.toString(8) : '0', updateTime: p.updateTime,
    };
  }

  balances(a: SimAccount): Record<string, unknown>[] {
    const f = this.figures(a);
    return [{
      accountAlias: 'SgsR', asset: 'USDT', balance: a.wallet.toString(8), crossWalletBalance: f.crossWallet.toString(8),
      crossUnPnl: f.crossUpnl.toString(8), availableBalance: f.available.toString(8), maxWithdrawAmount: Dec.ZERO.max(f.available).toString(8),
      marginAvailable: true, updateTime: a.updateTime,
    }];
  }

  account(a: SimAccount, version: 2 | 3): Record<string, unknown> {
    const f = this.figures(a);
    const totalIM = f.posIM.add(f.ooIM).add(f.isoWallets);
    const margin = a.wallet.add(f.upnl);
    const s8 = (d: Dec) => d.toString(8);
    const asset = {
      asset: 'USDT', walletBalance: s8(a.wallet), unrealizedProfit: s8(f.upnl), marginBalance: s8(margin), maintMargin: s8(f.mm),
      initialMargin: s8(totalIM), positionInitialMargin: s8(f.posIM), openOrderInitialMargin: s8(f.ooIM), crossWalletBalance: s8(f.crossWallet),
      crossUnPnl: s8(f.crossUpnl), availableBalance: s8(f.available), maxWithdrawAmount: s8(Dec.ZERO.max(f.available)),
      ...(version === 2 ? { marginAvailable: true } : {}), updateTime: a.updateTime,
    };
    const symbols = version === 3
      ? [...this.markets.keys()].filter((s) => !(a.positions.get(s)?.amt.isZero() ?? true) || this.openOrders(a, s).length > 0)
      : [...this.markets.keys()];
    const positions = symbols.map((symbol) => {
      const r = this.positionRiskRow(a, symbol, 3);
      const base = {
        symbol, positionSide: 'BOTH', positionAmt: r.positionAmt, unrealizedProfit: r.unRealizedProfit, isolatedMargin: r.isolatedMargin,
        notional: r.notional, isolatedWallet: r.isolatedWallet, initialMargin: r.initialMargin, maintMargin: r.maintMargin,
      };
      if (version === 2) {
        return {
          symbol, initialMargin: r.initialMargin, maintMargin: r.maintMargin, unrealizedProfit: r.unRealizedProfit, positionInitialMargin: r.positionInitialMargin,
          openOrderInitialMargin: r.openOrderInitialMargin, leverage: String(this.leverageOf(a, symbol)), isolated: this.marginTypeOf(a, symbol) === 'ISOLATED',
          entryPrice: r.entryPrice, breakEvenPrice: r.breakEvenPrice, maxNotional: '1000000', bidNotional: '0', askNotional: '0', positionSide: 'BOTH',
          positionAmt: r.positionAmt, updateTime: r.updateTime,
        };
      }
      return { ...base, updateTime: r.updateTime };
    });
    const head: Record<string, unknown> = version === 2
      ? { feeTier: 0, feeBurn: true, canTrade: true, canDeposit: true, canWithdraw: true, updateTime: 0, multiAssetsMargin: false, tradeGroupId: -1 }
      : {};
    return {
      ...head,
      totalInitialMargin: s8(totalIM), totalMaintMargin: s8(f.mm), totalWalletBalance: s8(a.wallet), totalUnrealizedProfit: s8(f.upnl),
      totalMarginBalance: s8(margin), totalPositionInitialMargin: s8(f.posIM), totalOpenOrderInitialMargin: s8(f.ooIM),
      totalCrossWalletBalance: s8(f.crossWallet), totalCrossUnPnl: s8(f.crossUpnl), availableBalance: s8(f.available),
      maxWithdrawAmount: s8(Dec.ZERO.max(f.available)), assets: [asset], positions,
    };
  }

  // ---------------------------------------------------------------------------------------
  // funding and liquidation (called by the server's market clock)
  // ---------------------------------------------------------------------------------------

  /** Applies funding to every position of a symbol whose funding time has passed. */
  settleFunding(m: SymbolMarket): void {
    if (m.now < m.nextFunding) return;
    const mark = Dec.parse(m.markPriceText());
    const fundingTime = m.nextFunding;
    const rate = Dec.fromNumber(Math.round(m.takeFunding() * 1e8) / 1e8);
    m.fundingHistory.push({ fundingTime, rate: rate.toString(8), mark: mark.toString(8) });
    if (m.fundingHistory.length > 1000) m.fundingHistory.shift();
    for (const a of this.accounts.values()) {
      const p = a.positions.get(m.spec.symbol);
      if (!p || p.amt.isZero()) continue;
      const pay = fundingPayment(p.amt, mark, rate);
      a.wallet = a.wallet.sub(pay);
      if (this.marginTypeOf(a, m.spec.symbol) === 'ISOLATED') p.isolatedWallet = p.isolatedWallet.sub(pay);
      this.addIncome(a, m.spec.symbol, 'FUNDING_FEE', pay.neg(), '');
      this.emitAccount(a, 'FUNDING_FEE', this.marginTypeOf(a, m.spec.symbol) === 'ISOLATED' ? [m.spec.symbol] : []);
    }
  }

  /** Liquidates positions whose margin balance at mark price fell to the maintenance margin. */
  checkLiquidations(): void {
    for (const a of this.accounts.values()) {
      for (const [symbol, p] of a.positions) {
        if (p.amt.isZero() || this.marginTypeOf(a, symbol) !== 'ISOLATED') continue;
        const mark = this.mark(symbol);
        const mm = maintenanceMargin(DEFAULT_BRACKETS, p.amt.mul(mark));
        if (p.isolatedWallet.add(unrealizedPnl(p.amt, p.entry, mark)).lte(mm)) this.liquidate(a, symbol, mark);
      }
      let crossHas = false;
      for (const [symbol, p] of a.positions) if (!p.amt.isZero() && this.marginTypeOf(a, symbol) === 'CROSSED') crossHas = true;
      if (!crossHas) continue;
      const f = this.figures(a);
      let crossMM = Dec.ZERO;
      for (const [symbol, p] of a.positions) {
        if (p.amt.isZero() || this.marginTypeOf(a, symbol) !== 'CROSSED') continue;
        crossMM = crossMM.add(maintenanceMargin(DEFAULT_BRACKETS, p.amt.mul(this.mark(symbol))));
      }
      if (f.crossWallet.add(f.crossUpnl).lte(crossMM)) {
        for (const [symbol, p] of a.positions) if (!p.amt.isZero() && this.marginTypeOf(a, symbol) === 'CROSSED') this.liquidate(a, symbol, this.mark(symbol));
      }
    }
  }

  /** Runs before a liquidation trades against a market's book (the fast-forward rebuilds the book there). */
  beforeLiquidation: ((m: SymbolMarket) => void) | undefined;

  private liquidate(a: SimAccount, symbol: string, mark: Dec): void {
    const m = this.markets.get(symbol)!;
    this.beforeLiquidation?.(m);
    const p = this.position(a, symbol);
    for (const o of this.openOrders(a, symbol)) this.cancel(a, o, 'CANCELED');
    const now = this.now();
    const order: SimOrder = {
      orderId: ++this.orderSeq, clientOrderId: `autoclose-${now}`, symbol, side: p.amt.sign() > 0 ? 'SELL' : 'BUY', type: 'LIQUIDATION',
      timeInForce: 'IOC', reduceOnly: true, price: 0, origQty: Math.round(p.amt.abs().toNumber() / m.stepValue), executedQty: 0, cumQuote: Dec.ZERO,
      status: 'NEW', time: now, updateTime: now, goodTillDate: 0, resting: 0,
    };
    a.orders.set(order.orderId, order);
    const isolated = this.marginTypeOf(a, symbol) === 'ISOLATED';
    const before = a.wallet;
    const margin = p.isolatedWallet;
    const ticks = Math.round(mark.toNumber() / m.tickValue);
    this.applyFill(a, order, m, ticks, order.origQty, false);
    // the insurance fund covers losses beyond the position's margin (isolated) or the wallet (cross)
    if (isolated && a.wallet.lt(before.sub(margin))) a.wallet = before.sub(margin);
    if (a.wallet.lt(Dec.ZERO)) a.wallet = Dec.ZERO;
  }

  // ---------------------------------------------------------------------------------------
  // user data stream
  // ---------------------------------------------------------------------------------------

  listenKeyFor(a: SimAccount): string {
    const now = this.realNow();
    if (!a.listenKey || a.listenKeyExpires <= now) {
      if (a.listenKey) this.byListenKey.delete(a.listenKey);
      a.listenKey = randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 64).padEnd(64, 'x');
      this.byListenKey.set(a.listenKey, a);
    }
    a.listenKeyExpires = now + this.listenKeyTtlMs;
    return a.listenKey;
  }

  keepAlive(a: SimAccount): string {
    if (!a.listenKey || a.listenKeyExpires <= this.realNow()) throw new SimError(-1125, 'This listenKey does not exist.');
    a.listenKeyExpires = this.realNow() + this.listenKeyTtlMs;
    return a.listenKey;
  }

  closeListenKey(a: SimAccount): void {
    if (a.listenKey) this.byListenKey.delete(a.listenKey);
    a.listenKey = undefined;
    a.listenKeyExpires = 0;
  }

  accountByListenKey(key: string): SimAccount | undefined {
    const a = this.byListenKey.get(key);
    return a && a.listenKeyExpires > this.realNow() ? a : undefined;
  }

  /** Expires listen keys past their time; returns the expired (account, key) pairs. */
  expireListenKeys(): { account: SimAccount; key: string }[] {
    const out: { account: SimAccount; key: string }[] = [];
    const now = this.realNow();
    for (const [key, a] of this.byListenKey) {
      if (a.listenKeyExpires <= now) {
        out.push({ account: a, key });
        this.byListenKey.delete(key);
        a.listenKey = undefined;
      }
    }
    return out;
  }

  private emitOrder(a: SimAccount, o: SimOrder, exec: string, fill?: { price: Dec; qty: Dec; fee: Dec; maker: boolean; tradeId: number; realized: Dec }): void {
    if (!this.onUserEvent) return;
    const m = this.markets.get(o.symbol)!;
    const executed = Dec.parse(m.qty(o.executedQty));
    const now = this.now();
    this.onUserEvent(a, {
      e: 'ORDER_TRADE_UPDATE', E: now, T: now,
      o: {
        s: o.symbol, c: o.clientOrderId, S: o.side, o: o.type, f: o.timeInForce, q: m.qty(o.origQty), p: o.type === 'LIMIT' ? m.price(o.price) : '0',
        ap: executed.isZero() ? '0' : o.cumQuote.div(executed).toString(8), sp: o.trigger?.stopPrice ?? '0', x: exec, X: o.status, i: o.orderId,
        l: fill ? fill.qty.toString() : '0', z: m.qty(o.executedQty), L: fill ? fill.price.toString() : '0', N: 'USDT', n: fill ? fill.fee.toString(8) : '0',
        T: now, t: fill ? fill.tradeId : 0, b: '0', a: '0', m: fill ? fill.maker : false, R: o.reduceOnly, wt: o.trigger?.workingType ?? 'CONTRACT_PRICE', ot: o.trigger?.origType ?? o.type, ps: 'BOTH',
        cp: o.trigger?.closePosition ?? false, rp: fill ? fill.realized.toString(8) : '0', pP: o.trigger?.priceProtect ?? false, si: 0, ss: 0, V: 'EXPIRE_MAKER', pm: 'NONE', gtd: o.goodTillDate,
      },
    });
  }

  private emitAccount(a: SimAccount, reason: string, symbols: string[]): void {
    if (!this.onUserEvent) return;
    const f = this.figures(a);
    const now = this.now();
    this.onUserEvent(a, {
      e: 'ACCOUNT_UPDATE', E: now, T: now,
      a: {
        m: reason,
        B: [{ a: 'USDT', wb: a.wallet.toString(8), cw: f.crossWallet.toString(8), bc: '0' }],
        P: symbols.map((s) => {
          const p = this.position(a, s);
          const mark = this.mark(s);
          return {
            s, pa: p.amt.toString(), ep: p.entry.toString(8), bep: p.entry.toString(8), cr: '0', up: unrealizedPnl(p.amt, p.entry, mark).toString(8),
            mt: this.marginTypeOf(a, s) === 'ISOLATED' ? 'isolated' : 'cross', iw: p.isolatedWallet.toString(8), ps: 'BOTH' as const,
          };
        }),
      },
    });
  }
}
