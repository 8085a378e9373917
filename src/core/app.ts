import type { LeaseRepository } from './leases.js';
import { startDeepRecording } from './market/deep.js';
import type { DeepRecorderFactory } from './market/collector.js';
import type { OrderJournal } from './trading/journal.js';
import { AccountService } from './accounts/service.js';
import type { AccountRepository } from './accounts/types.js';
import { join } from 'node:path';
import type { i18n } from 'i18next';
import { EventBus } from './bus.js';
import type { ExchangeService } from './exchange/service.js';
import type { ExchangeStats } from './exchange/port.js';
import { RealClock, type Clock } from './clock.js';
import { saveUserSetting, type LoadedConfig } from './config/load.js';
import type { Config, ExchangeMode, Language, LogLevelName, ThemeName } from './config/schema.js';
import type { ExchangeConnectionState, LogRecord } from './events.js';
import { createI18n, fixedT, type TFunction } from './i18n.js';
import { Jobs } from './jobs.js';
import type { Logger, Logging } from './logging.js';
import { homePaths, type HomePaths } from './paths.js';
import type { PoolStats, TaskPools } from './workers/pool.js';
import type { KlineRepository, SymbolRepository } from './market/repository.js';
import type { DeepRepository } from './market/deep.js';
import type { AnalysisRepository } from './analysis/repository.js';
import { MarketDataService } from './market/service.js';
import { CollectorService, MemoryGapRepository, type CollectorGapRepository } from './market/collector.js';
import { AnalysisService, bookFromLevels } from './analysis/service.js';
import { parseInterval } from './market/klines.js';
import { FundingService, type FundingRepository } from './market/funding.js';
import { resolveSymbolRules, storedMarketInputs, type ExchangeRulesRepository, type StoredMarketInputs, type SymbolRules } from './futures/rules.js';
import { BacktestService, type TemporaryKlines } from './backtest/service.js';
import { applyRulesConfig, inferRules, type MarketInputs } from './backtest/inputs.js';
import type { SimulationRepository } from './backtest/repository.js';
import { NnService } from './nn/service.js';
import { AtmError } from './errors.js';
import type { NnRepository } from './nn/model.js';
import type { ParamInfo } from './strategy/registry.js';
import { TradingService } from './trading/service.js';
import { ActualAccounts, type AccountExchangeConnector } from './trading/exchangeVenue.js';

export type { PoolStats };

export interface AppOptions {
  home: string;
  /** User configuration file; default `<home>/config.yaml`. */
  configFile?: string;
  /** Overrides the configured log level for this run (not persisted). */
  logLevel?: LogLevelName;
  /** Drops every command that places orders or enables live trading. */
  readonly?: boolean;
  /** Overrides the configured exchange mode for this run. */
  exchangeMode?: ExchangeMode;
  clock?: Clock;
  /** Write the log synchronously (tests, short CLI commands). */
  logSync?: boolean;
}

/** A strategy as `app.strategies()` lists it. */
export interface StrategyInfo {
  name: string;
  builtin: boolean;
  description: string;
  /** Reads a CAC's columns (a position needs a CAC). */
  usesCac: boolean;
  params: ParamInfo[];
  /** A user file that does not load. */
  error?: string;
}

export interface SystemStatus {
  startedAt: number;
  uptimeMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  eventsPerSecond: number;
  eventsTotal: number;
  pools: PoolStats[];
  exchange: ExchangeConnectionState;
  logLevel: LogLevelName;
  jobs: { id: string; label: string }[];
  readonly: boolean;
  databasePath: string;
  schemaVersion: string | undefined;
}

