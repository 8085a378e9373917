import type {
  AccountKind,
  AccountRepository,
  AccountSettings,
  AccountSnapshot,
  AuditEntry,
  BalancePoint,
  CredentialInfo,
  StoredAccount,
  TradeLogEntry,
} from '../core/accounts/types.js';
import { checkSettings, parseStoredSettings } from '../core/accounts/settings.js';
import { UserError } from '../core/errors.js';
import { writeTransaction, type Database } from './database.js';
import type { TradeLogTable } from './schema.js';

interface AccountRow {
  id: number;
  name: string;
  kind: string;
  credentials_ref: string | null;
  settings_json: string;
  created_at: number;
  updated_at: number;
}

/** A trade_logs row as SELECT * returns it (the id column read as a number). */
type TradeRow = Omit<TradeLogTable, 'id'> & { id: number };

const KINDS: readonly AccountKind[] = ['virtual', 'binance', 'testnet'];

/**
 * Accounts on SQLite: `accounts`, `balance_history` and `trade_logs` (migration 0002) and
 * `account_snapshots`, `account_secrets`, `account_audit` (migration 0012). Settings are JSON
 * validated on read; `credentials_ref` holds the CredentialInfo (what may be shown), the encrypted
 * secret its own table. Writes that read first run in IMMEDIATE transactions.
 */
