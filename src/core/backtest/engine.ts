import type { IntrabarPaths } from '../market/tradePath.js';
import { createHash, type Hash } from 'node:crypto';
import { AtmError } from '../errors.js';
import type { KlineColumns } from '../analysis/indicators/index.js';
import { validateCac, type Cac } from '../analysis/cac.js';
import { FuturesAccount, type Fill, type Rejection, type SymbolSetup } from '../futures/account.js';
import { Dec } from '../futures/decimal.js';
import { FILL_MODEL, FillSimulator, type OrderRequest, type SimOrderType, type VenueEvent } from '../futures/fills.js';
import { INTERVAL_MS, alignOpenTime, nextOpenTime, type Interval } from '../market/klines.js';
import { prepareRun, strategyFailure, withTimeLimit, type LoadedStrategy, type StrategyRunner } from '../strategy/runtime.js';
import type { ParamValues, Result, StrategyEvent } from '../strategy/types.js';
import type { BacktestConfig } from './config.js';
import type { FundingSeries, RulesSource, SymbolRules } from './inputs.js';
import { computeMetrics, type Metrics, type TradeRecord } from './metrics.js';

/**
 * The backtest engine: one synchronous, deterministic loop over the 1m klines of every position of
 * one account, on a simulated clock (docs/backtesting.md):
 *
 *   klines → indicators (batch, before the loop) → strategy → targets → orders → FillSimulator / FuturesAccount
 *
 * Positions on many symbols advance together in time order (at one minute, in the order of the
 * configuration). A strategy on a higher interval sees that interval's kline when its last 1m
 * kline closed; its orders fill at the next 1m open. Nothing is allocated per kline: the loop reads
 * typed arrays and compares floats; exact decimals are used only when an order is placed or fills.
 */

/** One position's 1m klines as columns (plain data; crosses to the worker). */
export interface BacktestKlines extends KlineColumns {
  length: number;
}

export interface EngineInput {
  config: BacktestConfig;
  /** Per position, in the configuration's order: its symbol's 1m klines. */
  klines: BacktestKlines[];
  rules: SymbolRules[];
  /** Per position: funding times and rates (empty: none for the range). */
  funding: FundingSeries[];
  /**
   * Per position, when the run resolves klines along recorded trades (`intrabar: 'trades'`): each
   * kline's path from its aggTrades (core/market/tradePath.ts); klines without one use the OHLC path.
   */
  paths?: (IntrabarPaths | undefined)[];
}

/** Finds a strategy by name and validates its parameters (StrategyRegistry does this). */
export interface StrategyResolver {
  validateParams(name: string, given?: Record<string, unknown>): Result<{ strategy: LoadedStrategy; params: ParamValues }>;
}

export interface EngineOptions {
  strategies: StrategyResolver;
  /** Called at most every `PROGRESS_EVERY` klines and 100 ms: klines done, klines in all. */
  onProgress?(done: number, total: number): void;
  /** Checked every `CHECK_EVERY` klines; true stops the run with BacktestCancelled. */
  shouldStop?(): boolean;
  /** Points of the balance history (default 2000). */
  balancePoints?: number;
  /** Wall-time limit of a chunk of CHECK_EVERY klines for user-file strategies (default 10 s). */
  chunkTimeLimitMs?: number;
  /** Keep every fill in memory for the result (default true; a long-running trader keeps none). */
  keepFills?: boolean;
}

export interface FillRecord {
  time: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: SimOrderType | 'LIQUIDATION';
  qty: string;
  price: string;
  fee: string;
  realizedPnl: string;
  positionAfter: string;
  /** open, close, reduce, stopLoss, takeProfit, liquidation. */
  reason: string;
}

export interface BalanceHistory {
  /** Close time (ms) of the sampled minute. */
  time: Float64Array;
  /** Equity = wallet + unrealised PnL at the closes. */
  equity: Float64Array;
  wallet: Float64Array;
}

/** The summary of a run: the metrics (profitFactor null when there is no losing trade) and more. */
export interface BacktestSummary extends Metrics {
  initialBalance: string;
  finalBalance: string;
  expectancy: string;
  exposurePct: number;
  trades: number;
  fills: number;
  fees: string;
  fundingFees: string;
  fundingDataMissing: boolean;
  liquidations: number;
  ambiguousBars: number;
  /** With `intrabar: 'trades'`: klines that had recorded trades, and of those the ones the fill model walked along them. */
  intrabarTrades?: { klines: number; walked: number };
  rejections: number;
  /** Rejections by Binance error code. */
  rejectionCodes: Record<string, number>;
  klines: number;
  elapsedMs: number;
  from: number;
  to: number;
  tradeListHash: string;
  buyAndHoldReturnPct: Record<string, number>;
  /**
   * Each position's own result in USDT: realised PnL − fees − funding paid + unrealised PnL at the
   * last close (the positions' results add up to finalBalance − initialBalance).
   */
  positionPnl: Record<string, string>;
  fillModel: typeof FILL_MODEL;
  rules: Record<string, { source: RulesSource; tickSize: string; stepSize: string; minQty: string; minNotional: string; maxLeverage: number }>;
  metricsBasis: string;
}

export interface BacktestResult {
  summary: BacktestSummary;
  balance: BalanceHistory;
  trades: TradeRecord[];
  fills: FillRecord[];
}

/** A run stopped by its caller (nothing is saved). */
export class BacktestCancelled extends AtmError {
  constructor(readonly done: number) {
    super('user', `backtest cancelled after ${done} klines`, { done });
    this.name = 'BacktestCancelled';
  }
}

/** Klines between cancellation checks, progress reports and strategy time-limit chunks. */
export const CHECK_EVERY = 65_536;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** A strategy interval's klines aggregated from 1m, and which 1m kline closes each. */
interface Aggregated {
  columns: BacktestKlines;
  /** Per 1m kline: the aggregated kline it closes, or −1. */
  closes: Int32Array;
}

