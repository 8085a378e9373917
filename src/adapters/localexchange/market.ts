import { fundingRate as fundingRateFormula, nextFundingTime } from '../../core/futures/accounting.js';
import type { KlineRow, PriceLevel } from '../../core/exchange/port.js';
import { alignOpenTime, nextOpenTime, previousOpenTime, type Interval } from '../../core/market/klines.js';
import { Dec } from '../../core/futures/decimal.js';
import { Rng } from '../../core/random.js';
import { fmtUnits, type SimSymbol } from './symbols.js';
import type { ReplaySeries } from './replay.js';

/**
 * The market of one contract on the local exchange: a seeded generator with volatility clustering
 * (log-OU stochastic volatility), jumps (Poisson), volume bursts, a spread and a live order book
 * that trades consume, so every price move appears as trades against the book.
 *
 * Units: prices are integer ticks, quantities integer steps. Strings are produced only on output.
 */

const SECONDS_PER_YEAR = 365 * 86_400;
/** The live market's first trade id; the generated history's ids count down from it. */
const HISTORY_TRADE_IDS = 1_000_000_000;
/** Live 1m klines kept beyond the generated history (the oldest rows go first): memory stays bounded over months. */
const LIVE_HISTORY_MINUTES = 30 * 1440;
/** Levels kept per side of the synthetic book. */
const BOOK_LEVELS = 400;
/**
 * Calibration of the kline-level fast-forward to the trade-level generator (measured on the
 * default symbols): aggregated trades per expected taker arrival (sweeps add trades) and the
 * mean trade size in units of the symbol's tradeSize (lognormal(1) sizes, capped by the book).
 */
const FF_TRADE_RATE = 1.4;
const FF_TRADE_SIZE = 0.85;
/** Levels swept per tick the fair value crosses, and a swept level's mean size per unit of levelQty's distance factor. */
const FF_SWEEP_RATE = 1;
const FF_SWEEP_SIZE = 1.15;

export interface AggTradeRec {
  a: number;
  p: number;
  q: number;
  f: number;
  l: number;
  T: number;
  m: boolean;
}

export interface DepthChange {
  /** first / last update id of the change set */
  U: number;
  u: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
}

const KLINE_FIELDS = ['t', 'o', 'h', 'l', 'c', 'v', 'q', 'n', 'bv', 'bq', 'fId', 'lId'] as const;

/** Columnar 1m kline history (prices in ticks, volumes in steps, quote volumes in quote units = ticks × steps, exact integers). */
class KlineHistory {
  length = 0;
  t: Float64Array;
  o: Float64Array;
  h: Float64Array;
  l: Float64Array;
  c: Float64Array;
  v: Float64Array;
  q: Float64Array;
  n: Float64Array;
  bv: Float64Array;
  bq: Float64Array;
  fId: Float64Array;
  lId: Float64Array;

  /** `capacity`: the rows expected (the generated history plus a day), so the start allocates once. */
  constructor(capacity = 1024) {
    const n = Math.max(64, capacity);
    this.t = new Float64Array(n); this.o = new Float64Array(n); this.h = new Float64Array(n); this.l = new Float64Array(n);
    this.c = new Float64Array(n); this.v = new Float64Array(n); this.q = new Float64Array(n); this.n = new Float64Array(n);
    this.bv = new Float64Array(n); this.bq = new Float64Array(n); this.fId = new Float64Array(n); this.lId = new Float64Array(n);
  }

  /** Rows kept at most: past it the oldest eighth (at least a day) is dropped. */
  maxRows = Infinity;

  push(k: OpenKline): void {
    if (this.length >= this.maxRows) {
      const drop = Math.min(this.length, Math.max(1440, Math.ceil(this.maxRows / 8)));
      for (const key of KLINE_FIELDS) this[key].copyWithin(0, drop, this.length);
      this.length -= drop;
    }
    if (this.length === this.t.length) {
      // grows by half (up to maxRows): a long-running market adds 1440 rows a day
      const size = Math.min(Math.ceil(this.t.length * 1.5), Math.max(this.maxRows, this.t.length + 1));
      for (const key of KLINE_FIELDS) {
        const next = new Float64Array(size);
        next.set(this[key]);
        this[key] = next;
      }
    }
    const i = this.length++;
    this.t[i] = k.t; this.o[i] = k.o; this.h[i] = k.h; this.l[i] = k.l; this.c[i] = k.c;
    this.v[i] = k.v; this.q[i] = k.q; this.n[i] = k.n; this.bv[i] = k.bv; this.bq[i] = k.bq;
    this.fId[i] = k.f; this.lId[i] = k.L;
  }

  /** Writes row `i` (< capacity; rows up to `length` must be written by the caller). */
  set(i: number, k: OpenKline): void {
    this.t[i] = k.t; this.o[i] = k.o; this.h[i] = k.h; this.l[i] = k.l; this.c[i] = k.c;
    this.v[i] = k.v; this.q[i] = k.q; this.n[i] = k.n; this.bv[i] = k.bv; this.bq[i] = k.bq;
    this.fId[i] = k.f; this.lId[i] = k.L;
  }

  /** Appends every row of `other`. */
  append(other: KlineHistory): void {
    for (let i = 0; i < other.length; i++) {
      this.push({ t: other.t[i], o: other.o[i], h: other.h[i], l: other.l[i], c: other.c[i], v: other.v[i], q: other.q[i], n: other.n[i], bv: other.bv[i], bq: other.bq[i], f: other.fId[i], L: other.lId[i] });
    }
  }

