import { LeaseStore } from '../db/leaseStore.js';
import { OrderStore } from '../db/orderStore.js';
import { AccountStore } from '../db/accountStore.js';
import { DeepStore } from '../db/deepStore.js';
import { CollectorGapStore } from '../db/collectorStore.js';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { App, type AppOptions } from '../core/app.js';
import type { Config, ExchangeMode } from '../core/config/schema.js';
import type { Logger } from '../core/logging.js';
import type { AccountExchangeConnector } from '../core/trading/exchangeVenue.js';
import { UserError } from '../core/errors.js';
import { EventBus } from '../core/bus.js';
import { loadConfig } from '../core/config/load.js';
import { ExchangeService } from '../core/exchange/service.js';
import { createLogging } from '../core/logging.js';
import { homePaths } from '../core/paths.js';
import { sizePools, type TaskPools } from '../core/workers/pool.js';
import { migrate, openDatabase, type Database } from '../db/database.js';
import { AnalysisStore } from '../db/analysisStore.js';
import { FundingStore } from '../db/fundingStore.js';
import { RulesStore } from '../db/rulesStore.js';
import { KlineStore } from '../db/klineStore.js';
import { SymbolStore } from '../db/symbolStore.js';
import { SimulationStore } from '../db/simulationStore.js';
import { NnStore } from '../db/nnStore.js';
import { WorkerPool } from '../workers/pool.js';

/**
 * The composition root: the one module that builds the real parts (configuration, logging, the
 * SQLite database and its stores, the worker pools, the exchange adapters) and hands them to the
 * `App` facade. The core declares ports for each and never imports them (tests/architecture
 * reads the import lines and keeps it so).
 */
export interface Composition {
  app: App;
  /** The parts, for tests and benchmarks that need to reach below the facade. */
  parts: {
    db: Database; klines: KlineStore; symbols: SymbolStore; analyses: AnalysisStore; pools: TaskPools; exchange: ExchangeService;
    funding: FundingStore; rules: RulesStore; simulations: SimulationStore; leases: LeaseStore; orders: OrderStore; accounts: AccountStore; nn: NnStore;
    deep: DeepStore; collectorGaps: CollectorGapStore;
  };
}

/**
 * Loads and validates the configuration, opens logging and the database and migrates it, then
 * builds the App. Throws ConfigError / DatabaseError (user errors with a clear message) before
 * touching anything else.
 */
export async function compose(options: AppOptions): Promise<Composition> {
  const paths = homePaths(options.home);
  prepareHome(options.home);
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
    await logging.flush();
    throw error;
  }
  if (report.applied.length > 0) logging.logger.info({ component: 'db', applied: report.applied }, `database migrated to ${report.current}`);

  const clockNow = () => (options.clock ? options.clock.now() : Date.now());
  const klines = new KlineStore(db);
  const symbols = new SymbolStore(db);
  const analyses = new AnalysisStore(db, clockNow);
  const funding = new FundingStore(db);
  const rules = new RulesStore(db);
  const simulations = new SimulationStore(db, clockNow);
  const leases = new LeaseStore(db, clockNow);
  const orders = new OrderStore(db);
  const accounts = new AccountStore(db, clockNow);
  const nn = new NnStore(db, clockNow);
  const deep = new DeepStore(db, clockNow);
  const collectorGaps = new CollectorGapStore(db);
  const { workers } = loaded.config;
  const sizing = sizePools(workers.threads, workers.analyzerRatio);
  const changed = (pool: 'analysis' | 'simulation') => () => bus.emit('workers.changed', { pool });
  const pools: TaskPools = {
    analysis: new WorkerPool({ name: 'analysis', size: sizing.analysis, idleTimeoutMs: workers.idleTimeoutMs, onChange: changed('analysis') }),
    simulation: new WorkerPool({ name: 'simulation', size: sizing.simulation, idleTimeoutMs: workers.idleTimeoutMs, onChange: changed('simulation') }),
  };
  const exchange = new ExchangeService({
    bus,
    config: loaded.config.exchange,
    mode: options.exchangeMode ?? loaded.config.exchange.mode,
    log: logging.logger,
    credentials: () => ({ apiKey: process.env[loaded.config.exchange.apiKeyEnv], apiSecret: process.env[loaded.config.exchange.apiSecretEnv] }),
    // the adapters load on first connect, so the first frame does not wait for them
    loadFactory: async () => (await import('../adapters/factory.js')).factory,
  });
  const accountExchange = accountExchangeConnector(loaded.config.exchange, options.exchangeMode ?? loaded.config.exchange.mode, exchange, logging.logger);
  const app = new App({
    accountExchange,
    options,
    loaded,
    logging,
    bus,
    storage: { klines, symbols, analyses, funding, rules, simulations, leases, orders, accounts, nn, deep, collectorGaps, temporaryKlines: openTemporaryKlineStore, schemaVersion: report.current, close: () => db.close() },
    pools,
    exchange,
  });
  return { app, parts: { db, klines, symbols, analyses, pools, exchange, funding, rules, simulations, leases, orders, accounts, nn, deep, collectorGaps } };
}

