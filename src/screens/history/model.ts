import type { BalancePoint, TradeLogEntry } from '../../core/accounts/types.js';
import type { EquityHistory } from '../result/model.js';

/**
 * The Account History page's view model, free of any terminal: an account's balance history as
 * the Result page's equity history (so its chart draws it), and the trade log's window.
 */

/** The balance history of one asset (USDT) as an equity series with its drawdown from the running peak, in %. */
export function equityHistory(points: readonly BalancePoint[], asset = 'USDT'): EquityHistory {
  const time: number[] = [];
  const equity: number[] = [];
  const drawdownPct: number[] = [];
  let peak = -Infinity;
  for (const p of points) {
    if (p.asset !== asset) continue;
    const v = Number(p.marginBalance);
    if (!Number.isFinite(v)) continue;
    peak = Math.max(peak, v);
    time.push(p.time);
    equity.push(v);
    drawdownPct.push(peak > 0 ? ((peak - v) / peak) * 100 : 0);
  }
  return { time, equity, drawdownPct };
}

/** The first trade shown so that a page of `room` rows ends at the newest when `fromEnd` (the default view). */
export function tradeWindow(count: number, room: number, first: number | undefined): number {
  const last = Math.max(0, count - room);
  return first === undefined ? last : Math.max(0, Math.min(first, last));
}

/** Sum of realised PnL and of fees of a trade log (decimal strings added as numbers for a summary line). */
export function tradeTotals(trades: readonly TradeLogEntry[]): { count: number; pnl: number; fees: number } {
  let pnl = 0;
  let fees = 0;
  for (const t of trades) {
    pnl += Number(t.realizedPnl);
    fees += Number(t.fee);
  }
  return { count: trades.length, pnl, fees };
}
