import type { Fill, FuturesAccount, OrderSide, Rejection } from './account.js';
import { rejection } from './account.js';
import { Dec } from './decimal.js';

/**
 * The fill model: how orders placed on a FuturesAccount fill over klines. Stated here once (and in
 * docs/futures-accounting.md); `FILL_MODEL` is the same text for a run's summary.
 *
 * - Orders are placed between klines (after kline t closed, by the strategy).
 * - MARKET: fills at the open of the symbol's next kline, plus `slippageBps` against the taker
 *   (buy: open × (1 + bps/10⁴) rounded up to the tick; sell: × (1 − bps/10⁴) rounded down), taker fee.
 * - LIMIT: a limit placed between klines that is marketable at the next open (buy P > open, sell
 *   P < open) fills at the open as a taker (taker fee, no slippage: the open is inside its limit);
 *   post-only: refused with -5022 when it crosses the mark at placement, expired with -5022 when it
 *   would take at the open. A resting limit fills at its price P, maker fee, only when the path
 *   trades THROUGH it: buy when the price goes strictly below P, sell strictly above. Touching P
 *   (low == P) does not fill; a resting limit that a later kline opens beyond fills at P.
 * - STOP_MARKET / TAKE_PROFIT_MARKET: trigger when the path touches the trigger (SELL stop and BUY
 *   take-profit: price ≤ trigger; BUY stop and SELL take-profit: price ≥ trigger) and fill at the
 *   trigger, or at the open when the kline opens beyond it (a gap), plus slippage against the
 *   taker, taker fee. closePosition orders close the whole position; reduce-only ones are cut to
 *   the position; both are cancelled when the position closes.
 * - Path inside a kline: open → the extreme nearer the open → the other extreme → close (a tie goes
 *   to the low first). Events along each leg happen in the order the price reaches them; at one
 *   price, stops and take-profits first, then liquidation, then limits (which need the price
 *   through). Liquidation is checked along the same path at the mark = the path's price.
 *   With recorded trades (a backtest run with `intrabar: 'trades'`), a kline that has them follows
 *   its trades instead: open, the turning points of the trade prices, close
 *   (core/market/tradePath.ts); such a kline is never ambiguous.
 * - A kline where a position's stop (loss) and take-profit could both trigger (both triggers inside
 *   [low, high]) counts in `ambiguousBars`; the path above decides which fires first.
 * - Funding: at each funding time T the position pays amt × mark × rate, with the mark = the open
 *   of the kline opening at or after T (before the market orders filling at that open).
 */
export const FILL_MODEL = {
  market: 'next kline open + slippageBps against the taker, rounded to the tick against the taker; taker fee',
  limit: 'resting: fills at its price when the price trades through it (strictly beyond), a touch does not fill, maker fee; marketable at the next open: fills at the open, taker fee',
  stop: 'STOP_MARKET / TAKE_PROFIT_MARKET trigger on touch, fill at the trigger (the open on a gap) + slippage; taker fee',
  path: 'open -> extreme nearer the open (tie: low) -> other extreme -> close; at one price: stops, then liquidation, then limits',
  ambiguous: 'a kline where a stop and a take-profit of one position both lie inside [low, high]',
  liquidation: "at Binance's liquidation price along the path (the path's price when it opens past it); clearance fee instead of commission",
  funding: 'amt x mark x rate at the funding time, mark = open of the kline at or after it, before that open\'s market fills',
} as const;

export type SimOrderType = 'MARKET' | 'LIMIT' | 'STOP_MARKET' | 'TAKE_PROFIT_MARKET';

export interface OrderRequest {
  symbol: string;
  side: OrderSide;
  type: SimOrderType;
  /** Not with closePosition. */
  quantity?: string;
  /** LIMIT price. */
  price?: string;
  /** STOP_MARKET / TAKE_PROFIT_MARKET trigger. */
  stopPrice?: string;
  reduceOnly?: boolean;
  /** STOP_MARKET / TAKE_PROFIT_MARKET only: close the whole position when triggered. */
  closePosition?: boolean;
  /** Post-only LIMIT (GTX). */
  postOnly?: boolean;
  /** Free text echoed in events (e.g. the strategy's reason). */
  tag?: string;
}

