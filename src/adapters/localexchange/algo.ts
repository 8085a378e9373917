import { randomBytes } from 'node:crypto';
import type { AlgoOrderType, AlgoStatus, AlgoUpdateEvent, OrderSide, WorkingType } from '../../core/exchange/port.js';
import { Dec } from '../../core/futures/decimal.js';
import { checkOrderFilters } from '../../core/futures/filters.js';
import { SimError, intParam, limitParam, type Engine, type SimAccount, type TriggerOrigin } from './engine.js';
import type { SymbolMarket } from './market.js';
import { TRIGGER_PROTECT, symbolInfo } from './symbols.js';

/**
 * Algo (conditional) orders of the local exchange: Binance's `/fapi/v1/algoOrder` family. Since
 * 2025-12-09 STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET and TRAILING_STOP_MARKET exist
 * only there (the regular `/order` answers -4120). An algo order waits outside the book; when its
 * trigger fires it places a regular order (MARKET for *_MARKET, LIMIT at `price` for STOP /
 * TAKE_PROFIT) whose id becomes its `actualOrderId`. See docs/exchange.md.
 */

export interface SimAlgoOrder {
  algoId: number;
  clientAlgoId: string;
  symbol: string;
  side: OrderSide;
  orderType: AlgoOrderType;
  timeInForce: string;
  /** steps (0 with closePosition) */
  quantity: number;
  /** limit price, ticks (0 for *_MARKET) */
  price: number;
  /** ticks (0 for a trailing stop) */
  triggerPrice: number;
  workingType: WorkingType;
  closePosition: boolean;
  priceProtect: boolean;
  reduceOnly: boolean;
  /** trailing stop: arming price (ticks, 0 = armed at once), callback rate in percent */
  activatePrice: number;
  callbackRate: number;
  /** trailing stop: armed, and the best price seen since (ticks) */
  armed: boolean;
  extreme: number;
  status: AlgoStatus;
  actualOrderId: number;
  createTime: number;
  updateTime: number;
  triggerTime: number;
}

export interface AlgoParams {
  algoType?: string;
  symbol?: string;
  side?: string;
  positionSide?: string;
  type?: string;
  timeInForce?: string;
  quantity?: string;
  price?: string;
  triggerPrice?: string;
  workingType?: string;
  priceMatch?: string;
  closePosition?: string;
  priceProtect?: string;
  reduceOnly?: string;
  activatePrice?: string;
  callbackRate?: string;
  clientAlgoId?: string;
  newOrderRespType?: string;
  selfTradePreventionMode?: string;
  goodTillDate?: string;
}

const ALGO_TYPES: readonly AlgoOrderType[] = ['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT', 'TRAILING_STOP_MARKET'];
const CLIENT_ID_RE = /^[.A-Z:/a-z0-9_-]{1,36}$/;
/** Finished algo orders kept per account beyond which the oldest are forgotten. */
const KEEP_FINISHED = 5_000;

const missing = (name: string) => new SimError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
const notRequired = (name: string) => new SimError(-1106, `Parameter '${name}' sent when not required.`);

function isOpen(o: SimAlgoOrder): boolean {
  return o.status === 'NEW';
}

function isMarketType(t: AlgoOrderType): boolean {
  return t === 'STOP_MARKET' || t === 'TAKE_PROFIT_MARKET' || t === 'TRAILING_STOP_MARKET';
}

/**
 * The direction a plain trigger fires in: 'up' when the watched price rising to the trigger fires
 * it (STOP* BUY, TAKE_PROFIT* SELL), 'down' otherwise.
 */
function direction(o: SimAlgoOrder): 'up' | 'down' {
  const stop = o.orderType === 'STOP' || o.orderType === 'STOP_MARKET';
  return (stop ? o.side === 'BUY' : o.side === 'SELL') ? 'up' : 'down';
}

function parseFlag(v: string | undefined, name: string): boolean {
  if (v === undefined) return false;
  if (v !== 'true' && v !== 'false') throw missing(name);
  return v === 'true';
}

