import type { TradeLogEntry } from '../../core/accounts/types.js';
import type { TFunction } from '../../core/i18n.js';
import { paint, type Theme } from '../theme.js';
import { esc, fit, formatUtc, selectedLine, tableRow, visibleColumns, type Column } from '../widgets.js';
import { equityChart } from '../result/views.js';
import { pct, type EquityHistory } from '../result/model.js';

/** The accounts to choose from: name and kind. */
export function accountLines(names: readonly { name: string; kind: string }[], cursor: number, width: number, height: number, theme: Theme, t: TFunction): string[] {
  if (names.length === 0) return [paint(theme, 'muted', esc(fit(t('account.page.none'), width)))];
  const room = Math.max(1, height);
  const first = Math.max(0, Math.min(cursor - Math.floor(room / 2), names.length - room));
  return names.slice(first, first + room).map((a, i) => {
    const text = esc(fit(`${a.name}  ${t(`account.kind.${a.kind}`)}`, width));
    return first + i === cursor ? selectedLine(theme, text) : text;
  });
}

/** The balance chart (the Result page's equity chart) with its axis labels, or a line saying there is none. */
export function balanceLines(h: EquityHistory, width: number, height: number, theme: Theme, t: TFunction): string[] {
  if (h.equity.length === 0) return [paint(theme, 'muted', esc(fit(t('account.history.noBalance'), width)))];
  const axis = 12;
  const c = equityChart(h, width - axis, height - 1);
  const label = (v: string) => paint(theme, 'muted', esc(fit(v, axis - 1, 'right'))) + ' ';
  const eq = c.equity.map((r, i) => (i === 0 ? label(c.max.toFixed(2)) : i === c.equity.length - 1 ? label(c.min.toFixed(2)) : ' '.repeat(axis)) + paint(theme, 'up', esc(r)));
  const dd = c.drawdown.map((r, i) => (i === 0 ? label(t('result.ddAxis')) : i === c.drawdown.length - 1 ? label(pct(-c.maxDrawdown)) : ' '.repeat(axis)) + paint(theme, 'down', esc(r)));
  const from = formatUtc(h.time[0], false);
  const to = formatUtc(h.time[h.time.length - 1], false);
  return [...eq, ...dd, ' '.repeat(axis) + paint(theme, 'muted', esc(from + fit(to, Math.max(0, width - axis - from.length), 'right')))];
}

/** The trade log: time, symbol, side, type, price, quantity, fee, realised PnL, reason. */
export const TRADE_COLUMNS: Column[] = [
  { width: 16, priority: 0 }, { width: 10, priority: 0 }, { width: 4, priority: 0 }, { width: 11, priority: 3 }, { width: 11, align: 'right', priority: 1 },
  { width: 10, align: 'right', priority: 2 }, { width: 9, align: 'right', priority: 2 }, { width: 10, align: 'right', priority: 0 }, { width: 24, priority: 4 },
];

export function tradeLines(trades: readonly TradeLogEntry[], first: number, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const kept = visibleColumns(TRADE_COLUMNS, width);
  const head = ['time', 'symbol', 'side', 'type', 'price', 'quantity', 'fee', 'pnl', 'reason'].map((c) => t(`account.col.${c}`));
  const lines = [paint(theme, 'muted', esc(tableRow(TRADE_COLUMNS, kept, head)))];
  if (trades.length === 0) return [...lines, paint(theme, 'muted', esc(fit(t('account.history.noTrades'), width)))];
  for (const tr of trades.slice(first, first + Math.max(0, height - 1))) {
    const text = esc(tableRow(TRADE_COLUMNS, kept, [formatUtc(tr.time, false), tr.symbol, tr.side, tr.orderType, tr.price, tr.quantity, tr.fee, tr.realizedPnl, tr.reason ?? '']));
    lines.push(tr.realizedPnl.startsWith('-') ? paint(theme, 'down', text) : Number(tr.realizedPnl) > 0 ? paint(theme, 'up', text) : text);
  }
  return lines;
}
