import type { AccountView } from '../../core/accounts/service.js';
import type { StoredSimulation } from '../../core/backtest/repository.js';
import type { TFunction } from '../../core/i18n.js';
import { paint, type Theme } from '../theme.js';
import { esc, fit, formatUtc, selectedLine, tableRow, visibleColumns, type Column } from '../widgets.js';
import { FormState, traderText, type AccountListState, type AccountRow } from './model.js';

/** The list: name, kind, wallet, equity, risk, automation, positions, trader. */
export const LIST_COLUMNS: Column[] = [
  { width: 14, priority: 0 }, { width: 15, priority: 2 }, { width: 12, align: 'right', priority: 0 }, { width: 12, align: 'right', priority: 1 },
  { width: 8, priority: 0 }, { width: 10, priority: 0 }, { width: 9, align: 'right', priority: 3 }, { width: 28, priority: 1 },
];

export function listLines(list: AccountListState, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const kept = visibleColumns(LIST_COLUMNS, width);
  const head = ['name', 'kind', 'wallet', 'equity', 'risk', 'automation', 'positions', 'trader'].map((c) => t(`account.col.${c}`));
  const lines = [paint(theme, 'muted', esc(tableRow(LIST_COLUMNS, kept, head)))];
  if (list.rows.length === 0) return [...lines, paint(theme, 'muted', esc(fit(t('account.page.none'), width)))];
  const room = Math.max(1, height - 1);
  const first = Math.max(0, Math.min(list.cursor - Math.floor(room / 2), list.rows.length - room));
  list.rows.slice(first, first + room).forEach((r, i) => {
    const text = esc(tableRow(LIST_COLUMNS, kept, rowCells(r, t)));
    lines.push(first + i === list.cursor ? selectedLine(theme, text) : r.risk !== 'ACTIVE' ? paint(theme, 'warn', text) : text);
  });
  return lines;
}

export function rowCells(r: AccountRow, t: TFunction): string[] {
  return [r.name, t(`account.kind.${r.kind}`), r.wallet, r.equity, r.risk, t(`account.automation.${r.automation}`), String(r.positions), r.trader ?? '-'];
}

/** The positions table: symbol, interval, strategy, leverage, ratio, amount, entry, mark, unrealised PnL. */
export const POSITION_COLUMNS: Column[] = [
  { width: 12, priority: 0 }, { width: 8, priority: 2 }, { width: 12, priority: 0 }, { width: 4, align: 'right', priority: 3 }, { width: 5, align: 'right', priority: 4 },
  { width: 12, align: 'right', priority: 0 }, { width: 12, align: 'right', priority: 1 }, { width: 12, align: 'right', priority: 2 }, { width: 12, align: 'right', priority: 0 },
];

/** The selected account: balances, risk and automation, trader, credentials, limits, then its positions. */
export function detailLines(v: AccountView | undefined, width: number, theme: Theme, t: TFunction): string[] {
  const line = (s: string) => esc(fit(s, width));
  if (!v) return [paint(theme, 'muted', line(t('account.page.noneSelected')))];
  const a = v.account;
  const s = a.settings;
  const snap = v.snapshot;
  const lines = [
    line(t('account.page.balances', { wallet: v.wallet ?? '-', equity: v.equity ?? '-', available: snap?.availableBalance ?? '-', upnl: snap?.unrealizedPnl ?? '-', orders: snap?.openOrders ?? 0 })),
    line(t('account.page.state', { risk: snap?.risk ?? 'ACTIVE', reason: snap?.riskReason ?? '', automation: t(`account.automation.${s.automation}`) })),
    v.trader ? paint(theme, 'accent', line(traderText(v, t))) : paint(theme, 'muted', line(traderText(v, t))),
    line(a.kind === 'virtual'
      ? t('account.page.initial', { balance: s.account.initialBalance })
      : a.credentials.stored ? t('account.page.credentials', { hint: a.credentials.apiKeyHint ?? '?', type: a.credentials.keyType ?? '?' }) : t('account.page.noCredentials')),
    line(t('account.page.limits', { limits: Object.entries(s.risk).map(([k, val]) => `${k}=${val}`).join(' ') || t('account.cli.noLimits') })),
    line(t('account.page.source', { source: s.source ?? '-' })),
    ...(snap ? [paint(theme, 'muted', line(t('account.page.snapshotAt', { time: formatUtc(snap.time) })))] : []),
    '',
  ];
  const kept = visibleColumns(POSITION_COLUMNS, width);
  const head = ['symbol', 'interval', 'strategy', 'leverage', 'ratio', 'amount', 'entry', 'mark', 'upnl'].map((c) => t(`account.col.${c}`));
  lines.push(paint(theme, 'muted', esc(tableRow(POSITION_COLUMNS, kept, head))));
  if (s.positions.length === 0) lines.push(paint(theme, 'muted', line(t('account.page.noPositions'))));
  for (const p of s.positions) {
    const live = snap?.positions.find((x) => x.symbol === p.symbol);
    const cells = [p.symbol, p.interval, p.strategy.name, `x${p.leverage}`, String(p.control.assumedRatio), live?.amount ?? '0', live?.entryPrice ?? '-', live?.markPrice ?? '-', live?.unrealizedPnl ?? '-'];
    const text = esc(tableRow(POSITION_COLUMNS, kept, cells));
    lines.push(live && live.unrealizedPnl.startsWith('-') ? paint(theme, 'down', text) : live && Number(live.amount) !== 0 ? paint(theme, 'up', text) : text);
  }
  return lines;
}

/** A form: one line per field shown (secrets masked), the cursor's field marked, an error, the hint. */
export function formLines(form: FormState, width: number, theme: Theme, t: TFunction): string[] {
  const lines = [paint(theme, 'accent', esc(fit(t(`account.form.title_${form.kind}`), width)), { bold: true }), ''];
  const shown = form.fields();
  const labelWidth = Math.min(20, Math.max(...shown.map((f) => t(f.label).length)) + 1);
  shown.forEach((f, i) => {
    const value = f.kind === 'choice' ? `‹ ${t(`account.form.choice.${f.value}`)} ›` : FormState.shown(f) + (i === form.cursor ? '▏' : '');
    const text = esc(fit(`${fit(t(f.label), labelWidth)} ${value}`, width));
    lines.push(i === form.cursor ? selectedLine(theme, text) : text);
  });
  lines.push('');
  if (form.error) lines.push(paint(theme, 'down', esc(fit(form.error, width))));
  lines.push(paint(theme, 'muted', esc(fit(t('account.form.hint'), width))));
  return lines;
}

/** The saved simulations to configure from: id, name, finished. */
export function pickLines(items: readonly StoredSimulation[], cursor: number, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const lines = [paint(theme, 'accent', esc(fit(t('account.pick.title'), width)), { bold: true })];
  if (items.length === 0) return [...lines, paint(theme, 'muted', esc(fit(t('account.pick.none'), width)))];
  const room = Math.max(1, height - 2);
  const first = Math.max(0, Math.min(cursor - Math.floor(room / 2), items.length - room));
  items.slice(first, first + room).forEach((s, i) => {
    const text = esc(fit(`#${s.id}  ${s.name}  ${s.finishedAt ? formatUtc(s.finishedAt, false) : ''}`, width));
    lines.push(first + i === cursor ? selectedLine(theme, text) : text);
  });
  lines.push(paint(theme, 'muted', esc(fit(t('account.pick.hint'), width))));
  return lines;
}