/** Where the watched prices were at the last check, per market (trade-level triggering). */
interface Baseline {
  /** last aggregated trade id looked at */
  aggId: number;
  /** last trade price and mark (ticks) at the last check */
  last: number;
  mark: number;
}

export class AlgoOrders {
  private seq = 3_000_000;
  /** Open algo orders across accounts: the per-step check returns at once when there are none. */
  private open = 0;
  /** Triggered algo orders whose regular order is still working (FINISHED once it is done). */
  private readonly working = new Set<{ a: SimAccount; o: SimAlgoOrder }>();
  private readonly baselines = new Map<string, Baseline>();

  constructor(private readonly engine: Engine, private readonly now: () => number) {}

  // ---------------------------------------------------------------------------------------
  // REST
  // ---------------------------------------------------------------------------------------

  place(a: SimAccount, p: AlgoParams): Record<string, unknown> {
    if (p.algoType === undefined) throw missing('algoType');
    if (p.algoType !== 'CONDITIONAL') throw new SimError(-1116, 'Invalid algoType.');
    const m = this.engine.market(p.symbol);
    const symbol = m.spec.symbol;
    if (p.side !== 'BUY' && p.side !== 'SELL') throw missing('side');
    if (!p.type) throw missing('type');
    if (!(ALGO_TYPES as readonly string[]).includes(p.type)) throw new SimError(-1116, 'Invalid orderType.');
    const type = p.type as AlgoOrderType;
    if (p.positionSide && p.positionSide !== 'BOTH') throw new SimError(-4061, "Order's position side does not match user's setting.");
    if (p.priceMatch && p.priceMatch !== 'NONE') throw new SimError(-1104, "Not all sent parameters were read; read '0' parameter(s) but was sent '1'.");
    const workingType = (p.workingType ?? 'CONTRACT_PRICE') as WorkingType;
    if (workingType !== 'CONTRACT_PRICE' && workingType !== 'MARK_PRICE') throw missing('workingType');
    const closePosition = parseFlag(p.closePosition, 'closePosition');
    const reduceOnly = parseFlag(p.reduceOnly, 'reduceOnly');
    const priceProtect = parseFlag(p.priceProtect, 'priceProtect');
    const market = isMarketType(type);
    if (closePosition) {
      if (type !== 'STOP_MARKET' && type !== 'TAKE_PROFIT_MARKET') throw notRequired('closePosition');
      if (p.quantity !== undefined) throw notRequired('quantity');
      if (p.reduceOnly !== undefined) throw notRequired('reduceOnly');
    } else if (p.quantity === undefined) throw missing('quantity');
    if (market && p.price !== undefined) throw notRequired('price');
    if (!market && p.price === undefined) throw missing('price');
    const tif = p.timeInForce ?? 'GTC';
    if (!['GTC', 'IOC', 'FOK', 'GTX'].includes(tif)) throw new SimError(-1115, 'Invalid timeInForce.');
    const clientAlgoId = p.clientAlgoId ?? `sim_${randomBytes(11).toString('base64url')}`;
    if (!CLIENT_ID_RE.test(clientAlgoId)) throw new SimError(-4015, 'Client order id is not valid.');
    for (const o of a.algos.values()) if (o.clientAlgoId === clientAlgoId && isOpen(o)) throw new SimError(-4116, 'ClientOrderId is duplicated.');

    const info = symbolInfo(m.spec);
    // trigger / activation prices: on the price grid
    const gridPrice = (text: string, name: string): number => {
      let d: Dec;
      try {
        d = Dec.parse(text, name);
      } catch {
        throw missing(name);
      }
      if (d.lte(Dec.ZERO)) throw new SimError(-4001, 'Price less than 0.');
      if (d.lt(info.minPrice)) throw new SimError(-4013, 'Price less than min price.');
      if (!Dec.parse(info.maxPrice).isZero() && d.gt(info.maxPrice)) throw new SimError(-4002, 'Price greater than max price.');
      if (!d.sub(info.minPrice).isMultipleOf(info.tickSize)) throw new SimError(-4014, 'Price not increased by tick size.');
      return Math.round(d.toNumber() / m.tickValue);
    };
    let triggerTicks = 0;
    let activateTicks = 0;
    let callbackRate = 0;
    if (type === 'TRAILING_STOP_MARKET') {
      if (p.triggerPrice !== undefined) throw notRequired('triggerPrice');
      if (p.callbackRate === undefined) throw missing('callbackRate');
      callbackRate = Number(p.callbackRate);
      if (!Number.isFinite(callbackRate) || callbackRate < 0.1 || callbackRate > 10) throw new SimError(-2007, 'Invalid callBack rate.');
      if (p.activatePrice !== undefined) activateTicks = gridPrice(p.activatePrice, 'activatePrice');
    } else {
      if (p.triggerPrice === undefined) throw missing('triggerPrice');
      triggerTicks = gridPrice(p.triggerPrice, 'triggerPrice');
    }
    // quantity and limit price: LOT_SIZE / PRICE_FILTER / MIN_NOTIONAL (closePosition has no quantity;
    // a *_MARKET order's notional is taken at its trigger price, PERCENT_PRICE is checked when it fires)
    if (!closePosition) {
      const refPrice = market ? (triggerTicks > 0 ? m.price(triggerTicks) : m.markPriceText()) : undefined;
      const failure = checkOrderFilters(info, { type: market ? 'MARKET' : 'LIMIT', side: p.side, quantity: p.quantity!, price: p.price, reduceOnly, markPrice: refPrice });
      if (failure) throw new SimError(failure.code, failure.msg);
    } else if (!market) throw notRequired('closePosition');
    const limit = info.maxNumAlgoOrders ?? 10;
    let openHere = 0;
    for (const o of a.algos.values()) if (isOpen(o) && o.symbol === symbol) openHere++;
    if (openHere >= limit) throw new SimError(-4045, 'Reach max stop order limit.');

    // triggers already due for the other algo orders are handled first (trades of this request's predecessors)
    this.checkMarket(m);
    const now = this.now();
    const o: SimAlgoOrder = {
      algoId: ++this.seq, clientAlgoId, symbol, side: p.side, orderType: type, timeInForce: tif,
      quantity: closePosition ? 0 : Math.round(Number(p.quantity) / m.stepValue), price: market ? 0 : Math.round(Number(p.price) / m.tickValue),
      triggerPrice: triggerTicks, workingType, closePosition, priceProtect, reduceOnly, activatePrice: activateTicks, callbackRate,
      armed: false, extreme: 0, status: 'NEW', actualOrderId: 0, createTime: now, updateTime: now, triggerTime: 0,
    };
    const watched = this.watched(m, o);
    if (type === 'TRAILING_STOP_MARKET') {
      // armed at once without an activation price, or when that price is already reached
      if (activateTicks === 0 || (o.side === 'SELL' ? watched >= activateTicks : watched <= activateTicks)) {
        o.armed = true;
        o.extreme = watched;
      }
    } else if (direction(o) === 'up' ? watched >= triggerTicks : watched <= triggerTicks) {
      throw new SimError(-2021, 'Order would immediately trigger.');
    }
    a.algos.set(o.algoId, o);
    this.open++;
    // trades from now on count for it (its market's baseline starts here when nothing watched it)
    this.baseline(m);
    this.prune(a);
    this.emit(a, o);
    return this.json(o, false);
  }