/** The storage the core needs, behind its ports (src/db implements them). */
export interface AppStorage {
  klines: KlineRepository;
  symbols: SymbolRepository;
  analyses: AnalysisRepository;
  /** Funding rates (src/db/fundingStore.ts). */
  funding: FundingRepository;
  /** Stored exchange rules: exchangeInfo read back, leverage brackets (src/db/rulesStore.ts). */
  rules: ExchangeRulesRepository;
  /** Saved backtests (absent: `app.backtest.save` is refused). */
  simulations?: SimulationRepository;
  /** Leases: one collector per data directory, one trader per account (src/db/leaseStore.ts). */
  leases?: LeaseRepository;
  /** The order journal and audit log of the order manager (src/db/orderStore.ts). */
  orders?: OrderJournal;
  /** Accounts, their secrets, snapshots, balance history and trade logs (src/db/accountStore.ts; absent: trading is refused). */
  accounts?: AccountRepository;
  /** Neural network models and their versions (src/db/nnStore.ts; absent: `app.nn` is refused). */
  nn?: NnRepository;
  /** Deep market data: aggTrades, book samples, gaps (src/db/deepStore.ts; `app.market.deep`). */
  deep?: DeepRepository;
  /** The collector's gaps (src/db/collectorStore.ts; absent: no collector). */
  collectorGaps?: CollectorGapRepository;
  /** Opens an empty in-memory kline store (backtests over `--input` archives). */
  temporaryKlines?: () => Promise<TemporaryKlines>;
  /** The newest migration applied to the database. */
  schemaVersion: string | undefined;
  close(): Promise<void>;
}

/**
 * Everything the App is built from. One composition module (src/main/compose.ts) makes these
 * from the real parts; the core never imports the database, the adapters or the worker entries.
 */
export interface AppParts {
  options: AppOptions;
  loaded: LoadedConfig;
  logging: Logging;
  bus: EventBus;
  storage: AppStorage;
  pools: TaskPools;
  /** The exchange connection (its adapters load lazily: the first frame does not wait for them). */
  exchange: ExchangeService;
  /** Symbol rules and funding for backtests (default: configured or default rules, no funding). */
  marketInputs?: MarketInputs;
  /** Exchange ports for actual accounts, each with its own credentials (absent: actual accounts cannot trade). */
  accountExchange?: AccountExchangeConnector;
}

/** The user-changeable settings shown on the Settings page. */
export interface Settings {
  language: Language;
  theme: ThemeName;
  bellTrade: boolean;
  bellError: boolean;
  logLevel: LogLevelName;
}

/**
 * The application facade: the one object every front end (the TUI, the `atm` command line)
 * talks to. It is built from its parts by src/main/compose.ts and exposes commands and queries
 * that hand out plain data: no database handle, worker pool or exchange port is reachable from
 * it, so a page or a command cannot bypass the services (and later the order manager).
 */
export class App {
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly paths: HomePaths;
  readonly jobs: Jobs;
  private readonly pools: TaskPools;
  private analysisService: AnalysisService | undefined;
  readonly i18n: i18n;
  readonly t: TFunction;
  readonly log: Logger;
  readonly readonly: boolean;
  readonly options: AppOptions;
  private readonly loaded: LoadedConfig;
  private readonly logging: Logging;
  private readonly storage: AppStorage;
  private exchangeState: ExchangeConnectionState = { kind: 'none' };
  /** The exchange connection (connects only when `connectExchange()` is called). */
  private readonly exchange: ExchangeService;
  private readonly startedAt: number;
  private closed = false;
  /** A test's own backtest inputs; otherwise the stores' (see backtestInputs). */
  private readonly givenMarketInputs: MarketInputs | undefined;
  private backtestService: BacktestService | undefined;

  constructor(parts: AppParts) {
    const { options, loaded, logging, bus } = parts;
    this.options = options;
    this.loaded = loaded;
    this.logging = logging;
    this.storage = parts.storage;
    this.pools = parts.pools;
    this.bus = bus;
    this.clock = options.clock ?? new RealClock();
    this.startedAt = this.clock.now();
    this.paths = homePaths(options.home);
    this.readonly = options.readonly ?? false;
    this.jobs = new Jobs(bus);
    this.log = logging.logger;
    this.i18n = createI18n(loaded.config.language);
    this.t = fixedT(this.i18n);
    bus.on('exchange.state', (state) => {
      this.exchangeState = state;
    });
    this.exchange = parts.exchange;
    this.givenMarketInputs = parts.marketInputs;
    this.accountExchange = parts.accountExchange;
    this.log.info({ component: 'app', home: options.home, readonly: this.readonly }, 'atm started');
  }

  private marketService?: MarketDataService;
  private accountService?: AccountService;

