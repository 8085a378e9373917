import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { OrderStore } from '../../src/db/orderStore.js';
import type { JournalOrder } from '../../src/core/trading/journal.js';
import { tempHome } from '../helpers/app.js';

describe('OrderStore (the order journal on SQLite)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<{ db: Database; file: string }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const file = join(tmp.home, 'atm.sqlite');
    const db = openDatabase(file);
    cleanups.push(() => db.close());
    await migrate(db);
    return { db, file };
  }
  const order = (clientId: string, over: Partial<JournalOrder> = {}): JournalOrder => ({
    accountId: 1, clientId, symbol: 'BTCUSDT', state: 'NEW', executedQty: '0', avgPrice: '0', attempts: 0, createdAt: 1000, updatedAt: 1000,
    intent: { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.0104', price: '60000.05', positionIndex: 0, decision: { openTime: 60_000, sequence: 0, purpose: 'entry' } },
    sent: { kind: 'regular', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: '60000.0' },
    ...over,
  });

  it('journals an order once per (account, client id), updates it, and lists the open ones', async () => {
    const { db } = await open();
    const store = new OrderStore(db);
    expect(store.insert(order('atm.1.0.1o0.0.en'))).toBe(true);
    expect(store.insert(order('atm.1.0.1o0.0.en', { symbol: 'ETHUSDT' }))).toBe(false);
    expect(store.insert(order('atm.1.0.1o0.0.en', { accountId: 2 }))).toBe(true);
    expect(store.get(1, 'atm.1.0.1o0.0.en')).toMatchObject({ symbol: 'BTCUSDT', state: 'NEW', sent: { price: '60000.0' }, intent: { decision: { purpose: 'entry' } } });
    store.update(1, 'atm.1.0.1o0.0.en', { state: 'PARTIAL', exchangeId: 1_000_001, executedQty: '0.004', attempts: 1 }, 2000);
    expect(store.get(1, 'atm.1.0.1o0.0.en')).toMatchObject({ state: 'PARTIAL', exchangeId: 1_000_001, executedQty: '0.004', attempts: 1, updatedAt: 2000 });
    store.insert(order('atm.1.0.1o0.1.ex', { createdAt: 1500 }));
    store.update(1, 'atm.1.0.1o0.1.ex', { state: 'FILLED' }, 2100);
    expect(store.open(1).map((o) => o.clientId)).toEqual(['atm.1.0.1o0.0.en']);
    expect(store.list(1).map((o) => o.clientId)).toEqual(['atm.1.0.1o0.1.ex', 'atm.1.0.1o0.0.en']);
    expect(() => store.update(1, 'atm.1.0.1o0.0.en', { state: 'BOGUS' as never }, 3000)).toThrow(/CHECK constraint/);
  });

  it('keeps a fill once per trade id, so a duplicated event is harmless', async () => {
    const { db } = await open();
    const store = new OrderStore(db);
    const fill = { accountId: 1, clientId: 'c1', symbol: 'BTCUSDT', tradeId: 77, orderId: 5, side: 'BUY' as const, price: '60000', quantity: '0.004', fee: '0.096', feeAsset: 'USDT', realizedPnl: '0', maker: false, time: 5 };
    expect(store.addFill(fill)).toBe(true);
    expect(store.addFill({ ...fill, quantity: '9' })).toBe(false);
    expect(store.addFill({ ...fill, tradeId: 78 })).toBe(true);
    expect(store.fills(1, 'c1').map((f) => [f.tradeId, f.quantity])).toEqual([[77, '0.004'], [78, '0.004']]);
  });

  it('the audit log is append-only, in the database itself', async () => {
    const { db } = await open();
    const store = new OrderStore(db);
    store.audit({ time: 1, accountId: 1, kind: 'decision', symbol: 'BTCUSDT', clientId: 'c1', message: 'BUY 0.010', data: { mark: '60000' } });
    store.audit({ time: 2, accountId: 1, kind: 'refused', message: 'halted' });
    store.audit({ time: 3, accountId: 2, kind: 'refused', message: 'other account' });
    expect(store.auditLog(1).map((e) => [e.kind, e.message, e.data])).toEqual([['decision', 'BUY 0.010', { mark: '60000' }], ['refused', 'halted', undefined]]);
    expect(store.auditLog(1, { kind: 'refused' })).toHaveLength(1);
    expect(() => db.sqlite.prepare("UPDATE audit_log SET message = 'x'").run()).toThrow(/append-only/);
    expect(() => db.sqlite.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(store.auditLog(1)).toHaveLength(2);
  });
});
