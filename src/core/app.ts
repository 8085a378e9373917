import type { i18n } from 'i18next';
import { EventBus } from './bus.js';
import { ExchangeService } from './exchange/service.js';
import { RealClock, type Clock } from './clock.js';
import { loadConfig, saveUserSetting, type LoadedConfig } from './config/load.js';
import type { Config, ExchangeMode, Language, LogLevelName, ThemeName } from './config/schema.js';
import type { ExchangeConnectionState, LogRecord } from './events.js';
import { createI18n, fixedT, type TFunction } from './i18n.js';
import { Jobs } from './jobs.js';
import { createLogging, type Logger, type Logging } from './logging.js';
import { homePaths, type HomePaths } from './paths.js';
import { WorkerPools, sizePools, type PoolStats } from './workers/pools.js';
import { migrate, openDatabase, type Database } from '../db/database.js';
import { KlineStore } from '../db/klineStore.js';
import { SymbolStore } from '../db/symbolStore.js';
import { MarketDataService } from './market/service.js';
import { AnalysisService, bookFromLevels } from './analysis/service.js';
import { parseInterval } from './market/klines.js';

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
 * talks to. It owns the bus, clock, configuration, logging, database and worker pools, and
 * exposes commands and queries. Screens never reach past it to the database or an exchange.
 */
export class App {
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly paths: HomePaths;
  readonly jobs: Jobs;
  readonly pools: WorkerPools;
  private analysisService: AnalysisService | undefined;
  readonly i18n: i18n;
  readonly t: TFunction;
  readonly log: Logger;
  readonly readonly: boolean;
  private exchangeState: ExchangeConnectionState = { kind: 'none' };
  /** The exchange connection (connects only when `exchange.start()` is called). */
  readonly exchange: ExchangeService;
  private readonly startedAt: number;
  private closed = false;

  private constructor(
    readonly options: AppOptions,
    private readonly loaded: LoadedConfig,
    private readonly logging: Logging,
    readonly db: Database,
    bus: EventBus,
    readonly schemaVersion: string | undefined,
  ) {
    this.bus = bus;
    this.clock = options.clock ?? new RealClock();
    this.startedAt = this.clock.now();
    this.paths = homePaths(options.home);
    this.readonly = options.readonly ?? false;
    this.jobs = new Jobs(bus);
    this.log = logging.logger;
    this.i18n = createI18n(loaded.config.language);
    this.t = fixedT(this.i18n);
    const sizing = sizePools(loaded.config.workers.threads, loaded.config.workers.analyzerRatio);
    this.pools = new WorkerPools({ sizing, idleTimeoutMs: loaded.config.workers.idleTimeoutMs, bus });
    bus.on('exchange.state', (state) => {
      this.exchangeState = state;
    });
    this.exchange = new ExchangeService({
      bus,
      config: loaded.config.exchange,
      mode: options.exchangeMode ?? loaded.config.exchange.mode,
      log: this.log,
      credentials: () => ({ apiKey: process.env[loaded.config.exchange.apiKeyEnv], apiSecret: process.env[loaded.config.exchange.apiSecretEnv] }),
    });
  }

  /**
   * Loads and validates the configuration, opens logging and the database and migrates it.
   * Throws ConfigError / DatabaseError (user errors with a clear message) before touching anything
   * else.
   */
  static async open(options: AppOptions): Promise<App> {
    const paths = homePaths(options.home);
    const loaded = loadConfig(options.configFile ?? paths.userConfig, { requireUserFile: options.configFile !== undefined });
    const bus = new EventBus();
    const logging = createLogging({
      file: `${options.home}/${loaded.config.log.file}`,
      level: options.logLevel ?? loaded.config.log.level,
      bus,
      panelLines: loaded.config.log.panelLines,
      sync: options.logSync,
    });
    bus.setErrorHandler((name, error) =>
      logging.logger.error({ component: 'bus', event: name, err: (error as Error)?.stack ?? String(error) }, `a handler of ${name} failed`),
    );
    const db = openDatabase(paths.database);
    let report;
    try {
      report = await migrate(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    if (report.applied.length > 0) logging.logger.info({ component: 'db', applied: report.applied }, `database migrated to ${report.current}`);
    const app = new App(options, loaded, logging, db, bus, report.current);
    app.log.info({ component: 'app', home: options.home, readonly: app.readonly }, 'atm started');
    return app;
  }

  private marketService?: MarketDataService;

  /** Market data: the kline store, archive import, download and live klines (src/core/market). */
  get market(): MarketDataService {
    this.marketService ??= new MarketDataService({
      bus: this.bus,
      clock: this.clock,
      store: new KlineStore(this.db),
      symbols: new SymbolStore(this.db),
      log: this.log,
      exchange: () => this.exchange.port,
    });
    return this.marketService;
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
      db: this.db, bus: this.bus, klines: new KlineStore(this.db), slots: this.pools.analysis.maxThreads, now: () => this.clock.now(), pools: this.pools,
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
    });
    return this.analysisService;
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
      pools: this.pools.stats(),
      exchange: this.exchangeState,
      logLevel: this.log.level as LogLevelName,
      jobs: this.jobs.running(),
      readonly: this.readonly,
      databasePath: this.paths.database,
      schemaVersion: this.schemaVersion,
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
    this.marketService?.close();
    this.log.info({ component: 'app' }, 'atm stopping');
    await this.analysisService?.close();
    await this.exchange.close();
    await this.pools.destroy();
    await this.db.close();
    await this.logging.flush();
  }
}
