import type { LeverageBracketTier, SymbolInfo } from '../exchange/port.js';
import { MAKER_FEE_RATE, TAKER_FEE_RATE } from './accounting.js';
import { Dec } from './decimal.js';
import { checkOrderFilters, checkPrecision, type FilterFailure } from './filters.js';

/**
 * One USD-M futures account: a USDT wallet, one-way mode, many positions on one wallet, each
 * symbol isolated or cross. Used by the backtester now (through fills.ts), by paper trading and the
 * local exchange later. Every formula is stated in docs/futures-accounting.md.
 *
 * Money is exact (Dec): fills, fees, realised PnL, funding, liquidation. Marks are floats (kline
 * prices); they become Dec (their shortest decimal text, exact for exchange prices) only when
 * something happens. For the per-kline hot path the account keeps two float thresholds per symbol,
 * `liqBelow` (a long is in danger when the price is ≤ it) and `liqAbove` (a short, ≥ it): a kline
 * whose low and high stay strictly inside them cannot liquidate anything, whatever the other
 * symbols do (see `refreshThresholds` for cross margin).
 */

export type MarginType = 'ISOLATED' | 'CROSSED';
export type OrderSide = 'BUY' | 'SELL';

/** A refusal with Binance's code and message, for the strategy to be told. */
export type Rejection = FilterFailure;

export interface SymbolSetup {
  info: SymbolInfo;
  brackets: readonly LeverageBracketTier[];
  leverage: number;
  marginType: MarginType;
  /** Liquidation clearance fee rate (exchangeInfo `liquidationFee`); default info.liquidationFee, else 0.0125. */
  liquidationFeeRate?: string;
}

export interface AccountConfig {
  /** USDT wallet balance at the start. */
  initialBalance: string;
  makerFeeRate?: string;
  takerFeeRate?: string;
}

export interface Fill {
  symbol: string;
  side: OrderSide;
  qty: Dec;
  price: Dec;
  /** Commission for a trade; the clearance fee for a liquidation. */
  fee: Dec;
  maker: boolean;
  realizedPnl: Dec;
  kind: 'TRADE' | 'LIQUIDATION';
  time: number;
  /** Signed position size after the fill. */
  positionAfter: Dec;
  /** Loss the insurance fund took over (liquidation past bankruptcy), else 0. */
  insuranceCover: Dec;
}

export interface PositionView {
  symbol: string;
  marginType: MarginType;
  leverage: number;
  amt: Dec;
  entry: Dec;
  mark: Dec;
  notional: Dec;
  unrealizedPnl: Dec;
  initialMargin: Dec;
  maintMargin: Dec;
  isolatedWallet: Dec;
  /** Binance's liquidation price (others at their marks); undefined when it cannot be liquidated. */
  liquidationPrice: Dec | undefined;
}

export interface AccountView {
  wallet: Dec;
  crossWallet: Dec;
  unrealizedPnl: Dec;
  crossUnrealizedPnl: Dec;
  /** Margin balance = wallet + unrealised PnL (the equity). */
  equity: Dec;
  positionInitialMargin: Dec;
  openOrderInitialMargin: Dec;
  maintMargin: Dec;
  available: Dec;
  /** Cross margin ratio = cross MM / cross margin balance (0 without cross positions). */
  marginRatio: Dec;
  positions: PositionView[];
}

/** A position as `FuturesAccount.restore` takes it (decimal strings; amount signed). */
export interface RestoredPosition {
  symbol: string;
  amount: string;
  entryPrice: string;
  leverage: number;
  marginType: MarginType;
  /** Isolated margin (absent: |amount| × entry / leverage, what opening it moved there). */
  isolatedWallet?: string;
  markPrice?: string;
}

/** A bracket tier with exact values, for the event path. */
interface Tier {
  floor: bigint;
  cap: bigint;
  capDec: Dec;
  mmr: Dec;
  cum: Dec;
  maxLeverage: number;
}

interface Position {
  amt: Dec;
  entry: Dec;
  isolatedWallet: Dec;
  leverage: number;
  marginType: MarginType;
  openOrderIM: Dec;
}

const INF = Number.POSITIVE_INFINITY;
/** Float thresholds are widened by this relative amount so a float check never misses what the exact check would catch. */
const WIDEN = 1e-12;
/** Share of the cross headroom kept back for funding payments before thresholds must be recomputed. */
const CROSS_RESERVE = Dec.parse('0.1');

