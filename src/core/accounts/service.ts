import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logging.js';
import { parseBacktestConfig, validateStrategies, type BacktestConfig, type LoadedBacktestConfig } from '../backtest/config.js';
import type { SimulationRepository } from '../backtest/repository.js';
import { ConfigError, parseYamlText } from '../config/load.js';
import { UserError } from '../errors.js';
import type { LeaseRepository } from '../leases.js';
import { checkRiskLimits } from './settings.js';
import { ApiCredentials, decryptCredentials, encryptCredentials, readKeyFile, type ScryptParams } from './secrets.js';
import type {
  AccountKind,
  AccountRepository,
  AccountSettings,
  AccountSnapshot,
  AuditEntry,
  BalancePoint,
  RiskLimits,
  StoredAccount,
  TradeLogEntry,
} from './types.js';

/** An account name: letters, digits, `.`, `_`, `-`; 1 to 40 characters, starting with a letter or digit. */
export const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** The default wallet of a new virtual account, USDT. */
export const DEFAULT_VIRTUAL_BALANCE = '10000';

/** The lease name of an account's trader (core/leases.ts). */
export const traderLeaseName = (accountId: number): string => `trader:${accountId}`;

export interface AccountServiceDeps {
  repo?: AccountRepository;
  simulations?: SimulationRepository;
  leases?: LeaseRepository;
  /** `--readonly`: activation and turning automation on are refused. */
  readonly: boolean;
  now: () => number;
  log: Logger;
  /** `<data dir>/strategies`, to validate the positions' strategies. */
  strategiesDir: string;
  /** `<data dir>/exports`, where CSV exports go. */
  exportsDir: string;
  /** scrypt cost (tests pass a cheaper one; the default otherwise). */
  scrypt?: ScryptParams;
}

/** An account with what its trader last published and the process trading it, if any. */
export interface AccountView {
  account: StoredAccount;
  snapshot?: AccountSnapshot;
  /** The live holder of the lease `trader:<id>`. */
  trader?: { pid: number; host: string; label: string; since: number };
  /** Wallet and equity for lists: the snapshot's, else a virtual account's initial balance; unknown (absent) for an actual account no trader has read yet. */
  wallet?: string;
  equity?: string;
}

/** One line of "what will trade" (shown before automation is turned on). */
export interface TradePlanLine {
  symbol: string;
  interval: string;
  strategy: string;
  leverage: number;
  assumedRatio: number;
  maxAllocatedBalance?: string;
}

/** How an actual account is activated: a key and secret typed in, or a key file. */
export type ActivationInput =
  | { apiKey: string; apiSecret: string; passphrase: string }
  | { keyFile: string; passphrase: string; keyFilePassphrase?: () => string };

const CSV_COLUMNS = ['time', 'symbol', 'side', 'positionSide', 'orderType', 'price', 'quantity', 'fee', 'feeAsset', 'realizedPnl', 'orderId', 'clientOrderId', 'reason'] as const;

