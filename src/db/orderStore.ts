import type { AuditEntry, JournalOrder, JournalPatch, OrderFill, OrderJournal, OrderState } from '../core/trading/journal.js';
import { writeTransaction, type Database } from './database.js';

interface OrderRow {
  account_id: number;
  client_id: string;
  symbol: string;
  intent_json: string;
  sent_json: string;
  state: OrderState;
  exchange_id: number | null;
  actual_order_id: number | null;
  executed_qty: string;
  avg_price: string;
  attempts: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

interface FillRow {
  account_id: number;
  symbol: string;
  trade_id: number;
  client_id: string;
  order_id: number;
  side: 'BUY' | 'SELL';
  price: string;
  quantity: string;
  fee: string;
  fee_asset: string;
  realized_pnl: string;
  maker: number;
  time: number;
}

interface AuditRow {
  id: number;
  time: number;
  account_id: number;
  kind: string;
  symbol: string | null;
  client_id: string | null;
  message: string;
  data_json: string | null;
}

const OPEN = "('NEW','SENT','ACKED','PARTIAL','UNKNOWN')";

function toOrder(r: OrderRow): JournalOrder {
  return {
    accountId: r.account_id, clientId: r.client_id, symbol: r.symbol, intent: JSON.parse(r.intent_json), sent: JSON.parse(r.sent_json),
    state: r.state, exchangeId: r.exchange_id ?? undefined, actualOrderId: r.actual_order_id ?? undefined, executedQty: r.executed_qty,
    avgPrice: r.avg_price, attempts: r.attempts, error: r.error ?? undefined, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

function toFill(r: FillRow): OrderFill {
  return {
    accountId: r.account_id, clientId: r.client_id, symbol: r.symbol, tradeId: r.trade_id, orderId: r.order_id, side: r.side, price: r.price,
    quantity: r.quantity, fee: r.fee, feeAsset: r.fee_asset, realizedPnl: r.realized_pnl, maker: r.maker === 1, time: r.time,
  };
}

const PATCH_COLUMNS: Record<keyof JournalPatch, string> = {
  state: 'state', exchangeId: 'exchange_id', actualOrderId: 'actual_order_id', executedQty: 'executed_qty', avgPrice: 'avg_price', attempts: 'attempts', error: 'error',
};

/**
 * The order journal on SQLite (tables `orders`, `order_fills`, `audit_log` of migration 0008).
 * Every call is one statement or one IMMEDIATE transaction and is durable when it returns (WAL):
 * an order is journaled before it is sent, so a process killed right after sending finds it.
 */
export class OrderStore implements OrderJournal {
  constructor(readonly db: Database) {}

  insert(o: JournalOrder): boolean {
    const r = this.db.sqlite
      .prepare(`INSERT OR IGNORE INTO orders (account_id, client_id, symbol, intent_json, sent_json, state, exchange_id, actual_order_id, executed_qty, avg_price, attempts, error, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(o.accountId, o.clientId, o.symbol, JSON.stringify(o.intent), JSON.stringify(o.sent), o.state, o.exchangeId ?? null, o.actualOrderId ?? null,
        o.executedQty, o.avgPrice, o.attempts, o.error ?? null, o.createdAt, o.updatedAt);
    return r.changes === 1;
  }

  get(accountId: number, clientId: string): JournalOrder | undefined {
    const r = this.db.sqlite.prepare('SELECT * FROM orders WHERE account_id = ? AND client_id = ?').get(accountId, clientId) as OrderRow | undefined;
    return r && toOrder(r);
  }

  update(accountId: number, clientId: string, patch: JournalPatch, time: number): void {
    const sets: string[] = ['updated_at = ?'];
    const values: unknown[] = [time];
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof JournalPatch, string][]) {
      if (!(key in patch)) continue;
      sets.push(`${column} = ?`);
      values.push(patch[key] ?? null);
    }
    this.db.sqlite.prepare(`UPDATE orders SET ${sets.join(', ')} WHERE account_id = ? AND client_id = ?`).run(...values, accountId, clientId);
  }

  open(accountId: number): JournalOrder[] {
    return (this.db.sqlite.prepare(`SELECT * FROM orders WHERE account_id = ? AND state IN ${OPEN} ORDER BY created_at, rowid`).all(accountId) as OrderRow[]).map(toOrder);
  }

  list(accountId: number, options: { limit?: number; symbol?: string } = {}): JournalOrder[] {
    const rows = options.symbol
      ? this.db.sqlite.prepare('SELECT * FROM orders WHERE account_id = ? AND symbol = ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(accountId, options.symbol, options.limit ?? 1000)
      : this.db.sqlite.prepare('SELECT * FROM orders WHERE account_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?').all(accountId, options.limit ?? 1000);
    return (rows as OrderRow[]).map(toOrder);
  }

  addFill(f: OrderFill): boolean {
    return writeTransaction(this.db.sqlite, () => {
      const r = this.db.sqlite
        .prepare(`INSERT OR IGNORE INTO order_fills (account_id, symbol, trade_id, client_id, order_id, side, price, quantity, fee, fee_asset, realized_pnl, maker, time)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(f.accountId, f.symbol, f.tradeId, f.clientId, f.orderId, f.side, f.price, f.quantity, f.fee, f.feeAsset, f.realizedPnl, f.maker ? 1 : 0, f.time);
      return r.changes === 1;
    });
  }

  fills(accountId: number, clientId?: string): OrderFill[] {
    const rows = clientId === undefined
      ? this.db.sqlite.prepare('SELECT * FROM order_fills WHERE account_id = ? ORDER BY time, trade_id').all(accountId)
      : this.db.sqlite.prepare('SELECT * FROM order_fills WHERE account_id = ? AND client_id = ? ORDER BY time, trade_id').all(accountId, clientId);
    return (rows as FillRow[]).map(toFill);
  }

  audit(e: AuditEntry): void {
    this.db.sqlite
      .prepare('INSERT INTO audit_log (time, account_id, kind, symbol, client_id, message, data_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.time, e.accountId, e.kind, e.symbol ?? null, e.clientId ?? null, e.message, e.data === undefined ? null : JSON.stringify(e.data));
  }

  auditLog(accountId: number, options: { from?: number; kind?: string; limit?: number } = {}): AuditEntry[] {
    const rows = this.db.sqlite
      .prepare('SELECT * FROM audit_log WHERE account_id = ? AND time >= ? AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?')
      .all(accountId, options.from ?? 0, options.kind ?? null, options.kind ?? null, options.limit ?? 100_000) as AuditRow[];
    return rows.map((r) => ({
      id: r.id, time: r.time, accountId: r.account_id, kind: r.kind, symbol: r.symbol ?? undefined, clientId: r.client_id ?? undefined, message: r.message,
      data: r.data_json === null ? undefined : JSON.parse(r.data_json),
    }));
  }
}