  find(a: SimAccount, p: { algoId?: string; clientAlgoId?: string }, missingCode: -2011 | -2013): SimAlgoOrder {
    if (p.algoId === undefined && p.clientAlgoId === undefined) throw new SimError(-1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!");
    let found: SimAlgoOrder | undefined;
    if (p.algoId !== undefined) found = a.algos.get(Number(p.algoId));
    else for (const o of a.algos.values()) if (o.clientAlgoId === p.clientAlgoId) found = o;
    if (!found) throw new SimError(missingCode, missingCode === -2011 ? 'Unknown order sent.' : 'Order does not exist.');
    return found;
  }

  cancel(a: SimAccount, p: { algoId?: string; clientAlgoId?: string }): Record<string, unknown> {
    const o = this.find(a, p, -2011);
    if (!isOpen(o)) throw new SimError(-2011, 'Unknown order sent.');
    this.finish(a, o, 'CANCELED');
    return { algoId: o.algoId, clientAlgoId: o.clientAlgoId, code: '200', msg: 'success' };
  }

  cancelAll(a: SimAccount, symbol: string | undefined): void {
    const m = this.engine.market(symbol);
    for (const o of a.algos.values()) if (isOpen(o) && o.symbol === m.spec.symbol) this.finish(a, o, 'CANCELED');
  }

  query(a: SimAccount, p: { algoId?: string; clientAlgoId?: string }): Record<string, unknown> {
    this.settleWorking();
    return this.json(this.find(a, p, -2013), true);
  }

  openOrders(a: SimAccount, symbol: string | undefined): Record<string, unknown>[] {
    if (symbol !== undefined) this.engine.market(symbol);
    return [...a.algos.values()].filter((o) => isOpen(o) && (!symbol || o.symbol === symbol)).map((o) => this.json(o, true));
  }

  all(a: SimAccount, p: { symbol?: string; algoId?: string; startTime?: string; endTime?: string; limit?: string }): Record<string, unknown>[] {
    const m = this.engine.market(p.symbol);
    this.settleWorking();
    const params = p as Record<string, string>;
    const limit = limitParam(params, 500, 1000);
    const [from, start, end] = [intParam(params, 'algoId'), intParam(params, 'startTime'), intParam(params, 'endTime')];
    const rows = [...a.algos.values()].filter((o) => o.symbol === m.spec.symbol
      && (from === undefined || o.algoId >= from) && (start === undefined || o.createTime >= start) && (end === undefined || o.createTime <= end));
    return (from !== undefined || start !== undefined ? rows.slice(0, limit) : rows.slice(-limit)).map((o) => this.json(o, true));
  }

  /** Open algo orders of a symbol (MAX_NUM_ORDERS counts them with the regular ones). */
  openCount(a: SimAccount, symbol: string): number {
    let n = 0;
    for (const o of a.algos.values()) if (isOpen(o) && o.symbol === symbol) n++;
    return n;
  }

  json(o: SimAlgoOrder, withActual: boolean): Record<string, unknown> {
    const m = this.engine.markets.get(o.symbol)!;
    const out: Record<string, unknown> = {
      algoId: o.algoId,
      clientAlgoId: o.clientAlgoId,
      algoType: 'CONDITIONAL',
      orderType: o.orderType,
      symbol: o.symbol,
      side: o.side,
      positionSide: 'BOTH',
      timeInForce: o.timeInForce,
      quantity: m.qty(o.quantity),
      algoStatus: o.status,
    };
    if (withActual) {
      const actual = o.actualOrderId ? this.actualOrder(o) : undefined;
      out.actualOrderId = o.actualOrderId ? String(o.actualOrderId) : '';
      out.actualPrice = actual && actual.executedQty > 0 ? actual.cumQuote.div(Dec.parse(m.qty(actual.executedQty))).toString(Math.max(5, m.spec.priceDecimals)) : Dec.ZERO.toString(Math.max(5, m.spec.priceDecimals));
    }
    Object.assign(out, {
      triggerPrice: o.triggerPrice ? m.price(o.triggerPrice) : '0',
      price: o.price ? m.price(o.price) : '0',
      icebergQuantity: null,
      selfTradePreventionMode: 'EXPIRE_MAKER',
      workingType: o.workingType,
      priceMatch: 'NONE',
      closePosition: o.closePosition,
      priceProtect: o.priceProtect,
      reduceOnly: o.reduceOnly,
      activatePrice: o.orderType === 'TRAILING_STOP_MARKET' && o.activatePrice ? m.price(o.activatePrice) : '',
      callbackRate: o.orderType === 'TRAILING_STOP_MARKET' ? o.callbackRate.toFixed(1) : '',
      createTime: o.createTime,
      updateTime: o.updateTime,
      triggerTime: o.triggerTime,
      goodTillDate: 0,
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // triggering
  // ---------------------------------------------------------------------------------------

  /** The price an algo order watches now (ticks; the mark is fractional). */
  private watched(m: SymbolMarket, o: SimAlgoOrder): number {
    return o.workingType === 'MARK_PRICE' ? m.markTicks() : m.lastPrice;
  }

  private baseline(m: SymbolMarket): Baseline {
    let b = this.baselines.get(m.spec.symbol);
    if (!b) {
      b = { aggId: m.trades.at(-1)?.a ?? 0, last: m.lastPrice, mark: m.markTicks() };
      this.baselines.set(m.spec.symbol, b);
    }
    return b;
  }

  /** Moves a market's baseline to now (after a kline-level segment: its trades were looked at). */
  private rebase(m: SymbolMarket): void {
    const b = this.baseline(m);
    b.aggId = m.trades.at(-1)?.a ?? b.aggId;
    b.last = m.lastPrice;
    b.mark = m.markTicks();
  }

  /**
   * Trade level (after every generator step and before a new algo order): each open algo order of
   * every market looks at the path its watched price took since the last check: every trade price
   * for CONTRACT_PRICE, the previous and the current mark for MARK_PRICE.
   */
  check(): void {
    if (this.working.size > 0) this.settleWorking();
    if (this.open === 0) {
      this.baselines.clear();
      return;
    }
    for (const m of this.engine.markets.values()) this.checkMarket(m);
  }

  checkMarket(m: SymbolMarket): void {
    if (this.open === 0) {
      // nothing watches this market: the next algo order starts from the present
      this.baselines.delete(m.spec.symbol);
      return;
    }
    const b = this.baseline(m);
    const trades: number[] = [];
    for (let i = m.trades.length - 1; i >= 0 && m.trades[i].a > b.aggId; i--) trades.push(m.trades[i].p);
    trades.push(b.last);
    trades.reverse();
    const marks = [b.mark, m.markTicks()];
    this.rebase(m);
    this.fireAlong(m, (o) => (o.workingType === 'MARK_PRICE' ? marks : trades), false);
  }

  /**
   * Kline level (after each fast-forward segment): the segment's bar is the path, open → high →
   * low → close when it closed down, open → low → high → close otherwise, for both working types
   * (the kline level makes no mark path: the bar stands in for it). A fired *_MARKET order trades
   * at its trigger price (or at the bar's open when the bar opened beyond it, a gap) against a
   * book rebuilt there.
   */
  checkSegment(m: SymbolMarket): void {
    if (this.working.size > 0) this.settleWorking();
    if (this.open === 0) return;
    const { o, h, l, c } = m.segment;
    const path = c < o ? [o, h, l, c] : [o, l, h, c];
    this.fireAlong(m, () => path, true);
    this.rebase(m);
  }

  /** Finds the algo orders of a market whose trigger the path crosses, and fires them in order of id. */
  private fireAlong(m: SymbolMarket, pathOf: (o: SimAlgoOrder) => number[], klineLevel: boolean): void {
    const due: { a: SimAccount; o: SimAlgoOrder; at: number }[] = [];
    for (const a of this.engine.accounts.values()) {
      for (const o of a.algos.values()) {
        if (!isOpen(o) || o.symbol !== m.spec.symbol) continue;
        if (o.priceProtect && !this.protectOk(m)) continue;
        const at = this.crossing(o, pathOf(o));
        if (at !== undefined) due.push({ a, o, at });
      }
    }
    for (const { a, o, at } of due) if (isOpen(o)) this.fire(a, o, m, klineLevel ? at : undefined);
  }

  /** priceProtect: no trigger while |last − mark| / mark exceeds the symbol's triggerProtect. */
  private protectOk(m: SymbolMarket): boolean {
    const mark = m.markTicks();
    return mark <= 0 || Math.abs(m.lastPrice - mark) / mark <= Number(TRIGGER_PROTECT);
  }

  /**
   * Where along the path the order fires (ticks), or undefined. A plain trigger fires on the first
   * leg that reaches it, at the trigger price (at the leg's start when that is beyond it: a gap).
   * A trailing stop arms at its activation price, follows the best price, and fires when the price
   * comes back by callbackRate percent from it.
   */
  private crossing(o: SimAlgoOrder, path: number[]): number | undefined {
    if (o.orderType === 'TRAILING_STOP_MARKET') {
      const sell = o.side === 'SELL';
      const rate = o.callbackRate / 100;
      for (const p of path) {
        if (!o.armed) {
          if (sell ? p >= o.activatePrice : p <= o.activatePrice) {
            o.armed = true;
            o.extreme = p;
          } else continue;
        }
        if (sell ? p > o.extreme : p < o.extreme) o.extreme = p;
        const level = sell ? o.extreme * (1 - rate) : o.extreme * (1 + rate);
        if (sell ? p <= level : p >= level) return Math.round(sell ? Math.min(p, level) : Math.max(p, level));
      }
      return undefined;
    }
    const up = direction(o) === 'up';
    const t = o.triggerPrice;
    for (let i = 0; i < path.length; i++) {
      const p = path[i];
      if (up ? p >= t : p <= t) {
        const from = i > 0 ? path[i - 1] : p;
        // the leg from `from` to `p` passed the trigger: there, unless it started beyond it
        return Math.round(up ? Math.max(from, t) : Math.min(from, t));
      }
    }
    return undefined;
  }

  /**
   * Fires an algo order: TRIGGERING, then the regular order (MARKET, reduce-only for the whole
   * position with closePosition, or LIMIT at `price`), TRIGGERED with its id, FINISHED once that
   * order is done; REJECTED when the exchange refuses it. `rebuildAt` (kline level): the book is
   * rebuilt around that price first and the segment's close restored afterwards.
   */
  private fire(a: SimAccount, o: SimAlgoOrder, m: SymbolMarket, rebuildAt?: number): void {
    const now = this.now();
    o.status = 'TRIGGERING';
    o.triggerTime = now;
    o.updateTime = now;
    this.open--;
    this.emit(a, o);
    const params: Record<string, string> = { symbol: o.symbol, side: o.side, newClientOrderId: o.clientAlgoId, newOrderRespType: 'RESULT' };
    if (o.closePosition) {
      const pos = a.positions.get(o.symbol);
      const closes = pos && !pos.amt.isZero() && pos.amt.sign() === (o.side === 'BUY' ? -1 : 1);
      if (!closes) {
        this.reject(a, o, 'ReduceOnly Order is rejected.');
        return;
      }
      params.type = 'MARKET';
      params.quantity = pos.amt.abs().toString(m.spec.qtyDecimals);
      params.reduceOnly = 'true';
    } else {
      params.type = isMarketType(o.orderType) ? 'MARKET' : 'LIMIT';
      params.quantity = m.qty(o.quantity);
      if (o.reduceOnly) params.reduceOnly = 'true';
      if (params.type === 'LIMIT') {
        params.price = m.price(o.price);
        params.timeInForce = o.timeInForce;
      }
    }
    const origin: TriggerOrigin = {
      origType: o.orderType, stopPrice: o.triggerPrice ? m.price(o.triggerPrice) : '0', workingType: o.workingType,
      closePosition: o.closePosition, priceProtect: o.priceProtect,
    };
    const close = m.lastPrice;
    const kline = m.current;
    const before = { o: kline.o, h: kline.h, l: kline.l, c: kline.c };
    if (rebuildAt !== undefined) m.recenterBook(rebuildAt);
    let placed: { orderId: number } | undefined;
    let reason = '';
    try {
      placed = this.engine.newOrder(a, params, origin) as { orderId: number };
    } catch (error) {
      reason = error instanceof SimError ? error.msg : String(error);
    }
    if (rebuildAt !== undefined && m.current === kline) {
      // the fill is a trade of the segment's bar (its range may widen by the book's walk); the bar
      // keeps its open and close, and the path goes on from that close
      m.lastPrice = close;
      kline.o = before.o;
      kline.c = before.c;
      kline.h = Math.max(kline.h, before.h);
      kline.l = Math.min(kline.l, before.l);
    }
    if (!placed) {
      this.reject(a, o, reason);
      return;
    }
    o.actualOrderId = placed.orderId;
    o.status = 'TRIGGERED';
    o.updateTime = this.now();
    this.emit(a, o);
    this.working.add({ a, o });
    this.settleWorking();
  }

  private reject(a: SimAccount, o: SimAlgoOrder, reason: string): void {
    o.status = 'REJECTED';
    o.updateTime = this.now();
    this.emit(a, o, reason);
    const now = this.now();
    this.engine.onUserEvent?.(a, { e: 'CONDITIONAL_ORDER_TRIGGER_REJECT', E: now, T: now, or: { s: o.symbol, i: o.algoId, r: reason } });
  }

  private actualOrder(o: SimAlgoOrder) {
    for (const a of this.engine.accounts.values()) {
      const order = a.algos.get(o.algoId) === o ? a.orders.get(o.actualOrderId) : undefined;
      if (order) return order;
    }
    return undefined;
  }

  /** TRIGGERED → FINISHED for algo orders whose regular order is filled, canceled or expired. */
  private settleWorking(): void {
    for (const w of this.working) {
      const order = w.a.orders.get(w.o.actualOrderId);
      if (order && (order.status === 'NEW' || order.status === 'PARTIALLY_FILLED')) continue;
      this.working.delete(w);
      w.o.status = 'FINISHED';
      w.o.updateTime = this.now();
      this.emit(w.a, w.o);
    }
  }

  private finish(a: SimAccount, o: SimAlgoOrder, status: 'CANCELED' | 'EXPIRED'): void {
    if (isOpen(o)) this.open--;
    o.status = status;
    o.updateTime = this.now();
    this.emit(a, o);
  }

  /** Keeps memory bounded: beyond KEEP_FINISHED finished algo orders the oldest are forgotten. */
  private prune(a: SimAccount): void {
    if (a.algos.size <= KEEP_FINISHED + 200) return;
    for (const [id, o] of a.algos) {
      if (a.algos.size <= KEEP_FINISHED) break;
      if (o.status !== 'NEW' && o.status !== 'TRIGGERING' && o.status !== 'TRIGGERED') a.algos.delete(id);
    }
  }

  private emit(a: SimAccount, o: SimAlgoOrder, rejectReason?: string): void {
    if (!this.engine.onUserEvent) return;
    const m = this.engine.markets.get(o.symbol)!;
    const now = this.now();
    const actual = o.actualOrderId ? a.orders.get(o.actualOrderId) : undefined;
    const executed = actual ? Dec.parse(m.qty(actual.executedQty)) : Dec.ZERO;
    const event: AlgoUpdateEvent = {
      e: 'ALGO_UPDATE', T: now, E: now,
      o: {
        caid: o.clientAlgoId, aid: o.algoId, at: 'CONDITIONAL', o: o.orderType, s: o.symbol, S: o.side, ps: 'BOTH', f: o.timeInForce,
        q: m.qty(o.quantity), X: o.status, ai: o.actualOrderId ? String(o.actualOrderId) : '',
        ap: actual && !executed.isZero() ? actual.cumQuote.div(executed).toString(Math.max(5, m.spec.priceDecimals)) : '0',
        aq: executed.toString(), act: o.orderType === 'TRAILING_STOP_MARKET' && o.activatePrice ? m.price(o.activatePrice) : '0',
        tp: o.triggerPrice ? m.price(o.triggerPrice) : '0', p: o.price ? m.price(o.price) : '0', V: 'EXPIRE_MAKER', wt: o.workingType, pm: 'NONE',
        cp: o.closePosition, pP: o.priceProtect, R: o.reduceOnly, tt: o.triggerTime, gtd: 0,
        ...(rejectReason !== undefined ? { rm: rejectReason } : {}),
      },
    };
    this.engine.onUserEvent(a, event);
  }
}