/** Aggregates 1m columns into `interval` (first open, max high, min low, last close, summed volumes). */
export function aggregateForStrategy(k: BacktestKlines, interval: Interval): Aggregated {
  const n = k.length;
  const closes = new Int32Array(n).fill(-1);
  const span = n > 0 ? k.openTime[n - 1] - k.openTime[0] : 0;
  const cap = Math.min(n, Math.ceil(span / (interval === '1M' ? 28 * DAY : INTERVAL_MS[interval])) + 2);
  const cols = { openTime: new Float64Array(cap), open: new Float64Array(cap), high: new Float64Array(cap), low: new Float64Array(cap), close: new Float64Array(cap), volume: new Float64Array(cap), takerBuyVolume: new Float64Array(cap) };
  let m = 0;
  let bucket = NaN;
  let last = -1;
  const flush = (complete: boolean) => {
    if (last < 0) return;
    if (complete) {
      closes[last] = m;
      m++;
    }
  };
  for (let j = 0; j < n; j++) {
    const b = alignOpenTime(k.openTime[j], interval);
    if (b !== bucket) {
      flush(true);
      bucket = b;
      cols.openTime[m] = b;
      cols.open[m] = k.open[j];
      cols.high[m] = k.high[j];
      cols.low[m] = k.low[j];
      cols.close[m] = k.close[j];
      cols.volume[m] = k.volume[j];
      cols.takerBuyVolume[m] = k.takerBuyVolume[j];
    } else {
      if (k.high[j] > cols.high[m]) cols.high[m] = k.high[j];
      if (k.low[j] < cols.low[m]) cols.low[m] = k.low[j];
      cols.close[m] = k.close[j];
      cols.volume[m] += k.volume[j];
      cols.takerBuyVolume[m] += k.takerBuyVolume[j];
    }
    last = j;
  }
  // the last bucket counts only when its final minute is there
  flush(n > 0 && k.openTime[last] + MINUTE === nextOpenTime(bucket, interval));
  const cut = (a: Float64Array) => a.subarray(0, m);
  return { columns: { length: m, openTime: cut(cols.openTime), open: cut(cols.open), high: cut(cols.high), low: cut(cols.low), close: cut(cols.close), volume: cut(cols.volume), takerBuyVolume: cut(cols.takerBuyVolume) }, closes };
}

/**
 * Each position's share of the asset allocated balance: the assumed ratio, but served by priority
 * (lower first, then configuration order) so the shares never add up to more than 1; a position
 * reached when nothing is left gets 0 (its orders are refused with -4003).
 */
export function effectiveRatios(config: BacktestConfig): number[] {
  const order = config.positions.map((p, i) => ({ i, priority: p.control.priority })).sort((a, b) => a.priority - b.priority || a.i - b.i);
  const out = new Array<number>(config.positions.length).fill(0);
  let left = 1;
  for (const { i } of order) {
    const share = Math.min(config.positions[i].control.assumedRatio, left);
    out[i] = share;
    left = Math.max(0, left - share);
  }
  return out;
}

interface EngineOrder {
  p: number;
  type: SimOrderType;
  reason: string;
  /** The target in force if this order is refused. */
  heldIfRejected: number;
  engineMarket: boolean;
}

interface OpenTrade {
  side: 'LONG' | 'SHORT';
  entryTime: number;
  maxQty: Dec;
  entryQty: Dec;
  entryValue: Dec;
  exitQty: Dec;
  exitValue: Dec;
  realized: Dec;
  fees: Dec;
}

function fail(message: string): never {
  throw new AtmError('user', message);
}

/**
 * Where the engine's orders go: the FillSimulator on the engine's FuturesAccount (backtests and
 * virtual accounts), or an actual account's order manager behind the same calls (src/core/trading/venue.ts).
 * `submit` answers at once (an order id or a rejection); fills, rejections, cancellations,
 * liquidations and funding come back as VenueEvents to the listener the engine gave.
 */
export interface EngineVenue {
  submit(req: OrderRequest): { orderId: number } | Rejection;
  cancel(orderId: number): boolean;
  /** Position s's 1m kline closed: a simulated venue walks its orders over it; an actual one may ignore it. */
  onKline(s: number, openTime: number, open: number, high: number, low: number, close: number, path?: ArrayLike<number>): void;
  setFunding?(symbol: string, times: readonly number[], rates: readonly string[]): void;
  readonly fillCount: number;
  readonly ambiguousBars: number;
  /** Klines walked along recorded trades instead of the OHLC path (a simulated venue given paths). */
  readonly tradePathWalks?: number;
}

/** What a TradingEngine is built from: the account's configuration, rules, funding, and how its runners and venue are made. */
export interface EngineSetup {
  config: BacktestConfig;
  rules: SymbolRules[];
  /** Per position: funding times and rates (empty: none). */
  funding: FundingSeries[];
  /** Position s's strategy runner over its klines (batch for a backtest, growable for live trading). */
  runner(s: number, strategy: LoadedStrategy, params: ParamValues, cac: Cac | undefined): StrategyRunner;
  /** The venue (default: a FillSimulator on the engine's account). */
  venue?(account: FuturesAccount, listener: (e: VenueEvent) => void): EngineVenue;
}

/** What a TradingEngine reports as it goes (the trader's bookkeeping; unused by backtests). */
export interface EngineObserver {
  /** A fill (or a liquidation close) recorded for position s. */
  fill?(s: number, fill: FillRecord): void;
  /** An order the engine sent for position s, with the venue's answer. */
  order?(s: number, req: OrderRequest, result: { orderId: number } | Rejection): void;
  /** Position s's strategy took a decision on its closed kline `index` (changed: it asks for new orders). */
  decision?(s: number, index: number, changed: boolean): void;
}

