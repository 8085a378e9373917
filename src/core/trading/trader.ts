import { hostname } from 'node:os';
import type { AccountRepository, AccountSnapshot, AutomationState, PositionSnapshot, RiskLimits, StoredAccount, TradeLogEntry } from '../accounts/types.js';
import { TradingEngine, type EngineVenue, type FillRecord, type StrategyResolver } from '../backtest/engine.js';
import { priceReference, type MarketInputs, type SymbolRules } from '../backtest/inputs.js';
import type { KlineColumns } from '../analysis/indicators/index.js';
import { emptyBar } from '../analysis/indicators/index.js';
import type { Clock } from '../clock.js';
import { UserError } from '../errors.js';
import type { FuturesAccount, Rejection } from '../futures/account.js';
import { Dec } from '../futures/decimal.js';
import { FillSimulator, type OrderRequest, type VenueEvent } from '../futures/fills.js';
import type { Lease, LeaseRepository } from '../leases.js';
import type { Logger } from '../logging.js';
import { INTERVAL_MS } from '../market/klines.js';
import { LiveRun } from '../strategy/live.js';
import { RiskManager } from './risk.js';
import type { ActualEngineVenue, ActualVenueFactory } from './venue.js';

/**
 * The trader: one account's loop (docs/trader.md).
 *
 *   stored 1m klines (warm-up) → closed 1m klines from the market data service (gap-filled) →
 *   growable strategy inputs (LiveRun) → TradingEngine.stepMinute → the venue
 *
 * One trader per account: it holds the lease `trader:<id>` while it runs (a second one is refused
 * naming the holder). A virtual account fills on the FillSimulator with the backtester's fill model,
 * so replaying klines through a trader gives a backtest's fills (the same tradeListHash); an actual
 * account's orders go through the order manager (venue.ts). A minute is stepped when every
 * position's kline of that minute is stored (or a later one, or after `minuteGraceMs`), so the
 * positions advance together as in a backtest.
 *
 * It writes the account's snapshot (on each change, at most once a second), a balance point each
 * minute, each fill to the trade log, and publishes each position's chain (last closed kline →
 * indicator/PIP values → target → orders → fills, and why no order was sent) with the lease's
 * heartbeat, where other processes (the TUI) read it. `settings.automation` other than 'on' and
 * `readonly` keep every order from being sent; the kill switch cancels open orders, stops the
 * automation and optionally closes the positions.
 */

/** What the trader needs from market data (the app wires MarketDataService and the bus). */
export interface TraderMarket {
  /** Stored closed 1m klines of `symbol` with open times in [from, to]. */
  storedKlines(symbol: string, from?: number, to?: number): KlineColumns & { length: number };
  /** Keeps the symbol's 1m klines current and gap-filled until the returned function is called. */
  watch(symbol: string): () => void;
  /**
   * Calls `listener(symbol, kline)` whenever closed 1m klines of a symbol were stored: with the
   * kline for a live close (the store is not read again when it follows the last one), without it
   * for a fill of missing klines (read from the store).
   */
  onStored(listener: (symbol: string, kline?: ClosedKline) => void): () => void;
  /**
   * The mark price stream's funding of `symbol`, where the exchange gives it: `listener(time, rate)`
   * with the next funding time and the rate announced for it (Binance's markPriceUpdate T and r).
   * A virtual account settles it at that time when no stored rate covers it.
   */
  watchFunding?(symbol: string, listener: (time: number, rate: string) => void): () => void;
}

export interface TraderDeps {
  accounts: AccountRepository;
  leases: LeaseRepository;
  market: TraderMarket;
  /** Symbol rules (the backtester's: stored exchange data, else the configuration). */
  inputs: MarketInputs;
  strategies: StrategyResolver;
  clock: Clock;
  log: Logger;
  /** Read-only: no order can be sent at all. */
  readonly?: boolean;
  /** Who trades, for people (the lease's label): "atm trade --account main", "atm (TUI)". */
  label: string;
  /** An actual account's venue (the order manager); absent: actual accounts are refused. */
  actualVenue?: ActualVenueFactory;
  /** Strategy klines of warm-up read from the store at start (default 1000). */
  warmupKlines?: number;
  /** How long a minute waits for the other positions' klines before it is stepped without them (default 5 s). */
  minuteGraceMs?: number;
  /** Lease heartbeat and settings poll period (default 1 s). */
  heartbeatMs?: number;
  /** Told of each thing worth a log line (the CLI prints them). */
  onEvent?(event: TraderEvent): void;
}

export interface TraderEvent {
  kind: 'started' | 'warmup' | 'restored' | 'minute' | 'order' | 'rejected' | 'risk' | 'funding' | 'fill' | 'automation' | 'kill' | 'stopped' | 'error';
  account: string;
  time: number;
  text: string;
}

