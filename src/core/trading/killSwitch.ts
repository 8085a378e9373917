import { ExchangeError } from '../exchange/port.js';
import { Dec } from '../futures/decimal.js';
import type { OrderManager } from './orders.js';

/**
 * The kill switch: stops the account's automation (state `killed`: the manager refuses every
 * automated order), cancels every open order and conditional order of the account's symbols, and
 * optionally closes the positions with reduce-only MARKET orders (journaled like any order, client
 * id purpose `kill`, passing a HALTED or REDUCING risk state but not the filters). Each step is in
 * the audit log; a step that fails is reported and the others still run.
 */

export interface KillOptions {
  /** The account's symbols (default: every symbol with a position or an open journal order). */
  symbols?: string[];
  /** Close the positions of these symbols (true: all of them). */
  closePositions?: boolean | string[];
  /** Why, for the audit log ("user pressed K", "atm trade --kill"). */
  reason?: string;
}

export interface KillReport {
  symbols: string[];
  canceled: string[];
  closed: { symbol: string; quantity: string; clientId: string; state: string }[];
  errors: string[];
}

export async function killSwitch(manager: OrderManager, options: KillOptions = {}): Promise<KillReport> {
  manager.setAutomation('killed', options.reason ?? 'kill switch');
  const symbols = [...new Set(options.symbols ?? [...Object.keys(manager.positions()), ...manager.openOrders().map((o) => o.symbol)])].sort();
  const report: KillReport = { symbols, canceled: [], closed: [], errors: [] };
  manager.audit({ kind: 'kill', message: `kill switch: ${options.reason ?? 'requested'}; symbols ${symbols.join(', ') || '(none)'}` });
  for (const symbol of symbols) {
    for (const [what, call] of [
      ['orders', () => manager.port.cancelAllOrders(symbol)],
      ['conditional orders', () => manager.port.cancelAllAlgoOrders(symbol)],
    ] as const) {
      try {
        await call();
        report.canceled.push(`${symbol} ${what}`);
      } catch (error) {
        report.errors.push(`${symbol}: cancelling ${what} failed: ${error instanceof ExchangeError ? error.message : (error as Error).message}`);
      }
    }
  }
  // the journal learns the final states from the exchange
  await manager.reconcile().catch((error: Error) => report.errors.push(`reconciliation failed: ${error.message}`));
  const close = options.closePositions === true ? symbols : options.closePositions || [];
  const now = manager.clock.now();
  for (const symbol of close) {
    const amount = Dec.parse(manager.position(symbol));
    if (amount.isZero()) continue;
    const result = await manager.submit(
      {
        symbol, side: amount.sign() > 0 ? 'SELL' : 'BUY', type: 'MARKET', quantity: amount.abs().toString(), reduceOnly: true,
        positionIndex: 0, decision: { openTime: now, sequence: close.indexOf(symbol), purpose: 'kill' }, reason: 'kill switch: close the position',
      },
      { override: true },
    );
    if (result.status === 'refused') report.errors.push(`${symbol}: closing refused: ${result.reason}`);
    else report.closed.push({ symbol, quantity: amount.abs().toString(), clientId: result.order.clientId, state: result.order.state });
  }
  manager.audit({ kind: 'kill', message: `kill switch done: ${report.canceled.length} cancel calls, ${report.closed.length} positions closed, ${report.errors.length} errors`, data: report });
  return report;
}