/** One position's 1m kline columns as stepMinute reads them. */
export interface MinuteColumns {
  length: number;
  openTime: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/**
 * Where stepMinute reads each position's 1m kline of the minute: row `row[s]` of `klines[s]` when
 * its open time is the minute's (else the position has no kline then). A backtest points `klines`
 * at its whole input and `row` is its read position; a trader writes one-row buffers.
 */
export interface MinuteBars {
  klines: MinuteColumns[];
  row: Int32Array;
  /** Per position: the strategy kline each 1m row closes (−1: none); undefined: the strategy is on 1m (row = index). */
  closes: (Int32Array | undefined)[];
  /** Per position, when the run resolves klines along recorded trades: each kline's path (EngineInput.paths). */
  paths?: (IntrabarPaths | undefined)[];
}

/** Runs a backtest. Throws BacktestCancelled, StrategyError (the strategy failed) or AtmError (bad input). */
export function runBacktest(input: EngineInput, options: EngineOptions): BacktestResult {
  const { config, klines, rules } = input;
  if (klines.length !== config.positions.length || rules.length !== config.positions.length) fail('backtest input: one kline set and one rule set per position are needed');
  const aggregated: (Aggregated | undefined)[] = [];
  const engine = new TradingEngine(
    {
      config,
      rules,
      funding: input.funding,
      runner: (i, strategy, params, cac) => {
        const p = config.positions[i];
        const agg = p.interval === '1m' ? undefined : aggregateForStrategy(klines[i], p.interval);
        aggregated[i] = agg;
        const prepared = prepareRun(strategy, params, agg ? agg.columns : klines[i], { symbol: p.symbol, interval: p.interval, cac });
        if (!prepared.ok) throw prepared.error;
        return prepared.value;
      },
    },
    options,
  );
  return engine.run(input, aggregated);
}

/**
 * The per-minute engine of one account: strategy decisions → targets → orders → the venue, and the
 * venue's events → records and the strategies. A backtest feeds it every minute of stored klines
 * (`run`); a trader feeds it one live minute at a time (`stepMinute`). Both take the same path, so a
 * virtual account and a backtest over the same klines give the same fills.
 */
export class TradingEngine {
  private readonly n: number;
  readonly account: FuturesAccount;
  private readonly sim: EngineVenue;
  readonly runners: StrategyRunner[] = [];
  private readonly held: Float64Array;
  private readonly heldSL: Float64Array;
  private readonly heldTP: Float64Array;
  private readonly pending: Uint8Array;
  private readonly heldAfterClose: Float64Array;
  private readonly pendingMarkets: Int32Array;
  private readonly slId: Int32Array;
  private readonly tpId: Int32Array;
  private readonly ratios: number[];
  private readonly steps: Dec[];
  private readonly ticks: Dec[];
  private readonly shares: Dec[];
  private readonly caps: (Dec | undefined)[];
  private readonly allocationRatio: Dec;
  private readonly orders = new Map<number, EngineOrder>();
  private readonly openTrades: (OpenTrade | undefined)[];
  private readonly trades: TradeRecord[] = [];
  private readonly fills: FillRecord[] = [];
  private readonly hash: Hash = createHash('sha256');
  private fees = Dec.ZERO;
  private fundingFees = Dec.ZERO;
  /** Per position: realised PnL − fees − funding paid so far (unrealised PnL is added at the end). */
  private positionPnl: Dec[] = [];
  private rejections = 0;
  private readonly rejectionCodes: Record<string, number> = {};
  private readonly userStrategies: boolean;
  private readonly started = performance.now();
  private readonly slipUp: Dec;
  private readonly slipDown: Dec;
  private readonly config: BacktestConfig;
  private readonly rules: SymbolRules[];
  /** The minute being stepped: each position's 1m kline (written by the caller before stepMinute). */
  readonly minute: MinuteBars;
  /** When false, decisions still run but no order is sent (automation off, killed, or read-only). */
  ordersEnabled = true;
  observer: EngineObserver | undefined;

  constructor(
    setup: EngineSetup,
    private readonly options: EngineOptions,
  ) {
    const { config, rules } = setup;
    this.config = config;
    this.rules = rules;
    this.n = config.positions.length;
    if (rules.length !== this.n) fail('backtest input: one kline set and one rule set per position are needed');
    const setups: SymbolSetup[] = config.positions.map((p, i) => ({ info: rules[i].info, brackets: rules[i].brackets, leverage: p.leverage, marginType: config.account.marginType }));
    try {
      this.account = new FuturesAccount({ initialBalance: config.account.initialBalance, makerFeeRate: config.account.makerFeeRate, takerFeeRate: config.account.takerFeeRate }, setups);
    } catch (error) {
      throw new AtmError('user', `backtest configuration: ${(error as Error).message}`);
    }
    const listener = (e: VenueEvent) => this.onVenue(e);
    this.sim = setup.venue ? setup.venue(this.account, listener) : new FillSimulator(this.account, { slippageBps: config.account.slippageBps }, listener);
    const bps = Dec.fromNumber(config.account.slippageBps).div(Dec.fromInt(10_000));
    this.slipUp = Dec.ONE.add(bps);
    this.slipDown = Dec.ONE.sub(bps);
    const n = this.n;
    this.held = new Float64Array(n);
    this.heldSL = new Float64Array(n).fill(NaN);
    this.heldTP = new Float64Array(n).fill(NaN);
    this.pending = new Uint8Array(n);
    this.heldAfterClose = new Float64Array(n);
    this.pendingMarkets = new Int32Array(n);
    this.slId = new Int32Array(n);
    this.tpId = new Int32Array(n);
    const oneRow = (): MinuteColumns => ({ length: 1, openTime: new Float64Array(1).fill(NaN), open: new Float64Array(1), high: new Float64Array(1), low: new Float64Array(1), close: new Float64Array(1) });
    this.minute = { klines: Array.from({ length: n }, oneRow), row: new Int32Array(n), closes: Array.from({ length: n }, () => new Int32Array(1).fill(-1)) };
    this.ratios = effectiveRatios(config);
    this.steps = rules.map((r) => Dec.parse(r.info.marketStepSize));
    this.ticks = rules.map((r) => Dec.parse(r.info.tickSize));
    this.shares = this.ratios.map((x) => Dec.fromNumber(x));
    this.caps = config.positions.map((p) => (p.control.maxAllocatedBalance === undefined ? undefined : Dec.parse(p.control.maxAllocatedBalance)));
    this.allocationRatio = Dec.fromNumber(config.account.allocationRatio);
    this.openTrades = new Array(n).fill(undefined);
    let user = false;
    config.positions.forEach((p, i) => {
      const f = setup.funding[i];
      if (f && f.times.length > 0) this.sim.setFunding?.(p.symbol, f.times, f.rates);
      const resolved = options.strategies.validateParams(p.strategy.name, p.strategy.params);
      if (!resolved.ok) throw resolved.error;
      const { strategy, params } = resolved.value;
      if (strategy.source !== 'builtin') user = true;
      let cac: Cac | undefined;
      if (p.strategy.cac !== undefined) cac = validateCac(p.strategy.cac, `positions[${i}].strategy.cac`);
      this.runners.push(setup.runner(i, strategy, params, cac));
    });
    this.userStrategies = user;
  }

