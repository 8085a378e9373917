import type { ApiCredentials } from '../accounts/secrets.js';
import type { AutomationState, StoredAccount } from '../accounts/types.js';
import type { Clock } from '../clock.js';
import type { RiskStatus } from './risk.js';
import { UserError } from '../errors.js';
import type { ExchangePort } from '../exchange/port.js';
import { rejection, type FuturesAccount, type Rejection } from '../futures/account.js';
import { Dec } from '../futures/decimal.js';
import type { OrderRequest, VenueEvent } from '../futures/fills.js';
import type { LeaseRepository } from '../leases.js';
import { LeaseHeldError } from '../leases.js';
import type { Logger } from '../logging.js';
import type { OrderPurpose } from './clientIds.js';
import type { JournalOrder, OrderIntent, OrderJournal } from './journal.js';
import { killSwitch } from './killSwitch.js';
import { OrderManager, type OrderEvent, type OrderManagerOptions, type SubmitResult } from './orders.js';
import { RiskManager } from './risk.js';
import { traderLeaseName } from './trader.js';
import type { ActualEngineVenue } from './venue.js';

/**
 * An actual account's venue: the trading engine's orders go to the exchange through the order
 * manager (docs/trading.md, "Actual accounts").
 *
 * Opening a session (before the trader starts): the account's credentials are decrypted in memory
 * with the passphrase, an exchange port is connected on the account's venue with them (binance or
 * testnet endpoints from the configuration; the local exchange in `exchange.mode: sim`), the order
 * manager reads the filters, subscribes to the user data stream and reconciles — before any order —
 * and the leverage of each position's symbol is set as configured. Then the engine's
 * FuturesAccount is restated from the exchange (wallet, positions, marks).
 *
 * The venue (`ExchangeVenue`): `submit` answers at once with a local id; the order is journaled and
 * sent in the background under the deterministic client id of its decision (account, position,
 * the decision kline's open time, the order's sequence in the decision and its purpose), so a
 * restarted trader taking the same decision sends nothing new. Fills, rejections and cancellations
 * come back from the order manager's events as VenueEvents with that local id; after each fill,
 * position change or reconciliation the account is restated from the exchange (positionRisk and
 * balances), so the engine allocates from the real wallet. Read-only sends nothing; automation
 * other than `on` is mirrored to the manager (which refuses automated orders); the kill switch
 * runs `killSwitch()` (regular and conditional orders cancelled at the exchange) and the engine's
 * closing orders pass as reduce-only kill orders.
 */

/** How the core gets an exchange port for one actual account (the composition root implements it). */
export interface AccountExchangeConnector {
  /** Connects a port on the account's venue with its credentials; throws (with the venue's reason) when it cannot. */
  connect(account: StoredAccount, credentials: ApiCredentials): Promise<ExchangePort>;
}

export interface ActualAccountsDeps {
  connector: AccountExchangeConnector;
  journal: OrderJournal | undefined;
  leases: LeaseRepository | undefined;
  /** Decrypts the account's stored credentials (the account service's secrets). */
  credentials(account: StoredAccount, passphrase: string): ApiCredentials;
  clock: Clock;
  log: Logger;
  readonly: boolean;
  /** Order manager settings (tests shorten its waits). */
  manager?: Partial<Pick<OrderManagerOptions, 'unknownQueryDelaysMs' | 'maxResends' | 'limitMaxAgeMs' | 'agingIntervalMs'>>;
}

export interface OpenOptions {
  /** The passphrase that opens the stored secret (ATM_PASSPHRASE or a terminal prompt); asked only for actual accounts. */
  passphrase?: () => Promise<string>;
}

/** Opens the sessions of actual accounts (`TradingService` calls it before starting their traders). */
export class ActualAccounts {
  constructor(private readonly deps: ActualAccountsDeps) {}