export function rejection(code: number, msg: string): Rejection {
  return { code, msg };
}

export class FuturesAccount {
  readonly symbols: string[];
  readonly infos: SymbolInfo[];
  /** Long danger threshold per symbol: liquidation may happen when the price is ≤ this. */
  readonly liqBelow: Float64Array;
  /** Short danger threshold per symbol: liquidation may happen when the price is ≥ this. */
  readonly liqAbove: Float64Array;
  /** Last mark per symbol (float). */
  readonly marks: Float64Array;
  /** Signed size and entry as floats, for equity on every kline. */
  readonly amtF: Float64Array;
  readonly entryF: Float64Array;
  wallet: Dec;
  walletF: number;
  readonly makerFeeRate: Dec;
  readonly takerFeeRate: Dec;
  /** Set by refreshThresholds; true when a cross threshold was replaced by the exact price during a kline. */
  crossDirty = false;
  liquidations = 0;
  private readonly positions: Position[];
  private readonly tiers: Tier[][];
  private readonly clearance: Dec[];
  private readonly bySymbol = new Map<string, number>();
  /** Cross headroom kept for funding payments (Dec), see refreshThresholds. */
  private crossReserve = Dec.ZERO;

  constructor(config: AccountConfig, setups: readonly SymbolSetup[]) {
    const n = setups.length;
    this.symbols = setups.map((s) => s.info.symbol);
    this.infos = setups.map((s) => s.info);
    this.liqBelow = new Float64Array(n).fill(-INF);
    this.liqAbove = new Float64Array(n).fill(INF);
    this.marks = new Float64Array(n);
    this.amtF = new Float64Array(n);
    this.entryF = new Float64Array(n);
    this.wallet = Dec.parse(config.initialBalance, 'initialBalance');
    this.walletF = this.wallet.toNumber();
    this.makerFeeRate = Dec.parse(config.makerFeeRate ?? MAKER_FEE_RATE, 'makerFeeRate');
    this.takerFeeRate = Dec.parse(config.takerFeeRate ?? TAKER_FEE_RATE, 'takerFeeRate');
    this.tiers = setups.map((s) => s.brackets.map((b) => ({
      floor: Dec.fromNumber(b.notionalFloor).raw,
      cap: Dec.fromNumber(b.notionalCap).raw,
      capDec: Dec.fromNumber(b.notionalCap),
      mmr: Dec.fromNumber(b.maintMarginRatio),
      cum: Dec.fromNumber(b.cum),
      maxLeverage: b.initialLeverage,
    })));
    this.clearance = setups.map((s) => Dec.parse(s.liquidationFeeRate ?? s.info.liquidationFee ?? '0.0125', 'liquidationFeeRate'));
    this.positions = setups.map(() => ({ amt: Dec.ZERO, entry: Dec.ZERO, isolatedWallet: Dec.ZERO, leverage: 1, marginType: 'CROSSED' as MarginType, openOrderIM: Dec.ZERO }));
    setups.forEach((s, i) => {
      if (this.bySymbol.has(s.info.symbol)) throw new Error(`symbol ${s.info.symbol} is configured twice`);
      this.bySymbol.set(s.info.symbol, i);
      const bad = this.setLeverage(i, s.leverage);
      if (bad) throw new Error(`${s.info.symbol}: ${bad.msg}`);
      this.positions[i].marginType = s.marginType;
    });
  }