  /**
   * One minute at open time `t`, from `minute` (each position's 1m kline, where it has one): the
   * orders decided on the last closes are placed at this open, every symbol before any fills; then
   * each kline goes to the venue and, when it closes a strategy kline, to the strategy. Each
   * position's row read advances by one. Returns the klines consumed.
   */
  stepMinute(t: number): number {
    const n = this.n;
    const m = this.minute;
    const ks = m.klines;
    const row = m.row;
    if (this.ordersEnabled) {
      for (let s = 0; s < n; s++) {
        if (this.pending[s] === 0) continue;
        const k = ks[s];
        const j = row[s];
        if (j < k.length && k.openTime[j] === t) this.apply(s, k.open[j]);
      }
    }
    let consumed = 0;
    for (let s = 0; s < n; s++) {
      const k = ks[s];
      const j = row[s];
      if (j >= k.length || k.openTime[j] !== t) continue;
      const paths = m.paths?.[s];
      const path = paths !== undefined && paths.offsets[j + 1] > paths.offsets[j] ? paths.points.subarray(paths.offsets[j], paths.offsets[j + 1]) : undefined;
      this.sim.onKline(s, t, k.open[j], k.high[j], k.low[j], k.close[j], path);
      const closes = m.closes[s];
      const idx = closes === undefined ? j : closes[j];
      if (idx >= 0) this.decide(s, idx);
      row[s] = j + 1;
      consumed++;
    }
    return consumed;
  }

  /** The hash of the fills so far (the backtest summary's tradeListHash at the end). */
  tradeListHash(): string {
    return this.hash.copy().digest('hex');
  }

  /** The target in force, stops, and whether new orders wait for the next open, of position s. */
  positionState(s: number): { target: number; stopLoss: number; takeProfit: number; pending: boolean; openOrders: number } {
    return { target: this.held[s], stopLoss: this.heldSL[s], takeProfit: this.heldTP[s], pending: this.pending[s] !== 0, openOrders: [...this.orders.values()].filter((o) => o.p === s).length };
  }

  /** Orders the engine placed that are still open. */
  get openOrderCount(): number {
    return this.orders.size;
  }

  /**
   * Makes each position move to its strategy's current decision at the next open (after a warm-up
   * that stepped the strategies without orders, or when automation is turned back on).
   */
  syncTargets(): void {
    for (let s = 0; s < this.n; s++) {
      const r = this.runners[s];
      if (r.target !== this.held[s] || !sameStop(r.stopLoss, this.heldSL[s]) || !sameStop(r.takeProfit, this.heldTP[s])) this.pending[s] = 1;
    }
  }

  /**
   * Sets position s's target in force without placing orders: an actual account's trader at start,
   * where the exchange already holds a position (syncTargets then moves only the difference).
   */
  assumeTarget(s: number, target: number): void {
    this.held[s] = target;
    this.runners[s].position.target = target;
  }

  /**
   * A restarted trader's positions: the targets in force when it stopped (its account restored with
   * FuturesAccount.restore), so `syncTargets` sends orders only where the strategy's decision now
   * differs from them (no re-entry). Stops are not held: they are placed again at the next open.
   */
  restoreTargets(targets: readonly number[]): void {
    for (let s = 0; s < this.n; s++) {
      const t = targets[s];
      if (typeof t !== 'number' || !(t >= -1 && t <= 1)) continue;
      this.held[s] = t;
      this.runners[s].position.target = t;
    }
  }

  /** Replaces position s's funding times and rates (a trader's: only times after the last stepped minute). */
  setFunding(s: number, times: readonly number[], rates: readonly string[]): void {
    this.sim.setFunding?.(this.config.positions[s].symbol, times, rates);
  }

  /** Cancels every open order the engine placed (the kill switch); returns how many. */
  cancelAll(): number {
    let count = 0;
    for (const id of [...this.orders.keys()]) if (this.sim.cancel(id)) count++;
    for (let s = 0; s < this.n; s++) this.pending[s] = 0;
    return count;
  }