  async open(account: StoredAccount, options: OpenOptions): Promise<ActualAccountSession> {
    const { deps } = this;
    if (!deps.journal) throw new UserError('the order journal is not available in this build: an actual account cannot be traded');
    // one trader per account: nothing is read or corrected while another process trades it
    const holder = deps.leases?.holder(traderLeaseName(account.id));
    if (holder) throw new LeaseHeldError(holder);
    if (!account.credentials.stored) throw new UserError(`account "${account.name}" is not activated: atm account activate ${account.name}`);
    if (!options.passphrase) throw new UserError(`account "${account.name}" needs its passphrase to trade (terminal or ATM_PASSPHRASE)`);
    const credentials = deps.credentials(account, await options.passphrase());
    let port: ExchangePort;
    try {
      port = await deps.connector.connect(account, credentials);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`account "${account.name}": cannot connect to ${account.kind}: ${(error as Error)?.message ?? String(error)}`);
    }
    const session = new ActualAccountSession(deps, account, port);
    try {
      await session.start();
    } catch (error) {
      await session.close();
      if (error instanceof UserError) throw error;
      throw new UserError(`account "${account.name}" on ${port.venue}: the start failed: ${(error as Error)?.message ?? String(error)}`);
    }
    return session;
  }
}

interface ExchangeState {
  wallet: Dec;
  positions: Map<string, { amt: Dec; entry: Dec; mark: number; isolatedWallet: Dec }>;
}

/** One actual account's connection: its exchange port and order manager, shared by its venue. */
export class ActualAccountSession {
  readonly manager: OrderManager;
  private state: ExchangeState | undefined;
  private closed = false;

  constructor(
    private readonly deps: ActualAccountsDeps,
    readonly account: StoredAccount,
    readonly port: ExchangePort,
  ) {
    this.manager = new OrderManager({
      accountId: account.id, port, journal: deps.journal!, clock: deps.clock, risk: new RiskManager({ ...account.settings.risk }),
      ...deps.manager,
    });
  }

  get log(): Logger {
    return this.deps.log;
  }