  /** Accounts (src/core/accounts): create, configure, activate, automation, risk, history. */
  get accounts(): AccountService {
    this.accountService ??= new AccountService({
      repo: this.storage.accounts,
      simulations: this.storage.simulations,
      leases: this.storage.leases,
      readonly: this.readonly,
      now: () => this.clock.now(),
      log: this.log,
      strategiesDir: join(this.paths.home, 'strategies'),
      exportsDir: join(this.paths.home, 'exports'),
    });
    return this.accountService;
  }

  private tradingService?: TradingService;
  private readonly accountExchange: AccountExchangeConnector | undefined;

  /** Trading (src/core/trading): traders of this process, accounts traded anywhere, the kill switch. */
  get trading(): TradingService {
    this.tradingService ??= new TradingService({
      accounts: this.storage.accounts,
      leases: this.storage.leases,
      market: () => this.market,
      bus: this.bus,
      inputs: () => this.givenMarketInputs ?? this.backtestInputs(),
      strategies: async () => new (await import('./strategy/registry.js')).StrategyRegistry(join(this.paths.home, 'strategies')),
      clock: this.clock,
      log: this.log,
      readonly: this.readonly,
      actualAccounts: this.accountExchange
        ? new ActualAccounts({
          connector: this.accountExchange, journal: this.storage.orders, leases: this.storage.leases, clock: this.clock, log: this.log, readonly: this.readonly,
          credentials: (account, passphrase) => this.accounts.credentials(account.id, passphrase),
        })
        : undefined,
      subscribeMarkPrice: (symbol, handler) => this.exchange.port?.subscribeMarkPrice(symbol, handler),
    });
    return this.tradingService;
  }

  /** Backtests (src/core/backtest): run in the simulation pool, save to the database. */
  get backtest(): BacktestService {
    this.backtestService ??= new BacktestService({
      pool: () => this.pools.simulation,
      klines: this.storage.klines,
      market: this.givenMarketInputs ?? this.backtestInputs(),
      simulations: this.storage.simulations,
      temporaryKlines: this.storage.temporaryKlines,
      deep: this.storage.deep,
      strategiesDir: join(this.paths.home, 'strategies'),
      nnModels: this.nnModels,
      now: () => this.clock.now(),
    });
    return this.backtestService;
  }

  private nnService: NnService | undefined;

  /** Stored model versions as plain data, for PIP's nnModel (analyses and backtests). */
  private readonly nnModels = (name: string, version?: number) => (this.storage.nn ? this.nn.modelData(name, version) : undefined);

  /** Neural network models (src/core/nn): create, train and test in the simulation pool, stored versions. */
  get nn(): NnService {
    const models = this.storage.nn;
    if (!models) throw new AtmError('internal', 'no neural network store was given to the app');
    this.nnService ??= new NnService({ models, klines: this.storage.klines, pool: () => this.pools.simulation, now: () => this.clock.now() });
    return this.nnService;
  }

  /**
   * The strategies a simulation can use (built-ins, then the user's files in <data dir>/strategies)
   * with their parameter schemas, as plain data for forms. Loaded on use: the registry pulls in the
   * strategy loader (esbuild). A broken user file is listed with its error.
   */
  async strategies(): Promise<StrategyInfo[]> {
    const { StrategyRegistry, paramInfo } = await import('./strategy/registry.js');
    return new StrategyRegistry(join(this.paths.home, 'strategies')).list().map((e) => ({
      name: e.name,
      builtin: e.source === 'builtin',
      description: e.strategy?.spec.description ?? '',
      usesCac: e.strategy?.spec.usesCac === true,
      params: e.strategy ? paramInfo(e.strategy) : [],
      error: e.error?.message,
    }));
  }

  /** Market data: the kline store, archive import, download and live klines (src/core/market). */
  get market(): MarketDataService {
    this.marketService ??= new MarketDataService({
      bus: this.bus,
      clock: this.clock,
      store: this.storage.klines,
      symbols: this.storage.symbols,
      log: this.log,
      exchange: () => this.exchange.port,
      deep: this.storage.deep,
    });
    return this.marketService;
  }

  private fundingService?: FundingService;

  private collectorService?: CollectorService;