  /**
   * Closes every open position with a reduce-only market order (filled at the next open on a
   * simulated venue) and sets each target to 0; the strategies are told nothing until they decide
   * again. Returns the orders sent.
   */
  closePositions(): number {
    let sent = 0;
    for (let s = 0; s < this.n; s++) {
      this.cancelStops(s);
      this.flat(s);
      this.pending[s] = 0;
      const amt = this.account.positionAmt(s);
      if (amt.isZero()) continue;
      const req: OrderRequest = { symbol: this.config.positions[s].symbol, side: amt.sign() > 0 ? 'SELL' : 'BUY', type: 'MARKET', quantity: amt.abs().toString(), reduceOnly: true, tag: 'kill' };
      const res = this.sim.submit(req);
      this.observer?.order?.(s, req, res);
      if ('orderId' in res) {
        this.orders.set(res.orderId, { p: s, type: 'MARKET', reason: 'kill', heldIfRejected: 0, engineMarket: true });
        this.pendingMarkets[s]++;
        sent++;
      } else this.rejected(s, res.code, res.msg, this.account.marks[s], 0);
    }
    return sent;
  }

  // ---------------------------------------------------------------------------------------
  // the loop
  // ---------------------------------------------------------------------------------------

  /** The backtest: every minute of `input.klines` in time order, with the run's figures and summary. */
  run(input: EngineInput, aggregated: readonly (Aggregated | undefined)[]): BacktestResult {
    const { klines } = input;
    const n = this.n;
    const m = this.minute;
    for (let s = 0; s < n; s++) {
      m.klines[s] = klines[s];
      m.closes[s] = aggregated[s]?.closes;
    }
    m.paths = input.paths;
    const ptr = m.row;
    ptr.fill(0);
    let total = 0;
    let tStart = Infinity;
    let tEnd = -Infinity;
    for (let s = 0; s < n; s++) {
      const k = klines[s];
      total += k.length;
      if (k.length > 0) {
        tStart = Math.min(tStart, k.openTime[0]);
        tEnd = Math.max(tEnd, k.openTime[k.length - 1]);
      }
    }
    if (total === 0) fail('no klines in the range: import or download 1m klines first (atm data), or give --input');
    const points = Math.max(2, this.options.balancePoints ?? 2000);
    const minutes = Math.floor((tEnd - tStart) / MINUTE) + 1;
    const stride = Math.max(1, Math.ceil(minutes / points));
    const hTime = new Float64Array(points + 1);
    const hEquity = new Float64Array(points + 1);
    const hWallet = new Float64Array(points + 1);
    let h = 0;
    let nextSample = 0;
    const daily: number[] = [];
    let day = Math.floor(tStart / DAY);
    let lastEquity = this.account.walletF;
    daily.push(lastEquity);
    let peak = lastEquity;
    let maxDd = 0;
    let exposed = 0;
    let stepsDone = 0;
    let done = 0;
    let lastProgress = 0;
    const amtF = this.account.amtF;
    const timeLimit = this.options.chunkTimeLimitMs ?? 10_000;

    const chunk = (): boolean => {
      let budget = CHECK_EVERY;
      while (budget > 0) {
        // the next minute: the smallest next open time
        let t = Infinity;
        for (let s = 0; s < n; s++) if (ptr[s] < klines[s].length && klines[s].openTime[ptr[s]] < t) t = klines[s].openTime[ptr[s]];
        if (t === Infinity) return false;
        const d = Math.floor(t / DAY);
        if (d !== day) {
          daily.push(lastEquity);
          day = d;
        }
        const consumed = this.stepMinute(t);
        done += consumed;
        budget -= consumed;
        const e = this.account.equityFloat();
        lastEquity = e;
        if (e > peak) peak = e;
        else if (peak > 0 && (peak - e) / peak > maxDd) maxDd = (peak - e) / peak;
        for (let s = 0; s < n; s++) {
          if (amtF[s] !== 0) {
            exposed++;
            break;
          }
        }
        stepsDone++;
        const minute = (t - tStart) / MINUTE;
        if (minute >= nextSample && h < points) {
          hTime[h] = t + MINUTE;
          hEquity[h] = e;
          hWallet[h] = this.account.walletF;
          h++;
          nextSample = (Math.floor(minute / stride) + 1) * stride;
        }
      }
      return true;
    };

    for (;;) {
      const more = this.userStrategies ? this.limited(timeLimit, chunk) : chunk();
      if (this.options.shouldStop?.()) throw new BacktestCancelled(done);
      const now = performance.now();
      if (this.options.onProgress && (now - lastProgress >= 100 || !more)) {
        lastProgress = now;
        this.options.onProgress(done, total);
      }
      if (!more) break;
    }
    daily.push(lastEquity);
    // the final point
    const lastClose = tEnd + MINUTE;
    if (h === 0 || hTime[h - 1] !== lastClose) {
      hTime[h] = lastClose;
      hEquity[h] = lastEquity;
      hWallet[h] = this.account.walletF;
      h++;
    }
    return this.finish(input, { tStart, tEnd: lastClose, total, maxDd, exposed, stepsDone, daily, balance: { time: hTime.slice(0, h), equity: hEquity.slice(0, h), wallet: hWallet.slice(0, h) } });
  }

