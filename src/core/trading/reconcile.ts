import { sleep, type Clock } from '../clock.js';
import type { AlgoOrder, ExchangePort, Order } from '../exchange/port.js';
import { Dec } from '../futures/decimal.js';
import type { AuditEntry, JournalOrder, JournalPatch, OrderJournal } from './journal.js';

/**
 * Reconciliation: on start and after every reconnect of the user data stream, the exchange's
 * view (open orders, open algo orders, positions, balances) is read and the journal and local
 * state corrected; each correction is one audit_log line. The order manager sends nothing while
 * it runs.
 *
 * 1. Journal orders in an open state (NEW, SENT, ACKED, PARTIAL, UNKNOWN):
 *    - open on the exchange → their state and executed quantity from it;
 *    - not open → queried by client id for their final state (and fills, from userTrades);
 *    - "does not exist" (-2013), asked twice `missingWaitMs` apart: NEW / SENT / UNKNOWN never
 *      reached the exchange → LOST; ACKED / PARTIAL (it was there) → EXPIRED, noted.
 * 2. Orders open on the exchange with this account's client id prefix that the journal does not
 *    know (a journal restored from a backup, another process) → adopted into the journal.
 *    Other open orders (placed by hand) are counted, not touched.
 * 3. Positions (one-way mode, positionSide BOTH) that differ from the local ones → corrected.
 * 4. The USDT balance and margin balance → the manager's wallet and equity (and the risk state).
 */

/** What reconciliation needs of the order manager. */
export interface ReconcileHost {
  readonly accountId: number;
  readonly port: ExchangePort;
  readonly journal: OrderJournal;
  readonly clock: Clock;
  readonly prefix: string;
  positions(): Record<string, string>;
  setPosition(symbol: string, amount: string, time?: number): void;
  setBalances(wallet: string, equity: string): void;
  applyOrder(o: Order): JournalOrder | undefined;
  applyAlgoOrder(a: AlgoOrder): JournalOrder | undefined;
  update(clientId: string, patch: JournalPatch): JournalOrder;
  query(order: JournalOrder): Promise<JournalOrder | 'missing' | 'error'>;
  syncFillsIfNeeded(order: JournalOrder): Promise<void>;
  audit(entry: Omit<AuditEntry, 'time' | 'accountId'>): void;
}

export interface ReconcileReport {
  time: number;
  /** Journal orders whose state changed. */
  updated: number;
  /** Exchange orders adopted into the journal. */
  adopted: number;
  /** Journal orders found never to have reached the exchange. */
  lost: number;
  /** Positions corrected. */
  positionsCorrected: number;
  /** Open orders on the exchange that are not atm's (left alone). */
  foreignOpen: number;
  /** Open orders that could not be settled (queries failed): still open in the journal. */
  unsettled: number;
  openOrders: number;
  equity: string;
}

