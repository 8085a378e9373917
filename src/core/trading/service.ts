import type { AccountRepository, AccountSnapshot, StoredAccount } from '../accounts/types.js';
import type { EventBus } from '../bus.js';
import type { Clock } from '../clock.js';
import type { StrategyResolver } from '../backtest/engine.js';
import type { MarketInputs } from '../backtest/inputs.js';
import { UserError } from '../errors.js';
import type { MarkPriceEvent, Subscription } from '../exchange/port.js';
import type { LeaseHolder, LeaseRepository } from '../leases.js';
import type { Logger } from '../logging.js';
import type { MarketDataService } from '../market/service.js';
import { Trader, traderLeaseName, type PositionChain, type TraderEvent, type TraderMarket, type TraderStatus } from './trader.js';
import type { ActualVenueFactory } from './venue.js';
import type { ActualAccounts, ActualAccountSession } from './exchangeVenue.js';

declare module '../events.js' {
  interface AppEvents {
    /** A trader of this process did something (a fill, an order, a minute, a kill, a stop). */
    'trading.event': TraderEvent;
  }
}

export interface TradingServiceDeps {
  accounts: AccountRepository | undefined;
  leases: LeaseRepository | undefined;
  market: () => MarketDataService;
  bus: EventBus;
  inputs: () => MarketInputs;
  /** The strategy registry (loaded on first use: it pulls in the strategy loader). */
  strategies: () => Promise<StrategyResolver>;
  clock: Clock;
  log: Logger;
  readonly: boolean;
  actualVenue?: ActualVenueFactory;
  /** Opens actual accounts' sessions (credentials, exchange port, order manager); absent: they are refused. */
  actualAccounts?: ActualAccounts;
  /** The exchange's mark price stream, where connected (a virtual account's live funding). */
  subscribeMarkPrice?(symbol: string, handler: (event: MarkPriceEvent) => void): Subscription | undefined;
}

/** An account as the AutoTrade page lists it: traded here, by another process, or not at all. */
export interface TradedAccount {
  id: number;
  name: string;
  kind: StoredAccount['kind'];
  automation: StoredAccount['settings']['automation'];
  /** Who trades it now (undefined: nobody). */
  trader?: { pid: number; host: string; label: string; here: boolean; since: number };
  snapshot?: AccountSnapshot;
  chains: PositionChain[];
}

export interface KillResult {
  account: string;
  /** Where it was acted on: this process's trader, another process's (within a second), or no trader runs. */
  where: 'here' | 'other' | 'none';
  holder?: { pid: number; host: string; label: string };
  cancelled?: number;
  closing?: number;
}

/**
 * The trading facade (`app.trading`): starts a trader on an account in this process, lists the
 * accounts being traded (here or by another atm process, from leases and snapshots) with each
 * position's chain, and the kill switch.
 */
export class TradingService {
  private readonly traders = new Map<number, Trader>();

  constructor(private readonly deps: TradingServiceDeps) {}

  private requireAccounts(): AccountRepository {
    if (!this.deps.accounts) throw new UserError('accounts are not available in this build (no account store)');
    return this.deps.accounts;
  }

  private requireLeases(): LeaseRepository {
    if (!this.deps.leases) throw new UserError('leases are not available in this build (no lease store)');
    return this.deps.leases;
  }

  private traderMarket(): TraderMarket {
    const market = this.deps.market();
    return {
      storedKlines: (symbol, from, to) => market.storedKlines(symbol, '1m', from, to),
      watch: (symbol) => market.watch(symbol, '1m'),
      onStored: (listener) => {
        const offKline = this.deps.bus.on('market.kline', (e) => {
          if (e.closed && e.interval === '1m') listener(e.symbol, e.kline);
        });
        const offFilled = this.deps.bus.on('market.filled', (e) => {
          if (e.interval === '1m') listener(e.symbol);
        });
        return () => {
          offKline();
          offFilled();
        };
      },
      watchFunding: (symbol, listener) => {
        const sub = this.deps.subscribeMarkPrice?.(symbol, (e) => listener(Number(e.T), e.r));
        return () => sub?.unsubscribe();
      },
    };
  }

  /**
   * Starts trading `account` in this process (the lease `trader:<id>`; LeaseHeldError names the
   * process that trades it). The exchange should be connected first (live klines need it).
   */
  async start(
    account: number | string,
    options: { label: string; onEvent?(e: TraderEvent): void; warmupKlines?: number; passphrase?: () => Promise<string> },
  ): Promise<Trader> {
    const strategies = await this.deps.strategies();
    // an actual account: its credentials, exchange port and order manager (reconciled) first
    const stored = this.deps.accounts?.get(account);
    let session: ActualAccountSession | undefined;
    if (stored && stored.kind !== 'virtual' && this.deps.actualAccounts) session = await this.deps.actualAccounts.open(stored, { passphrase: options.passphrase });
    let trader: Trader;
    try {
      trader = this.startTrader(account, options, strategies, session);
    } catch (error) {
      await session?.close();
      throw error;
    }
    if (session) {
      // the last snapshot holds the exchange's wallet and positions, read after the order manager stopped
      const accounts = this.requireAccounts();
      const closing = new Promise<void>((resolve) => trader.onStop(() => void session.close(() => accounts.saveSnapshot(trader.account.id, trader.snapshot())).finally(resolve)));
      this.closing.add(closing);
      void closing.then(() => this.closing.delete(closing));
    }
    return trader;
  }

