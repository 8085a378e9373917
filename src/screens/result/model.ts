import type { BacktestConfig } from '../../core/backtest/config.js';
import { Dec } from '../../core/futures/decimal.js';

/**
 * The Simulation Result page's view model, free of any terminal: the saved simulations as rows
 * (sortable), the selection, the trade-log filters, the per-position returns beside buy-and-hold,
 * and the configuration as text lines.
 */

/** A saved simulation as the list shows it. */
export interface ResultRow {
  id: number;
  name: string;
  finishedAt: number;
  returnPct: number;
  sharpe: number;
  maxDrawdownPct: number;
  trades: number;
  initialBalance: string;
  finalBalance: string;
  buyAndHoldReturnPct: Record<string, number>;
  /** Each position's result in USDT from the summary (runs saved before it existed: absent). */
  positionPnl?: Record<string, string>;
  config: BacktestConfig;
}

/** The balance history of a saved simulation (`app.backtest.history(id)`). */
export interface EquityHistory {
  time: number[];
  equity: number[];
  drawdownPct: number[];
}

/** One round trip of a saved simulation (`app.backtest.trades(id)`). */
export interface RoundTrip {
  symbol: string;
  side: 'LONG' | 'SHORT';
  entryTime: number;
  exitTime: number;
  entryPrice: string;
  exitPrice: string;
  pnl: string;
  fees: string;
}

export const SORT_KEYS = ['date', 'name', 'return', 'sharpe', 'drawdown'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Each column's natural order: best first (highest return and Sharpe, smallest drawdown, newest, A→Z). */
const NATURAL_DESC: Record<SortKey, boolean> = { date: true, name: false, return: true, sharpe: true, drawdown: false };

export function compareRows(key: SortKey): (a: ResultRow, b: ResultRow) => number {
  switch (key) {
    case 'date': return (a, b) => a.finishedAt - b.finishedAt || a.id - b.id;
    case 'name': return (a, b) => a.name.localeCompare(b.name) || a.id - b.id;
    case 'return': return (a, b) => a.returnPct - b.returnPct || a.id - b.id;
    case 'sharpe': return (a, b) => a.sharpe - b.sharpe || a.id - b.id;
    case 'drawdown': return (a, b) => a.maxDrawdownPct - b.maxDrawdownPct || a.id - b.id;
  }
}

/** The rows sorted by `key`, in its natural order or reversed. */
export function sortRows(rows: readonly ResultRow[], key: SortKey, reversed = false): ResultRow[] {
  const cmp = compareRows(key);
  const desc = NATURAL_DESC[key] !== reversed;
  return [...rows].sort((a, b) => (desc ? cmp(b, a) : cmp(a, b)));
}

/** The list: rows in the chosen order and the selected one (kept by id across reloads and re-sorts). */
export class ResultListState {
  sort: SortKey = 'date';
  reversed = false;
  private all: ResultRow[] = [];
  rows: ResultRow[] = [];
  cursor = 0;

  setRows(rows: readonly ResultRow[], selectId?: number): void {
    const keep = selectId ?? this.selected()?.id;
    this.all = [...rows];
    this.resort(keep);
  }

  /** The next sort column (date → name → return → sharpe → drawdown → date). */
  cycleSort(): void {
    const keep = this.selected()?.id;
    this.sort = SORT_KEYS[(SORT_KEYS.indexOf(this.sort) + 1) % SORT_KEYS.length];
    this.reversed = false;
    this.resort(keep);
  }

  reverse(): void {
    const keep = this.selected()?.id;
    this.reversed = !this.reversed;
    this.resort(keep);
  }

  move(delta: number): void {
    if (this.rows.length === 0) return;
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + delta));
  }

  jump(end: 'top' | 'bottom'): void {
    this.cursor = end === 'top' ? 0 : Math.max(0, this.rows.length - 1);
  }

  select(id: number): boolean {
    const i = this.rows.findIndex((r) => r.id === id);
    if (i >= 0) this.cursor = i;
    return i >= 0;
  }

  selected(): ResultRow | undefined {
    return this.rows[this.cursor];
  }

  private resort(keepId: number | undefined): void {
    this.rows = sortRows(this.all, this.sort, this.reversed);
    const i = keepId === undefined ? -1 : this.rows.findIndex((r) => r.id === keepId);
    this.cursor = i >= 0 ? i : Math.max(0, Math.min(this.cursor, this.rows.length - 1));
  }
}

/** The trade log's filters; undefined shows all. */
export interface TradeFilter {
  symbol?: string;
  side?: 'LONG' | 'SHORT';
  outcome?: 'win' | 'loss';
}

/** A trade wins when its PnL after fees is above zero (exact, from the decimal text). */
export function isWin(trade: Pick<RoundTrip, 'pnl'>): boolean {
  return Dec.parse(trade.pnl, 'pnl').sign() > 0;
}

export function filterTrades(trades: readonly RoundTrip[], filter: TradeFilter): RoundTrip[] {
  return trades.filter((t) =>
    (filter.symbol === undefined || t.symbol === filter.symbol) &&
    (filter.side === undefined || t.side === filter.side) &&
    (filter.outcome === undefined || (filter.outcome === 'win') === isWin(t)));
}

/** The value after `current` in `[undefined, ...values]` (undefined = all). */
export function cycleValue<T>(values: readonly T[], current: T | undefined): T | undefined {
  const options: (T | undefined)[] = [undefined, ...values];
  return options[(options.indexOf(current) + 1) % options.length];
}

/** Per position: the strategy's PnL on that symbol (sum of its trades, exact) and its return on the initial balance, beside buy-and-hold. */
export interface PositionReturn {
  symbol: string;
  pnl: string | undefined;
  returnPct: number | undefined;
  buyAndHoldPct: number | undefined;
}

export function positionReturns(row: ResultRow, trades: readonly RoundTrip[] | undefined): PositionReturn[] {
  const initial = Dec.parse(row.initialBalance, 'initialBalance');
  return row.config.positions.map((p) => {
    // the summary's figure includes open positions and funding; older runs: the round trips' sum
    const fromSummary = row.positionPnl?.[p.symbol];
    let pnl: Dec | undefined = fromSummary === undefined ? undefined : Dec.parse(fromSummary, 'positionPnl');
    if (pnl === undefined && trades) {
      pnl = Dec.ZERO;
      for (const t of trades) if (t.symbol === p.symbol) pnl = pnl.add(t.pnl);
    }
    return {
      symbol: p.symbol,
      pnl: pnl?.toString(),
      returnPct: pnl === undefined || initial.isZero() ? undefined : pnl.mul(100).div(initial).toNumber(),
      buyAndHoldPct: row.buyAndHoldReturnPct[p.symbol],
    };
  });
}

/** The configuration as short lines: the account, then one line per position. */
export function configLines(config: BacktestConfig): string[] {
  const a = config.account;
  const lines = [`${a.initialBalance} USDT ${a.marginType} maker ${a.makerFeeRate} taker ${a.takerFeeRate} slip ${a.slippageBps}bp`];
  for (const p of config.positions) {
    const params = Object.entries(p.strategy.params).map(([k, v]) => `${k}=${v}`).join(' ');
    const cac = p.strategy.cac ? ' +CAC' : '';
    lines.push(`${p.symbol} ${p.interval} x${p.leverage} ${p.strategy.name}${params ? ` ${params}` : ''}${cac} ratio ${p.control.assumedRatio}`);
  }
  return lines;
}

/** A signed percentage with two decimals: +12.34%. */
export function pct(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return `${v > 0 ? '+' : ''}${v.toFixed(2)}%`;
}