/** One position's live chain, as the AutoTrade page shows it. */
export interface PositionChain {
  symbol: string;
  interval: string;
  strategy: string;
  /** The last closed strategy kline. */
  kline?: { openTime: number; open: number; high: number; low: number; close: number };
  /** Indicator and CAC/PIP values at that kline (null: none yet). */
  values: { name: string; value: number | null }[];
  /** The strategy's decision (−1…+1) and the target in force (what the orders move to). */
  decided: number;
  held: number;
  /** Orders wait for the next open. */
  pending: boolean;
  orders: { time: number; side: string; type: string; qty?: string; stopPrice?: string; reason?: string; status: 'sent' | 'rejected'; code?: number; message?: string }[];
  fills: { time: number; side: string; qty: string; price: string; reason: string }[];
  /** Why no order was sent on the last decision (absent when orders went out). */
  why?: string;
  updatedAt: number;
}

/** What a trader publishes with its lease heartbeat (read by other processes). */
export interface TraderStatus {
  account: string;
  accountId: number;
  startedAt: number;
  lastMinute: number;
  chains: PositionChain[];
}

const MIN = 60_000;
const KEEP = 5;
/** Klines closing this long before the start are history (warm-up), not live minutes. */
const LIVE_SLACK_MS = 90_000;
/** Queued klines stepped per drain (bounds one synchronous burst; the rest follow on the next turn). */
const DRAIN_BUDGET = 100_000;

/** The code of an order the risk manager refused on a virtual account (not a Binance code). */
export const RISK_REFUSAL_CODE = -9001;
/** Funding rates are looked up this far ahead of the last stepped minute. */
const FUNDING_AHEAD_MS = 86_400_000;

export function traderLeaseName(accountId: number): string {
  return `trader:${accountId}`;
}

/** A closed 1m kline as the trader queues it. */
export interface ClosedKline {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  takerBuyVolume: number;
}

export class Trader {
  readonly engine: TradingEngine;
  readonly runs: LiveRun[];
  /** The risk manager of a virtual account (an actual account's is its order manager's). */
  readonly risk: RiskManager;
  /** The open time of the minute being stepped (risk checks use the minute's time); NaN between minutes. */
  private stepping = NaN;
  /** Per position: the funding series last handed to the venue (times and rates joined). */
  private readonly fundingGiven: string[];
  /** Per position: rates announced by the mark price stream, by funding time. */
  private readonly liveFunding: Map<number, string>[];
  private readonly queues: ClosedKline[][];
  /** An actual account's venue (the order manager at the exchange). */
  private actual: ActualEngineVenue | undefined;
  private readonly lastQueued: Float64Array;
  /** Per position: the strategy kline the last stepped minute closed (−1: none). */
  private readonly closedNow: Int32Array;
  private readonly chainState: PositionChain[];
  private readonly unwatch: (() => void)[] = [];
  private readonly offStored: () => void;
  private readonly startedAt: number;
  private liveStarted = false;
  private lastMinute = NaN;
  private graceFor = NaN;
  private cancelGrace: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private cancelSnapshot: (() => void) | undefined;
  private lastSnapshotAt = 0;
  private snapshotDirty = true;
  private automation: AutomationState;
  private killHandled: number;
  private stopped = false;
  private draining = false;
  /** Minutes stepped, fills and orders sent (figures for the log and the bench). */
  minutes = 0;
  fillCount = 0;
  ordersSent = 0;