export async function reconcile(host: ReconcileHost, options: { missingWaitMs?: number } = {}): Promise<ReconcileReport> {
  const started = host.clock.now();
  host.audit({ kind: 'reconcile', message: 'reconciliation started' });
  const [open, openAlgo, risks, balances] = await Promise.all([host.port.openOrders(), host.port.openAlgoOrders(), host.port.positionRisk(), host.port.balances()]);
  const report: ReconcileReport = { time: started, updated: 0, adopted: 0, lost: 0, positionsCorrected: 0, foreignOpen: 0, unsettled: 0, openOrders: 0, equity: '0' };

  // 2 (first, so that 1 sees adopted rows as open on the exchange): open exchange orders
  const openIds = new Set<string>();
  for (const o of open) {
    openIds.add(o.clientOrderId);
    if (!o.clientOrderId.startsWith(host.prefix)) {
      report.foreignOpen++;
      continue;
    }
    const before = host.journal.get(host.accountId, o.clientOrderId);
    const after = host.applyOrder(o);
    if (!before && after) report.adopted++;
    else if (before && after && before.state !== after.state) correction(host, before, after, 'open on the exchange');
    if (before && after && before.state !== after.state) report.updated++;
  }
  for (const a of openAlgo) {
    openIds.add(a.clientAlgoId);
    if (!a.clientAlgoId.startsWith(host.prefix)) {
      report.foreignOpen++;
      continue;
    }
    const before = host.journal.get(host.accountId, a.clientAlgoId);
    const after = host.applyAlgoOrder(a);
    if (!before && after) report.adopted++;
    else if (before && after && before.state !== after.state) {
      correction(host, before, after, 'open on the exchange');
      report.updated++;
    }
  }

  // 1: journal orders the exchange does not list as open
  for (const row of host.journal.open(host.accountId)) {
    if (openIds.has(row.clientId)) {
      await host.syncFillsIfNeeded(host.journal.get(host.accountId, row.clientId)!);
      continue;
    }
    let found = await host.query(row);
    if (found === 'missing') {
      // an order sent a moment ago may not be visible yet: one bounded wait, then once more
      await sleep(host.clock, options.missingWaitMs ?? 1000);
      found = await host.query(row);
    }
    if (found === 'error') {
      report.unsettled++;
      continue;
    }
    if (found === 'missing') {
      const wasThere = row.state === 'ACKED' || row.state === 'PARTIAL';
      const after = host.update(row.clientId, wasThere ? { state: 'EXPIRED', error: 'no longer known to the exchange' } : { state: 'LOST', error: 'never reached the exchange' });
      correction(host, row, after, wasThere ? 'the exchange no longer knows it' : 'the exchange never received it');
      if (!wasThere) report.lost++;
      report.updated++;
      continue;
    }
    await host.syncFillsIfNeeded(found);
    if (found.state !== row.state) {
      correction(host, row, found, 'queried by client id');
      report.updated++;
    }
  }

  // 3: positions
  const local = host.positions();
  const seen = new Set<string>();
  for (const r of risks) {
    if (r.positionSide !== 'BOTH') continue;
    seen.add(r.symbol);
    const had = local[r.symbol] ?? '0';
    if (!Dec.parse(had).eq(r.positionAmt)) {
      host.setPosition(r.symbol, r.positionAmt, r.updateTime);
      // a stream update newer than this answer wins
      if (!Dec.parse(host.positions()[r.symbol] ?? '0').eq(r.positionAmt)) continue;
      host.audit({ kind: 'correction', symbol: r.symbol, message: `position ${had} → ${Dec.parse(r.positionAmt).toString()} (from positionRisk)` });
      report.positionsCorrected++;
    }
  }
  for (const [symbol, had] of Object.entries(local)) {
    if (seen.has(symbol) || Dec.parse(had).isZero()) continue;
    host.setPosition(symbol, '0');
    host.audit({ kind: 'correction', symbol, message: `position ${had} → 0 (none on the exchange)` });
    report.positionsCorrected++;
  }

  // 4: balances
  const usdt = balances.find((b) => b.asset === 'USDT');
  if (usdt) {
    // margin balance: the wallet plus the unrealised PnL of cross positions
    const equity = Dec.parse(usdt.balance).add(usdt.crossUnPnl).toString();
    host.setBalances(usdt.balance, equity);
    report.equity = equity;
  }
  report.openOrders = host.journal.open(host.accountId).length;
  host.audit({
    kind: 'reconcile',
    message: `reconciliation done: ${report.updated} updated, ${report.adopted} adopted, ${report.lost} never sent, ${report.positionsCorrected} positions corrected, ${report.openOrders} open${report.unsettled ? `, ${report.unsettled} unsettled` : ''}`,
    data: report,
  });
  return report;
}

function correction(host: ReconcileHost, before: JournalOrder, after: JournalOrder, why: string): void {
  host.audit({ kind: 'correction', symbol: after.symbol, clientId: after.clientId, message: `${before.state} → ${after.state}: ${why}` });
}
