import type { BacktestConfig, PositionConfig } from '../backtest/config.js';
import type { RiskMemory } from '../trading/risk.js';

/**
 * Trading accounts: the shared vocabulary of the account store, the order manager, the trader and
 * the Accounts / AutoTrade / Account History pages. Implemented on SQLite by src/db/accountStore.ts.
 *
 * - `virtual`: paper trading on live market data of whichever exchange is connected, with the
 *   backtester's account and fill model (core/futures) and an initial balance.
 * - `binance` / `testnet`: an actual USD-M account on Binance's mainnet or futures testnet; the API
 *   secret is stored encrypted (core/accounts/secrets.ts), never in settings.
 */
export type AccountKind = 'virtual' | 'binance' | 'testnet';

/** Risk state (core/trading/risk.ts): ACTIVE trades; REDUCING only reduces positions; HALTED places nothing. */
export type RiskState = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** The automation switch: `on` trades; `off` was turned off by the user; `killed` by the kill switch. */
export type AutomationState = 'on' | 'off' | 'killed';

/** Limits the risk manager checks before every order (absent: no limit of that kind). */
export interface RiskLimits {
  /** Halt when equity falls this fraction below its peak (0.2 = 20 %). */
  maxDrawdown?: number;
  /** Halt for the rest of the UTC day when the day's loss reaches this fraction of the day's opening equity. */
  dailyLossLimit?: number;
  /** Largest notional of one position, USDT (decimal string). */
  maxPositionNotional?: string;
  maxLeverage?: number;
  /** Refuse an order whose price is further than this fraction from the mark price (default 0.05). */
  priceBand?: number;
  /** At most this many orders per minute per account (default 30). */
  maxOrdersPerMinute?: number;
}

/** What an account trades: the `account` and `positions` parts of a backtest configuration. */
export interface AccountSettings {
  /** Account control and fee/fill assumptions (virtual accounts use all of it; actual ones the control part). */
  account: BacktestConfig['account'];
  positions: PositionConfig[];
  risk: RiskLimits;
  automation: AutomationState;
  /** Where the settings came from, for people: "simulation #12", "file positions.yaml". */
  source?: string;
  /**
   * The last kill-switch request (`atm trade --kill`, a page's kill key): the trader running the
   * account acts on it within a second and sets `handledAt`; a trader started later sees
   * automation 'killed' and sends nothing.
   */
  kill?: { at: number; closePositions: boolean; handledAt?: number };
}

/** What is known of an actual account's credentials (never the secret itself). */
export interface CredentialInfo {
  /** An encrypted secret is stored in the database. */
  stored: boolean;
  /** A key file the secret is read from at activation instead (may be on removable media). */
  keyFile?: string;
  /** The last 4 characters of the API key, for people to recognise it. */
  apiKeyHint?: string;
  /** 'hmac' or 'ed25519'. */
  keyType?: 'hmac' | 'ed25519';
}

export interface StoredAccount {
  id: number;
  name: string;
  kind: AccountKind;
  settings: AccountSettings;
  credentials: CredentialInfo;
  createdAt: number;
  updatedAt: number;
}

/** One position as last seen (from the exchange, or the virtual account model). Decimal strings. */
export interface PositionSnapshot {
  symbol: string;
  /** Signed quantity: > 0 long, < 0 short. */
  amount: string;
  entryPrice: string;
  markPrice: string;
  unrealizedPnl: string;
  leverage: number;
  marginType: 'ISOLATED' | 'CROSSED';
  liquidationPrice: string;
  /** The strategy's last target fraction (−1…+1) and the reason of its last decision. */
  target?: number;
  reason?: string;
  /** Isolated margin (a virtual account's, for its restore; absent for cross positions). */
  isolatedWallet?: string;
}

/**
 * An account's state as its trader last wrote it: other processes (the TUI while `atm trade` runs
 * under a service manager) read it from the database.
 */
export interface AccountSnapshot {
  time: number;
  walletBalance: string;
  availableBalance: string;
  marginBalance: string;
  unrealizedPnl: string;
  positions: PositionSnapshot[];
  openOrders: number;
  risk: RiskState;
  riskReason?: string;
  automation: AutomationState;
  /** The trader process, while one runs (from the lease `trader:<id>`). */
  trader?: { pid: number; host: string; label: string };
  /** Per configured position (in order): the target in force, so a restarted trader does not re-enter. */
  targets?: number[];
  /** The risk manager's memory (peak, day's opening equity, halts), so a restart does not forget a halt. */
  riskMemory?: RiskMemory;
  /** The limits that memory was kept under: a restart under changed limits lifts a drawdown halt. */
  riskLimits?: RiskLimits;
}

/** A row of the balance history (table balance_history). */
export interface BalancePoint {
  time: number;
  asset: string;
  walletBalance: string;
  marginBalance: string;
}

/** A fill in an account's trade log (table trade_logs). Decimal strings. */
export interface TradeLogEntry {
  time: number;
  symbol: string;
  side: 'BUY' | 'SELL';
  positionSide: 'BOTH' | 'LONG' | 'SHORT';
  orderType: string;
  price: string;
  quantity: string;
  fee: string;
  feeAsset: string;
  realizedPnl: string;
  orderId?: string;
  clientOrderId?: string;
  reason?: string;
}

/** A change to an account (table account_audit): created, configured, credentials, automation, risk, removed. Never a secret. */
export interface AuditEntry {
  time: number;
  action: string;
  detail: Record<string, unknown>;
}

/** The storage port of accounts (src/db/accountStore.ts). */
export interface AccountRepository {
  list(): StoredAccount[];
  /** By id or by name. */
  get(idOrName: number | string): StoredAccount | undefined;
  /** A name in use is refused with a UserError naming it. */
  create(name: string, kind: AccountKind, settings: AccountSettings): StoredAccount;
  updateSettings(id: number, settings: AccountSettings): StoredAccount;
  remove(id: number): void;
  /** The encrypted secret blob (core/accounts/secrets.ts format) and what may be shown of it. */
  saveCredentials(id: number, info: CredentialInfo, encrypted?: string): void;
  encryptedSecret(id: number): string | undefined;
  saveSnapshot(id: number, snapshot: AccountSnapshot): void;
  snapshot(id: number): AccountSnapshot | undefined;
  appendBalance(id: number, point: BalancePoint): void;
  balanceHistory(id: number, range?: { from?: number; to?: number }): BalancePoint[];
  appendTrade(id: number, trade: TradeLogEntry): void;
  trades(id: number, range?: { from?: number; to?: number; limit?: number }): TradeLogEntry[];
  /** Records a change to the account (kept after the account is removed). */
  audit?(id: number, action: string, detail?: Record<string, unknown>): void;
  /** The newest `limit` changes, oldest first. */
  auditLog?(id: number, limit?: number): AuditEntry[];
}