export interface SimOrder {
  id: number;
  symbol: number;
  side: OrderSide;
  type: SimOrderType;
  qty: Dec;
  price: Dec;
  /** Trigger or limit price as a float, for the path. */
  level: number;
  reduceOnly: boolean;
  closePosition: boolean;
  postOnly: boolean;
  /** Placed since the symbol's last kline (a limit marketable at the open takes). */
  fresh: boolean;
  tag?: string;
}

export type VenueEvent =
  | { type: 'fill'; orderId: number; tag?: string; fill: Fill }
  | { type: 'liquidation'; fills: Fill[] }
  | { type: 'rejected'; orderId: number; tag?: string; code: number; msg: string }
  | { type: 'canceled'; orderId: number; tag?: string; reason: string }
  | { type: 'funding'; symbol: string; time: number; rate: Dec; payment: Dec };

export interface FillModelConfig {
  /** Slippage of market-type fills in basis points, against the taker (default 0). */
  slippageBps?: number;
}

/** The price path inside a kline: open → nearer extreme (tie: low) → other extreme → close. */
export function intrabarPath(open: number, high: number, low: number, close: number): [number, number, number, number] {
  return high - open < open - low ? [open, high, low, close] : [open, low, high, close];
}

const INF = Number.POSITIVE_INFINITY;
/** At one price: stops and take-profits, then liquidation, then limits. */
const RANK_STOP = 0;
const RANK_LIQ = 1;
const RANK_LIMIT = 2;
const LIQ_ID = -1;
const POST_ONLY_MSG = 'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history';
/** Events per leg are bounded by the open orders plus liquidations; this guards the loop. */
const MAX_EVENTS_PER_LEG = 10_000;

/** Orders reached when the price falls: BUY LIMIT, SELL STOP_MARKET, BUY TAKE_PROFIT_MARKET. */
function isDownTrigger(o: SimOrder): boolean {
  if (o.type === 'LIMIT') return o.side === 'BUY';
  if (o.type === 'STOP_MARKET') return o.side === 'SELL';
  return o.side === 'BUY';
}

/**
 * Runs orders against klines for one FuturesAccount. Feed each symbol's klines in time order with
 * `onKline`; submit orders between klines. A kline that reaches no order trigger, liquidation
 * threshold or funding time and has no market order waiting costs a handful of float comparisons.
 */
export class FillSimulator {
  ambiguousBars = 0;
  /** Fills so far (trades and liquidation closes). */
  fillCount = 0;
  /** Klines that left the hot path (something was reached: an order, a threshold). */
  walks = 0;
  /** Of those, klines walked along their recorded trades instead of the OHLC path. */
  tradePathWalks = 0;
  private nextId = 1;
  private readonly orders: SimOrder[][];
  private readonly pending: SimOrder[][];
  /** Highest price at which a falling price reaches an order, per symbol (−∞: none). */
  private readonly orderLow: Float64Array;
  /** Lowest price at which a rising price reaches an order (+∞: none). */
  private readonly orderHigh: Float64Array;
  private readonly nextFunding: Float64Array;
  private readonly fundingTimes: number[][];
  private readonly fundingRates: Dec[][];
  private readonly fundingIndex: Int32Array;
  private readonly started: Uint8Array;
  /** 1 when an order was placed on the symbol since its last kline. */
  private readonly fresh: Uint8Array;
  private readonly slippage: Dec;
  private readonly tick: Dec[];
  private skipLiquidation = false;