  get readonly(): boolean {
    return this.deps.readonly;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  /** Reconciles (before any order), sets the configured leverage, reads the wallet and positions. */
  async start(): Promise<void> {
    const { account, manager } = this;
    manager.setAutomation(this.deps.readonly ? 'off' : account.settings.automation, this.deps.readonly ? 'read-only' : 'as stored');
    const report = await manager.start();
    this.deps.log.info(
      { component: 'trader', account: account.name, venue: this.port.venue, report },
      `${account.name}: reconciled with ${this.port.venue}: ${report.openOrders} open orders, ${report.updated} corrected, ${report.adopted} adopted, ${report.lost} lost, equity ${report.equity}`,
    );
    if (!this.deps.readonly) {
      for (const p of account.settings.positions) {
        try {
          await this.port.setLeverage(p.symbol, p.leverage);
        } catch (error) {
          this.deps.log.warn({ component: 'trader', account: account.name, symbol: p.symbol }, `${p.symbol}: leverage ${p.leverage} not set: ${(error as Error).message}`);
        }
      }
    }
    this.state = await this.read();
  }

  /** The wallet and the one-way positions as the exchange reports them now. */
  async read(): Promise<ExchangeState> {
    const [risks, balances] = await Promise.all([this.port.positionRisk(), this.port.balances()]);
    const usdt = balances.find((b) => b.asset === 'USDT');
    const positions: ExchangeState['positions'] = new Map();
    for (const r of risks) {
      if (r.positionSide !== 'BOTH') continue;
      positions.set(r.symbol, { amt: Dec.parse(r.positionAmt), entry: Dec.parse(r.entryPrice), mark: Number(r.markPrice), isolatedWallet: Dec.parse(r.isolatedWallet || '0') });
    }
    return { wallet: Dec.parse(usdt?.balance ?? '0'), positions };
  }

  /** The state read at start (for the venue's first restatement). */
  get initialState(): ExchangeState | undefined {
    return this.state;
  }

  private active: ExchangeVenue | undefined;

  /** The venue the trader's engine uses (one per session). */
  venue(engineAccount: FuturesAccount, listener: (e: VenueEvent) => void): ExchangeVenue {
    this.active?.detach();
    this.active = new ExchangeVenue(this, engineAccount, listener);
    return this.active;
  }

  /**
   * Stops the order manager (requests in flight end; orders stay on the exchange), restates the
   * engine's account from a last read of the exchange and calls `final` (the trader's last
   * snapshot), then closes the port.
   */
  async close(final?: () => void): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.manager.stop();
      if (final && this.active) {
        try {
          this.active.restate(await this.read());
          final();
        } catch (error) {
          this.deps.log.warn({ component: 'trader', account: this.account.name }, `the last state could not be read from the exchange: ${(error as Error).message}`);
        }
      }
    } finally {
      this.active?.detach();
      await this.port.close().catch(() => undefined);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

interface VenueOrder {
  clientId: string;
  tag?: string;
  /** A rejection or cancellation was told to the engine: nothing more about it. */
  done: boolean;
}

const PURPOSE_BY_TAG: Record<string, OrderPurpose> = { open: 'entry', close: 'exit', reduce: 'adjust', stopLoss: 'stop', takeProfit: 'take', kill: 'kill' };
/** Restates from the exchange at most this often on klines (fills and position changes restate at once). */
const REFRESH_EVERY_MS = 30_000;
const NOT_SENT = -1;
/** How long the trader waits for the fills of MARKET orders before stepping the next minute (an unknown outcome does not stop it). */
const IDLE_WAIT_MS = 10_000;

/** The EngineVenue of an actual account (see the top of this file). */
export class ExchangeVenue implements ActualEngineVenue {
  fillCount = 0;
  readonly ambiguousBars = 0;
  private nextId = 1;
  private readonly orders = new Map<number, VenueOrder>();
  private readonly byClient = new Map<string, number>();
  private readonly sequences = new Map<string, number>();
  private readonly lastKline: Float64Array;
  private decisionTime: ((s: number) => number) | undefined;
  private killing: Promise<unknown> | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private lastRefresh = 0;
  private readonly off: () => void;
  /** MARKET orders sent whose fills have not all come back: local id → quantity still to fill. */
  private readonly inFlight = new Map<number, Dec>();
  private idleWaiter: { fn: () => void; cancel: () => void } | undefined;

  constructor(
    private readonly session: ActualAccountSession,
    private readonly account: FuturesAccount,
    private readonly listener: (e: VenueEvent) => void,
  ) {
    this.lastKline = new Float64Array(account.symbols.length).fill(NaN);
    if (session.initialState) this.restate(session.initialState);
    this.lastRefresh = session.clock.now();
    this.off = session.manager.on((e) => this.onOrderEvent(e));
  }

  // ---- hooks the trader calls ----

  /** The open time of the strategy kline position s decided on (the client id's kline). */
  setDecisionTime(fn: (s: number) => number): void {
    this.decisionTime = fn;
  }

  /**
   * The target to assume held at start for position s, from the exchange's position: none when
   * flat, the strategy's decision when the position has its side, else a full position of its side
   * (so the engine closes it first instead of adding to it).
   */
  heldAtStart(s: number, decided: number): number | undefined {
    const amt = this.account.positionAmt(s);
    if (amt.isZero()) return undefined;
    return Math.sign(decided) === amt.sign() ? decided : amt.sign();
  }

  setAutomation(state: AutomationState): void {
    this.session.manager.setAutomation(this.session.readonly ? 'off' : state, 'trader');
  }

  /** The order manager's risk state (ACTIVE, REDUCING, HALTED with the reason), for the snapshot. */
  riskStatus(): RiskStatus {
    return this.session.manager.risk.status(this.session.clock.now());
  }

  /** The kill switch: cancels the account's regular and conditional orders at the exchange (closing goes through `submit`, tag 'kill'). */
  kill(options: { closePositions: boolean; reason?: string }): Promise<unknown> {
    const { manager } = this.session;
    const symbols = [...new Set([...this.account.symbols, ...Object.keys(manager.positions()), ...manager.openOrders().map((o) => o.symbol)])];
    const work = killSwitch(manager, { symbols, closePositions: false, reason: options.reason ?? 'kill switch' })
      .then((report) => {
        this.session.log.warn({ component: 'trader', account: this.session.account.name, report }, `kill switch at ${this.session.port.venue}: ${report.canceled.length} cancel calls, ${report.errors.length} errors`);
        return report;
      })
      .catch((error: Error) => this.session.log.error({ component: 'trader', account: this.session.account.name }, `kill switch failed: ${error.message}`));
    this.killing = work;
    return work;
  }

  /** MARKET orders are on their way (the next minute's decision would size from a position not yet known). */
  busy(): boolean {
    return this.inFlight.size > 0 && !this.session.isClosed;
  }

  /** Calls `fn` once no MARKET order is in flight, or after `timeoutMs` (an order whose outcome stays unknown). */
  whenIdle(fn: () => void, timeoutMs = IDLE_WAIT_MS): void {
    this.idleWaiter?.cancel();
    const cancel = this.session.clock.setTimer(timeoutMs, () => this.wake(), { background: true });
    this.idleWaiter = { fn, cancel };
    if (!this.busy()) this.wake();
  }

  private wake(): void {
    const w = this.idleWaiter;
    if (!w) return;
    this.idleWaiter = undefined;
    w.cancel();
    w.fn();
  }

  private landed(id: number, qty?: Dec): void {
    const left = this.inFlight.get(id);
    if (left === undefined) return;
    const rest = qty ? left.sub(qty) : Dec.ZERO;
    if (rest.sign() > 0) this.inFlight.set(id, rest);
    else this.inFlight.delete(id);
    if (this.inFlight.size === 0) this.wake();
  }

  // ---- EngineVenue ----

  submit(req: OrderRequest): { orderId: number } | Rejection {
    const { session } = this;
    if (session.isClosed) return rejection(NOT_SENT, 'the order manager is stopped');
    if (session.readonly) return rejection(NOT_SENT, 'read-only: no order is sent');
    const s = this.account.index(req.symbol);
    const purpose = PURPOSE_BY_TAG[req.tag ?? ''] ?? 'adjust';
    const openTime = this.keyTime(s, purpose);
    const seqKey = `${s}:${openTime}`;
    const sequence = this.sequences.get(seqKey) ?? 0;
    this.sequences.set(seqKey, sequence + 1);
    if (this.sequences.size > 256) this.sequences.delete(this.sequences.keys().next().value!);
    const algo = req.type === 'STOP_MARKET' || req.type === 'TAKE_PROFIT_MARKET';
    const intent: OrderIntent = {
      symbol: req.symbol, side: req.side,
      type: algo ? (req.type as 'STOP_MARKET' | 'TAKE_PROFIT_MARKET') : req.type === 'LIMIT' ? (req.postOnly ? 'POST_ONLY' : 'LIMIT') : 'MARKET',
      quantity: req.closePosition ? undefined : req.quantity, price: req.type === 'LIMIT' ? req.price : undefined,
      triggerPrice: algo ? req.stopPrice : undefined, workingType: algo ? 'CONTRACT_PRICE' : undefined,
      reduceOnly: req.reduceOnly, closePosition: req.closePosition,
      positionIndex: s, decision: { openTime, sequence, purpose }, reason: req.tag,
    };
    let clientId: string;
    try {
      clientId = session.manager.clientIdFor(intent);
    } catch (error) {
      return rejection(NOT_SENT, (error as Error).message);
    }
    const id = this.nextId++;
    this.orders.set(id, { clientId, tag: req.tag, done: false });
    this.byClient.set(clientId, id);
    if (req.type === 'MARKET' && req.quantity !== undefined) this.inFlight.set(id, Dec.parse(req.quantity));
    const send = () => session.manager.submit(intent, { override: purpose === 'kill' });
    const sent = purpose === 'kill' && this.killing ? this.killing.then(send) : send();
    sent.then(
      (result) => this.onSubmitted(id, result),
      (error: Error) => this.told(id, { type: 'rejected', orderId: id, tag: req.tag, code: NOT_SENT, msg: `not sent: ${error.message}` }),
    );
    return { orderId: id };
  }

  cancel(orderId: number): boolean {
    const o = this.orders.get(orderId);
    if (!o || o.done) return false;
    // during the kill switch every order of the account is cancelled at the exchange at once
    if (this.killing) return true;
    this.session.manager.cancel(o.clientId, 'cancelled by the engine').catch((error: Error) =>
      this.session.log.warn({ component: 'trader', account: this.session.account.name, clientId: o.clientId }, `cancel failed: ${error.message}`),
    );
    return true;
  }

  onKline(s: number, openTime: number, _open: number, _high: number, _low: number, close: number): void {
    this.lastKline[s] = openTime;
    if (this.account.amtF[s] !== 0) this.account.setMark(s, close);
    if (this.session.clock.now() - this.lastRefresh >= REFRESH_EVERY_MS) this.refresh();
  }

  /** Stops listening to the order manager (the session closes the manager). */
  detach(): void {
    this.off();
    this.idleWaiter?.cancel();
    this.idleWaiter = undefined;
  }

  // ---- the order manager's events → the engine ----

  /** The decision kline of an order of position s: the strategy's, else the minute the order goes at. */
  private keyTime(s: number, purpose: OrderPurpose): number {
    if (purpose === 'kill') return Math.floor(this.session.clock.now() / 60_000) * 60_000;
    const t = this.decisionTime?.(s);
    if (t !== undefined && Number.isFinite(t) && t >= 0) return t;
    const last = this.lastKline[s];
    return Number.isFinite(last) ? last + 60_000 : Math.floor(this.session.clock.now() / 60_000) * 60_000;
  }

  private onSubmitted(id: number, result: SubmitResult): void {
    const o = this.orders.get(id);
    if (!o || o.done) return;
    if (result.status === 'refused') {
      const code = /^(-\d+) /.exec(result.reason)?.[1];
      this.told(id, { type: 'rejected', orderId: id, tag: o.tag, code: code ? Number(code) : NOT_SENT, msg: `${result.rule}: ${result.reason}` });
      return;
    }
    const order = result.order;
    if (result.status === 'existing' && order.state === 'FILLED') {
      // sent (and filled) before a restart: its fills are in the journal and the account restated from the exchange
      this.told(id, { type: 'canceled', orderId: id, tag: o.tag, reason: 'already filled before a restart' });
      return;
    }
    this.settle(id, order);
  }

  /** Tells the engine what a final state means (fills come as their own events). */
  private settle(id: number, order: JournalOrder): void {
    const o = this.orders.get(id);
    if (!o || o.done) return;
    switch (order.state) {
      case 'REJECTED':
        this.told(id, { type: 'rejected', orderId: id, tag: o.tag, code: errorCode(order.error), msg: order.error ?? 'rejected' });
        break;
      case 'LOST':
        this.told(id, { type: 'rejected', orderId: id, tag: o.tag, code: NOT_SENT, msg: 'the order never reached the exchange' });
        break;
      case 'CANCELED':
      case 'EXPIRED':
        if (Dec.parse(order.executedQty).isZero() || order.sent.kind === 'algo') this.told(id, { type: 'canceled', orderId: id, tag: o.tag, reason: order.state.toLowerCase() });
        else o.done = true;
        break;
      case 'FILLED':
        o.done = true;
        break;
      default:
        break;
    }
  }

  private onOrderEvent(e: OrderEvent): void {
    switch (e.type) {
      case 'fill': {
        const id = this.byClient.get(e.fill.clientId) ?? 0;
        let s: number;
        try {
          s = this.account.index(e.fill.symbol);
        } catch {
          return; // a symbol this account does not trade (adopted, or placed by another tool)
        }
        const qty = Dec.parse(e.fill.quantity);
        const price = Dec.parse(e.fill.price);
        const f = this.account.fill(s, e.fill.side, qty, price, e.fill.maker, e.fill.time);
        // the exchange's fee and realised PnL, not the model's
        const fee = Dec.parse(e.fill.fee);
        const realized = Dec.parse(e.fill.realizedPnl);
        this.account.restateWallet(this.account.wallet.sub(f.realizedPnl).add(f.fee).add(realized).sub(fee));
        this.fillCount++;
        this.tell({ type: 'fill', orderId: id, tag: this.orders.get(id)?.tag, fill: { ...f, fee, realizedPnl: realized } });
        this.landed(id, qty);
        this.refresh(true);
        break;
      }
      case 'update': {
        const id = this.byClient.get(e.order.clientId);
        if (id !== undefined) this.settle(id, e.order);
        break;
      }
      case 'reject': {
        const id = this.byClient.get(e.order.clientId);
        if (id !== undefined) this.settle(id, e.order);
        break;
      }
      case 'position':
      case 'reconciled':
        this.refresh(true);
        break;
      default:
        break;
    }
  }

  private told(id: number, event: VenueEvent): void {
    const o = this.orders.get(id);
    if (o) o.done = true;
    if (event.type === 'rejected' || event.type === 'canceled') {
      const what = event.type === 'rejected' ? `refused ${event.code} ${event.msg}` : `cancelled: ${event.reason}`;
      this.session.log[event.type === 'rejected' ? 'warn' : 'info']({ component: 'trader', account: this.session.account.name, clientId: o?.clientId }, `order ${o?.clientId ?? id} ${what}`);
    }
    this.tell(event);
    this.orders.delete(id);
    this.landed(id);
  }

  private tell(event: VenueEvent): void {
    try {
      this.listener(event);
    } catch (error) {
      this.session.log.error({ component: 'trader', account: this.session.account.name, err: (error as Error)?.stack }, `the engine failed on a venue event: ${(error as Error)?.message}`);
    }
  }

  // ---- the account kept equal to the exchange ----

  /** Reads the wallet and positions from the exchange and restates the engine's account (one read at a time). */
  refresh(soon = false): void {
    if (this.session.isClosed) return;
    if (this.refreshing) {
      if (soon) this.refreshAgain = true;
      return;
    }
    this.lastRefresh = this.session.clock.now();
    this.refreshing = this.session
      .read()
      .then((state) => this.restate(state))
      .catch((error: Error) => this.session.log.warn({ component: 'trader', account: this.session.account.name }, `the account could not be read from the exchange: ${error.message}`))
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refresh();
        }
      });
  }

  /** Sets the engine's wallet and positions to the exchange's. */
  restate(state: ExchangeState): void {
    const acc = this.account;
    for (let s = 0; s < acc.symbols.length; s++) {
      const p = state.positions.get(acc.symbols[s]);
      const amt = p?.amt ?? Dec.ZERO;
      if (p && p.mark > 0) acc.setMark(s, p.mark);
      if (!amt.eq(acc.positionAmt(s)) || (p && !amt.isZero() && !p.entry.eq(acc.entryPrice(s)))) {
        acc.restatePosition(s, amt, p?.entry ?? Dec.ZERO, p && !p.isolatedWallet.isZero() ? p.isolatedWallet : undefined);
      }
    }
    if (!state.wallet.eq(acc.wallet)) acc.restateWallet(state.wallet);
  }
}

function errorCode(error: string | undefined): number {
  const m = /^(-?\d+) /.exec(error ?? '');
  return m ? Number(m[1]) : NOT_SENT;
}