/**
 * Accounts for every front end (`app.accounts`): create, configure (the positions part of a
 * backtest configuration, or a saved simulation's), activate (credentials encrypted at rest),
 * automation and risk settings, and the bookkeeping a trader writes (snapshot, balance history,
 * trade log). Plain data in and out; the secret leaves only through `credentials()`, in memory.
 */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  private get repo(): AccountRepository {
    if (!this.deps.repo) throw new UserError('accounts are not available in this program (no account store)');
    return this.deps.repo;
  }

  // ---- queries ----

  list(): AccountView[] {
    return this.repo.list().map((a) => this.view(a));
  }

  /** An account by name (or id); a UserError naming it when there is none. */
  get(nameOrId: string | number): AccountView {
    return this.view(this.require(nameOrId));
  }

  private require(nameOrId: string | number): StoredAccount {
    const account = this.repo.get(nameOrId);
    if (!account) throw new UserError(typeof nameOrId === 'number' ? `there is no account with id ${nameOrId}` : `there is no account named "${nameOrId}" (atm account list shows them)`);
    return account;
  }

  private view(account: StoredAccount): AccountView {
    const snapshot = this.repo.snapshot(account.id);
    const holder = this.deps.leases?.holder(traderLeaseName(account.id));
    const start = account.kind === 'virtual' ? account.settings.account.initialBalance : undefined;
    return {
      account,
      ...(snapshot ? { snapshot } : {}),
      ...(holder ? { trader: { pid: holder.pid, host: holder.host, label: holder.label, since: holder.acquiredAt } } : {}),
      ...(snapshot?.walletBalance ?? start ? { wallet: snapshot?.walletBalance ?? start } : {}),
      ...(snapshot?.marginBalance ?? start ? { equity: snapshot?.marginBalance ?? start } : {}),
    };
  }

  /** What the account's automation would trade: one line per position. */
  plan(nameOrId: string | number): TradePlanLine[] {
    return this.require(nameOrId).settings.positions.map((p) => ({
      symbol: p.symbol,
      interval: p.interval,
      strategy: p.strategy.name,
      leverage: p.leverage,
      assumedRatio: p.control.assumedRatio,
      ...(p.control.maxAllocatedBalance !== undefined ? { maxAllocatedBalance: p.control.maxAllocatedBalance } : {}),
    }));
  }

  snapshot(nameOrId: string | number): AccountSnapshot | undefined {
    return this.repo.snapshot(this.require(nameOrId).id);
  }

  balanceHistory(nameOrId: string | number, range?: { from?: number; to?: number }): BalancePoint[] {
    return this.repo.balanceHistory(this.require(nameOrId).id, range);
  }

  trades(nameOrId: string | number, range?: { from?: number; to?: number; limit?: number }): TradeLogEntry[] {
    return this.repo.trades(this.require(nameOrId).id, range);
  }

  /** The account's recorded changes, oldest first (empty when the store keeps none). */
  changes(nameOrId: string | number, limit = 100): AuditEntry[] {
    return this.repo.auditLog?.(this.require(nameOrId).id, limit) ?? [];
  }

  /** The trade log as CSV (a header line, then one line per fill, time as ISO 8601 UTC). */
  tradesCsv(nameOrId: string | number, range?: { from?: number; to?: number }): string {
    const lines = [CSV_COLUMNS.join(',')];
    for (const t of this.trades(nameOrId, range)) {
      lines.push(CSV_COLUMNS.map((c) => (c === 'time' ? new Date(t.time).toISOString() : csvCell(t[c]))).join(','));
    }
    return lines.join('\n') + '\n';
  }

  /** Writes the trade log CSV to `<data dir>/exports/<name>-trades-<YYYYMMDDTHHMMSSZ>.csv`; returns the path. */
  exportTradesCsv(nameOrId: string | number): { file: string; trades: number } {
    const account = this.require(nameOrId);
    const csv = this.tradesCsv(account.id);
    const stamp = new Date(this.deps.now()).toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
    mkdirSync(this.deps.exportsDir, { recursive: true });
    // two exports in one second get -2, -3... (never overwritten)
    let file = join(this.deps.exportsDir, `${account.name}-trades-${stamp}.csv`);
    for (let n = 2; existsSync(file) && n < 1000; n++) file = join(this.deps.exportsDir, `${account.name}-trades-${stamp}-${n}.csv`);
    writeFileSync(file, csv, { flag: 'wx' });
    return { file, trades: csv.split('\n').length - 2 };
  }

  // ---- commands ----

  /** Creates an account; a virtual one starts with `balance` USDT (default 10000). */
  create(name: string, kind: AccountKind, options: { balance?: string } = {}): StoredAccount {
    if (!ACCOUNT_NAME.test(name)) throw new UserError(`account name ${JSON.stringify(name)} is not valid: use 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    if (options.balance !== undefined && kind !== 'virtual') throw new UserError('--balance is for virtual accounts: an actual account\'s balance is read from the exchange');
    const balance = options.balance ?? DEFAULT_VIRTUAL_BALANCE;
    if (!/^\d+(\.\d+)?$/.test(balance) || Number(balance) <= 0) throw new UserError(`balance ${JSON.stringify(balance)} is not valid: expected a positive decimal number of USDT, such as 10000`);
    const settings: AccountSettings = {
      account: { initialBalance: kind === 'virtual' ? balance : DEFAULT_VIRTUAL_BALANCE, marginType: 'CROSSED', makerFeeRate: '0.0002', takerFeeRate: '0.0005', slippageBps: 0, allocationRatio: 1 },
      positions: [],
      risk: {},
      automation: 'off',
    };
    const account = this.repo.create(name, kind, settings);
    this.deps.log.info({ component: 'accounts', account: name, kind }, `account ${name} created (${kind})`);
    return account;
  }

  /** Removes an account with its history; refused while a process trades it. */
  remove(nameOrId: string | number): void {
    const account = this.require(nameOrId);
    this.refuseWhileTraded(account, 'removed');
    this.repo.remove(account.id);
    this.deps.log.info({ component: 'accounts', account: account.name }, `account ${account.name} removed`);
  }

  private refuseWhileTraded(account: StoredAccount, what: string): void {
    const holder = this.deps.leases?.holder(traderLeaseName(account.id));
    if (holder) throw new UserError(`account "${account.name}" is traded by ${holder.label} (pid ${holder.pid} on ${holder.host}); stop it before the account can be ${what}`);
  }

  /**
   * Sets the positions from a backtest configuration file (YAML or JSON; `text` instead of reading
   * it). The file may hold only `positions`; its `account` part, when given, sets the margin type,
   * fees, slippage and allocation ratio. A virtual account keeps the initial balance it was created
   * with. Strategies, parameters and CACs are validated; errors name the file, line and key.
   */
  async configure(nameOrId: string | number, file: string, text?: string): Promise<StoredAccount> {
    const account = this.require(nameOrId);
    let body = text;
    if (body === undefined) {
      try {
        body = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError(file, '', undefined, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    const loaded = this.parsePositions(account, body, file);
    await this.validate(loaded);
    return this.store(account, loaded.config, `file ${file}`);
  }

  /** Copies a saved simulation's positions and account control (atm sim list shows them). */
  async fromSimulation(nameOrId: string | number, simulationId: number): Promise<StoredAccount> {
    const account = this.require(nameOrId);
    const saved = this.deps.simulations?.get(simulationId);
    if (!saved) throw new UserError(`there is no saved simulation #${simulationId} (atm sim list shows them)`);
    const where = `simulation #${simulationId}`;
    const loaded: LoadedBacktestConfig = { file: where, config: saved.config, lineOf: () => undefined };
    await this.validate(loaded);
    return this.store(account, saved.config, `${where} (${saved.simulation.name})`);
  }

  private parsePositions(account: StoredAccount, text: string, file: string): LoadedBacktestConfig {
    const { doc } = parseYamlText(text, file);
    const data = doc.toJS() as unknown;
    let source = text;
    if (data && typeof data === 'object' && !Array.isArray(data) && !('account' in data)) {
      // the positions part alone: the account's own account part completes it (added at the end, so lines stay)
      doc.set('account', doc.createNode(account.settings.account));
      source = String(doc);
    }
    return parseBacktestConfig(source, file);
  }

  private async validate(loaded: LoadedBacktestConfig): Promise<void> {
    const { StrategyRegistry } = await import('../strategy/registry.js');
    validateStrategies(loaded, new StrategyRegistry(this.deps.strategiesDir));
  }

  private store(account: StoredAccount, config: BacktestConfig, source: string): StoredAccount {
    if (account.settings.automation === 'on') throw new UserError(`account "${account.name}" trades automatically: turn automation off before changing its positions`);
    const settings: AccountSettings = {
      ...account.settings,
      account: { ...config.account, initialBalance: account.settings.account.initialBalance },
      positions: config.positions,
      source,
    };
    const updated = this.repo.updateSettings(account.id, settings);
    this.repo.audit?.(account.id, 'configured', { source, positions: config.positions.map((p) => `${p.symbol} ${p.interval} ${p.strategy.name}`) });
    this.deps.log.info({ component: 'accounts', account: account.name, source, positions: config.positions.length }, `account ${account.name} configured from ${source}`);
    return updated;
  }

  /**
   * Stores an actual account's credentials, encrypted with `passphrase` (from a key and secret
   * typed in, or from a key file, which may then be removed). Refused with --readonly and for
   * virtual accounts.
   */
  activate(nameOrId: string | number, input: ActivationInput): StoredAccount {
    if (this.deps.readonly) throw new UserError('read-only mode (--readonly): accounts cannot be activated');
    const account = this.require(nameOrId);
    if (account.kind === 'virtual') throw new UserError(`account "${account.name}" is virtual: it trades on paper and needs no API key`);
    const credentials = 'keyFile' in input ? readKeyFile(input.keyFile, input.keyFilePassphrase) : new ApiCredentials(input.apiKey, input.apiSecret);
    const blob = encryptCredentials(credentials, input.passphrase, this.deps.scrypt);
    const info = { stored: true, apiKeyHint: credentials.apiKeyHint, keyType: credentials.keyType, ...('keyFile' in input ? { keyFile: input.keyFile } : {}) };
    this.repo.saveCredentials(account.id, info, blob);
    this.deps.log.info({ component: 'accounts', account: account.name, apiKeyHint: info.apiKeyHint, keyType: info.keyType }, `account ${account.name} activated (key …${info.apiKeyHint})`);
    return this.require(account.id);
  }

  /** Decrypts an actual account's credentials, in memory, for its trader. */
  credentials(nameOrId: string | number, passphrase: string): ApiCredentials {
    const account = this.require(nameOrId);
    const blob = this.repo.encryptedSecret(account.id);
    if (!blob) throw new UserError(`account "${account.name}" has no stored credentials: atm account activate ${account.name}`);
    return decryptCredentials(blob, passphrase, `account ${account.name}`);
  }

  /** Turns automation on or off. On is refused with --readonly, without positions, and for an actual account without credentials. */
  setAutomation(nameOrId: string | number, on: boolean): StoredAccount {
    const account = this.require(nameOrId);
    if (on) {
      if (this.deps.readonly) throw new UserError('read-only mode (--readonly): automated trading cannot be turned on');
      if (account.settings.positions.length === 0) throw new UserError(`account "${account.name}" has no positions: configure it first (atm account configure ${account.name} --config <file>)`);
      if (account.kind !== 'virtual' && !account.credentials.stored) throw new UserError(`account "${account.name}" is not activated: atm account activate ${account.name}`);
    }
    const automation = on ? 'on' : 'off';
    const updated = this.repo.updateSettings(account.id, { ...account.settings, automation });
    this.repo.audit?.(account.id, 'automation', { from: account.settings.automation, to: automation });
    this.deps.log.info({ component: 'accounts', account: account.name, automation }, `account ${account.name}: automation ${automation}`);
    return updated;
  }

  /** Merges risk limits into the account's (a limit set to null is removed). */
  setRisk(nameOrId: string | number, limits: { [K in keyof RiskLimits]?: RiskLimits[K] | null }): StoredAccount {
    const account = this.require(nameOrId);
    const merged: Record<string, unknown> = { ...account.settings.risk };
    for (const [k, v] of Object.entries(limits)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    const risk = checkRiskLimits(merged as RiskLimits);
    const updated = this.repo.updateSettings(account.id, { ...account.settings, risk });
    this.repo.audit?.(account.id, 'risk', { ...risk });
    this.deps.log.info({ component: 'accounts', account: account.name, risk }, `account ${account.name}: risk limits changed`);
    return updated;
  }

  // ---- what a trader writes ----

  saveSnapshot(nameOrId: string | number, snapshot: AccountSnapshot): void {
    this.repo.saveSnapshot(this.require(nameOrId).id, snapshot);
  }

  appendBalance(nameOrId: string | number, point: BalancePoint): void {
    this.repo.appendBalance(this.require(nameOrId).id, point);
  }

  appendTrade(nameOrId: string | number, trade: TradeLogEntry): void {
    this.repo.appendTrade(this.require(nameOrId).id, trade);
  }
}

function csvCell(value: string | undefined): string {
  if (value === undefined) return '';
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