  private constructor(
    private readonly deps: TraderDeps,
    readonly account: StoredAccount,
    private readonly lease: Lease,
  ) {
    const { settings } = account;
    const config = { account: settings.account, positions: settings.positions };
    const n = config.positions.length;
    if (n === 0) throw new UserError(`account ${account.name} has no positions to trade: configure it first (atm account configure ${account.name} --config <file>)`);
    this.startedAt = deps.clock.now();
    this.automation = settings.automation;
    this.killHandled = settings.kill?.handledAt !== undefined ? settings.kill.at : 0;
    this.runs = [];
    const rules: SymbolRules[] = config.positions.map((p) => {
      const recent = deps.market.storedKlines(p.symbol, this.startedAt - 2000 * MIN);
      return deps.inputs.rules(p.symbol, p.rules, recent.length > 0 ? priceReference(recent) : undefined);
    });
    this.risk = new RiskManager(settings.risk ?? {});
    this.fundingGiven = config.positions.map(() => '');
    this.liveFunding = config.positions.map(() => new Map());
    const make = account.kind === 'virtual' ? undefined : deps.actualVenue?.(account);
    const venue =
      account.kind === 'virtual'
        ? (acc: FuturesAccount, listener: (e: VenueEvent) => void) => this.virtualVenue(acc, listener, settings.account.slippageBps)
        : make
          ? (acc: Parameters<typeof make>[0], listener: Parameters<typeof make>[1]) => (this.actual = make(acc, listener))
          : undefined;
    if (account.kind !== 'virtual' && !venue) throw new UserError(`account ${account.name} is a ${account.kind} account: trading it needs the order manager, which this build does not have yet; trade a virtual account`);
    this.engine = new TradingEngine(
      {
        config,
        rules,
        funding: config.positions.map(() => ({ times: [], rates: [] })), // fed by feedFunding
        runner: (i, strategy, params, cac) => {
          const p = config.positions[i];
          const made = LiveRun.create(strategy, params, p.interval, { symbol: p.symbol, interval: p.interval, cac });
          if (!made.ok) throw made.error;
          this.runs[i] = made.value;
          return made.value.runner;
        },
        venue,
      },
      { strategies: deps.strategies, keepFills: false },
    );
    this.queues = config.positions.map(() => []);
    this.lastQueued = new Float64Array(n).fill(-Infinity);
    this.closedNow = new Int32Array(n).fill(-1);
    this.chainState = config.positions.map((p) => ({
      symbol: p.symbol, interval: p.interval, strategy: p.strategy.name, values: [], decided: 0, held: 0, pending: false, orders: [], fills: [], updatedAt: this.startedAt,
    }));
    this.engine.observer = {
      fill: (s, fill) => this.onFill(s, fill),
      order: (s, req, res) => this.onOrder(s, req, res),
      decision: (s, index, changed) => this.onDecision(s, index, changed),
    };
    this.actual?.setDecisionTime?.((s) => {
      const run = this.runs[s];
      const index = run.runner.index;
      return index >= 0 ? run.columns().openTime[index] : NaN;
    });
    this.applyAutomation();
    this.offStored = deps.market.onStored((symbol, kline) => this.pump(symbol, kline));
  }