  /**
   * Sets the wallet and the positions exactly as a snapshot recorded them (a restarted virtual
   * account continues where it stopped): decimal strings, every symbol not listed is flat. The
   * marks are the recorded ones (0 or absent: the entry price). Open-order margin is cleared (resting
   * orders are not restored). Throws naming the symbol when one is not in this account or a figure
   * is not a decimal.
   */
  restore(state: { wallet: string; positions: readonly RestoredPosition[] }): void {
    const seen = new Set<number>();
    const parsed = state.positions.map((r) => {
      const i = this.index(r.symbol);
      if (seen.has(i)) throw new Error(`symbol ${r.symbol} is restored twice`);
      seen.add(i);
      const amt = Dec.parse(r.amount, `${r.symbol} amount`);
      const entry = Dec.parse(r.entryPrice, `${r.symbol} entry price`);
      const leverage = r.leverage;
      if (!Number.isInteger(leverage) || leverage < 1 || leverage > this.tiers[i][0].maxLeverage) throw new Error(`${r.symbol}: leverage ${leverage} is not valid`);
      const iso = r.isolatedWallet !== undefined ? Dec.parse(r.isolatedWallet, `${r.symbol} isolated wallet`) : amt.abs().mul(entry).div(Dec.fromInt(leverage));
      const mark = r.markPrice !== undefined ? Dec.parse(r.markPrice, `${r.symbol} mark price`) : Dec.ZERO;
      return { i, amt, entry, leverage, marginType: r.marginType, iso, mark };
    });
    this.setWallet(Dec.parse(state.wallet, 'wallet'));
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      p.amt = Dec.ZERO;
      p.entry = Dec.ZERO;
      p.isolatedWallet = Dec.ZERO;
      p.openOrderIM = Dec.ZERO;
      this.syncFloats(i);
    }
    for (const r of parsed) {
      const p = this.positions[r.i];
      p.amt = r.amt;
      p.entry = r.amt.isZero() ? Dec.ZERO : r.entry;
      p.leverage = r.leverage;
      p.marginType = r.marginType;
      p.isolatedWallet = r.marginType === 'ISOLATED' && !r.amt.isZero() ? r.iso : Dec.ZERO;
      this.syncFloats(r.i);
      this.marks[r.i] = r.mark.gt(Dec.ZERO) ? r.mark.toNumber() : r.entry.toNumber();
    }
    this.crossReserve = Dec.ZERO;
    this.refreshThresholds();
  }

  index(symbol: string): number {
    const i = this.bySymbol.get(symbol);
    if (i === undefined) throw new Error(`symbol ${symbol} is not in this account`);
    return i;
  }

  // ---------------------------------------------------------------------------------------
  // settings
  // ---------------------------------------------------------------------------------------

  /** Leverage 1 … the first bracket's max; a position must fit the notional cap of the leverage (-2027). */
  setLeverage(i: number, leverage: number): Rejection | undefined {
    const tiers = this.tiers[i];
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > tiers[0].maxLeverage) return rejection(-4028, `Leverage ${leverage} is not valid`);
    const p = this.positions[i];
    if (!p.amt.isZero() && this.capFor(i, leverage).lt(p.amt.abs().mul(this.markDec(i)))) {
      return rejection(-2027, 'Exceeded the maximum allowable position at current leverage.');
    }
    p.leverage = leverage;
    this.refreshThresholds();
    return undefined;
  }

  setMarginType(i: number, type: MarginType): Rejection | undefined {
    const p = this.positions[i];
    if (p.marginType === type) return rejection(-4046, 'No need to change margin type.');
    if (!p.amt.isZero()) return rejection(-4048, 'Margin type cannot be changed if there exists position.');
    if (!p.openOrderIM.isZero()) return rejection(-4047, 'Margin type cannot be changed if there exists open orders.');
    p.marginType = type;
    return undefined;
  }

  leverageOf(i: number): number {
    return this.positions[i].leverage;
  }
  marginTypeOf(i: number): MarginType {
    return this.positions[i].marginType;
  }
  positionAmt(i: number): Dec {
    return this.positions[i].amt;
  }
  entryPrice(i: number): Dec {
    return this.positions[i].entry;
  }
  isolatedWallet(i: number): Dec {
    return this.positions[i].isolatedWallet;
  }

  /** The initial margin held by open orders of a symbol (set by the order simulator). */
  setOpenOrderMargin(i: number, im: Dec): void {
    this.positions[i].openOrderIM = im;
  }

  // ---------------------------------------------------------------------------------------
  // brackets
  // ---------------------------------------------------------------------------------------

  private tierFor(i: number, notional: Dec): Tier {
    const n = notional.raw < 0n ? -notional.raw : notional.raw;
    const tiers = this.tiers[i];
    for (const t of tiers) if (n >= t.floor && n < t.cap) return t;
    return tiers[tiers.length - 1];
  }

  /** The largest notional allowed at a leverage: the cap of the last tier whose max leverage ≥ it. */
  private capFor(i: number, leverage: number): Dec {
    let cap = Dec.ZERO;
    for (const t of this.tiers[i]) if (t.maxLeverage >= leverage) cap = t.capDec;
    return cap;
  }

  /** MM = |notional| × mmr − cum of the tier holding the notional. */
  maintMargin(i: number, notional: Dec): Dec {
    const t = this.tierFor(i, notional);
    return notional.abs().mul(t.mmr).sub(t.cum);
  }

  private markDec(i: number): Dec {
    return Dec.fromNumber(this.marks[i]);
  }

  // ---------------------------------------------------------------------------------------
  // marks and figures
  // ---------------------------------------------------------------------------------------

  /** Sets the mark of a symbol (float, no exact work). */
  setMark(i: number, price: number): void {
    this.marks[i] = price;
  }

  /** Equity (wallet + unrealised PnL at the marks) as a float, for per-kline balance history. */
  equityFloat(): number {
    let e = this.walletF;
    const a = this.amtF;
    for (let i = 0; i < a.length; i++) if (a[i] !== 0) e += a[i] * (this.marks[i] - this.entryF[i]);
    return e;
  }

  /** The exact figures at the current marks (Binance's account and positionRisk fields). */
  view(): AccountView {
    let upnl = Dec.ZERO;
    let crossUpnl = Dec.ZERO;
    let iso = Dec.ZERO;
    let posIM = Dec.ZERO;
    let ooIM = Dec.ZERO;
    let mm = Dec.ZERO;
    let crossMM = Dec.ZERO;
    const positions: PositionView[] = [];
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      ooIM = ooIM.add(p.openOrderIM);
      if (p.amt.isZero()) continue;
      const mark = this.markDec(i);
      const notional = p.amt.mul(mark);
      const u = p.amt.mul(mark.sub(p.entry));
      const m = this.maintMargin(i, notional);
      const im = notional.abs().div(Dec.fromInt(p.leverage));
      upnl = upnl.add(u);
      mm = mm.add(m);
      if (p.marginType === 'ISOLATED') iso = iso.add(p.isolatedWallet);
      else {
        crossUpnl = crossUpnl.add(u);
        posIM = posIM.add(im);
        crossMM = crossMM.add(m);
      }
      positions.push({
        symbol: this.symbols[i], marginType: p.marginType, leverage: p.leverage, amt: p.amt, entry: p.entry, mark, notional,
        unrealizedPnl: u, initialMargin: im, maintMargin: m, isolatedWallet: p.isolatedWallet, liquidationPrice: this.liquidationPrice(i),
      });
    }
    const crossWallet = this.wallet.sub(iso);
    const crossBalance = crossWallet.add(crossUpnl);
    return {
      wallet: this.wallet, crossWallet, unrealizedPnl: upnl, crossUnrealizedPnl: crossUpnl, equity: this.wallet.add(upnl),
      positionInitialMargin: posIM, openOrderInitialMargin: ooIM, maintMargin: mm,
      available: crossBalance.sub(posIM).sub(ooIM),
      marginRatio: crossMM.isZero() || crossBalance.lte(Dec.ZERO) ? Dec.ZERO : crossMM.div(crossBalance), positions,
    };
  }

  /** Available balance = cross wallet + cross uPnL − cross position IM − open-order IM. */
  available(): Dec {
    let iso = Dec.ZERO;
    let crossUpnl = Dec.ZERO;
    let im = Dec.ZERO;
    let oo = Dec.ZERO;
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      oo = oo.add(p.openOrderIM);
      if (p.amt.isZero()) continue;
      if (p.marginType === 'ISOLATED') iso = iso.add(p.isolatedWallet);
      else {
        const mark = this.markDec(i);
        crossUpnl = crossUpnl.add(p.amt.mul(mark.sub(p.entry)));
        im = im.add(p.amt.abs().mul(mark).div(Dec.fromInt(p.leverage)));
      }
    }
    return this.wallet.sub(iso).add(crossUpnl).sub(im).sub(oo);
  }

  // ---------------------------------------------------------------------------------------
  // order checks
  // ---------------------------------------------------------------------------------------

  /**
   * Would Binance accept this order now? Checks, in order: precision (-1111), the symbol filters
   * (filters.ts: -4003/-4004/-4005/-4023, -4013/-4002/-4014, -4164 unless reduce-only), reduce-only
   * (-2022: needs an opposite position at least as large), the notional cap of the leverage (-2027)
   * and the margin for the increasing part (-2019: IM + taker fee > available).
   * `price` is the limit price (LIMIT) or the reference price (MARKET: the mark; stop orders: their trigger).
   */
  checkOrder(i: number, order: { side: OrderSide; type: 'MARKET' | 'LIMIT'; quantity: string; price?: string; reduceOnly?: boolean; refPrice?: string }): Rejection | undefined {
    const info = this.infos[i];
    const precision = checkPrecision(info, order.quantity, order.type === 'LIMIT' ? order.price : undefined);
    if (precision) return precision;
    const mark = order.refPrice ?? this.markDec(i).toString();
    const failure = checkOrderFilters(info, { type: order.type, side: order.side, quantity: order.quantity, price: order.price, reduceOnly: order.reduceOnly, markPrice: mark });
    if (failure) return failure;
    const qty = Dec.parse(order.quantity);
    const price = Dec.parse(order.type === 'LIMIT' ? order.price! : mark);
    return this.checkIncrease(i, order.side, qty, price, order.reduceOnly === true);
  }

  /** Reduce-only, leverage cap and margin checks for a quantity at a price (also used when a stop triggers). */
  checkIncrease(i: number, side: OrderSide, qty: Dec, price: Dec, reduceOnly: boolean): Rejection | undefined {
    const p = this.positions[i];
    const dir = side === 'BUY' ? 1 : -1;
    if (reduceOnly) {
      if (p.amt.sign() !== -dir || qty.gt(p.amt.abs())) return rejection(-2022, 'ReduceOnly Order is rejected.');
      return undefined;
    }
    const closing = p.amt.sign() === -dir ? p.amt.abs().min(qty) : Dec.ZERO;
    const increase = qty.sub(closing);
    if (increase.lte(Dec.ZERO)) return undefined;
    const base = p.amt.sign() === -dir ? Dec.ZERO : p.amt.abs();
    if (base.add(increase).mul(price).gt(this.capFor(i, p.leverage))) return rejection(-2027, 'Exceeded the maximum allowable position at current leverage.');
    const need = increase.mul(price).div(Dec.fromInt(p.leverage)).add(increase.mul(price).mul(this.takerFeeRate));
    if (this.available().lt(need)) return rejection(-2019, 'Margin is insufficient.');
    return undefined;
  }

  // ---------------------------------------------------------------------------------------
  // fills
  // ---------------------------------------------------------------------------------------

  /**
   * Applies a fill (no checks: call checkOrder/checkIncrease first). Opening or adding averages the
   * entry; reducing realises `closeQty × (price − entry) × sign(amt)`; a fill larger than the position
   * flips it, the rest opening at `price`. The fee `price × qty × rate` (maker or taker) is charged on
   * every fill. Isolated: opening moves `qty × price / leverage` into the isolated wallet, reducing
   * releases the fraction `closeQty / |amt|` of it.
   */
  fill(i: number, side: OrderSide, qty: Dec, price: Dec, maker: boolean, time: number): Fill {
    const p = this.positions[i];
    const signed = side === 'BUY' ? qty : qty.neg();
    const fee = price.mul(qty).mul(maker ? this.makerFeeRate : this.takerFeeRate);
    const isolated = p.marginType === 'ISOLATED';
    const lev = Dec.fromInt(p.leverage);
    let realized = Dec.ZERO;
    if (p.amt.isZero() || p.amt.sign() === signed.sign()) {
      const total = p.amt.abs().add(qty);
      p.entry = p.amt.abs().mul(p.entry).add(qty.mul(price)).div(total);
      p.amt = p.amt.add(signed);
      if (isolated) p.isolatedWallet = p.isolatedWallet.add(qty.mul(price).div(lev));
    } else {
      const size = p.amt.abs();
      const closeQty = size.min(qty);
      realized = closeQty.mul(price.sub(p.entry));
      if (p.amt.sign() < 0) realized = realized.neg();
      if (isolated) p.isolatedWallet = p.isolatedWallet.sub(p.isolatedWallet.mul(closeQty).div(size));
      p.amt = p.amt.add(signed);
      if (p.amt.isZero()) {
        p.entry = Dec.ZERO;
        p.isolatedWallet = Dec.ZERO;
      } else if (p.amt.sign() === signed.sign()) {
        p.entry = price;
        if (isolated) p.isolatedWallet = p.amt.abs().mul(price).div(lev);
      }
    }
    this.setWallet(this.wallet.add(realized).sub(fee));
    this.syncFloats(i);
    if (!(this.marks[i] > 0)) this.marks[i] = price.toNumber();
    this.refreshThresholds();
    return { symbol: this.symbols[i], side, qty, price, fee, maker, realizedPnl: realized, kind: 'TRADE', time, positionAfter: p.amt, insuranceCover: Dec.ZERO };
  }

  /**
   * Sets position i as an exchange reports it (an actual account after reconciliation): amount,
   * entry and, for an isolated position, its isolated wallet (default |amt| × entry / leverage).
   */
  restatePosition(i: number, amt: Dec, entry: Dec, isolatedWallet?: Dec): void {
    const p = this.positions[i];
    p.amt = amt;
    p.entry = amt.isZero() ? Dec.ZERO : entry;
    p.isolatedWallet = p.marginType !== 'ISOLATED' || amt.isZero() ? Dec.ZERO : (isolatedWallet ?? amt.abs().mul(entry).div(Dec.fromInt(p.leverage)));
    this.syncFloats(i);
    if (!(this.marks[i] > 0) && !amt.isZero()) this.marks[i] = entry.toNumber();
    this.refreshThresholds();
  }

  /** Sets the wallet balance as an exchange reports it (an actual account after reconciliation). */
  restateWallet(wallet: Dec): void {
    this.setWallet(wallet);
    this.refreshThresholds();
  }

  private setWallet(w: Dec): void {
    this.wallet = w;
    this.walletF = w.toNumber();
  }

  private syncFloats(i: number): void {
    const p = this.positions[i];
    this.amtF[i] = p.amt.toNumber();
    this.entryF[i] = p.entry.toNumber();
  }

  // ---------------------------------------------------------------------------------------
  // funding
  // ---------------------------------------------------------------------------------------

  /**
   * Funding at a funding time: payment = amt × mark × rate (signed amt); the position pays it
   * (rate > 0: longs pay, shorts receive). Wallet −= payment; an isolated wallet too. Returns the
   * payment (0 without a position).
   */
  settleFunding(i: number, rate: Dec, mark: number): Dec {
    const p = this.positions[i];
    if (p.amt.isZero()) return Dec.ZERO;
    this.marks[i] = mark;
    const pay = p.amt.mul(Dec.fromNumber(mark)).mul(rate);
    this.setWallet(this.wallet.sub(pay));
    if (p.marginType === 'ISOLATED') {
      p.isolatedWallet = p.isolatedWallet.sub(pay);
      this.refreshIsolated(i);
    } else {
      // cross thresholds were computed leaving a reserve; a payment spends it, a receipt adds to it
      this.crossReserve = this.crossReserve.sub(pay);
      if (this.crossReserve.sign() < 0) this.refreshThresholds();
    }
    return pay;
  }

  // ---------------------------------------------------------------------------------------
  // liquidation
  // ---------------------------------------------------------------------------------------

  /**
   * Binance's liquidation price for one position (one-way mode):
   *   LP = (WB − TMM₁ + UPNL₁ + cum − side·pos·EP) / (pos·mmr − side·pos)
   * side = +1 long, −1 short; pos = |amt|; EP = entry. Isolated: WB = the isolated wallet and
   * TMM₁ = UPNL₁ = 0. Cross: WB = cross wallet, TMM₁ and UPNL₁ = MM and uPnL of the other cross
   * positions at their marks. mmr and cum are those of the tier of pos × LP (iterated).
   * Undefined when the position cannot be liquidated (LP ≤ 0 for a long).
   */
  liquidationPrice(i: number): Dec | undefined {
    const p = this.positions[i];
    if (p.amt.isZero()) return undefined;
    if (p.marginType === 'ISOLATED') return this.lpFor(i, p.isolatedWallet);
    const c = this.crossFigures();
    const own = this.crossOwn(i);
    return this.lpFor(i, c.crossWallet.sub(c.mm.sub(own.mm)).add(c.upnl.sub(own.upnl)));
  }

  /** LP of position i with the effective wallet `wb` (the formula above); undefined when it cannot be liquidated. */
  private lpFor(i: number, wb: Dec): Dec | undefined {
    const p = this.positions[i];
    const pos = p.amt.abs();
    const long = p.amt.sign() > 0;
    const tiers = this.tiers[i];
    let tier = this.tierFor(i, pos.mul(p.entry));
    let lp = Dec.ZERO;
    for (let k = 0; k <= tiers.length; k++) {
      const num = long ? wb.add(tier.cum).sub(pos.mul(p.entry)) : wb.add(tier.cum).add(pos.mul(p.entry));
      const den = long ? pos.mul(tier.mmr).sub(pos) : pos.mul(tier.mmr).add(pos);
      lp = num.div(den);
      if (lp.lte(Dec.ZERO)) return long ? undefined : Dec.ZERO;
      const next = this.tierFor(i, pos.mul(lp));
      if (next === tier) break;
      tier = next;
    }
    return lp;
  }

  private crossOwn(i: number): { upnl: Dec; mm: Dec } {
    const p = this.positions[i];
    const mark = this.markDec(i);
    return { upnl: p.amt.mul(mark.sub(p.entry)), mm: this.maintMargin(i, p.amt.mul(mark)) };
  }

  private crossFigures(): { crossWallet: Dec; upnl: Dec; mm: Dec; n: number } {
    let iso = Dec.ZERO;
    let upnl = Dec.ZERO;
    let mm = Dec.ZERO;
    let n = 0;
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      if (p.amt.isZero()) continue;
      if (p.marginType === 'ISOLATED') {
        iso = iso.add(p.isolatedWallet);
        continue;
      }
      const own = this.crossOwn(i);
      upnl = upnl.add(own.upnl);
      mm = mm.add(own.mm);
      n++;
    }
    return { crossWallet: this.wallet.sub(iso), upnl, mm, n };
  }

  private setThreshold(i: number, lp: Dec | undefined): void {
    const long = this.positions[i].amt.sign() > 0;
    if (long) {
      this.liqAbove[i] = INF;
      this.liqBelow[i] = lp === undefined ? -INF : lp.toNumber() * (1 + WIDEN);
    } else {
      this.liqBelow[i] = -INF;
      this.liqAbove[i] = lp === undefined ? INF : lp.toNumber() * (1 - WIDEN);
    }
  }

  private refreshIsolated(i: number): void {
    const p = this.positions[i];
    if (p.amt.isZero()) {
      this.liqBelow[i] = -INF;
      this.liqAbove[i] = INF;
    } else this.setThreshold(i, this.lpFor(i, p.isolatedWallet));
  }

  /**
   * Recomputes every float threshold. Isolated: the position's exact LP. Cross: the headroom
   * H = cross wallet + cross uPnL − cross MM at the current marks is split: 10 % is kept as a
   * reserve for funding payments, and each of the n cross positions gets an equal share
   * h = 0.9·H / n. A position's threshold is the price at which its own uPnL − MM change has used
   * its share, others fixed: Binance's formula with WB = cross wallet − TMM₁ + UPNL₁ − (H − h).
   * While every cross position stays inside its threshold the total loss is below H, so no kline
   * inside them can liquidate, whatever order the symbols move in. With one cross position and no
   * reserve this is Binance's LP; when a threshold is reached the order simulator asks for the
   * exact LP (`liquidationPrice`) and re-splits after that kline.
   */
  refreshThresholds(): void {
    this.crossDirty = false;
    let anyCross = false;
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      if (p.amt.isZero()) {
        this.liqBelow[i] = -INF;
        this.liqAbove[i] = INF;
      } else if (p.marginType === 'ISOLATED') this.refreshIsolated(i);
      else anyCross = true;
    }
    if (!anyCross) {
      this.crossReserve = Dec.ZERO;
      return;
    }
    const c = this.crossFigures();
    const headroom = c.crossWallet.add(c.upnl).sub(c.mm);
    if (headroom.lte(Dec.ZERO)) {
      // already at or past liquidation: every cross position is in danger at any price
      this.crossReserve = Dec.ZERO;
      for (let i = 0; i < this.positions.length; i++) {
        const p = this.positions[i];
        if (p.amt.isZero() || p.marginType === 'ISOLATED') continue;
        if (p.amt.sign() > 0) this.liqBelow[i] = INF;
        else this.liqAbove[i] = -INF;
      }
      return;
    }
    const reserve = headroom.mul(CROSS_RESERVE);
    this.crossReserve = reserve;
    const share = headroom.sub(reserve).div(Dec.fromInt(c.n));
    const unused = headroom.sub(share);
    for (let i = 0; i < this.positions.length; i++) {
      const p = this.positions[i];
      if (p.amt.isZero() || p.marginType === 'ISOLATED') continue;
      const own = this.crossOwn(i);
      const wb = c.crossWallet.sub(c.mm.sub(own.mm)).add(c.upnl.sub(own.upnl)).sub(unused);
      this.setThreshold(i, this.lpFor(i, wb));
    }
  }

  /** Replaces a cross position's threshold with its exact LP for the rest of a kline (others fixed); the caller re-splits afterwards. */
  tightenToExact(i: number): Dec | undefined {
    const lp = this.liquidationPrice(i);
    this.setThreshold(i, lp);
    if (this.positions[i].marginType === 'CROSSED') this.crossDirty = true;
    return lp;
  }

  /**
   * Liquidates at `price` (the LP, or the price the path was at when it was already past it).
   * Isolated: the position is closed at `price`; cross: every cross position is closed, symbol `i`
   * at `price`, the others at their marks. No commission; instead the clearance fee
   * |qty| × price × liquidationFee is charged, at most what margin remains (isolated: isolated
   * wallet + realised PnL; cross: cross wallet after the realised PnL). A loss beyond the margin
   * (isolated) or beyond the cross wallet (cross) is taken by the insurance fund (`insuranceCover`).
   */
  liquidate(i: number, price: Dec, time: number): Fill[] {
    const p = this.positions[i];
    if (p.amt.isZero()) return [];
    this.liquidations++;
    const fills: Fill[] = [];
    if (p.marginType === 'ISOLATED') {
      const { realized, qty, side, notional } = this.closeRaw(i, price);
      const margin = p.isolatedWallet;
      let remaining = margin.add(realized);
      let cover = Dec.ZERO;
      if (remaining.sign() < 0) {
        cover = remaining.neg();
        remaining = Dec.ZERO;
      }
      const fee = notional.mul(this.clearance[i]).min(remaining);
      p.isolatedWallet = Dec.ZERO;
      this.setWallet(this.wallet.add(realized).add(cover).sub(fee));
      this.syncFloats(i);
      fills.push({ symbol: this.symbols[i], side, qty, price, fee, maker: false, realizedPnl: realized, kind: 'LIQUIDATION', time, positionAfter: Dec.ZERO, insuranceCover: cover });
    } else {
      const closes: { k: number; realized: Dec; qty: Dec; side: OrderSide; notional: Dec; price: Dec }[] = [];
      const order = [i, ...this.positions.map((_, k) => k).filter((k) => k !== i)];
      for (const k of order) {
        const q = this.positions[k];
        if (q.amt.isZero() || q.marginType === 'ISOLATED') continue;
        const px = k === i ? price : this.markDec(k);
        closes.push({ k, price: px, ...this.closeRaw(k, px) });
      }
      let iso = Dec.ZERO;
      for (const q of this.positions) if (!q.amt.isZero() && q.marginType === 'ISOLATED') iso = iso.add(q.isolatedWallet);
      let totalRealized = Dec.ZERO;
      for (const c of closes) totalRealized = totalRealized.add(c.realized);
      let crossLeft = this.wallet.sub(iso).add(totalRealized);
      let cover = Dec.ZERO;
      if (crossLeft.sign() < 0) {
        cover = crossLeft.neg();
        crossLeft = Dec.ZERO;
      }
      let feeLeft = crossLeft;
      this.setWallet(this.wallet.add(totalRealized).add(cover));
      for (const c of closes) {
        const fee = c.notional.mul(this.clearance[c.k]).min(feeLeft);
        feeLeft = feeLeft.sub(fee);
        this.setWallet(this.wallet.sub(fee));
        this.syncFloats(c.k);
        fills.push({
          symbol: this.symbols[c.k], side: c.side, qty: c.qty, price: c.price, fee, maker: false, realizedPnl: c.realized, kind: 'LIQUIDATION', time,
          positionAfter: Dec.ZERO, insuranceCover: c.k === i ? cover : Dec.ZERO,
        });
      }
    }
    this.refreshThresholds();
    return fills;
  }

  /** Closes a position at a price without fee or wallet change; returns the realised PnL. */
  private closeRaw(i: number, price: Dec): { realized: Dec; qty: Dec; side: OrderSide; notional: Dec } {
    const p = this.positions[i];
    const qty = p.amt.abs();
    let realized = qty.mul(price.sub(p.entry));
    if (p.amt.sign() < 0) realized = realized.neg();
    const side: OrderSide = p.amt.sign() > 0 ? 'SELL' : 'BUY';
    p.amt = Dec.ZERO;
    p.entry = Dec.ZERO;
    return { realized, qty, side, notional: qty.mul(price) };
  }
}