  /** The collector (src/core/market/collector.ts): collects here, or shows who does. */
  get collector(): CollectorService {
    const gaps = this.storage.collectorGaps ?? new MemoryGapRepository();
    this.collectorService ??= new CollectorService({
      bus: this.bus,
      clock: this.clock,
      log: this.log,
      market: this.market,
      store: this.storage.klines,
      gaps,
      leases: this.storage.leases,
      config: this.config.market.collect,
      stats: () => this.exchange.stats(),
      connect: () => this.connectExchange(),
      disconnectReason: () => (this.exchangeState.kind === 'disconnected' ? this.exchangeState.reason : undefined),
      listedSymbols: () => this.market.symbols().filter((s) => s.status === 'TRADING' && s.quoteAsset === 'USDT' && this.market.isListed(s.symbol) === true).map((s) => s.symbol),
      deep: this.deepRecorderFactory(),
    });
    return this.collectorService;
  }

  /** Deep data (aggTrades + book samples) of one `market.collect.deep` symbol, recorded into the deep store. */
  private deepRecorderFactory(): DeepRecorderFactory | undefined {
    const store = this.storage.deep;
    if (!store) return undefined;
    return (symbol) => {
      const port = this.exchange.port;
      if (!port) throw new AtmError('exchange', `cannot record deep data of ${symbol}: the exchange is not connected`);
      return startDeepRecording({ port, store, clock: this.clock, log: this.log }, symbol);
    };
  }

  /** Funding rates: archive import, download, coverage and rates (src/core/market/funding.ts). */
  get funding(): FundingService {
    this.fundingService ??= new FundingService({
      store: this.storage.funding,
      symbols: this.storage.symbols,
      rules: this.storage.rules,
      clock: this.clock,
      exchange: () => this.exchange.port,
    });
    return this.fundingService;
  }

  /** A symbol's filters, brackets and clearance fee: stored exchange data, else the configuration; with the source. */
  symbolRules(symbol: string): SymbolRules {
    return resolveSymbolRules(this.storage.rules, this.config.symbolRules, symbol);
  }

  /** Rules and funding rates from the stores, for a backtest's market inputs. */
  marketInputs(): StoredMarketInputs {
    return storedMarketInputs(this.storage.rules, this.storage.funding, this.config.symbolRules);
  }

  /**
   * The backtester's market inputs from the stores: a symbol's rules from stored exchange data,
   * else the configuration (`symbolRules`), with a position's own `rules` applied over them; the
   * funding rates stored for the range.
   */
  private backtestInputs(): MarketInputs {
    const stored = this.marketInputs();
    return {
      rules: (symbol, configured, reference) => {
        const r = stored.rules(symbol);
        if (configured && Object.keys(configured).length > 0) return { ...applyRulesConfig(r.info, r.brackets, configured), source: 'config' };
        if (r.source.filters === 'exchange') return { info: r.info, brackets: r.brackets, source: 'exchange' };
        // nothing stored: the configured rules of this symbol, else the default scaled to its price
        if (this.config.symbolRules.symbols[symbol] || !reference) return { info: r.info, brackets: r.brackets, source: 'config' };
        const fitted = inferRules(r.info, reference);
        return { info: fitted.info, brackets: r.brackets, source: fitted.changed ? 'inferred' : 'config' };
      },
      funding: (symbol, from, to) => {
        const f = stored.funding(symbol, from, to);
        return { times: Array.from(f.times), rates: f.rates };
      },
    };
  }

  get config(): Config {
    return this.loaded.config;
  }

  get exchangeMode(): ExchangeMode {
    return this.options.exchangeMode ?? this.config.exchange.mode;
  }

  /** Currency analysis: CACs, analyses in the analyzer threads, batch runs (created on first use). */
  get analysis(): AnalysisService {
    this.analysisService ??= new AnalysisService({
      analyses: this.storage.analyses, bus: this.bus, klines: this.storage.klines, now: () => this.clock.now(), pool: this.pools.analysis,
      watch: (symbol, interval) => this.market.watch(symbol, parseInterval(interval)),
      book: (symbol) => {
        const port = this.exchange.port;
        if (!port) return undefined;
        const handle = port.orderBook(symbol);
        return {
          snapshot: () => (handle.book.synced ? bookFromLevels(handle.book.bids(50), handle.book.asks(50)) : undefined),
          close: () => handle.unsubscribe(),
        };
      },
      onError: (error) => this.reportError('analysis', error),
      nnModels: this.nnModels,
      knownSymbol: (symbol) => this.market.series(symbol).length > 0 || this.market.symbols().some((s) => s.symbol === symbol) || this.market.isListed(symbol) === true,
    });
    return this.analysisService;
  }