  constructor(readonly account: FuturesAccount, config: FillModelConfig = {}, private readonly listener: (e: VenueEvent) => void = () => {}) {
    const n = account.symbols.length;
    this.orders = Array.from({ length: n }, () => []);
    this.pending = Array.from({ length: n }, () => []);
    this.orderLow = new Float64Array(n).fill(-INF);
    this.orderHigh = new Float64Array(n).fill(INF);
    this.nextFunding = new Float64Array(n).fill(INF);
    this.fundingTimes = Array.from({ length: n }, () => []);
    this.fundingRates = Array.from({ length: n }, () => []);
    this.fundingIndex = new Int32Array(n);
    this.started = new Uint8Array(n);
    this.fresh = new Uint8Array(n);
    const bps = config.slippageBps ?? 0;
    if (!(bps >= 0 && bps < 10_000)) throw new Error(`slippageBps ${bps} must be between 0 and 10000`);
    this.slippage = Dec.fromNumber(bps).div(Dec.fromInt(10_000));
    this.tick = account.infos.map((info) => Dec.parse(info.tickSize));
  }

  /** Funding times (ms, ascending) and rates of a symbol; times before its first kline are skipped. */
  setFunding(symbol: string, times: readonly number[], rates: readonly (string | Dec)[]): void {
    const i = this.account.index(symbol);
    if (times.length !== rates.length) throw new Error('funding times and rates differ in length');
    this.fundingTimes[i] = [...times];
    this.fundingRates[i] = rates.map((r) => Dec.of(r));
    this.fundingIndex[i] = 0;
    this.nextFunding[i] = times.length > 0 ? times[0] : INF;
  }

  openOrders(symbol: string): readonly SimOrder[] {
    const i = this.account.index(symbol);
    return [...this.pending[i], ...this.orders[i]];
  }