  /** Index of the first row with open time ≥ time. */
  lowerBound(time: number): number {
    let lo = 0, hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.t[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface OpenKline {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  q: number;
  n: number;
  bv: number;
  bq: number;
  /** first / last trade id (-1 when none) */
  f: number;
  L: number;
}

/** An aggregated kline of any interval (prices in ticks, quote volumes in quote units). */
export interface KlineAgg extends OpenKline {
  T: number;
  closed: boolean;
  /** Exact quote sums once they pass 2^53 units (then `q` / `bq` are not used). */
  qBig?: bigint;
  bqBig?: bigint;
}

export interface MarketListener {
  aggTrade(m: SymbolMarket, t: AggTradeRec): void;
  /** A 1m kline closed (market time passed its end). */
  klineClosed(m: SymbolMarket, k: OpenKline): void;
}

export class SymbolMarket {
  readonly spec: SimSymbol;
  readonly tickValue: number;
  readonly stepValue: number;
  /** tickSize × stepSize in units of 10^-(priceDecimals + qtyDecimals) (1 when both are powers of ten). */
  private readonly unitScale: bigint;
  private readonly rng: Rng;
  /** Seed of the per-minute streams of the kline-level fast-forward (see `fastForward`). */
  private readonly minuteSeed: number;
  /** Length (market s) of the last trade-level step: weighs a fast-forwarded minute's premium sample. */
  private lastStepSeconds = 0.1;
  /** Synthetic liquidity and user liquidity per price. */
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  readonly userBids = new Map<number, number>();
  readonly userAsks = new Map<number, number>();
  bestBid = 0;
  bestAsk = 0;
  /** Bounds on the synthetic levels' prices (lowest bid ≥ lowestBid, highest ask ≤ highestAsk). */
  private lowestBid = Infinity;
  private highestAsk = -Infinity;
  updateId = 1;
  /** Changes not yet published: price → total qty (0 = deleted). */
  private pendingBids = new Map<number, number>();
  private pendingAsks = new Map<number, number>();
  private pendingU = 0;
  private aggId = 0;
  private tradeId = 0;
  /** The log of the fair price, in ticks. */
  private fair: number;
  private volMult = 1;
  private burst = 1;
  private index: number;
  private basisEma = 0;
  private premiumSum = 0;
  private premiumCount = 0;
  fundingRate = 0.0001;
  /** Settled funding: time, rate and mark price (decimal strings), oldest first. */
  readonly fundingHistory: { fundingTime: number; rate: string; mark: string }[] = [];
  nextFunding = 0;
  lastPrice = 0;
  /** Closed 1m klines: the history before the start, then the live ones. */
  private hist: KlineHistory;
  /** Rows of `hist` kept at most (the generated history plus LIVE_HISTORY_MINUTES). */
  private readonly historyCap: number;
  /** The generated history not made yet: it is generated on first use (see `history`). */
  private pendingHistory: { end: number; minutes: number; seed: number } | undefined;
  current: OpenKline;
  /** Recent aggregated trades, newest last (bounded: the last maxTrades to 1.25 × maxTrades). */
  readonly trades: AggTradeRec[] = [];
  private readonly maxTrades = 5_000;
  /** Market time, ms. */
  now: number;
  /** 24h rolling figures are derived from the history on demand. */
  listener: MarketListener | undefined;

  private readonly replay: ReplaySeries | undefined;
  /** Market time at the start (now, or the first replayed minute). */
  readonly startTime: number;
  /** The price (ticks) the live market starts at. */
  private readonly startTicks: number;
  private replayIndex = 0;

  /**
   * With `replay`, the first `historyMinutes` rows (at most half the series) are history and the
   * market starts at the next row's open time (`startTime` is then ignored; read `now`).
   */
  constructor(spec: SimSymbol, seed: number, startTime: number, historyMinutes: number, replay?: ReplaySeries) {
    this.spec = spec;
    this.tickValue = Number(spec.tickSize);
    this.stepValue = Number(spec.stepSize);
    this.unitScale = BigInt(Math.round(this.tickValue * 10 ** spec.priceDecimals)) * BigInt(Math.round(this.stepValue * 10 ** spec.qtyDecimals));
    this.rng = new Rng(seed ^ hash(spec.symbol));
    this.minuteSeed = (seed ^ hash(spec.symbol) ^ 0x2c1b3c6d) >>> 0;
    this.replay = replay;
    this.hist = new KlineHistory((replay ? Math.min(historyMinutes, Math.floor(replay.length / 2)) : 0) + 1440);
    this.historyCap = Math.max(0, historyMinutes) + LIVE_HISTORY_MINUTES;
    this.hist.maxRows = this.historyCap;
    if (replay) {
      const cut = Math.min(historyMinutes, Math.floor(replay.length / 2));
      for (let i = 0; i < cut; i++) {
        const v = Math.round(replay.v[i] / this.stepValue);
        const avgTicks = (replay.o[i] + replay.c[i]) / 2 / this.tickValue;
        const n = replay.n[i];
        const id0 = this.tradeId + 1;
        this.tradeId += n;
        this.hist.push({
          t: replay.t[i], o: this.toTicks(replay.o[i]), h: this.toTicks(replay.h[i]), l: this.toTicks(replay.l[i]), c: this.toTicks(replay.c[i]),
          v, q: Math.round(v * avgTicks), n, bv: Math.round(v / 2), bq: Math.round(Math.round(v / 2) * avgTicks), f: n > 0 ? id0 : -1, L: n > 0 ? this.tradeId : -1,
        });
      }
      this.replayIndex = cut;
      startTime = replay.t[cut];
      this.lastPrice = this.toTicks(replay.o[cut]);
    }
    const startTicks = this.replay ? this.lastPrice : Math.round(spec.startPrice / this.tickValue);
    this.startTicks = startTicks;
    this.fair = startTicks;
    this.now = startTime;
    this.startTime = startTime;
    this.lastPrice = startTicks;
    this.index = startTicks;
    const minute = Math.floor(startTime / 60_000) * 60_000;
    if (!replay && historyMinutes > 0) {
      // generated on first use, from a seed of its own, backwards from the start price: the live
      // market does not depend on it, and an idle exchange never holds it
      this.pendingHistory = { end: minute, minutes: historyMinutes, seed: (seed ^ hash(spec.symbol) ^ 0x68e31da4) >>> 0 };
      this.tradeId = HISTORY_TRADE_IDS;
    }
    this.current = this.emptyKline(minute, this.lastPrice);
    this.fair = this.lastPrice;
    this.index = this.lastPrice;
    this.initBook();
    this.nextFunding = nextFundingTime(startTime, 8);
  }

  // ---------------------------------------------------------------------------------------
  // generation
  // ---------------------------------------------------------------------------------------

  private sigmaPerSecond(): number {
    return this.spec.annualVol / Math.sqrt(SECONDS_PER_YEAR);
  }

  /** False until something needs the generated history (an idle exchange never makes it). */
  get historyGenerated(): boolean {
    return this.pendingHistory === undefined;
  }

  /** The 1m klines: the history before the start (generated now if it was not yet), then the live ones. */
  get history(): KlineHistory {
    if (this.pendingHistory) this.generateHistory(this.pendingHistory);
    return this.hist;
  }

  /**
   * Minute bars before the start with the same volatility model, generated backwards from the
   * start price (the last bar closes at it) with the history's own seed; trade ids count down
   * from the live market's first (HISTORY_TRADE_IDS).
   */
  private generateHistory({ end, minutes, seed }: { end: number; minutes: number; seed: number }): void {
    this.pendingHistory = undefined;
    const rng = new Rng(seed);
    const live = this.hist;
    const out = new KlineHistory(Math.min(minutes + live.length + 1440, this.historyCap));
    out.maxRows = this.historyCap;
    let price = this.startTicks;
    const sig = this.sigmaPerSecond() * Math.sqrt(60);
    let vol = 1;
    let id = HISTORY_TRADE_IDS;
    for (let i = minutes - 1; i >= 0; i--) {
      const t = end - (minutes - i) * 60_000;
      vol = Math.exp(0.97 * Math.log(vol) + 0.12 * rng.normal());
      let r = sig * vol * rng.normal();
      if (rng.next() < 1 / 600) r += sig * 8 * rng.normal();
      const c = price;
      const o = Math.max(1, Math.round(c * Math.exp(-r)));
      const spread = Math.abs(sig * vol * o);
      const h = Math.max(o, c) + Math.round(Math.abs(rng.normal()) * spread * 0.6);
      const l = Math.max(1, Math.min(o, c) - Math.round(Math.abs(rng.normal()) * spread * 0.6));
      const burst = 1 + 4 * Math.min(3, Math.abs(r) / sig);
      const n = Math.min(Math.max(0, id - 1), Math.max(0, rng.poisson(this.spec.tradeRate * 60 * vol * burst * 0.3)));
      const v = Math.round((n * this.spec.tradeSize * rng.lognormal(0.4)) / this.stepValue);
      const avgTicks = (o + c + h + l) / 4;
      const buyShare = Math.min(0.9, Math.max(0.1, 0.5 + (r / sig) * 0.1));
      const bv = Math.round(v * buyShare);
      out.set(i, { t, o, h, l, c, v, q: Math.round(v * avgTicks), n, bv, bq: Math.round(bv * avgTicks), f: n > 0 ? id - n + 1 : -1, L: n > 0 ? id : -1 });
      id -= n;
      price = o;
    }
    out.length = minutes;
    out.append(live);
    this.hist = out;
  }

  private emptyKline(t: number, price: number): OpenKline {
    return { t, o: price, h: price, l: price, c: price, v: 0, q: 0, n: 0, bv: 0, bq: 0, f: -1, L: -1 };
  }

  private levelQty(distance: number): number {
    const base = (this.spec.tradeSize * (1.5 + distance * 0.05)) / this.stepValue;
    return Math.max(1, Math.round(base * this.rng.lognormal(0.8)));
  }

  private initBook(): void {
    const mid = this.fair;
    this.bestBid = mid - 1;
    this.bestAsk = mid;
    for (let i = 0; i < BOOK_LEVELS; i++) {
      if (this.bestBid - i > 0) this.bids.set(this.bestBid - i, this.levelQty(i));
      this.asks.set(this.bestAsk + i, this.levelQty(i));
    }
    for (const p of this.bids.keys()) if (p < this.lowestBid) this.lowestBid = p;
    for (const p of this.asks.keys()) if (p > this.highestAsk) this.highestAsk = p;
  }

  /** Total quantity at a price (synthetic + user). */
  total(side: 'bid' | 'ask', price: number): number {
    return side === 'bid'
      ? (this.bids.get(price) ?? 0) + (this.userBids.get(price) ?? 0)
      : (this.asks.get(price) ?? 0) + (this.userAsks.get(price) ?? 0);
  }

  private touch(side: 'bid' | 'ask', price: number): void {
    if (this.pendingU === 0) this.pendingU = this.updateId + 1;
    this.updateId++;
    (side === 'bid' ? this.pendingBids : this.pendingAsks).set(price, this.total(side, price));
  }

  /** Sets synthetic quantity at a level (0 deletes it) and records the change. */
  setSynthetic(side: 'bid' | 'ask', price: number, qty: number): void {
    const map = side === 'bid' ? this.bids : this.asks;
    if (qty > 0) {
      if (side === 'bid' && price < this.lowestBid) this.lowestBid = price;
      if (side === 'ask' && price > this.highestAsk) this.highestAsk = price;
    }
    if (qty <= 0) {
      if (!map.has(price)) return;
      map.delete(price);
    } else {
      if (map.get(price) === qty) return;
      map.set(price, qty);
    }
    this.touch(side, price);
    this.refreshBest(side, price);
  }

  /** Adds (or with a negative delta removes) user quantity at a level. */
  addUser(side: 'bid' | 'ask', price: number, delta: number): void {
    const map = side === 'bid' ? this.userBids : this.userAsks;
    const next = (map.get(price) ?? 0) + delta;
    if (next <= 0) map.delete(price);
    else map.set(price, next);
    this.touch(side, price);
    this.refreshBest(side, price);
  }

  private has(side: 'bid' | 'ask', price: number): boolean {
    return side === 'bid' ? this.bids.has(price) || this.userBids.has(price) : this.asks.has(price) || this.userAsks.has(price);
  }

  private refreshBest(side: 'bid' | 'ask', price: number): void {
    if (side === 'bid') {
      if (this.has('bid', price)) {
        if (price > this.bestBid || this.bestBid === 0) this.bestBid = price;
      } else if (price === this.bestBid) this.bestBid = this.scanBest('bid');
    } else {
      if (this.has('ask', price)) {
        if (price < this.bestAsk || this.bestAsk === 0) this.bestAsk = price;
      } else if (price === this.bestAsk) this.bestAsk = this.scanBest('ask');
    }
  }

  private scanBest(side: 'bid' | 'ask'): number {
    const start = side === 'bid' ? this.bestBid : this.bestAsk;
    for (let k = 1; k <= 64; k++) {
      const p = side === 'bid' ? start - k : start + k;
      if (this.has(side, p)) return p;
    }
    let best = 0;
    const maps = side === 'bid' ? [this.bids, this.userBids] : [this.asks, this.userAsks];
    for (const m of maps) for (const p of m.keys()) if (best === 0 || (side === 'bid' ? p > best : p < best)) best = p;
    return best;
  }

  /**
   * A taker order of `qty` steps against the book, up to `limit` ticks (inclusive; 0 = no limit).
   * Consumes synthetic liquidity first, then user liquidity via `onUser` (the engine fills its
   * resting orders). Returns the fills per price.
   */
  take(
    takerSide: 'BUY' | 'SELL',
    qty: number,
    limit: number,
    time: number,
    onUser?: (side: 'bid' | 'ask', price: number, qty: number) => number,
    record = true,
  ): { price: number; qty: number }[] {
    const fills: { price: number; qty: number }[] = [];
    let remaining = qty;
    const side = takerSide === 'BUY' ? 'ask' : 'bid';
    while (remaining > 0) {
      const price = side === 'ask' ? this.bestAsk : this.bestBid;
      if (price <= 0) break;
      if (limit > 0 && (takerSide === 'BUY' ? price > limit : price < limit)) break;
      const synth = (side === 'ask' ? this.asks : this.bids).get(price) ?? 0;
      let filled = 0;
      if (synth > 0) {
        const take = Math.min(synth, remaining);
        this.setSynthetic(side, price, synth - take);
        filled += take;
        remaining -= take;
      }
      if (remaining > 0) {
        const user = (side === 'ask' ? this.userAsks : this.userBids).get(price) ?? 0;
        if (user > 0 && onUser) {
          const took = onUser(side, price, Math.min(user, remaining));
          filled += took;
          remaining -= took;
          if (took === 0) break;
        } else if (user > 0) break;
      }
      if (filled === 0) break;
      fills.push({ price, qty: filled });
      if (record) this.recordTrade(price, filled, takerSide === 'SELL', time);
    }
    return fills;
  }

  /** Records an aggregated trade: updates the kline, last price and streams. */
  recordTrade(price: number, qty: number, buyerIsMaker: boolean, time: number): void {
    const fills = 1 + Math.floor(this.rng.next() * 3);
    const f = this.tradeId + 1;
    this.tradeId += fills;
    const trade: AggTradeRec = { a: ++this.aggId, p: price, q: qty, f, l: this.tradeId, T: time, m: buyerIsMaker };
    this.trades.push(trade);
    // trimmed in batches: a splice at the front per trade made every trade O(maxTrades)
    if (this.trades.length >= this.maxTrades + (this.maxTrades >> 2)) this.trades.splice(0, this.trades.length - this.maxTrades);
    this.lastPrice = price;
    const k = this.current;
    if (k.n === 0) {
      k.o = price; k.h = price; k.l = price;
      k.f = f;
    }
    if (price > k.h) k.h = price;
    if (price < k.l) k.l = price;
    k.c = price;
    k.v += qty;
    // quote units (ticks × steps): integers, so sums over any interval are exact
    const quote = price * qty;
    k.q += quote;
    k.n += fills;
    k.L = this.tradeId;
    if (!buyerIsMaker) {
      k.bv += qty;
      k.bq += quote;
    }
    this.listener?.aggTrade(this, trade);
  }

  /** Advances market time to `time` (ms) by one generator step of `dtSeconds` market seconds. */
  step(time: number, dtSeconds: number): void {
    this.rollKlines(time);
    this.now = time;
    this.lastStepSeconds = dtSeconds;
    const rng = this.rng;
    // stochastic volatility (clustering) and volume bursts
    this.volMult = Math.exp(Math.log(this.volMult) * Math.exp(-dtSeconds / 900) + 0.35 * Math.sqrt(Math.min(dtSeconds, 900) / 900) * rng.normal());
    this.volMult = Math.min(6, Math.max(0.25, this.volMult));
    this.burst = 1 + (this.burst - 1) * Math.exp(-dtSeconds / 20);
    if (rng.next() < dtSeconds / 300) this.burst += 2 + 6 * rng.next();
    const sig = this.sigmaPerSecond() * this.volMult;
    let ret = sig * Math.sqrt(dtSeconds) * rng.normal();
    if (rng.next() < dtSeconds / 3600) {
      ret += sig * Math.sqrt(60) * 6 * rng.normal();
      this.burst += 8;
      this.volMult = Math.min(6, this.volMult * 1.8);
    }
    let rate = this.spec.tradeRate * this.burst * Math.sqrt(this.volMult);
    const path = this.replayPath(time);
    if (path !== undefined) {
      this.fair = path.price;
      rate = path.tradesPerSecond;
    } else this.fair = Math.max(2, this.fair * Math.exp(ret));
    // random taker flow
    const n = Math.min(5000, rng.poisson(rate * dtSeconds));
    const mid = (this.bestBid + this.bestAsk) / 2;
    for (let i = 0; i < n; i++) {
      const lean = Math.max(-0.3, Math.min(0.3, (this.fair - mid) / Math.max(1, mid * sig * 10)));
      const buy = rng.next() < 0.5 + lean;
      const qty = Math.max(1, Math.round((this.spec.tradeSize * rng.lognormal(1)) / this.stepValue));
      const t = time - Math.floor((1 - (i + 1) / (n + 1)) * dtSeconds * 1000);
      this.take(buy ? 'BUY' : 'SELL', Math.min(qty, this.topQty(buy ? 'ask' : 'bid') * 3 + 1), 0, t, this.userFill);
    }
    // the price follows the fair value through trades: sweep levels that are now mispriced
    const spread = this.volMult > 2.5 && rng.next() < 0.3 ? 1 + rng.int(1, 4) : 1;
    const targetBid = Math.max(1, Math.floor(this.fair - spread / 2));
    const targetAsk = targetBid + spread;
    if (this.bestAsk > 0 && this.bestAsk < targetAsk) this.sweepTo('BUY', targetAsk - 1, time);
    if (this.bestBid > targetBid) this.sweepTo('SELL', targetBid + 1, time);
    // makers fill the gaps and keep the depth
    this.refill(targetBid, targetAsk);
    // book churn: some makers change size
    const churn = 2 + rng.poisson(4 * this.burst);
    for (let i = 0; i < churn; i++) {
      const side = rng.next() < 0.5 ? 'bid' : 'ask';
      const dist = Math.floor(Math.abs(rng.normal()) * 30);
      const price = side === 'bid' ? this.bestBid - dist : this.bestAsk + dist;
      if (price <= 0) continue;
      this.setSynthetic(side, price, rng.next() < 0.1 ? 0 : this.levelQty(dist));
    }
    this.updateMark(dtSeconds);
  }

  /**
   * Kline-level generation for a stretch nobody watched: advances market time from `now` to
   * `until` (ms) without trades or book, segment by segment (a segment is the part of one 1m
   * kline in the stretch: a partial first and last one, whole minutes between). Each segment
   * draws from a stream seeded by the market's seed and the segment's start time, so the cost
   * does not depend on the trade rate and the result only on the seed and the stretch.
   *
   * The volatility model is the trade-level one integrated over the segment: the log-OU
   * volatility multiplier, bursts (Poisson arrivals decaying with 20 s) whose mean over the
   * segment scales the trade rate, jumps (rate 1/h) and the replayed path when replaying.
   * Resting user orders whose price the segment's range reaches are filled at their price.
   * `onBar` runs after each segment's bar is merged into the open kline, before it may close
   * (`segment` holds the bar: algo triggers); `onSegment` runs after each segment with `now` at
   * its end (funding, liquidations).
   * Afterwards the book is rebuilt around the last price: trade-level steps continue from there.
   */
  fastForward(until: number, onSegment?: () => void, onBar?: () => void): void {
    if (until <= this.now) return;
    while (this.now < until) {
      const a = this.now;
      const minuteEnd = Math.floor(a / 60_000) * 60_000 + 60_000;
      const b = Math.min(until, minuteEnd);
      this.rollKlines(a);
      this.klineSegment(a, b);
      // the segment's bar is still the open kline here: what trades now (a triggered stop) belongs to it
      onBar?.();
      this.now = b;
      this.rollKlines(b);
      // the funding rate (decimal arithmetic) is needed only at funding times and at the end
      if (b >= this.nextFunding || b >= until) this.fundingRate = fundingRateFormula(Dec.fromNumber(round8(this.premiumSum / this.premiumCount))).toNumber();
      onSegment?.();
    }
    this.recenterBook();
  }

  /** One kline-level segment [a, b) merged into the open kline (see `fastForward`). */
  private klineSegment(a: number, b: number): void {
    const dt = (b - a) / 1000;
    const rng = new Rng((this.minuteSeed ^ mix32(Math.floor(a / 1000))) >>> 0);
    // volatility clustering: the exact log-OU transition over dt
    this.volMult = Math.exp(Math.log(this.volMult) * Math.exp(-dt / 900) + 0.35 * Math.sqrt(Math.min(dt, 900) / 900) * rng.normal());
    this.volMult = Math.min(6, Math.max(0.25, this.volMult));
    // bursts: decay with 20 s; arrivals (rate 1/300 s, and one per jump) at uniform times
    const decayMean = (x: number) => (x > 1e-9 ? (20 * (1 - Math.exp(-x / 20))) / x : 1);
    let burstMean = 1 + (this.burst - 1) * decayMean(dt);
    let burstEnd = 1 + (this.burst - 1) * Math.exp(-dt / 20);
    const addBurst = (size: number) => {
      const rest = dt * (1 - rng.next());
      burstMean += (size * rest * decayMean(rest)) / dt;
      burstEnd += size * Math.exp(-rest / 20);
    };
    for (let k = rng.poisson(dt / 300); k > 0; k--) addBurst(2 + 6 * rng.next());
    const sig = this.sigmaPerSecond() * this.volMult;
    let ret = sig * Math.sqrt(dt) * rng.normal();
    if (rng.next() < dt / 3600) {
      ret += sig * Math.sqrt(60) * 6 * rng.normal();
      addBurst(8);
      this.volMult = Math.min(6, this.volMult * 1.8);
    }
    this.burst = burstEnd;
    let rate = this.spec.tradeRate * burstMean * Math.sqrt(this.volMult) * FF_TRADE_RATE;
    const path = this.replayPath(b - 1); // the replayed price at the end of the segment (its minute's close for a whole minute)
    if (path !== undefined) {
      this.fair = path.price;
      rate = path.tradesPerSecond * FF_TRADE_RATE;
    } else this.fair = Math.max(2, this.fair * Math.exp(ret));
    // the segment's bar: opens at the last price, closes at the fair price; the range of the path
    const o = this.lastPrice;
    const c = Math.max(1, Math.round(this.fair));
    const sd = sig * Math.sqrt(dt) * this.fair;
    // takers arrive at `rate`; the price following the fair value sweeps the levels it crosses:
    // at trade level about E|Δfair| ticks per step, i.e. √(2/π)·σ·fair·dt/√(step) ticks
    const takers = rng.poisson(rate * dt);
    const ticksPerStep = Math.sqrt(2 / Math.PI) * sig * this.fair * Math.sqrt(this.lastStepSeconds);
    const sweeps = rng.poisson(FF_SWEEP_RATE * ticksPerStep * (dt / this.lastStepSeconds));
    const aggs = takers + sweeps;
    // the range: the path's excursion beyond open and close, and the spread (sells hit the bid a tick under)
    const h = Math.max(o, c) + Math.round(Math.abs(rng.normal()) * sd * 0.5);
    const l = Math.max(1, Math.min(o, c) - Math.round(Math.abs(rng.normal()) * sd * 0.5) - (aggs > 0 ? 1 : 0));
    const k = this.current;
    if (aggs > 0) {
      // fills per aggregated trade: 1 + floor(3U) (mean 2, variance 2/3); sizes lognormal: a sum's CV is about 1.3/√count
      const n = aggs + Math.max(0, Math.round(aggs + Math.sqrt((aggs * 2) / 3) * rng.normal()));
      const size = this.spec.tradeSize / this.stepValue;
      // a swept level was filled in by makers at about half a step's move from the touch: levelQty grows 5 % a tick
      const mean = takers * size * FF_TRADE_SIZE + sweeps * size * FF_SWEEP_SIZE * (1.5 + 0.1 * ticksPerStep);
      const v = Math.max(aggs, Math.round(mean * (1 + (1.3 / Math.sqrt(aggs)) * rng.normal())));
      // takers lean with the move (the trade-level lean on fair − mid)
      const z = sd > 0 ? (c - o) / sd : 0;
      const buyShare = Math.min(0.9, Math.max(0.1, 0.5 + 0.1 * Math.max(-3, Math.min(3, z)) + 0.05 * rng.normal()));
      const bv = Math.round(v * buyShare);
      // quote units: an integer per bar with the volume-weighted price inside [low, high]
      const avg = (o + h + l + c) / 4;
      this.mergeSegment(k, o, h, l, c, v, Math.round(v * avg), n, bv, Math.round(bv * avg));
      this.aggId += aggs;
    }
    this.lastPrice = c;
    if (k.n === 0) {
      k.o = c; k.h = c; k.l = c; k.c = c;
    }
    // the bar's path: without trades the price only moved from open to close
    this.segment = aggs > 0 ? { o, h, l, c } : { o, h: Math.max(o, c), l: Math.min(o, c), c };
    this.fillUserInRange(l, h, k);
    // mark: the index follows the fair value; the premium sample counts as the steps it replaces
    this.index = this.fair * (1 + (0.0001 / Math.sqrt(Math.max(1, dt / this.lastStepSeconds))) * rng.normal());
    const mid = this.lastPrice - 0.5;
    this.basisEma = mid - this.index;
    const weight = Math.max(1, Math.round(dt / this.lastStepSeconds));
    this.premiumSum += ((mid - this.index) / this.index) * weight;
    this.premiumCount += weight;
  }

  private mergeSegment(k: OpenKline, o: number, h: number, l: number, c: number, v: number, q: number, n: number, bv: number, bq: number): void {
    const f = this.tradeId + 1;
    this.tradeId += n;
    if (k.n === 0) {
      k.o = o; k.h = h; k.l = l;
      k.f = f;
    }
    if (h > k.h) k.h = h;
    if (l < k.l) k.l = l;
    k.c = c;
    k.v += v; k.q += q; k.n += n; k.bv += bv; k.bq += bq;
    k.L = this.tradeId;
  }

  /** Fills resting user orders the range [low, high] reached, at their prices (the taker is synthetic). */
  private fillUserInRange(low: number, high: number, k: OpenKline): void {
    if (!this.userFill) return;
    for (const [side, map] of [['bid', this.userBids], ['ask', this.userAsks]] as const) {
      if (map.size === 0) continue;
      const prices = [...map.keys()].filter((p) => (side === 'bid' ? p >= low : p <= high)).sort((x, y) => (side === 'bid' ? y - x : x - y));
      for (const p of prices) {
        const qty = map.get(p) ?? 0;
        if (qty <= 0) continue;
        const filled = this.userFill(side, p, qty);
        if (filled <= 0) continue;
        // the user's order traded with a synthetic taker: a trade of the kline (bar range kept)
        this.aggId++;
        const close = k.n === 0 ? p : k.c;
        this.mergeSegment(k, p, p, p, close, filled, p * filled, 1, side === 'ask' ? filled : 0, side === 'ask' ? p * filled : 0);
        this.lastPrice = close;
      }
    }
  }

  /**
   * Rebuilds the synthetic book around the last price, or `at` (bid one tick under it, ask at it, as a
   * fresh market starts), recording every change so the depth stream's update ids run on.
   */
  recenterBook(at?: number): void {
    // around another price (`at`, ticks: a kline-level algo trigger) the fair price stays where it is
    const price = at ?? this.lastPrice;
    if (at === undefined) this.fair = this.lastPrice;
    for (const p of [...this.bids.keys()].sort((x, y) => x - y)) this.setSynthetic('bid', p, 0);
    for (const p of [...this.asks.keys()].sort((x, y) => y - x)) this.setSynthetic('ask', p, 0);
    this.lowestBid = Infinity;
    this.highestAsk = -Infinity;
    const bid = price - 1;
    const ask = price;
    for (let i = 0; i < BOOK_LEVELS; i++) {
      if (bid - i > 0) this.setSynthetic('bid', bid - i, this.levelQty(i));
      this.setSynthetic('ask', ask + i, this.levelQty(i));
    }
  }

  private toTicks(price: number): number {
    return Math.max(1, Math.round(price / this.tickValue));
  }

  /** The replayed price (ticks) at `time`: open → high/low → low/high → close within the minute. */
  private replayPath(time: number): { price: number; tradesPerSecond: number } | undefined {
    const r = this.replay;
    if (!r) return undefined;
    while (this.replayIndex < r.length && r.t[this.replayIndex] + 60_000 <= time) this.replayIndex++;
    const i = this.replayIndex;
    if (i >= r.length || r.t[i] > time) return undefined;
    const f = (time - r.t[i]) / 60_000;
    const upFirst = r.c[i] < r.o[i];
    const a = r.o[i], b = upFirst ? r.h[i] : r.l[i], c = upFirst ? r.l[i] : r.h[i], d = r.c[i];
    const p = f < 1 / 3 ? a + (b - a) * f * 3 : f < 2 / 3 ? b + (c - b) * (f - 1 / 3) * 3 : c + (d - c) * (f - 2 / 3) * 3;
    return { price: p / this.tickValue, tradesPerSecond: Math.max(0.2, r.n[i] / 60 / 20) };
  }

  /** The last kline-level segment's bar (ticks): what `onSegment` of `fastForward` may look at (algo triggers). */
  segment: { o: number; h: number; l: number; c: number } = { o: 0, h: 0, l: 0, c: 0 };

  /** Set by the engine: fills user liquidity hit by a synthetic taker; returns the qty filled. */
  userFill: ((side: 'bid' | 'ask', price: number, qty: number) => number) | undefined = undefined;

  private topQty(side: 'bid' | 'ask'): number {
    return side === 'bid' ? this.bids.get(this.bestBid) ?? 1 : this.asks.get(this.bestAsk) ?? 1;
  }

  private sweepTo(takerSide: 'BUY' | 'SELL', limit: number, time: number): void {
    let guard = 0;
    while (guard++ < BOOK_LEVELS * 2) {
      const best = takerSide === 'BUY' ? this.bestAsk : this.bestBid;
      if (best <= 0 || (takerSide === 'BUY' ? best > limit : best < limit)) break;
      const qty = this.total(takerSide === 'BUY' ? 'ask' : 'bid', best);
      const fills = this.take(takerSide, qty, best, time, this.userFill);
      if (fills.length === 0) break;
    }
  }

  private refill(targetBid: number, targetAsk: number): void {
    // gaps between the target and the best price
    if (this.bestBid === 0 || this.bestBid < targetBid) {
      const from = this.bestBid === 0 ? targetBid - BOOK_LEVELS : this.bestBid + 1;
      for (let p = Math.max(1, from); p <= targetBid; p++) if (!this.bids.has(p) && p < this.bestAsk) this.setSynthetic('bid', p, this.levelQty(targetBid - p));
    }
    if (this.bestAsk === 0 || this.bestAsk > targetAsk) {
      const from = this.bestAsk === 0 ? targetAsk + BOOK_LEVELS : this.bestAsk - 1;
      for (let p = from; p >= targetAsk; p--) if (!this.asks.has(p) && p > this.bestBid) this.setSynthetic('ask', p, this.levelQty(p - targetAsk));
    }
    // depth: fill holes near the top, drop levels too far away
    for (let i = 0; i < BOOK_LEVELS; i++) {
      const pb = this.bestBid - i;
      if (pb > 0 && !this.bids.has(pb) && this.rng.next() < 0.5) this.setSynthetic('bid', pb, this.levelQty(i));
      const pa = this.bestAsk + i;
      if (!this.asks.has(pa) && this.rng.next() < 0.5) this.setSynthetic('ask', pa, this.levelQty(i));
    }
    // the scans over every level run only when a level can lie beyond the cut (bounds kept by setSynthetic)
    const bidCut = this.bestBid - BOOK_LEVELS * 1.5;
    if (this.lowestBid < bidCut) {
      let low = Infinity;
      for (const p of [...this.bids.keys()]) {
        if (p < bidCut) this.setSynthetic('bid', p, 0);
        else if (p < low) low = p;
      }
      this.lowestBid = low;
    }
    const askCut = this.bestAsk + BOOK_LEVELS * 1.5;
    if (this.highestAsk > askCut) {
      let high = -Infinity;
      for (const p of [...this.asks.keys()]) {
        if (p > askCut) this.setSynthetic('ask', p, 0);
        else if (p > high) high = p;
      }
      this.highestAsk = high;
    }
  }

  private updateMark(dtSeconds: number): void {
    // index: the fair value seen on spot venues, with a little noise of its own
    this.index = this.fair * (1 + 0.0001 * this.rng.normal());
    const mid = (this.bestBid + this.bestAsk) / 2;
    const alpha = Math.min(1, dtSeconds / 60);
    this.basisEma += alpha * (mid - this.index - this.basisEma);
    const premium = (mid - this.index) / this.index;
    this.premiumSum += premium;
    this.premiumCount++;
    this.fundingRate = fundingRateFormula(Dec.fromNumber(round8(this.premiumSum / this.premiumCount))).toNumber();
  }

  /** Mark price in ticks (float): median(P1, P2, last). */
  markTicks(): number {
    const timeToFunding = Math.max(0, this.nextFunding - this.now) / (8 * 3_600_000);
    const p1 = this.index * (1 + this.fundingRate * timeToFunding);
    const p2 = this.index + this.basisEma;
    const arr = [p1, p2, this.lastPrice].sort((a, b) => a - b);
    return arr[1];
  }

  /** Mark with more decimals than the tick, as Binance sends (e.g. "65000.12345678"). */
  markPriceText(): string {
    return (this.markTicks() * this.tickValue).toFixed(Math.min(8, this.spec.priceDecimals + 4));
  }

  indexPriceText(): string {
    return (this.index * this.tickValue).toFixed(Math.min(8, this.spec.priceDecimals + 4));
  }

  /** Called by the engine at each funding time; resets the premium average. */
  takeFunding(): number {
    const rate = this.fundingRate;
    this.premiumSum = 0;
    this.premiumCount = 0;
    this.nextFunding = nextFundingTime(this.now, 8);
    return rate;
  }

  private rollKlines(time: number): void {
    while (time >= this.current.t + 60_000) {
      const closed = this.current;
      this.hist.push(closed);
      this.current = this.emptyKline(closed.t + 60_000, this.lastPrice);
      this.listener?.klineClosed(this, closed);
    }
  }

  // ---------------------------------------------------------------------------------------
  // output
  // ---------------------------------------------------------------------------------------

  /** Takes the changes since the last call (the depth stream's event payload). */
  drainChanges(): DepthChange | undefined {
    if (this.pendingU === 0) return undefined;
    const change: DepthChange = { U: this.pendingU, u: this.updateId, bids: this.pendingBids, asks: this.pendingAsks };
    this.pendingBids = new Map();
    this.pendingAsks = new Map();
    this.pendingU = 0;
    return change;
  }

  price(ticks: number): string {
    return fmtUnits(ticks, this.spec.priceDecimals);
  }

  qty(steps: number): string {
    return fmtUnits(steps, this.spec.qtyDecimals);
  }

  /** Book levels, best first, as strings. */
  levels(side: 'bid' | 'ask', limit: number): PriceLevel[] {
    const prices = new Set<number>([...(side === 'bid' ? this.bids.keys() : this.asks.keys()), ...(side === 'bid' ? this.userBids.keys() : this.userAsks.keys())]);
    const sorted = [...prices].sort((a, b) => (side === 'bid' ? b - a : a - b)).slice(0, limit);
    return sorted.map((p) => [this.price(p), this.qty(this.total(side, p))]);
  }

  /**
   * Klines of any interval, ascending, as Binance selects them: with `startTime`, the first
   * `limit` klines with open time ≥ startTime (and ≤ endTime); otherwise the last `limit` with
   * open time ≤ endTime (default: up to the open kline). A startTime before the history starts
   * gives the first klines of the history (its first whole interval on); minutes without data are skipped, never padded.
   */
  klines(interval: Interval, startTime: number | undefined, endTime: number | undefined, limit: number): KlineAgg[] {
    const align = (t: number) => alignOpenTime(t, interval);
    const next = (t: number) => nextOpenTime(t, interval);
    const alignUp = (t: number) => (align(t) < t ? next(align(t)) : align(t));
    const lastOpen = align(this.current.t);
    const first = this.history.length > 0 ? this.history.t[0] : this.current.t;
    // the first whole interval of the history (one that started before the history is left out)
    const firstOpen = alignUp(first);
    const to = Math.min(endTime !== undefined ? endTime : lastOpen, lastOpen);
    const out: KlineAgg[] = [];
    if (startTime !== undefined) {
      for (let t = Math.max(alignUp(startTime), firstOpen); t <= to && out.length < limit; t = next(t)) {
        const k = this.aggregate(t, next(t));
        if (k) out.push(k);
      }
      return out;
    }
    for (let t = align(to); t >= firstOpen && out.length < limit; t = previousOpenTime(t, interval)) {
      const k = this.aggregate(t, next(t));
      if (k) out.push(k);
    }
    return out.reverse();
  }

  private aggregate(start: number, end: number): KlineAgg | undefined {
    const h = this.history;
    let i = h.lowerBound(start);
    let agg: KlineAgg | undefined;
    const add = (o: number, hi: number, lo: number, c: number, v: number, q: number, n: number, bv: number, bq: number, f: number, L: number) => {
      if (!agg) agg = { t: start, T: end - 1, o, h: hi, l: lo, c, v: 0, q: 0, n: 0, bv: 0, bq: 0, f: -1, L: -1, closed: true };
      if (hi > agg.h) agg.h = hi;
      if (lo < agg.l) agg.l = lo;
      agg.c = c;
      agg.v += v; agg.n += n; agg.bv += bv;
      // quote units stay exact: past 2^53 the sums continue in BigInt
      if (agg.qBig !== undefined || agg.q + q > Number.MAX_SAFE_INTEGER) agg.qBig = (agg.qBig ?? BigInt(agg.q)) + BigInt(q);
      else agg.q += q;
      if (agg.bqBig !== undefined || agg.bq + bq > Number.MAX_SAFE_INTEGER) agg.bqBig = (agg.bqBig ?? BigInt(agg.bq)) + BigInt(bq);
      else agg.bq += bq;
      if (f >= 0 && agg.f < 0) agg.f = f;
      if (L >= 0) agg.L = L;
    };
    for (; i < h.length && h.t[i] < end; i++) add(h.o[i], h.h[i], h.l[i], h.c[i], h.v[i], h.q[i], h.n[i], h.bv[i], h.bq[i], h.fId[i], h.lId[i]);
    const k = this.current;
    if (k.t >= start && k.t < end) {
      add(k.o, k.h, k.l, k.c, k.v, k.q, k.n, k.bv, k.bq, k.f, k.L);
      agg!.closed = false;
    }
    return agg;
  }

  klineRow(k: KlineAgg): KlineRow {
    return [k.t, this.price(k.o), this.price(k.h), this.price(k.l), this.price(k.c), this.qty(k.v), k.T, this.quoteText(k.qBig ?? k.q), k.n, this.qty(k.bv), this.quoteText(k.bqBig ?? k.bq), '0'];
  }

  /**
   * Quote units (ticks × steps) as an exact decimal string with priceDecimals + qtyDecimals
   * decimals: one unit is tickSize × stepSize.
   */
  quoteText(units: number | bigint): string {
    const decimals = this.spec.priceDecimals + this.spec.qtyDecimals;
    const scaled = BigInt(units) * this.unitScale;
    if (decimals === 0) return scaled.toString();
    const digits = scaled.toString().padStart(decimals + 1, '0');
    return `${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`;
  }

  /** 24 h rolling statistics from the 1m history. */
  ticker24h(): { open: number; high: number; low: number; volume: number; quote: number; count: number; openTime: number; firstId: number; lastId: number } {
    const from = this.now - 86_400_000;
    const h = this.history;
    let i = h.lowerBound(from);
    let open = i < h.length ? h.o[i] : this.current.o;
    const openTime = i < h.length ? h.t[i] : this.current.t;
    let high = this.current.h, low = this.current.l, volume = this.current.v, quote = this.current.q, count = this.current.n;
    let firstId = i < h.length ? h.fId[i] : this.current.f;
    for (; i < h.length; i++) {
      if (h.h[i] > high) high = h.h[i];
      if (h.l[i] < low) low = h.l[i];
      volume += h.v[i]; quote += h.q[i]; count += h.n[i];
      if (firstId < 0) firstId = h.fId[i];
    }
    if (open === 0) open = this.lastPrice;
    return { open, high, low, volume, quote, count, openTime, firstId, lastId: this.tradeId };
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A 32-bit integer hash (murmur3 finalizer) of a non-negative integer. */
function mix32(x: number): number {
  let h = (x ^ Math.floor(x / 4294967296)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function round8(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}
