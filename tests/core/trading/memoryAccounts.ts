import { UserError } from '../../../src/core/errors.js';
import type { AccountKind, AccountRepository, AccountSettings, AccountSnapshot, BalancePoint, CredentialInfo, StoredAccount, TradeLogEntry } from '../../../src/core/accounts/types.js';

/**
 * A minimal in-memory AccountRepository for the trader's tests (g-acct's SQLite store,
 * src/db/accountStore.ts, is written in parallel; swap it in once merged).
 */
export class MemoryAccounts implements AccountRepository {
  private nextId = 1;
  private readonly rows = new Map<number, StoredAccount>();
  readonly snapshots = new Map<number, AccountSnapshot>();
  readonly balances = new Map<number, BalancePoint[]>();
  readonly tradeLog = new Map<number, TradeLogEntry[]>();
  snapshotWrites = 0;

  list(): StoredAccount[] {
    return [...this.rows.values()];
  }
  get(idOrName: number | string): StoredAccount | undefined {
    if (typeof idOrName === 'number') return this.rows.get(idOrName);
    return [...this.rows.values()].find((a) => a.name === idOrName);
  }
  create(name: string, kind: AccountKind, settings: AccountSettings): StoredAccount {
    if (this.get(name)) throw new UserError(`an account named ${name} exists`);
    const a: StoredAccount = { id: this.nextId++, name, kind, settings: structuredClone(settings), credentials: { stored: false }, createdAt: 0, updatedAt: 0 };
    this.rows.set(a.id, a);
    return structuredClone(a);
  }
  updateSettings(id: number, settings: AccountSettings): StoredAccount {
    const a = this.rows.get(id)!;
    a.settings = structuredClone(settings);
    return structuredClone(a);
  }
  remove(id: number): void {
    this.rows.delete(id);
  }
  saveCredentials(_id: number, _info: CredentialInfo): void {}
  encryptedSecret(): string | undefined {
    return undefined;
  }
  saveSnapshot(id: number, snapshot: AccountSnapshot): void {
    this.snapshotWrites++;
    this.snapshots.set(id, structuredClone(snapshot));
  }
  snapshot(id: number): AccountSnapshot | undefined {
    return this.snapshots.get(id);
  }
  appendBalance(id: number, point: BalancePoint): void {
    (this.balances.get(id) ?? this.balances.set(id, []).get(id)!).push(point);
  }
  balanceHistory(id: number): BalancePoint[] {
    return this.balances.get(id) ?? [];
  }
  appendTrade(id: number, trade: TradeLogEntry): void {
    (this.tradeLog.get(id) ?? this.tradeLog.set(id, []).get(id)!).push(trade);
  }
  trades(id: number): TradeLogEntry[] {
    return this.tradeLog.get(id) ?? [];
  }
}
