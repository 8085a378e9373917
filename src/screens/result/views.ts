import type { TFunction } from '../../core/i18n.js';
import type { Theme } from '../theme.js';
import { paint } from '../theme.js';
import { esc, fit, formatUtc, selectedLine, tableRow, visibleColumns, type Column } from '../widgets.js';
import { pct, type EquityHistory, type ResultListState, type ResultRow, type RoundTrip, type SortKey } from './model.js';

/** The list: name, finished, return, Sharpe, max drawdown, trades (narrow boxes drop the last first). */
export const LIST_COLUMNS: Column[] = [
  { width: 16, priority: 0 }, { width: 16, priority: 3 }, { width: 9, align: 'right', priority: 0 },
  { width: 7, align: 'right', priority: 1 }, { width: 8, align: 'right', priority: 1 }, { width: 6, align: 'right', priority: 2 },
];
const LIST_SORT: (SortKey | undefined)[] = ['name', 'date', 'return', 'sharpe', 'drawdown', undefined];

/** The trade log: symbol, side, entry, exit, entry price, exit price, PnL, fees. */
export const TRADE_COLUMNS: Column[] = [
  { width: 12, priority: 0 }, { width: 5, priority: 0 }, { width: 16, priority: 2 }, { width: 16, priority: 1 },
  { width: 12, align: 'right', priority: 3 }, { width: 12, align: 'right', priority: 3 }, { width: 12, align: 'right', priority: 0 }, { width: 10, align: 'right', priority: 4 },
];

/** The list's header and rows for `height` lines (the selection kept in view). */
export function listLines(list: ResultListState, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const kept = visibleColumns(LIST_COLUMNS, width);
  const heads = [t('result.col.name'), t('result.col.date'), t('result.col.return'), t('result.col.sharpe'), t('result.col.drawdown'), t('result.col.trades')]
    .map((h, i) => (LIST_SORT[i] === list.sort ? `${h}${list.reversed ? '↑' : '↓'}` : h));
  const lines = [paint(theme, 'muted', esc(tableRow(LIST_COLUMNS, kept, heads)))];
  if (list.rows.length === 0) return [...lines, paint(theme, 'muted', esc(fit(t('result.none'), width)))];
  const room = Math.max(1, height - 1);
  const first = Math.max(0, Math.min(list.cursor - Math.floor(room / 2), list.rows.length - room));
  list.rows.slice(first, first + room).forEach((r, i) => {
    const text = esc(tableRow(LIST_COLUMNS, kept, listCells(r)));
    lines.push(first + i === list.cursor ? selectedLine(theme, text) : text);
  });
  return lines;
}

export function listCells(r: ResultRow): string[] {
  return [r.name, formatUtc(r.finishedAt, false), pct(r.returnPct), r.sharpe.toFixed(2), pct(-Math.abs(r.maxDrawdownPct)), String(r.trades)];
}

const EIGHTHS = ' ▁▂▃▄▅▆▇█';

/**
 * The equity history as an area chart in text, one column per slice of the history (its last
 * equity), eighth-cell glyphs at the top of each column; below it the drawdown hanging from a
 * zero line (the slice's deepest drawdown), half-cell glyphs. Plain text; the page colours it.
 */
export function equityChart(h: EquityHistory, width: number, height: number): { equity: string[]; drawdown: string[]; min: number; max: number; maxDrawdown: number } {
  const n = h.equity.length;
  const ddRows = Math.max(1, Math.floor(height / 3));
  const eqRows = Math.max(1, height - ddRows);
  if (n === 0 || width <= 0) return { equity: Array(eqRows).fill(''), drawdown: Array(ddRows).fill(''), min: 0, max: 0, maxDrawdown: 0 };
  const cols = Math.min(width, n);
  const eq: number[] = [];
  const dd: number[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * n) / cols);
    const b = Math.max(a + 1, Math.floor(((c + 1) * n) / cols));
    eq.push(h.equity[b - 1]);
    let deepest = 0;
    for (let i = a; i < b; i++) deepest = Math.max(deepest, Math.abs(h.drawdownPct[i] ?? 0));
    dd.push(deepest);
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of h.equity) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const maxDrawdown = Math.max(0, ...dd);
  const span = max - min;
  // eighths filled from the bottom: a flat history fills half the height
  const level = eq.map((v) => (span > 0 ? 1 + Math.round(((v - min) / span) * (eqRows * 8 - 1)) : eqRows * 4));
  const equity: string[] = [];
  for (let r = eqRows - 1; r >= 0; r--) equity.push(level.map((l) => EIGHTHS[Math.max(0, Math.min(8, l - r * 8))]).join(''));
  const halves = dd.map((d) => (maxDrawdown > 0 ? Math.round((d / maxDrawdown) * ddRows * 2) : 0));
  const drawdown: string[] = [];
  for (let r = 0; r < ddRows; r++) drawdown.push(halves.map((x) => (x >= r * 2 + 2 ? '█' : x === r * 2 + 1 ? '▀' : ' ')).join(''));
  return { equity, drawdown, min, max, maxDrawdown };
}

/** The trade log's header and rows. */
export function tradeLines(trades: readonly RoundTrip[], first: number, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const kept = visibleColumns(TRADE_COLUMNS, width);
  const head = [t('result.col.symbol'), t('result.col.side'), t('result.col.entry'), t('result.col.exit'), t('result.col.entryPrice'), t('result.col.exitPrice'), t('result.col.pnl'), t('result.col.fees')];
  const lines = [paint(theme, 'muted', esc(tableRow(TRADE_COLUMNS, kept, head)))];
  for (const tr of trades.slice(first, first + Math.max(0, height - 1))) {
    const cells = [tr.symbol, tr.side, formatUtc(tr.entryTime, false), formatUtc(tr.exitTime, false), tr.entryPrice, tr.exitPrice, tr.pnl, tr.fees];
    const text = esc(tableRow(TRADE_COLUMNS, kept, cells));
    lines.push(tr.pnl.startsWith('-') ? paint(theme, 'down', text) : paint(theme, 'up', text));
  }
  return lines;
}