  /**
   * Places an order: checked now as Binance would (account.checkOrder, -2021 for a trigger that
   * would fire at once, -5022 for a crossing post-only limit). Returns the order id or the rejection.
   */
  submit(req: OrderRequest): { orderId: number } | Rejection {
    const i = this.account.index(req.symbol);
    const acc = this.account;
    const reduceOnly = req.reduceOnly === true;
    const closePosition = req.closePosition === true;
    const mark = acc.marks[i];
    if (!(mark > 0)) throw new Error(`${req.symbol} has no mark price yet: set it (account.setMark) before placing orders`);
    const markText = Dec.fromNumber(mark).toString();
    let qty = Dec.ZERO;
    let price = Dec.ZERO;
    if (req.type === 'MARKET' || req.type === 'LIMIT') {
      if (closePosition) return rejection(-1106, "Parameter 'closePosition' sent when not required.");
      if (req.quantity === undefined) return rejection(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
      const bad = acc.checkOrder(i, { side: req.side, type: req.type, quantity: req.quantity, price: req.price, reduceOnly });
      if (bad) return bad;
      qty = Dec.parse(req.quantity);
      if (req.type === 'LIMIT') {
        price = Dec.parse(req.price!);
        const crosses = req.side === 'BUY' ? price.gte(markText) : price.lte(markText);
        if (crosses && req.postOnly) return rejection(-5022, POST_ONLY_MSG);
      }
    } else {
      if (req.stopPrice === undefined) return rejection(-1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.");
      if (closePosition && (req.quantity !== undefined || req.reduceOnly !== undefined)) return rejection(-1106, "Parameter 'reduceOnly' sent when not required.");
      const info = acc.infos[i];
      const stopQty = closePosition ? info.minQty : req.quantity;
      if (stopQty === undefined) return rejection(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
      // the trigger passes the price filter and the quantity the lot filter; min notional at the trigger unless reducing
      const bad = acc.checkOrder(i, { side: req.side, type: 'LIMIT', quantity: stopQty, price: req.stopPrice, reduceOnly: reduceOnly || closePosition, refPrice: req.stopPrice });
      if (bad && !(closePosition && bad.code === -2022)) return bad;
      price = Dec.parse(req.stopPrice);
      qty = closePosition ? Dec.ZERO : Dec.parse(stopQty);
      const fallTrigger = (req.type === 'STOP_MARKET') === (req.side === 'SELL');
      if (fallTrigger ? price.gte(markText) : price.lte(markText)) return rejection(-2021, 'Order would immediately trigger.');
    }
    const order: SimOrder = { id: this.nextId++, symbol: i, side: req.side, type: req.type, qty, price, level: price.toNumber(), reduceOnly, closePosition, postOnly: req.postOnly === true, fresh: true, tag: req.tag };
    this.fresh[i] = 1;
    if (req.type === 'MARKET') this.pending[i].push(order);
    else {
      this.orders[i].push(order);
      this.updateOrderLevels(i);
    }
    return { orderId: order.id };
  }

  cancel(orderId: number): boolean {
    for (let i = 0; i < this.orders.length; i++) {
      for (const list of [this.pending[i], this.orders[i]]) {
        const k = list.findIndex((o) => o.id === orderId);
        if (k >= 0) {
          const [o] = list.splice(k, 1);
          this.updateOrderLevels(i);
          this.listener({ type: 'canceled', orderId, tag: o.tag, reason: 'user' });
          return true;
        }
      }
    }
    return false;
  }

  private updateOrderLevels(i: number): void {
    let low = -INF;
    let high = INF;
    const lev = Dec.fromInt(this.account.leverageOf(i));
    let im = Dec.ZERO;
    for (const o of this.orders[i]) {
      if (isDownTrigger(o)) low = Math.max(low, o.level);
      else high = Math.min(high, o.level);
      if (o.type === 'LIMIT' && !o.reduceOnly) im = im.add(o.qty.mul(o.price).div(lev));
    }
    this.orderLow[i] = low;
    this.orderHigh[i] = high;
    this.account.setOpenOrderMargin(i, im);
  }

  /**
   * One closed kline of symbol `symbol index` i (the account's index): funding due at or before its
   * open, market orders at the open, then the intrabar path with every order and liquidation on it;
   * the mark ends at the close.
   */
  onKline(i: number, openTime: number, open: number, high: number, low: number, close: number, path?: ArrayLike<number>): void {
    const acc = this.account;
    if (openTime >= this.nextFunding[i]) this.settleFunding(i, openTime, open);
    this.started[i] = 1;
    if (this.pending[i].length > 0) this.fillMarkets(i, openTime, open);
    if (low > this.orderLow[i] && low > acc.liqBelow[i] && high < this.orderHigh[i] && high < acc.liqAbove[i]) {
      acc.marks[i] = close;
    } else this.walk(i, openTime, open, high, low, close, path);
    if (this.fresh[i] !== 0) {
      this.fresh[i] = 0;
      for (const o of this.orders[i]) o.fresh = false;
    }
  }

  private settleFunding(i: number, openTime: number, open: number): void {
    const times = this.fundingTimes[i];
    let k = this.fundingIndex[i];
    if (!this.started[i]) {
      // the run starts here: funding times before its first kline are not settled
      while (k < times.length && times[k] < openTime) k++;
    }
    while (k < times.length && times[k] <= openTime) {
      const rate = this.fundingRates[i][k];
      const payment = this.account.settleFunding(i, rate, open);
      if (!payment.isZero()) this.listener({ type: 'funding', symbol: this.account.symbols[i], time: times[k], rate, payment });
      k++;
    }
    this.fundingIndex[i] = k;
    this.nextFunding[i] = k < times.length ? times[k] : INF;
  }

  /** Price after slippage against the taker, on the tick grid (buy rounds up, sell down). */
  private slipped(i: number, side: OrderSide, price: Dec): Dec {
    const tick = this.tick[i];
    if (side === 'SELL') return price.sub(price.mul(this.slippage)).floorTo(tick);
    const up = price.add(price.mul(this.slippage));
    const down = up.floorTo(tick);
    return down.eq(up) ? down : down.add(tick);
  }

  private fillMarkets(i: number, time: number, open: number): void {
    this.account.marks[i] = open;
    const list = this.pending[i].splice(0);
    const price = Dec.fromNumber(open);
    for (const o of list) this.execute(i, o, this.slipped(i, o.side, price), false, time);
  }

  /** Fills an order (market-type or limit) at `price`, with the reduce-only cut and the checks at fill time. */
  private execute(i: number, o: SimOrder, price: Dec, maker: boolean, time: number): void {
    const acc = this.account;
    const amt = acc.positionAmt(i);
    const dir = o.side === 'BUY' ? 1 : -1;
    let qty = o.qty;
    if (o.closePosition || o.reduceOnly) {
      if (amt.sign() !== -dir) {
        this.listener({ type: 'rejected', orderId: o.id, tag: o.tag, code: -2022, msg: 'ReduceOnly Order is rejected.' });
        return;
      }
      qty = o.closePosition ? amt.abs() : qty.min(amt.abs());
    } else if (!maker) {
      const bad = acc.checkIncrease(i, o.side, qty, price, false);
      if (bad) {
        this.listener({ type: 'rejected', orderId: o.id, tag: o.tag, ...bad });
        return;
      }
    }
    const fill = acc.fill(i, o.side, qty, price, maker, time);
    this.fillCount++;
    this.listener({ type: 'fill', orderId: o.id, tag: o.tag, fill });
    if (acc.positionAmt(i).isZero()) this.cancelReducing(i, 'position closed');
  }

  private cancelReducing(i: number, reason: string): void {
    const keep: SimOrder[] = [];
    for (const o of this.orders[i]) {
      if (o.reduceOnly || o.closePosition) this.listener({ type: 'canceled', orderId: o.id, tag: o.tag, reason });
      else keep.push(o);
    }
    this.orders[i] = keep;
    this.updateOrderLevels(i);
  }

  private cancelAll(i: number, reason: string): void {
    for (const o of [...this.pending[i], ...this.orders[i]]) this.listener({ type: 'canceled', orderId: o.id, tag: o.tag, reason });
    this.pending[i] = [];
    this.orders[i] = [];
    this.updateOrderLevels(i);
  }

  /** Counts the kline when a position's stop and take-profit both lie inside [low, high]. */
  private countAmbiguous(i: number, high: number, low: number): void {
    const amt = this.account.amtF[i];
    if (amt === 0) return;
    const closing: OrderSide = amt > 0 ? 'SELL' : 'BUY';
    let stop = false;
    let take = false;
    for (const o of this.orders[i]) {
      if (o.side !== closing || !(o.reduceOnly || o.closePosition) || o.level < low || o.level > high) continue;
      if (o.type === 'STOP_MARKET') stop = true;
      else if (o.type === 'TAKE_PROFIT_MARKET') take = true;
    }
    if (stop && take) this.ambiguousBars++;
  }

  /**
   * The kline's path: `traded` when given (the turning points of its recorded trades, open first,
   * close last: see core/market/tradePath.ts), else the OHLC path above.
   */
  private walk(i: number, time: number, open: number, high: number, low: number, close: number, traded?: ArrayLike<number>): void {
    this.walks++;
    // the open itself: anything already beyond it fires there (a gap)
    this.leg(i, time, open, open, true);
    if (traded !== undefined && traded.length >= 2) {
      this.tradePathWalks++;
      for (let k = 1; k < traded.length; k++) this.leg(i, time, traded[k - 1], traded[k], false);
    } else {
      this.countAmbiguous(i, high, low);
      const path = intrabarPath(open, high, low, close);
      this.leg(i, time, open, path[1], false);
      this.leg(i, time, path[1], path[2], false);
      this.leg(i, time, path[2], close, false);
    }
    this.account.marks[i] = close;
    if (this.account.crossDirty) this.account.refreshThresholds();
  }

  /**
   * One monotone leg of the path, from `from` to `to` (`atOpen`: the single point at the open).
   * Repeatedly takes the event the price reaches first (falling: the highest level; rising: the
   * lowest; at one price ranked stops, liquidation, limits, then by order id). An event already
   * beyond the current price (a gap at the open, or a threshold moved by a fill) fires at the
   * current price, except a limit, which fills at its own price.
   */
  private leg(i: number, time: number, from: number, to: number, atOpen: boolean): void {
    if (!atOpen && from === to) return;
    const acc = this.account;
    const falling = to < from;
    this.skipLiquidation = false;
    let cur = from;
    for (let guard = 0; guard < MAX_EVENTS_PER_LEG; guard++) {
      let best: SimOrder | undefined;
      let bestAt = 0;
      let bestRank = -1;
      let bestId = 0;
      let bestDown = false;
      const take = (o: SimOrder | undefined, at: number, rank: number, isDown: boolean): void => {
        const id = o ? o.id : LIQ_ID;
        const first = bestRank < 0 || (falling ? at > bestAt : at < bestAt)
          || (at === bestAt && (rank < bestRank || (rank === bestRank && id < bestId)));
        if (!first) return;
        best = o;
        bestAt = at;
        bestRank = rank;
        bestId = id;
        bestDown = isDown;
      };
      for (const o of this.orders[i]) {
        const isDown = isDownTrigger(o);
        const limit = o.type === 'LIMIT';
        const rank = limit ? RANK_LIMIT : RANK_STOP;
        const beyond = isDown ? (limit ? cur < o.level : cur <= o.level) : (limit ? cur > o.level : cur >= o.level);
        if (beyond) take(o, cur, rank, isDown);
        else if (!atOpen && isDown === falling && (isDown ? (limit ? to < o.level : to <= o.level) : (limit ? to > o.level : to >= o.level))) take(o, o.level, rank, isDown);
      }
      if (!this.skipLiquidation) {
        const below = acc.liqBelow[i];
        const above = acc.liqAbove[i];
        if (cur <= below) take(undefined, cur, RANK_LIQ, true);
        else if (!atOpen && falling && to <= below) take(undefined, below, RANK_LIQ, true);
        if (cur >= above) take(undefined, cur, RANK_LIQ, false);
        else if (!atOpen && !falling && to >= above) take(undefined, above, RANK_LIQ, false);
      }
      if (bestRank < 0) return;
      const beyondNow = bestAt === cur;
      cur = bestAt;
      acc.marks[i] = cur;
      if (best === undefined) {
        this.liquidationEvent(i, time, cur, bestDown, atOpen ? cur : to);
        continue;
      }
      const o: SimOrder = best;
      this.orders[i] = this.orders[i].filter((x) => x !== o);
      this.updateOrderLevels(i);
      if (o.type === 'LIMIT' && atOpen && o.fresh) {
        // marketable when it arrives at the open: it takes there (post-only: expires)
        if (o.postOnly) this.listener({ type: 'rejected', orderId: o.id, tag: o.tag, code: -5022, msg: POST_ONLY_MSG });
        else this.execute(i, o, Dec.fromNumber(cur), false, time);
      } else if (o.type === 'LIMIT') this.execute(i, o, o.price, true, time);
      else this.execute(i, o, this.slipped(i, o.side, beyondNow && cur !== o.level ? Dec.fromNumber(cur) : o.price), false, time);
      this.skipLiquidation = false;
    }
    throw new Error(`more than ${MAX_EVENTS_PER_LEG} events in one kline leg of ${acc.symbols[i]}`);
  }

  /** The path reached a liquidation threshold at `cur`: check the exact LP, liquidate there if the leg reaches it. */
  private liquidationEvent(i: number, time: number, cur: number, down: boolean, to: number): void {
    const acc = this.account;
    acc.marks[i] = cur;
    const lp = acc.tightenToExact(i);
    if (lp === undefined) return;
    const curDec = Dec.fromNumber(cur);
    const end = Dec.fromNumber(to);
    const beyondNow = down ? curDec.lte(lp) : curDec.gte(lp);
    const reached = beyondNow || (down ? end.lte(lp) : end.gte(lp));
    if (!reached) {
      this.skipLiquidation = true;
      return;
    }
    const price = beyondNow ? curDec : lp;
    acc.marks[i] = price.toNumber();
    const wasCross = acc.marginTypeOf(i) === 'CROSSED';
    const crossSymbols: number[] = [];
    if (wasCross) for (let k = 0; k < acc.symbols.length; k++) if (acc.amtF[k] !== 0 && acc.marginTypeOf(k) === 'CROSSED') crossSymbols.push(k);
    const fills = acc.liquidate(i, price, time);
    for (const k of wasCross ? crossSymbols : [i]) this.cancelAll(k, 'liquidation');
    this.fillCount += fills.length;
    this.listener({ type: 'liquidation', fills });
  }
}
