import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountSettings } from '../../src/core/accounts/types.js';
import { UserError } from '../../src/core/errors.js';
import { AccountStore } from '../../src/db/accountStore.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { tempHome } from '../helpers/app.js';

const settings = (balance = '1000'): AccountSettings => ({
  account: { initialBalance: balance, marginType: 'CROSSED', makerFeeRate: '0.0002', takerFeeRate: '0.0005', slippageBps: 0, allocationRatio: 1 },
  positions: [],
  risk: { maxDrawdown: 0.2 },
  automation: 'off',
});

describe('AccountStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<{ db: Database; store: AccountStore }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    let now = 1_000;
    return { db, store: new AccountStore(db, () => now++) };
  }

  it('creates, lists, gets by id and name, and refuses a name in use', async () => {
    const { store } = await open();
    const a = store.create('paper', 'virtual', settings('2500'));
    expect(a).toMatchObject({ name: 'paper', kind: 'virtual', credentials: { stored: false } });
    expect(a.settings.account.initialBalance).toBe('2500');
    store.create('real', 'testnet', settings());
    expect(store.list().map((x) => x.name)).toEqual(['paper', 'real']);
    expect(store.get(a.id)?.name).toBe('paper');
    expect(store.get('real')?.kind).toBe('testnet');
    expect(store.get('nobody')).toBeUndefined();
    expect(() => store.create('paper', 'virtual', settings())).toThrow(/an account named "paper" exists already/);
  });

  it('validates settings on read: a bad row names the account and the key', async () => {
    const { db, store } = await open();
    const a = store.create('broken', 'virtual', settings());
    const bad = { ...settings(), risk: { maxDrawdown: 3 } };
    db.sqlite.prepare('UPDATE accounts SET settings_json = ? WHERE id = ?').run(JSON.stringify(bad), a.id);
    let error: unknown;
    try {
      store.get('broken');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe('account "broken": its settings in the database are not valid: risk.maxDrawdown: must be at most 1');
    db.sqlite.prepare('UPDATE accounts SET settings_json = ? WHERE id = ?').run('{not json', a.id);
    expect(() => store.list()).toThrow('account "broken": its settings in the database are not valid JSON');
  });

  it('keeps snapshots, balance history and the trade log per account; remove drops them and audits', async () => {
    const { db, store } = await open();
    const a = store.create('a', 'virtual', settings());
    const b = store.create('b', 'virtual', settings());
    const snap = { time: 5, walletBalance: '1000', availableBalance: '900', marginBalance: '1001.5', unrealizedPnl: '1.5', positions: [], openOrders: 0, risk: 'ACTIVE' as const, automation: 'off' as const };
    store.saveSnapshot(a.id, snap);
    store.saveSnapshot(a.id, { ...snap, time: 6, walletBalance: '999' });
    expect(store.snapshot(a.id)).toMatchObject({ time: 6, walletBalance: '999' });
    expect(store.snapshot(b.id)).toBeUndefined();
    for (const t of [30, 10, 20]) store.appendBalance(a.id, { time: t, asset: 'USDT', walletBalance: String(t), marginBalance: String(t + 1) });
    expect(store.balanceHistory(a.id).map((p) => p.time)).toEqual([10, 20, 30]);
    expect(store.balanceHistory(a.id, { from: 15, to: 25 }).map((p) => p.walletBalance)).toEqual(['20']);
    expect(store.balanceHistory(b.id)).toEqual([]);
    for (const t of [1, 2, 3]) {
      store.appendTrade(a.id, { time: t, symbol: 'BTCUSDT', side: t % 2 ? 'BUY' : 'SELL', positionSide: 'BOTH', orderType: 'MARKET', price: '100.5', quantity: '0.001', fee: '0.05', feeAsset: 'USDT', realizedPnl: '0', clientOrderId: `c${t}` });
    }
    expect(store.trades(a.id).map((t) => t.clientOrderId)).toEqual(['c1', 'c2', 'c3']);
    expect(store.trades(a.id, { limit: 2 }).map((t) => t.time)).toEqual([2, 3]);
    expect(store.trades(a.id)[0]).not.toHaveProperty('orderId');
    store.saveCredentials(a.id, { stored: true, apiKeyHint: 'wxyz', keyType: 'hmac' }, 'atm-secret:v1:blob');
    expect(store.encryptedSecret(a.id)).toBe('atm-secret:v1:blob');
    expect(store.get(a.id)?.credentials).toEqual({ stored: true, apiKeyHint: 'wxyz', keyType: 'hmac' });

    store.remove(a.id);
    expect(store.get(a.id)).toBeUndefined();
    const count = (table: string) => (db.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`).get(a.id) as { n: number }).n;
    for (const table of ['account_snapshots', 'account_secrets', 'balance_history', 'trade_logs']) expect(count(table)).toBe(0);
    expect(store.auditLog(a.id).map((e) => e.action)).toEqual(['created', 'credentials', 'removed']);
    expect(JSON.stringify(store.auditLog(a.id))).not.toContain('atm-secret');
    expect(store.get(b.id)?.name).toBe('b');
  });
});