  private readonly closing = new Set<Promise<void>>();

  private startTrader(
    account: number | string,
    options: { label: string; onEvent?(e: TraderEvent): void; warmupKlines?: number },
    strategies: Awaited<ReturnType<TradingServiceDeps['strategies']>>,
    session: ActualAccountSession | undefined,
  ): Trader {
    const trader = Trader.start(
      {
        accounts: this.requireAccounts(), leases: this.requireLeases(), market: this.traderMarket(), inputs: this.deps.inputs(), strategies,
        clock: this.deps.clock, log: this.deps.log, readonly: this.deps.readonly, label: options.label,
        actualVenue: session ? () => (acc, listener) => session.venue(acc, listener) : this.deps.actualVenue,
        warmupKlines: options.warmupKlines,
        onEvent: (e) => {
          this.deps.log.info({ component: 'trader', account: e.account, kind: e.kind }, e.text);
          options.onEvent?.(e);
          this.deps.bus.emit('trading.event', e);
          // fills and kills ring the trade bell; risk changes (a halt) and errors the error bell
          if (e.kind === 'fill' || e.kind === 'kill') this.deps.bus.emit('notify', { kind: 'trade', message: `${e.account}: ${e.text}` });
          else if (e.kind === 'risk' || e.kind === 'error') this.deps.bus.emit('notify', { kind: 'error', message: `${e.account}: ${e.text}` });
        },
      },
      account,
    );
    this.traders.set(trader.account.id, trader);
    trader.onStop(() => this.traders.delete(trader.account.id));
    return trader;
  }

  /** Every account with who trades it (this process or another), its last snapshot and its chains. */
  accounts(): TradedAccount[] {
    const accounts = this.deps.accounts;
    if (!accounts) return [];
    const holders = new Map<string, LeaseHolder>();
    for (const h of this.deps.leases?.list('trader:') ?? []) holders.set(h.name, h);
    return accounts.list().map((a) => {
      const local = this.traders.get(a.id);
      const holder = holders.get(traderLeaseName(a.id));
      const status = holder?.status as TraderStatus | undefined;
      return {
        id: a.id, name: a.name, kind: a.kind, automation: a.settings.automation,
        trader: holder ? { pid: holder.pid, host: holder.host, label: holder.label, here: local !== undefined, since: holder.acquiredAt } : undefined,
        snapshot: local ? local.snapshot() : accounts.snapshot(a.id),
        chains: local ? local.chains() : Array.isArray(status?.chains) ? status.chains : [],
      };
    });
  }

  /** This process's trader of an account, if it runs one. */
  local(accountId: number): Trader | undefined {
    return this.traders.get(accountId);
  }

  /**
   * The kill switch: cancels the account's open orders and stops its automation ('killed', stored),
   * optionally closing its positions. Acted on at once by this process's trader, within a second by
   * another process's (through the stored settings); with no trader running the automation is
   * stored as killed. Closing positions places orders: refused in read-only mode.
   */
  kill(account: number | string, options: { closePositions: boolean }): KillResult {
    if (options.closePositions && this.deps.readonly) throw new UserError('read-only: closing positions places orders; run without --readonly, or kill without --close-positions');
    const accounts = this.requireAccounts();
    const a = accounts.get(account);
    if (!a) throw new UserError(`no account ${account}: see atm account list`);
    const local = this.traders.get(a.id);
    if (local) return { account: a.name, where: 'here', ...local.kill(options) };
    const holder = this.deps.leases?.holder(traderLeaseName(a.id));
    accounts.updateSettings(a.id, { ...a.settings, automation: 'killed', kill: { at: this.deps.clock.now(), closePositions: options.closePositions } });
    this.deps.log.warn({ component: 'trader', account: a.name }, `kill switch on ${a.name}${holder ? ` (traded by pid ${holder.pid})` : ''}`);
    return holder ? { account: a.name, where: 'other', holder: { pid: holder.pid, host: holder.host, label: holder.label } } : { account: a.name, where: 'none' };
  }

  /** Whether the last kill request of an account was handled by its trader. */
  killHandled(account: number | string): boolean {
    const a = this.requireAccounts().get(account);
    return a?.settings.kill?.handledAt !== undefined;
  }

  /**
   * Stops every trader of this process (each writes its final snapshot and releases its lease); the
   * promise ends when the actual accounts' order managers and exchange ports are closed.
   */
  stopAll(): Promise<void> {
    for (const t of [...this.traders.values()]) t.stop();
    return Promise.all([...this.closing]).then(() => undefined);
  }
}
