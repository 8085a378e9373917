import type { TFunction } from '../../core/i18n.js';
import type { Interval } from '../../core/market/klines.js';
import type { BookTop, MarketTrade } from '../../core/market/service.js';
import { paint, type Theme, type ThemeRole } from '../theme.js';
import { formatVolume } from '../widgets/candles.js';
import { esc, fit, formatUtc, selectedLine, wrapWords } from '../widgets.js';
import type { SymbolList } from './model.js';
import type { TempAnalysisState } from './temp.js';

/**
 * The Market page's text: each function turns view-model state into blessed-tagged lines for a
 * given size. None of them touches a widget, so each can be read (and tested) on its own.
 */

const muted = (theme: Theme, text: string, width: number) => wrapWords(text, width).map((l) => paint(theme, 'muted', esc(l)));

/** The first row shown by a symbol list `height` lines high (the header takes one line). */
export function symbolListTop(list: SymbolList, height: number): number {
  const rows = list.visible();
  const cursor = list.clampedCursor(rows.length);
  return Math.max(0, Math.min(cursor - Math.floor((height - 1) / 2), rows.length - (height - 1)));
}

/** The symbol list: a header (or the filter being typed), then the rows around the cursor. */
export function symbolListLines(list: SymbolList, t: TFunction, theme: Theme, width: number, height: number): string[] {
  const rows = list.visible();
  const cursor = list.clampedCursor(rows.length);
  const lines: string[] = [];
  if (list.filtering || list.filter) lines.push(paint(theme, 'accent', esc(fit(`/${list.filter}${list.filtering ? '▏' : ''}`, width))));
  else lines.push(paint(theme, 'muted', esc(fit(`${fit(t('market.col.symbol'), 11)}${fit(t('market.col.change'), 8, 'right')} ${fit(t('market.col.volume'), width - 20, 'right')}`, width))));
  if (list.rows.length === 0) lines.push('', ...muted(theme, t('market.noData'), width));
  else if (rows.length === 0) lines.push(paint(theme, 'muted', esc(fit(t('market.noMatch'), width))));
  const top = symbolListTop(list, height);
  for (let i = top; i < rows.length && lines.length < height; i++) {
    const r = rows[i];
    const change = Number.isFinite(r.change) ? `${r.change >= 0 ? '+' : ''}${r.change.toFixed(2)}%` : '-';
    const text = `${fit(r.symbol, 11)}${fit(change, 8, 'right')} ${fit(Number.isFinite(r.volume) ? formatVolume(r.volume) : '-', width - 20, 'right')}`;
    const role: ThemeRole = !Number.isFinite(r.change) ? 'muted' : r.change >= 0 ? 'up' : 'down';
    lines.push(i === cursor ? selectedLine(theme, esc(fit(text, width))) : paint(theme, role, esc(fit(text, width))));
  }
  return lines;
}

/** What the side panel knows about the selected symbol's live data. */
export interface SideState {
  symbol?: string;
  /** The connected exchange's venue, undefined when none is connected. */
  venue?: string;
  /** Why it cannot be kept current: a message key and its values, or undefined when it can. */
  blocked?: { key: string; source: string };
  stale: boolean;
  book?: BookTop;
  trades: readonly MarketTrade[];
}