  // ---- exchange ----

  /**
   * Connects to the exchange of the configured mode (idempotent; the TUI calls it after its first
   * frame, commands when they need the exchange). Resolves with the venue once connected.
   */
  async connectExchange(): Promise<{ venue: string; simulated: boolean }> {
    const port = await this.exchange.start();
    return { venue: port.venue, simulated: port.simulated };
  }

  /** Live connection figures for the Dashboard, or undefined when not connected. */
  exchangeStats(): ExchangeStats | undefined {
    return this.exchange.stats();
  }

  /** Answers a ping from one thread of each worker pool (`atm status --check-workers`). */
  async checkWorkers(): Promise<{ pool: string; threadId: number }[]> {
    const [a, s] = await Promise.all([this.pools.analysis.run({ kind: 'ping' }), this.pools.simulation.run({ kind: 'ping' })]);
    return [
      { pool: 'analysis', threadId: a.threadId },
      { pool: 'simulation', threadId: s.threadId },
    ];
  }

  // ---- queries ----

  status(): SystemStatus {
    const memory = process.memoryUsage();
    return {
      startedAt: this.startedAt,
      uptimeMs: this.clock.now() - this.startedAt,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventsPerSecond: this.bus.rate(),
      eventsTotal: this.bus.emitted,
      pools: [this.pools.analysis.stats(), this.pools.simulation.stats()],
      exchange: this.exchangeState,
      logLevel: this.log.level as LogLevelName,
      jobs: this.jobs.running(),
      readonly: this.readonly,
      databasePath: this.paths.database,
      schemaVersion: this.storage.schemaVersion,
    };
  }

  recentLogs(count?: number): LogRecord[] {
    return this.logging.ring.recent(count);
  }

  settings(): Settings {
    const c = this.config;
    return {
      language: this.i18n.language as Language,
      theme: c.theme,
      bellTrade: c.bell.trade,
      bellError: c.bell.error,
      logLevel: this.log.level as LogLevelName,
    };
  }

  get userConfigFile(): string {
    return this.loaded.userFile;
  }

  // ---- commands ----

  /** Changes the interface language at runtime and remembers it. */
  async setLanguage(language: Language): Promise<void> {
    saveUserSetting(this.loaded, ['language'], language);
    await this.i18n.changeLanguage(language);
    this.log.info({ component: 'settings' }, `language set to ${language}`);
    this.bus.emit('settings.changed', { key: 'language', value: language });
  }

  setTheme(theme: ThemeName): void {
    saveUserSetting(this.loaded, ['theme'], theme);
    this.log.info({ component: 'settings' }, `theme set to ${theme}`);
    this.bus.emit('settings.changed', { key: 'theme', value: theme });
  }

  setBell(kind: 'trade' | 'error', on: boolean): void {
    saveUserSetting(this.loaded, ['bell', kind], on);
    this.bus.emit('settings.changed', { key: `bell.${kind}`, value: on });
  }

  /** Sets the log level now; with `persist`, also for later runs. */
  setLogLevel(level: LogLevelName, persist = true): void {
    if (persist) saveUserSetting(this.loaded, ['log', 'level'], level);
    this.logging.setLevel(level);
    this.log.info({ component: 'settings' }, `log level set to ${level}`);
    this.bus.emit('settings.changed', { key: 'log.level', value: level });
  }

  /** Reports an error to the user (log + notification; the TUI rings the bell when enabled). */
  reportError(component: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.error({ component, err: error instanceof Error ? { message: error.message, stack: error.stack } : error }, message);
    this.bus.emit('notify', { kind: 'error', message });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.jobs.cancelAll();
    await this.tradingService?.stopAll();
    await this.collectorService?.close();
    this.marketService?.close();
    this.log.info({ component: 'app' }, 'atm stopping');
    await this.analysisService?.close();
    await this.exchange.close();
    await Promise.all([this.pools.analysis.destroy(), this.pools.simulation.destroy()]);
    await this.storage.close();
    await this.logging.flush();
  }
}