export class AccountStore implements AccountRepository {
  constructor(
    readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  private get sqlite() {
    return this.db.sqlite;
  }

  private toAccount(row: AccountRow): StoredAccount {
    if (!(KINDS as readonly string[]).includes(row.kind)) throw new UserError(`account "${row.name}": its kind in the database (${JSON.stringify(row.kind)}) is not one of ${KINDS.join(', ')}`);
    let credentials: CredentialInfo = { stored: false };
    if (row.credentials_ref) {
      try {
        credentials = JSON.parse(row.credentials_ref) as CredentialInfo;
      } catch {
        throw new UserError(`account "${row.name}": its credential record in the database is not valid JSON; activate the account again`);
      }
    }
    return {
      id: row.id,
      name: row.name,
      kind: row.kind as AccountKind,
      settings: parseStoredSettings(row.settings_json, row.name),
      credentials,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  list(): StoredAccount[] {
    return (this.sqlite.prepare('SELECT * FROM accounts ORDER BY id').all() as AccountRow[]).map((r) => this.toAccount(r));
  }

  get(idOrName: number | string): StoredAccount | undefined {
    const row = (
      typeof idOrName === 'number'
        ? this.sqlite.prepare('SELECT * FROM accounts WHERE id = ?').get(idOrName)
        : this.sqlite.prepare('SELECT * FROM accounts WHERE name = ?').get(idOrName)
    ) as AccountRow | undefined;
    return row ? this.toAccount(row) : undefined;
  }

  private require(id: number): StoredAccount {
    const account = this.get(id);
    if (!account) throw new UserError(`there is no account with id ${id}`);
    return account;
  }

  create(name: string, kind: AccountKind, settings: AccountSettings): StoredAccount {
    const checked = checkSettings(settings, name);
    const id = writeTransaction(this.sqlite, () => {
      if (this.sqlite.prepare('SELECT 1 FROM accounts WHERE name = ?').get(name)) throw new UserError(`an account named "${name}" exists already`);
      const now = this.now();
      const r = this.sqlite
        .prepare('INSERT INTO accounts (name, kind, credentials_ref, settings_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(name, kind, JSON.stringify({ stored: false }), JSON.stringify(checked), now, now);
      const id = Number(r.lastInsertRowid);
      this.insertAudit(id, 'created', { name, kind });
      return id;
    });
    return this.require(id);
  }

  updateSettings(id: number, settings: AccountSettings): StoredAccount {
    const name = this.require(id).name;
    const checked = checkSettings(settings, name);
    writeTransaction(this.sqlite, () => {
      this.sqlite.prepare('UPDATE accounts SET settings_json = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(checked), this.now(), id);
    });
    return this.require(id);
  }

  remove(id: number): void {
    writeTransaction(this.sqlite, () => {
      const row = this.sqlite.prepare('SELECT name FROM accounts WHERE id = ?').get(id) as { name: string } | undefined;
      if (!row) return;
      // the foreign keys cascade, but deleting the children explicitly does not depend on the pragma
      for (const table of ['account_snapshots', 'account_secrets', 'balance_history', 'trade_logs']) this.sqlite.prepare(`DELETE FROM ${table} WHERE account_id = ?`).run(id);
      this.sqlite.prepare('DELETE FROM accounts WHERE id = ?').run(id);
      this.insertAudit(id, 'removed', { name: row.name });
    });
  }

  saveCredentials(id: number, info: CredentialInfo, encrypted?: string): void {
    this.require(id);
    writeTransaction(this.sqlite, () => {
      const now = this.now();
      if (encrypted !== undefined) {
        this.sqlite
          .prepare('INSERT INTO account_secrets (account_id, blob, created_at) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET blob = excluded.blob, created_at = excluded.created_at')
          .run(id, encrypted, now);
      } else if (!info.stored) {
        this.sqlite.prepare('DELETE FROM account_secrets WHERE account_id = ?').run(id);
      }
      const stored = encrypted !== undefined || (info.stored && this.sqlite.prepare('SELECT 1 FROM account_secrets WHERE account_id = ?').get(id) !== undefined);
      const shown: CredentialInfo = { ...info, stored };
      this.sqlite.prepare('UPDATE accounts SET credentials_ref = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(shown), now, id);
      this.insertAudit(id, 'credentials', { stored, apiKeyHint: info.apiKeyHint, keyType: info.keyType, keyFile: info.keyFile });
    });
  }

  encryptedSecret(id: number): string | undefined {
    return (this.sqlite.prepare('SELECT blob FROM account_secrets WHERE account_id = ?').get(id) as { blob: string } | undefined)?.blob;
  }

  saveSnapshot(id: number, snapshot: AccountSnapshot): void {
    writeTransaction(this.sqlite, () => {
      this.sqlite
        .prepare('INSERT INTO account_snapshots (account_id, time, json) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET time = excluded.time, json = excluded.json')
        .run(id, snapshot.time, JSON.stringify(snapshot));
    });
  }

  snapshot(id: number): AccountSnapshot | undefined {
    const row = this.sqlite.prepare('SELECT json FROM account_snapshots WHERE account_id = ?').get(id) as { json: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.json) as AccountSnapshot;
    } catch {
      return undefined;
    }
  }

  appendBalance(id: number, point: BalancePoint): void {
    writeTransaction(this.sqlite, () => {
      this.sqlite
        .prepare('INSERT OR REPLACE INTO balance_history (account_id, time, asset, wallet_balance, margin_balance) VALUES (?, ?, ?, ?, ?)')
        .run(id, point.time, point.asset, point.walletBalance, point.marginBalance);
    });
  }

  balanceHistory(id: number, range: { from?: number; to?: number } = {}): BalancePoint[] {
    const rows = this.sqlite
      .prepare('SELECT time, asset, wallet_balance, margin_balance FROM balance_history WHERE account_id = ? AND time >= ? AND time <= ? ORDER BY time, asset')
      .all(id, range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER) as { time: number; asset: string; wallet_balance: string; margin_balance: string }[];
    return rows.map((r) => ({ time: r.time, asset: r.asset, walletBalance: r.wallet_balance, marginBalance: r.margin_balance }));
  }

  appendTrade(id: number, trade: TradeLogEntry): void {
    writeTransaction(this.sqlite, () => {
      this.sqlite
        .prepare(
          `INSERT INTO trade_logs (account_id, simulation_id, time, symbol, side, position_side, order_type, price, quantity, fee, fee_asset, realized_pnl, order_id, client_order_id, reason)
           VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, trade.time, trade.symbol, trade.side, trade.positionSide, trade.orderType, trade.price, trade.quantity, trade.fee, trade.feeAsset, trade.realizedPnl, trade.orderId ?? null, trade.clientOrderId ?? null, trade.reason ?? null);
    });
  }

  trades(id: number, range: { from?: number; to?: number; limit?: number } = {}): TradeLogEntry[] {
    // with a limit, the newest `limit` trades (still in time order)
    const limit = range.limit ?? -1;
    const rows = this.sqlite
      .prepare(
        `SELECT * FROM (SELECT * FROM trade_logs WHERE account_id = ? AND time >= ? AND time <= ? ORDER BY time DESC, id DESC LIMIT ?) ORDER BY time, id`,
      )
      .all(id, range.from ?? Number.MIN_SAFE_INTEGER, range.to ?? Number.MAX_SAFE_INTEGER, limit) as TradeRow[];
    return rows.map((r) => ({
      time: r.time,
      symbol: r.symbol,
      side: r.side as TradeLogEntry['side'],
      positionSide: r.position_side as TradeLogEntry['positionSide'],
      orderType: r.order_type,
      price: r.price,
      quantity: r.quantity,
      fee: r.fee,
      feeAsset: r.fee_asset,
      realizedPnl: r.realized_pnl,
      ...(r.order_id !== null ? { orderId: r.order_id } : {}),
      ...(r.client_order_id !== null ? { clientOrderId: r.client_order_id } : {}),
      ...(r.reason !== null ? { reason: r.reason } : {}),
    }));
  }

  audit(id: number, action: string, detail?: Record<string, unknown>): void {
    writeTransaction(this.sqlite, () => this.insertAudit(id, action, detail));
  }

  auditLog(id: number, limit = 100): AuditEntry[] {
    const rows = this.sqlite
      .prepare('SELECT * FROM (SELECT time, action, detail_json, id FROM account_audit WHERE account_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id')
      .all(id, limit) as { time: number; action: string; detail_json: string | null }[];
    return rows.map((r) => ({ time: r.time, action: r.action, detail: r.detail_json ? (JSON.parse(r.detail_json) as Record<string, unknown>) : {} }));
  }

  private insertAudit(id: number, action: string, detail?: Record<string, unknown>): void {
    this.sqlite.prepare('INSERT INTO account_audit (account_id, time, action, detail_json) VALUES (?, ?, ?, ?)').run(id, this.now(), action, detail ? JSON.stringify(detail) : null);
  }
}