/** The side panel: the order book's top levels and the recent trades, or why there are none. */
export function sideLines(s: SideState, t: TFunction, theme: Theme, width: number, height: number): string[] {
  const lines: string[] = [];
  if (s.stale) lines.push(...wrapWords(t('market.stale'), width).map((l) => paint(theme, 'warn', esc(l))));
  if (s.venue && s.symbol && s.blocked) return [...lines, ...muted(theme, t(s.blocked.key, { symbol: s.symbol, venue: s.venue, source: s.blocked.source }), width)];
  if (!s.venue) return [...lines, ...muted(theme, t('market.noExchange'), width)];
  if (!s.symbol) return [paint(theme, 'muted', esc(t('market.chart.noSymbol')))];
  const levels = Math.max(3, Math.min(10, Math.floor((height - 6) / 4)));
  const half = Math.floor(width / 2);
  const col = (a: string, b: string) => `${fit(a, half, 'right')}${fit(b, width - half, 'right')}`;
  lines.push(paint(theme, 'muted', esc(col(t('market.price'), t('market.qty')))));
  if (!s.book || !s.book.synced) lines.push(paint(theme, 'muted', esc(t('market.bookSyncing'))));
  else {
    for (const [p, q] of s.book.asks.slice(0, levels).reverse()) lines.push(paint(theme, 'down', esc(col(p, q))));
    lines.push(paint(theme, 'muted', esc('─'.repeat(width))));
    for (const [p, q] of s.book.bids.slice(0, levels)) lines.push(paint(theme, 'up', esc(col(p, q))));
  }
  lines.push('', paint(theme, 'accent', esc(t('market.trades'))));
  if (s.trades.length === 0) lines.push(paint(theme, 'muted', esc(t('market.noTrades'))));
  for (const tr of s.trades) {
    if (lines.length >= height) break;
    const time = new Date(tr.time).toISOString().slice(11, 19);
    lines.push(paint(theme, tr.sell ? 'down' : 'up', esc(`${time} ${fit(tr.price, 11, 'right')} ${fit(tr.qty, width - 21, 'right')}`)));
  }
  return lines;
}

/** The one line under the chart that tells the temporary analysis' state ('' when none). */
export function tempStatusLine(state: TempAnalysisState, outside: boolean, t: TFunction, theme: Theme, width: number): string {
  const line = (role: ThemeRole, text: string) => paint(theme, role, esc(fit(text, width)));
  const { running, error, temp } = state;
  if (running) return line('warn', t('market.analysis.running', { cac: running.cacName, candles: running.candles, warmup: running.warmup }));
  if (error !== undefined) return line('error', t('market.analysis.failed', { message: error }));
  if (!temp) return '';
  const first = formatUtc(temp.fromTime, false);
  const last = formatUtc(temp.toTime, false);
  const range = `${first} → ${first.slice(0, 10) === last.slice(0, 10) ? last.slice(11) : last}`;
  if (outside) return line('warn', t('market.analysis.outside', { cac: temp.cac.cac.name, range }));
  let text = t('market.analysis.shown', { cac: temp.cac.cac.name, range });
  if (temp.omitted.length > 0) text += ` · ${t('market.analysis.omitted', { panels: temp.omitted.join(', ') })}`;
  return line('accent', text);
}

/** The CAC picker's lines for a box of `inner` columns and at most `boxHeight` rows. */
export function pickerLines(state: TempAnalysisState, series: { symbol?: string; interval: Interval }, t: TFunction, theme: Theme, inner: number, boxHeight: number): string[] {
  const p = state.picker!;
  const head = wrapWords(t('market.analysis.intro', { symbol: series.symbol ?? '', interval: series.interval }), inner).map((l) => paint(theme, 'muted', esc(l)));
  head.push('');
  const tail = ['', paint(theme, 'muted', esc(fit(t('market.analysis.help'), inner)))];
  const body: string[] = [];
  if (p.error !== undefined) body.push(...wrapWords(t('market.analysis.listFailed', { message: p.error }), inner).map((l) => paint(theme, 'error', esc(l))));
  else if (!p.cacs) body.push(paint(theme, 'muted', esc(t('market.analysis.loading'))));
  else {
    const entries = [t('market.analysis.none'), ...p.cacs.map((c) => `${c.cac.name}  ${c.cac.indicators.map((x) => x.type).join(' ')}${c.cac.pip ? ' +PIP' : ''}`)];
    const room = Math.max(1, boxHeight - 2 - head.length - tail.length - (p.cacs.length === 0 ? 4 : 0));
    const top = Math.max(0, Math.min(p.cursor - Math.floor(room / 2), entries.length - room));
    for (let i = top; i < entries.length && i < top + room; i++) {
      const text = esc(fit(`${i === p.cursor ? '▸ ' : '  '}${entries[i]}`, inner));
      body.push(i === p.cursor ? selectedLine(theme, text) : text);
    }
    if (p.cacs.length === 0) body.push('', ...wrapWords(t('market.analysis.noCacs'), inner).map((l) => paint(theme, 'warn', esc(l))));
  }
  return [...head, ...body, ...tail];
}