  private limited(ms: number, chunk: () => boolean): boolean {
    try {
      return withTimeLimit(ms, chunk);
    } catch (error) {
      if ((error as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        const r = this.runners.find((x) => x.strategy.source !== 'builtin') ?? this.runners[0];
        throw strategyFailure(r.strategy, 'timeout', error, r.index, r.instance.onKline);
      }
      throw error;
    }
  }

  /** Strategy `s` on its closed kline `idx`: a changed decision is applied at the next 1m open. */
  private decide(s: number, idx: number): void {
    const r = this.runners[s];
    if (!r.step(idx)) {
      this.observer?.decision?.(s, idx, false);
      return;
    }
    const t = r.target;
    if (t !== this.held[s] || !sameStop(r.stopLoss, this.heldSL[s]) || !sameStop(r.takeProfit, this.heldTP[s])) this.pending[s] = 1;
    this.observer?.decision?.(s, idx, this.pending[s] !== 0);
  }

  // ---------------------------------------------------------------------------------------
  // targets → orders
  // ---------------------------------------------------------------------------------------

  /**
   * The position allocated balance of position s now (docs/backtesting.md, account control):
   * asset allocated = base × allocationRatio, position allocated = min(asset × share, max), where
   * base = the available balance with this run's positions' own margin added back (so a position's
   * allocation does not shrink because another one opened first), less `closingCost` (the fee and
   * slippage of the closing orders placed at the same open).
   */
  allocated(s: number, closingCost: Dec): Dec {
    const acc = this.account;
    let base = acc.available().sub(closingCost);
    for (let i = 0; i < this.n; i++) {
      const amt = acc.positionAmt(i);
      if (amt.isZero()) continue;
      if (acc.marginTypeOf(i) === 'ISOLATED') base = base.add(acc.isolatedWallet(i));
      else base = base.add(amt.abs().mul(Dec.fromNumber(acc.marks[i])).div(Dec.fromInt(acc.leverageOf(i))));
    }
    const asset = base.mul(this.allocationRatio);
    let alloc = asset.mul(this.shares[s]);
    const cap = this.caps[s];
    if (cap !== undefined) alloc = alloc.min(cap);
    return alloc.sign() < 0 ? Dec.ZERO : alloc;
  }

  /** The fill price of a market order at `open`: slippage against the taker, on the tick grid (as fills.ts). */
  private fillPrice(s: number, side: 'BUY' | 'SELL', open: number): Dec {
    const tick = this.ticks[s];
    const price = Dec.fromNumber(open);
    if (side === 'SELL') return price.mul(this.slipDown).floorTo(tick);
    const up = price.mul(this.slipUp);
    const down = up.floorTo(tick);
    return down.eq(up) ? down : down.add(tick);
  }

  /**
   * Places the orders that move position s from the target in force to the strategy's, at this
   * open: first the opposite part is closed (reduce-only market), then the rest is opened with
   * qty = allocated × leverage × |change| / (price × (1 + leverage × taker fee rate)), rounded down
   * to the step: the opening fee is reserved inside the allocation, so a 100 % allocation passes
   * Binance's margin check (initial margin + fee ≤ available). A smaller target of the same side
   * reduces the position by the fraction (|old| − |new|) / |old| of its size.
   */
  private apply(s: number, open: number): void {
    this.pending[s] = 0;
    const r = this.runners[s];
    const acc = this.account;
    acc.setMark(s, open);
    const t0 = this.held[s];
    const t1 = r.target;
    this.cancelStops(s);
    this.heldSL[s] = r.stopLoss;
    this.heldTP[s] = r.takeProfit;
    const symbol = this.config.positions[s].symbol;
    const amt = acc.positionAmt(s);
    const step = this.steps[s];
    const submit = (side: 'BUY' | 'SELL', qty: Dec, reduceOnly: boolean, reason: string, heldIfRejected: number) => {
      const req: OrderRequest = { symbol, side, type: 'MARKET', quantity: qty.toString(), reduceOnly: reduceOnly || undefined, tag: reason };
      const res = this.sim.submit(req);
      this.observer?.order?.(s, req, res);
      if ('orderId' in res) {
        this.orders.set(res.orderId, { p: s, type: 'MARKET', reason, heldIfRejected, engineMarket: true });
        this.pendingMarkets[s]++;
      } else {
        this.rejected(s, res.code, res.msg, open, heldIfRejected);
      }
    };
    this.held[s] = t1;
    r.position.target = t1;
    if (t1 !== t0) {
      const flips = t0 !== 0 && (t1 === 0 || Math.sign(t1) !== Math.sign(t0));
      let openPart = 0;
      let closingCost = Dec.ZERO;
      if (flips) {
        if (!amt.isZero()) {
          const side = amt.sign() > 0 ? 'SELL' : 'BUY';
          const px = this.fillPrice(s, side, open);
          const q = amt.abs();
          closingCost = q.mul(px.sub(Dec.fromNumber(open)).abs()).add(q.mul(px).mul(acc.takerFeeRate));
          submit(side, q, true, 'close', t0);
        }
        openPart = Math.abs(t1);
      } else if (Math.abs(t1) < Math.abs(t0)) {
        if (!amt.isZero()) {
          const qty = amt.abs().mul(Dec.fromNumber(Math.abs(t0) - Math.abs(t1))).div(Dec.fromNumber(Math.abs(t0))).floorTo(step);
          submit(amt.sign() > 0 ? 'SELL' : 'BUY', qty, true, 'reduce', t0);
        }
      } else openPart = Math.abs(t1) - Math.abs(t0);
      if (openPart > 0) {
        const side = t1 > 0 ? 'BUY' : 'SELL';
        const px = this.fillPrice(s, side, open);
        const lev = Dec.fromInt(acc.leverageOf(s));
        const qty = this.allocated(s, closingCost).mul(lev).mul(Dec.fromNumber(openPart)).div(px.mul(Dec.ONE.add(lev.mul(acc.takerFeeRate)))).floorTo(step);
        submit(side, qty, false, 'open', flips ? 0 : t0);
      }
    }
    if (this.pendingMarkets[s] === 0) this.placeStops(s, open);
  }

  private cancelStops(s: number): void {
    if (this.slId[s] !== 0) this.sim.cancel(this.slId[s]);
    if (this.tpId[s] !== 0) this.sim.cancel(this.tpId[s]);
    this.slId[s] = 0;
    this.tpId[s] = 0;
  }

  /** The strategy's stop-loss and take-profit as closePosition orders, once the position is there. */
  private placeStops(s: number, price: number): void {
    const amtF = this.account.amtF[s];
    const sl = this.heldSL[s];
    const tp = this.heldTP[s];
    if (amtF === 0 || (sl !== sl && tp !== tp)) return;
    const symbol = this.config.positions[s].symbol;
    const side = amtF > 0 ? 'SELL' : 'BUY';
    const tick = this.rules[s].info.tickSize;
    const place = (type: 'STOP_MARKET' | 'TAKE_PROFIT_MARKET', level: number): number => {
      const stopPrice = Dec.fromNumber(level).floorTo(tick).toString();
      const req: OrderRequest = { symbol, side, type, stopPrice, closePosition: true, tag: type === 'STOP_MARKET' ? 'stopLoss' : 'takeProfit' };
      const res = this.sim.submit(req);
      this.observer?.order?.(s, req, res);
      if ('orderId' in res) {
        this.orders.set(res.orderId, { p: s, type, reason: type === 'STOP_MARKET' ? 'stopLoss' : 'takeProfit', heldIfRejected: this.held[s], engineMarket: false });
        return res.orderId;
      }
      this.rejected(s, res.code, res.msg, price, this.held[s]);
      return 0;
    };
    if (sl === sl) this.slId[s] = place('STOP_MARKET', sl);
    if (tp === tp) this.tpId[s] = place('TAKE_PROFIT_MARKET', tp);
  }

  // ---------------------------------------------------------------------------------------
  // venue events → records and the strategy
  // ---------------------------------------------------------------------------------------

  private tell(s: number, event: StrategyEvent): void {
    const r = this.runners[s];
    const on = r.instance.onEvent;
    if (!on) return;
    try {
      on.call(r.instance, event);
    } catch (error) {
      throw strategyFailure(r.strategy, 'throw', error, r.index, on);
    }
  }

  private rejected(s: number, code: number, msg: string, price: number, heldIfRejected: number): void {
    this.rejections++;
    this.rejectionCodes[code] = (this.rejectionCodes[code] ?? 0) + 1;
    // not retried: the engine acts again when the strategy's decision changes (held keeps the request)
    this.runners[s].position.target = heldIfRejected;
    this.tell(s, { kind: 'rejected', index: this.runners[s].index, price, code, message: msg });
  }

  private onVenue(e: VenueEvent): void {
    switch (e.type) {
      case 'fill': {
        const o = this.orders.get(e.orderId);
        const s = this.account.index(e.fill.symbol);
        this.record(e.fill, o?.type ?? 'MARKET', o?.reason ?? 'order');
        this.orders.delete(e.orderId);
        const price = e.fill.price.toNumber();
        if (o && !o.engineMarket) {
          // a stop or take-profit closed the position: the target is 0 now
          if (e.orderId === this.slId[s]) this.slId[s] = 0;
          if (e.orderId === this.tpId[s]) this.tpId[s] = 0;
          this.flat(s);
          this.tell(s, { kind: o.type === 'STOP_MARKET' ? 'stopLoss' : 'takeProfit', index: this.runners[s].index, price });
        } else if (o) {
          this.tell(s, { kind: 'fill', index: this.runners[s].index, price });
          if (--this.pendingMarkets[s] === 0) this.placeStops(s, price);
        }
        break;
      }
      case 'rejected': {
        const o = this.orders.get(e.orderId);
        this.orders.delete(e.orderId);
        if (!o) break;
        const s = o.p;
        if (e.orderId === this.slId[s]) this.slId[s] = 0;
        if (e.orderId === this.tpId[s]) this.tpId[s] = 0;
        this.rejected(s, e.code, e.msg, this.account.marks[s], o.heldIfRejected);
        if (o.engineMarket && --this.pendingMarkets[s] === 0) this.placeStops(s, this.account.marks[s]);
        break;
      }
      case 'canceled': {
        const o = this.orders.get(e.orderId);
        this.orders.delete(e.orderId);
        if (!o) break;
        if (e.orderId === this.slId[o.p]) this.slId[o.p] = 0;
        if (e.orderId === this.tpId[o.p]) this.tpId[o.p] = 0;
        break;
      }
      case 'liquidation': {
        for (const f of e.fills) {
          this.record(f, 'LIQUIDATION', 'liquidation');
          const s = this.account.index(f.symbol);
          this.slId[s] = 0;
          this.tpId[s] = 0;
          this.pendingMarkets[s] = 0;
          this.flat(s);
          this.tell(s, { kind: 'liquidation', index: this.runners[s].index, price: f.price.toNumber() });
        }
        break;
      }
      case 'funding': {
        this.fundingFees = this.fundingFees.add(e.payment);
        const s = this.account.index(e.symbol);
        this.positionPnl[s] = (this.positionPnl[s] ?? Dec.ZERO).sub(e.payment);
        break;
      }
    }
  }

  private flat(s: number): void {
    this.held[s] = 0;
    this.heldSL[s] = NaN;
    this.heldTP[s] = NaN;
    const pos = this.runners[s].position;
    pos.target = 0;
    pos.stopLoss = NaN;
    pos.takeProfit = NaN;
    pos.entryPrice = NaN;
  }

  /** Records a fill, hashes it, and follows the round trip it belongs to. */
  private record(f: Fill, type: SimOrderType | 'LIQUIDATION', reason: string): void {
    const rec: FillRecord = {
      time: f.time, symbol: f.symbol, side: f.side, type, qty: f.qty.toString(), price: f.price.toString(), fee: f.fee.toString(),
      realizedPnl: f.realizedPnl.toString(), positionAfter: f.positionAfter.toString(), reason,
    };
    if (this.options.keepFills !== false) this.fills.push(rec);
    this.observer?.fill?.(this.account.index(f.symbol), rec);
    this.hash.update(`${rec.time},${rec.symbol},${rec.side},${rec.type},${rec.qty},${rec.price},${rec.fee},${rec.realizedPnl}\n`);
    this.fees = this.fees.add(f.fee);
    const s = this.account.index(f.symbol);
    this.positionPnl[s] = (this.positionPnl[s] ?? Dec.ZERO).add(f.realizedPnl).sub(f.fee);
    const pos = this.runners[s].position;
    pos.entryPrice = f.positionAfter.isZero() ? NaN : this.account.entryF[s];
    const signed = f.side === 'BUY' ? f.qty : f.qty.neg();
    const before = f.positionAfter.sub(signed);
    let qty = f.qty;
    let fee = f.fee;
    let tr = this.openTrades[s];
    if (!before.isZero() && tr) {
      // reducing (and maybe flipping): the closing part belongs to the open trade
      const closing = before.abs().min(qty);
      const share = closing.eq(qty) ? fee : fee.mul(closing).div(qty);
      tr.exitQty = tr.exitQty.add(closing);
      tr.exitValue = tr.exitValue.add(closing.mul(f.price));
      tr.realized = tr.realized.add(f.realizedPnl);
      tr.fees = tr.fees.add(share);
      if (before.sign() === signed.sign()) {
        // adding to the position, not reducing
        tr.exitQty = tr.exitQty.sub(closing);
        tr.exitValue = tr.exitValue.sub(closing.mul(f.price));
        tr.entryQty = tr.entryQty.add(qty);
        tr.entryValue = tr.entryValue.add(qty.mul(f.price));
        tr.maxQty = tr.maxQty.max(f.positionAfter.abs());
        return;
      }
      qty = qty.sub(closing);
      fee = fee.sub(share);
      if (f.positionAfter.isZero() || f.positionAfter.sign() !== before.sign()) {
        this.closeTrade(s, tr, f.time, reason);
        tr = undefined;
      }
      if (qty.isZero()) return;
    }
    if (f.positionAfter.isZero()) return;
    this.openTrades[s] = {
      side: f.positionAfter.sign() > 0 ? 'LONG' : 'SHORT', entryTime: f.time, maxQty: qty, entryQty: qty, entryValue: qty.mul(f.price),
      exitQty: Dec.ZERO, exitValue: Dec.ZERO, realized: Dec.ZERO, fees: fee,
    };
  }

  private closeTrade(s: number, tr: OpenTrade, time: number, reason: string): void {
    const pnl = tr.realized.sub(tr.fees);
    const entry = tr.entryValue.div(tr.entryQty);
    const cost = tr.maxQty.mul(entry);
    this.trades.push({
      symbol: this.config.positions[s].symbol, side: tr.side, entryTime: tr.entryTime, exitTime: time, qty: tr.maxQty.toString(),
      entryPrice: entry.toString(), exitPrice: tr.exitQty.isZero() ? '0' : tr.exitValue.div(tr.exitQty).toString(),
      pnl: pnl.toString(), fees: tr.fees.toString(), returnPct: cost.isZero() ? 0 : pnl.div(cost).toNumber() * 100, exitReason: reason,
    });
    this.openTrades[s] = undefined;
  }

  // ---------------------------------------------------------------------------------------
  // the summary
  // ---------------------------------------------------------------------------------------

  private finish(input: EngineInput, r: { tStart: number; tEnd: number; total: number; maxDd: number; exposed: number; stepsDone: number; daily: number[]; balance: BalanceHistory }): BacktestResult {
    const { config, klines, rules, funding } = input;
    const view = this.account.view();
    const initial = Dec.parse(config.account.initialBalance);
    const final = view.equity;
    const metrics = computeMetrics({
      initial: initial.toNumber(), final: final.toNumber(), from: r.tStart, to: r.tEnd, maxDrawdown: r.maxDd, daily: r.daily, trades: this.trades,
    });
    const bh: Record<string, number> = {};
    const positionPnl: Record<string, string> = {};
    const ruleInfo: BacktestSummary['rules'] = {};
    config.positions.forEach((p, i) => {
      const k = klines[i];
      bh[p.symbol] = k.length > 0 ? (k.close[k.length - 1] / k.open[0] - 1) * 100 : 0;
      const open = view.positions.find((v) => v.symbol === p.symbol);
      positionPnl[p.symbol] = (this.positionPnl[i] ?? Dec.ZERO).add(open ? open.unrealizedPnl : Dec.ZERO).toString();
      const info = rules[i].info;
      ruleInfo[p.symbol] = { source: rules[i].source, tickSize: info.tickSize, stepSize: info.marketStepSize, minQty: info.marketMinQty, minNotional: info.minNotional, maxLeverage: rules[i].brackets[0]?.initialLeverage ?? 0 };
    });
    let expectancy = Dec.ZERO;
    if (this.trades.length > 0) {
      for (const t of this.trades) expectancy = expectancy.add(Dec.parse(t.pnl));
      expectancy = expectancy.div(Dec.fromInt(this.trades.length));
    }
    const summary: BacktestSummary = {
      initialBalance: initial.toString(),
      finalBalance: final.toString(),
      ...metrics,
      expectancy: expectancy.toString(),
      exposurePct: r.stepsDone > 0 ? (r.exposed / r.stepsDone) * 100 : 0,
      trades: this.trades.length,
      fills: this.sim.fillCount,
      fees: this.fees.toString(),
      fundingFees: this.fundingFees.toString(),
      fundingDataMissing: funding.every((f) => !f || f.times.filter((t) => t >= r.tStart && t < r.tEnd).length === 0),
      liquidations: this.account.liquidations,
      ambiguousBars: this.sim.ambiguousBars,
      ...(input.paths ? { intrabarTrades: { klines: input.paths.reduce((a, p) => a + (p?.klines ?? 0), 0), walked: this.sim.tradePathWalks ?? 0 } } : {}),
      rejections: this.rejections,
      rejectionCodes: this.rejectionCodes,
      klines: r.total,
      elapsedMs: Math.round(performance.now() - this.started),
      from: r.tStart,
      to: r.tEnd,
      tradeListHash: this.hash.digest('hex'),
      buyAndHoldReturnPct: bh,
      positionPnl,
      fillModel: FILL_MODEL,
      rules: ruleInfo,
      metricsBasis: 'sharpe and sortino from daily (UTC) equity returns, annualised by sqrt(365); drawdown on 1m closes; cagr over 365.25-day years',
    };
    return { summary, balance: r.balance, trades: this.trades, fills: this.fills };
  }
}

function sameStop(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

