import type { BalancePoint, TradeLogEntry } from '../../core/accounts/types.js';
import type { EquityHistory } from '../result/model.js';
import { Dec } from '../../core/futures/decimal.js';

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

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Sums of realised PnL and of fees of a trade log, exact (decimal strings). */
export function tradeTotals(trades: readonly TradeLogEntry[]): { count: number; pnl: string; fees: string } {
  let pnl = Dec.ZERO;
  let fees = Dec.ZERO;
  for (const t of trades) {
    // a row that is not a decimal (never written by atm) is left out of the sums, not fatal to the page
    if (!DECIMAL.test(t.realizedPnl) || !DECIMAL.test(t.fee)) continue;
    pnl = pnl.add(Dec.parse(t.realizedPnl, 'realised PnL'));
    fees = fees.add(Dec.parse(t.fee, 'fee'));
  }
  return { count: trades.length, pnl: pnl.toString(), fees: fees.toString() };
}