  /**
   * Starts trading an account: takes its lease (LeaseHeldError names the holder), builds the engine,
   * warms the strategies up from stored klines and subscribes each position's symbol.
   */
  static start(deps: TraderDeps, idOrName: number | string): Trader {
    const account = deps.accounts.get(idOrName);
    if (!account) throw new UserError(`no account ${typeof idOrName === 'number' ? `#${idOrName}` : idOrName}: see atm account list`);
    const lease = deps.leases.acquire(traderLeaseName(account.id), { label: deps.label });
    let trader: Trader;
    try {
      trader = new Trader(deps, account, lease);
      trader.warmUp();
      trader.restore();
      trader.feedFunding(trader.startedAt - LIVE_SLACK_MS);
    } catch (error) {
      lease.release();
      throw error;
    }
    trader.begin();
    return trader;
  }

  private emit(kind: TraderEvent['kind'], text: string): void {
    this.deps.onEvent?.({ kind, account: this.account.name, time: this.deps.clock.now(), text });
  }

  private get positions() {
    return this.account.settings.positions;
  }

  private warmUp(): void {
    const { clock } = this.deps;
    const count = this.deps.warmupKlines ?? 1000;
    let total = 0;
    this.positions.forEach((p, s) => {
      const span = count * (p.interval === '1M' ? 31 * 86_400_000 : INTERVAL_MS[p.interval]);
      const k = this.deps.market.storedKlines(p.symbol, this.startedAt - span, this.startedAt - LIVE_SLACK_MS);
      this.runs[s].warmUp(k, 0, k.length);
      total += k.length;
      if (k.length > 0) this.lastQueued[s] = k.openTime[k.length - 1];
    });
    this.emit('warmup', `warmed up on ${total} stored 1m klines at ${new Date(clock.now()).toISOString()}`);
  }

  private begin(): void {
    const symbols = [...new Set(this.positions.map((p) => p.symbol))];
    for (const symbol of symbols) this.unwatch.push(this.deps.market.watch(symbol));
    // an actual account: the position the exchange holds is the target in force (no second entry after a restart)
    this.positions.forEach((_, s) => {
      const held = this.actual?.heldAtStart?.(s, this.runs[s].runner.target);
      if (held !== undefined) this.engine.assumeTarget(s, held);
    });
    this.watchFunding();
    this.engine.syncTargets();
    this.heartbeat();
    this.writeSnapshot();
    const what = this.positions.map((p) => `${p.symbol} ${p.interval} ${p.strategy.name}`).join(', ');
    this.emit('started', `trading ${this.account.name} (${this.account.kind}): ${what}; automation ${this.automation}${this.deps.readonly ? ', read-only' : ''}`);
    for (const symbol of symbols) this.pump(symbol);
  }

  // ---- klines in ----

  /**
   * New stored klines of `symbol`: queue them per position, then step the minutes that are ready.
   * `kline`, when given, is the one just stored: queued directly when it follows the last one.
   */
  pump(symbol: string, kline?: ClosedKline): void {
    if (this.stopped) return;
    this.positions.forEach((p, s) => {
      if (p.symbol !== symbol) return;
      if (kline && this.liveStarted && kline.openTime === this.lastQueued[s] + MIN) {
        this.queues[s].push({ openTime: kline.openTime, open: kline.open, high: kline.high, low: kline.low, close: kline.close, volume: kline.volume, takerBuyVolume: kline.takerBuyVolume });
        this.lastQueued[s] = kline.openTime;
        return;
      }
      const from = this.lastQueued[s] === -Infinity ? undefined : this.lastQueued[s] + MIN;
      const k = this.deps.market.storedKlines(symbol, from);
      for (let j = 0; j < k.length; j++) {
        const t = k.openTime[j];
        if (t <= this.lastQueued[s]) continue;
        if (!this.liveStarted && t + MIN <= this.startedAt - LIVE_SLACK_MS) {
          // history stored after the start (the first fill of a new symbol): warm-up, not trading
          this.runs[s].warmUp(k, j, j + 1);
        } else {
          this.queues[s].push({ openTime: t, open: k.open[j], high: k.high[j], low: k.low[j], close: k.close[j], volume: k.volume[j], takerBuyVolume: k.takerBuyVolume[j] });
        }
        this.lastQueued[s] = t;
      }
    });
    this.drain();
  }

  /** Steps every minute whose klines are all there (or whose grace time ran out). */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const n = this.queues.length;
      const bar = emptyBar();
      const m = this.engine.minute;
      for (let budget = DRAIN_BUDGET; budget > 0; budget--) {
        // an actual account: the next minute waits for the fills of the orders just sent (bounded)
        if (this.actual?.busy?.()) {
          this.actual.whenIdle!(() => {
            if (!this.stopped) this.drain();
          });
          return;
        }
        let t = Infinity;
        let waiting = 0;
        for (let s = 0; s < n; s++) {
          const q = this.queues[s];
          if (q.length === 0) waiting++;
          else if (q[0].openTime < t) t = q[0].openTime;
        }
        if (t === Infinity) return;
        if (waiting > 0 && this.graceFor !== t) {
          this.armGrace(t);
          return;
        }
        this.cancelGrace?.();
        this.cancelGrace = undefined;
        for (let s = 0; s < n; s++) {
          const q = this.queues[s];
          const row = m.klines[s];
          m.row[s] = 0;
          if (q.length === 0 || q[0].openTime !== t) {
            row.openTime[0] = NaN;
            this.closedNow[s] = -1;
            continue;
          }
          const b = q.shift()!;
          bar.openTime = b.openTime;
          bar.open = b.open;
          bar.high = b.high;
          bar.low = b.low;
          bar.close = b.close;
          bar.volume = b.volume;
          bar.takerBuyVolume = b.takerBuyVolume;
          row.openTime[0] = t;
          row.open[0] = b.open;
          row.high[0] = b.high;
          row.low[0] = b.low;
          row.close[0] = b.close;
          const idx = this.runs[s].append1m(bar);
          m.closes[s]![0] = idx;
          this.closedNow[s] = idx;
        }
        if (!this.liveStarted) {
          // history stored after the start warmed the strategies up too: move to their decisions now
          this.liveStarted = true;
          this.engine.syncTargets();
        }
        this.step(t);
      }
      // more than a burst queued: the rest on the next turn
      setImmediate(() => this.drain());
    } catch (error) {
      this.fail(error);
    } finally {
      this.draining = false;
    }
  }

  private armGrace(t: number): void {
    if (this.cancelGrace) return;
    this.cancelGrace = this.deps.clock.setTimer(this.deps.minuteGraceMs ?? 5_000, () => {
      this.cancelGrace = undefined;
      this.graceFor = t;
      this.drain();
    });
  }

  private step(t: number): void {
    this.stepping = t;
    try {
      this.engine.stepMinute(t);
    } finally {
      this.stepping = NaN;
    }
    this.minutes++;
    this.lastMinute = t;
    const now = this.deps.clock.now();
    this.positions.forEach((_, s) => {
      const idx = this.closedNow[s];
      if (idx < 0) return;
      const run = this.runs[s];
      const c = this.chainState[s];
      const k = run.columns();
      c.kline = { openTime: k.openTime[idx], open: k.open[idx], high: k.high[idx], low: k.low[idx], close: k.close[idx] };
      c.values = run.valueNames.slice(0, 12).map((name) => {
        const v = run.value(name, idx);
        return { name, value: v === v ? v : null };
      });
      c.updatedAt = now;
    });
    const view = this.engine.account;
    const equity = view.view().equity.toString();
    this.deps.accounts.appendBalance(this.account.id, { time: t + MIN, asset: 'USDT', walletBalance: view.wallet.toString(), marginBalance: equity });
    this.updateRisk(equity, t + MIN);
    this.feedFunding(t);
    this.snapshotDirty = true;
    this.scheduleSnapshot();
    this.emit('minute', `${new Date(t).toISOString().slice(0, 16)} equity ${view.equityFloat().toFixed(2)}`);
  }

  // ---- engine events → bookkeeping ----

  private onDecision(s: number, _index: number, changed: boolean): void {
    const c = this.chainState[s];
    const st = this.engine.positionState(s);
    c.decided = this.runs[s].runner.target;
    c.held = st.target;
    c.pending = st.pending;
    if (!changed) c.why = this.runs[s].runner.changed ? 'the target is already held' : 'the strategy kept its decision (unchanged)';
    else if (!this.engine.ordersEnabled) c.why = this.blockedReason();
    else c.why = undefined;
  }

  private blockedReason(): string {
    if (this.deps.readonly) return 'read-only: no order can be sent';
    return this.automation === 'killed' ? 'stopped by the kill switch' : 'automation is off';
  }

  private onOrder(s: number, req: OrderRequest, res: { orderId: number } | Rejection): void {
    const c = this.chainState[s];
    const now = this.deps.clock.now();
    const rejected = !('orderId' in res);
    c.orders.push({
      time: now, side: req.side, type: req.type, qty: req.quantity, stopPrice: req.stopPrice, reason: req.tag, status: rejected ? 'rejected' : 'sent',
      ...(rejected ? { code: res.code, message: res.msg } : {}),
    });
    if (c.orders.length > KEEP) c.orders.shift();
    c.held = this.engine.positionState(s).target;
    c.pending = false;
    c.why = rejected ? `rejected ${res.code}: ${res.msg}` : undefined;
    c.updatedAt = now;
    if (!rejected) this.ordersSent++;
    this.snapshotDirty = true;
    this.emit(rejected ? 'rejected' : 'order', `${req.symbol} ${req.side} ${req.type} ${req.quantity ?? req.stopPrice ?? ''} (${req.tag ?? ''})${rejected ? ` refused ${res.code} ${res.msg}` : ''}`);
  }

  private onFill(s: number, f: FillRecord): void {
    const c = this.chainState[s];
    c.fills.push({ time: f.time, side: f.side, qty: f.qty, price: f.price, reason: f.reason });
    if (c.fills.length > KEEP) c.fills.shift();
    c.updatedAt = this.deps.clock.now();
    this.fillCount++;
    const entry: TradeLogEntry = {
      time: f.time, symbol: f.symbol, side: f.side, positionSide: 'BOTH', orderType: f.type, price: f.price, quantity: f.qty, fee: f.fee, feeAsset: 'USDT',
      realizedPnl: f.realizedPnl, reason: f.reason,
    };
    this.deps.accounts.appendTrade(this.account.id, entry);
    this.snapshotDirty = true;
    this.emit('fill', `${f.symbol} ${f.side} ${f.qty} @ ${f.price} fee ${f.fee} pnl ${f.realizedPnl} (${f.reason})`);
  }

  // ---- a virtual account: its venue under the risk manager, its restore, its funding ----

  /**
   * A virtual account's venue: the backtester's FillSimulator, each order checked by the risk
   * manager first (settings.risk). A refusal comes back to the engine as a rejection with its reason
   * (RISK_REFUSAL_CODE), so it is logged, shown in the chain, and not retried until the strategy
   * decides again. The kill switch's closing orders are a person's decision: they pass.
   */
  private virtualVenue(account: FuturesAccount, listener: (e: VenueEvent) => void, slippageBps: number): EngineVenue {
    const sim = new FillSimulator(account, { slippageBps }, (e) => {
      if (e.type === 'funding') {
        this.snapshotDirty = true;
        this.emit('funding', `${e.symbol} funding at ${new Date(e.time).toISOString().slice(0, 16)}: rate ${e.rate.toString()}, ${e.payment.sign() > 0 ? 'paid' : 'received'} ${e.payment.abs().toString()} USDT`);
      }
      listener(e);
    });
    return {
      submit: (req) => {
        const now = this.riskNow();
        if (req.tag !== 'kill') {
          const refused = this.riskCheck(account, req, now);
          if (refused) return refused;
        }
        const res = sim.submit(req);
        if ('orderId' in res) this.risk.recordSent(now);
        return res;
      },
      cancel: (id) => sim.cancel(id),
      onKline: (s, openTime, open, high, low, close, path) => sim.onKline(s, openTime, open, high, low, close, path),
      setFunding: (symbol, times, rates) => sim.setFunding(symbol, times, rates),
      get fillCount() {
        return sim.fillCount;
      },
      get ambiguousBars() {
        return sim.ambiguousBars;
      },
      get tradePathWalks() {
        return sim.tradePathWalks;
      },
    };
  }

  private riskNow(): number {
    return this.stepping === this.stepping ? this.stepping : this.deps.clock.now();
  }

  private riskCheck(account: FuturesAccount, req: OrderRequest, now: number): Rejection | undefined {
    const i = account.index(req.symbol);
    const amt = account.positionAmt(i);
    const quantity = req.quantity ?? amt.abs().toString();
    if (Dec.parse(quantity).isZero()) return undefined;
    const mark = account.marks[i] > 0 ? Dec.fromNumber(account.marks[i]).toString() : '0';
    const decision = this.risk.check(
      // the price band applies to limit prices; a stop may rightly lie far from the mark
      { symbol: req.symbol, side: req.side, quantity, price: req.type === 'LIMIT' ? req.price : undefined, reduceOnly: req.reduceOnly === true || req.closePosition === true },
      { now, markPrice: mark, positionAmt: amt.toString(), equity: equityOf(account).toString() },
    );
    if (decision.ok) return undefined;
    const msg = `risk ${decision.rule}: ${decision.reason}`;
    this.deps.log.warn({ component: 'trader', account: this.account.name, symbol: req.symbol, rule: decision.rule }, msg);
    return { code: RISK_REFUSAL_CODE, msg };
  }

  /** Feeds the equity at a minute's close to the risk manager; a change of state is logged and stored. */
  private updateRisk(equity: string, time: number): void {
    const before = this.risk.status(time);
    const state = this.risk.updateEquity(equity, time);
    if (state !== before.state || this.risk.status(time).reason !== before.reason) {
      const after = this.risk.status(time);
      this.snapshotDirty = true;
      if (state !== before.state) {
        const text = `risk ${before.state} → ${state}${after.reason ? `: ${after.reason}` : ''}`;
        this.deps.log.warn({ component: 'trader', account: this.account.name, risk: state }, text);
        this.deps.accounts.audit?.(this.account.id, 'risk', { from: before.state, to: state, reason: after.reason, time });
        this.emit('risk', text);
      }
    }
  }

  private riskFields(): Pick<AccountSnapshot, 'risk' | 'riskReason' | 'riskMemory' | 'riskLimits'> {
    if (this.account.kind !== 'virtual') {
      const status = this.actual?.riskStatus?.();
      return status ? { risk: status.state, ...(status.reason ? { riskReason: status.reason } : {}) } : { risk: 'ACTIVE' };
    }
    const st = this.risk.status(this.lastMinute === this.lastMinute ? this.lastMinute + MIN : this.deps.clock.now());
    return { risk: st.state, ...(st.reason ? { riskReason: st.reason } : {}), riskMemory: this.risk.memory(), riskLimits: this.risk.limits };
  }

  /**
   * A virtual account that traded before continues from its last snapshot: the wallet, the
   * positions (amount, entry, leverage, margin type, isolated margin, mark), the targets in force
   * (so the strategies' current decisions are not entered again) and the risk manager's memory.
   * Not restored: resting orders (a virtual account's engine places only market orders and the
   * strategy's stops, which are placed again at the next open). Actual accounts are reconciled with
   * the exchange instead.
   */
  private restore(): void {
    if (this.account.kind !== 'virtual') return;
    const snap = this.deps.accounts.snapshot(this.account.id);
    if (!snap) return;
    if (snap.riskMemory) {
      this.risk.restore(snap.riskMemory);
      // a person changed the limits since (atm account risk): that lifts a drawdown halt
      if (snap.riskLimits && !sameLimits(snap.riskLimits, this.risk.limits) && this.risk.status(this.deps.clock.now()).reason?.startsWith('drawdown')) this.risk.resume();
    }
    const traded = snap.positions.length > 0 || this.deps.accounts.trades(this.account.id, { limit: 1 }).length > 0;
    if (!traded) return;
    const symbols = new Set(this.positions.map((p) => p.symbol));
    const stray = snap.positions.find((p) => !symbols.has(p.symbol));
    if (stray) throw new UserError(`account ${this.account.name} holds a ${stray.symbol} position (${stray.amount}) that its configuration no longer trades: configure ${stray.symbol} again to continue it`);
    try {
      this.engine.account.restore({
        wallet: snap.walletBalance,
        positions: snap.positions.map((p) => ({ symbol: p.symbol, amount: p.amount, entryPrice: p.entryPrice, leverage: p.leverage, marginType: p.marginType, isolatedWallet: p.isolatedWallet, markPrice: p.markPrice })),
      });
    } catch (error) {
      throw new UserError(`account ${this.account.name}: its last snapshot cannot be restored: ${(error as Error).message}`);
    }
    const targets = snap.targets && snap.targets.length === this.positions.length
      ? snap.targets
      : this.positions.map((p) => snap.positions.find((x) => x.symbol === p.symbol)?.target ?? 0);
    this.engine.restoreTargets(targets);
    this.positions.forEach((_, s) => (this.chainState[s].held = this.engine.positionState(s).target));
    const held = snap.positions.map((p) => `${p.symbol} ${p.amount} @ ${p.entryPrice}`).join(', ');
    this.emit('restored', `restored from the snapshot of ${new Date(snap.time).toISOString()}: wallet ${snap.walletBalance} USDT${held ? `, ${held}` : ', no position'}; risk ${this.risk.status(this.deps.clock.now()).state}`);
  }

  /**
   * Hands the venue each position's funding after minute `after` (settled at the first open at or
   * after its time, as in a backtest): the stored rates (app.funding), looked up a day ahead, and for
   * times no stored rate covers, the last rate the mark price stream announced. Called at start and
   * after each minute; the venue is told only when the series changed.
   */
  private feedFunding(after: number): void {
    this.positions.forEach((p, s) => {
      const f = this.deps.inputs.funding(p.symbol, after + 1, after + FUNDING_AHEAD_MS);
      const byTime = new Map<number, string>();
      for (let k = 0; k < f.times.length; k++) if (f.times[k] > after) byTime.set(f.times[k], f.rates[k]);
      const live = this.liveFunding[s];
      for (const [time, rate] of live) {
        if (time <= after) live.delete(time);
        else if (!byTime.has(time)) byTime.set(time, rate);
      }
      const times = [...byTime.keys()].sort((a, b) => a - b);
      const rates = times.map((t) => byTime.get(t)!);
      const key = times.map((t, k) => `${t}:${rates[k]}`).join(',');
      if (key === this.fundingGiven[s]) return;
      this.fundingGiven[s] = key;
      this.engine.setFunding(s, times, rates);
    });
  }

  /** Subscribes the mark price stream's funding of each traded symbol (where the market gives it). */
  private watchFunding(): void {
    const watch = this.deps.market.watchFunding;
    if (!watch) return;
    for (const symbol of new Set(this.positions.map((p) => p.symbol))) {
      this.unwatch.push(
        watch.call(this.deps.market, symbol, (time, rate) => {
          if (this.stopped || !Number.isFinite(time) || !/^-?\d+(\.\d+)?$/.test(rate)) return;
          this.positions.forEach((p, s) => {
            if (p.symbol !== symbol) return;
            const map = this.liveFunding[s];
            if (map.size > 16 && !map.has(time)) map.delete(map.keys().next().value as number);
            map.set(time, rate);
          });
        }),
      );
    }
  }

  // ---- automation and the kill switch ----

  private applyAutomation(): void {
    this.engine.ordersEnabled = this.automation === 'on' && !this.deps.readonly;
    this.actual?.setAutomation?.(this.deps.readonly ? 'off' : this.automation);
  }

  /**
   * The kill switch: cancels every open order, turns the automation to 'killed' (stored, so a
   * restart does not resume) and, with `closePositions`, closes every position with reduce-only
   * market orders at the next open. Read-only processes cannot close positions.
   */
  kill(options: { closePositions: boolean; requestedAt?: number }): { cancelled: number; closing: number } {
    // an actual account: every regular and conditional order is cancelled at the exchange (killSwitch)
    void this.actual?.kill?.({ closePositions: options.closePositions, reason: `kill switch${options.closePositions ? ', closing positions' : ''}` });
    const cancelled = this.engine.cancelAll();
    let closing = 0;
    if (options.closePositions && !this.deps.readonly) closing = this.engine.closePositions();
    this.automation = 'killed';
    this.applyAutomation();
    const now = this.deps.clock.now();
    const stored = this.deps.accounts.get(this.account.id);
    const at = options.requestedAt ?? now;
    if (stored) this.deps.accounts.updateSettings(this.account.id, { ...stored.settings, automation: 'killed', kill: { at, closePositions: options.closePositions, handledAt: now } });
    this.killHandled = at;
    for (const c of this.chainState) c.why = 'stopped by the kill switch';
    this.snapshotDirty = true;
    this.writeSnapshot();
    this.emit('kill', `kill switch: ${cancelled} open orders cancelled${options.closePositions ? `, ${closing} positions closing at the next open` : ''}; automation killed`);
    return { cancelled, closing };
  }

  /** Reads the stored settings: automation turned on/off, or a kill requested by another process. */
  private pollSettings(): void {
    const stored = this.deps.accounts.get(this.account.id);
    if (!stored) return;
    const kill = stored.settings.kill;
    if (kill && kill.at > this.killHandled && kill.handledAt === undefined) {
      this.kill({ closePositions: kill.closePositions, requestedAt: kill.at });
      return;
    }
    if (this.account.kind === 'virtual' && !sameLimits(stored.settings.risk ?? {}, this.risk.limits)) {
      // new limits (atm account risk, the Accounts page): they apply from now; a drawdown halt is lifted
      this.risk.limits = stored.settings.risk ?? {};
      this.risk.resume();
      this.snapshotDirty = true;
      this.emit('risk', `risk limits changed: ${Object.entries(this.risk.limits).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}; a drawdown halt is lifted`);
    }
    if (stored.settings.automation !== this.automation) {
      this.automation = stored.settings.automation;
      this.applyAutomation();
      if (this.engine.ordersEnabled) this.engine.syncTargets();
      this.snapshotDirty = true;
      this.emit('automation', `automation ${this.automation}`);
    }
  }

  // ---- snapshots and the heartbeat ----

  private heartbeat(): void {
    if (this.stopped) return;
    try {
      this.pollSettings();
      if (!this.lease.heartbeat(this.status())) {
        this.fail(new UserError(`the lease of account ${this.account.name} was taken over by another process; this trader stops`));
        return;
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    this.cancelHeartbeat = this.deps.clock.setTimer(this.deps.heartbeatMs ?? 1_000, () => this.heartbeat());
  }

  /** What other processes read: the chains, with the account and the last minute. */
  status(): TraderStatus {
    return { account: this.account.name, accountId: this.account.id, startedAt: this.startedAt, lastMinute: this.lastMinute, chains: this.chains() };
  }

  chains(): PositionChain[] {
    return this.chainState.map((c) => ({ ...c, values: [...c.values], orders: [...c.orders], fills: [...c.fills] }));
  }

  private scheduleSnapshot(): void {
    if (this.cancelSnapshot || this.stopped) return;
    const wait = Math.max(0, this.lastSnapshotAt + 1_000 - this.deps.clock.now());
    if (wait === 0) {
      this.writeSnapshot();
      return;
    }
    this.cancelSnapshot = this.deps.clock.setTimer(wait, () => {
      this.cancelSnapshot = undefined;
      this.writeSnapshot();
    });
  }

  /** The account as it is now (what is stored and what the pages show). */
  snapshot(): AccountSnapshot {
    const acc = this.engine.account;
    const view = acc.view();
    const positions: PositionSnapshot[] = view.positions
      .filter((p) => !p.amt.isZero())
      .map((p) => {
        const s = acc.index(p.symbol);
        return {
          symbol: p.symbol, amount: p.amt.toString(), entryPrice: p.entry.toString(), markPrice: p.mark.toString(), unrealizedPnl: p.unrealizedPnl.toString(),
          leverage: p.leverage, marginType: p.marginType, liquidationPrice: p.liquidationPrice?.toString() ?? '0', target: this.engine.positionState(s).target, reason: this.chainState[s].why,
          ...(p.marginType === 'ISOLATED' ? { isolatedWallet: p.isolatedWallet.toString() } : {}),
        };
      });
    return {
      time: this.deps.clock.now(), walletBalance: view.wallet.toString(), availableBalance: view.available.toString(), marginBalance: view.equity.toString(),
      unrealizedPnl: view.unrealizedPnl.toString(), positions, openOrders: this.engine.openOrderCount, ...this.riskFields(), automation: this.automation,
      trader: this.stopped ? undefined : { pid: process.pid, host: hostname(), label: this.deps.label },
      targets: this.positions.map((_, s) => this.engine.positionState(s).target),
    };
  }

  private writeSnapshot(): void {
    if (!this.snapshotDirty) return;
    this.snapshotDirty = false;
    this.lastSnapshotAt = this.deps.clock.now();
    this.deps.accounts.saveSnapshot(this.account.id, this.snapshot());
  }

  // ---- stop ----

  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.deps.log.error({ component: 'trader', account: this.account.name, err: error instanceof Error ? error.stack : error }, message);
    this.emit('error', message);
    this.stopWith(error);
  }

  private failure: unknown;
  private readonly stopListeners: ((error?: unknown) => void)[] = [];

  /** Calls `listener` once the trader stopped (with the error that stopped it, if any). */
  onStop(listener: (error?: unknown) => void): void {
    if (this.stopped) listener(this.failure);
    else this.stopListeners.push(listener);
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Stops: unsubscribes, writes the final snapshot, releases the lease (idempotent). */
  stop(): void {
    this.stopWith(undefined);
  }

  private stopWith(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = error;
    this.offStored();
    for (const u of this.unwatch) u();
    this.cancelGrace?.();
    this.cancelHeartbeat?.();
    this.cancelSnapshot?.();
    this.snapshotDirty = true;
    try {
      this.writeSnapshot();
    } finally {
      this.lease.release();
    }
    this.emit('stopped', `stopped trading ${this.account.name} after ${this.minutes} minutes, ${this.ordersSent} orders, ${this.fillCount} fills`);
    for (const l of this.stopListeners.splice(0)) l(error);
  }
}

/** Wallet + unrealised PnL at the marks, exact (what view().equity gives, without the per-position figures). */
function equityOf(account: FuturesAccount): Dec {
  let equity = account.wallet;
  for (let i = 0; i < account.amtF.length; i++) {
    if (account.amtF[i] === 0) continue;
    equity = equity.add(account.positionAmt(i).mul(Dec.fromNumber(account.marks[i]).sub(account.entryPrice(i))));
  }
  return equity;
}

function sameLimits(a: RiskLimits, b: RiskLimits): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof RiskLimits>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}