/**
 * Exchange ports for actual accounts, each signed with the account's own credentials: a `binance`
 * account on the configured binance endpoints, a `testnet` account on the testnet ones; in
 * `exchange.mode: sim` both trade on the local exchange this process runs (the account's key is
 * registered there). `auto` never sends an actual account's orders to the local exchange.
 */
function accountExchangeConnector(config: Config['exchange'], mode: ExchangeMode, exchange: ExchangeService, log: Logger): AccountExchangeConnector {
  return {
    async connect(account, credentials) {
      const { factory } = await import('../adapters/factory.js');
      const onLog = (level: 'trace' | 'info' | 'warn', message: string) => log[level]({ component: 'exchange', account: account.name }, message);
      if (mode === 'sim') {
        await exchange.start();
        const local = exchange.localExchange;
        if (!local?.addAccount) throw new UserError('exchange.mode is sim but the local exchange is not running');
        local.addAccount(credentials.apiKey, credentials.secret());
        return factory.connectVenue({
          venue: 'local', simulated: true, restUrl: local.restUrl, wsUrl: local.wsUrl, routed: true, apiKey: credentials.apiKey, apiSecret: credentials.secret(),
          timeoutMs: config.connectTimeoutMs, onLog,
        });
      }
      const venue = account.kind === 'testnet' ? 'testnet' : 'binance';
      const endpoints = config[venue];
      return factory.connectVenue({
        venue, simulated: false, restUrl: endpoints.restUrl, wsUrl: endpoints.wsUrl, routed: endpoints.routed, apiKey: credentials.apiKey, apiSecret: credentials.secret(),
        timeoutMs: config.connectTimeoutMs, onLog,
      });
    },
  };
}

/**
 * Makes sure the data directory exists and can be written, before anything is opened in it: a
 * path through a file, a read-only file system or a folder without permission is a user error
 * naming the directory and the reason, never a stack trace.
 */
export function prepareHome(home: string): void {
  try {
    makeFolders(home);
    const probe = join(home, `.atm-write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is a file, not a folder'
      : code === 'EACCES' || code === 'EPERM' ? 'no permission to write there'
      : code === 'EROFS' ? 'the file system is read-only'
      : code === 'ENOSPC' ? 'the disk is full'
      : code === 'ENOENT' ? 'the path cannot be created'
      : (error as Error).message;
    throw new UserError(`the data directory ${home} cannot be used: ${reason} (choose another with --home or ATM_HOME)`, { home, code });
  }
}

/**
 * mkdir -p, one level at a time from the nearest existing folder (Node's recursive mkdir never
 * returns on some paths, such as under /proc).
 */
function makeFolders(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) mkdirSync(folder);
}

/** An empty kline store in an in-memory SQLite database, for one backtest over `--input` archives. */
export async function openTemporaryKlineStore(): Promise<{ store: KlineStore; close(): Promise<void> }> {
  const db = openDatabase(':memory:');
  await migrate(db);
  return { store: new KlineStore(db), close: () => db.close() };
}

/** Opens the App for a front end (the TUI, a command). */
export async function openApp(options: AppOptions): Promise<App> {
  return (await compose(options)).app;
}
