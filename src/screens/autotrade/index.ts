import blessed from 'blessed';
import type { AnalysisView } from '../../core/analysis/service.js';
import type { TradedAccount } from '../../core/trading/index.js';
import { bindKeys, defineKeys } from '../keys.js';
import { cellIn, type Page, type PageContext, type PageModule, type PageMouse } from '../page.js';
import { paint } from '../theme.js';
import { esc, formatDuration, formatUtc, panel, restyle, tableRow, visibleColumns, type Column } from '../widgets.js';
import { accountCells, chainLines } from './model.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'autotrade.keys.up' },
  down: { keys: ['j', 'down'], label: 'autotrade.keys.down' },
  open: { keys: ['enter'], label: 'autotrade.keys.open', hint: true },
  nextAccount: { keys: ['n'], label: 'autotrade.keys.nextAccount', hint: true },
  previousAccount: { keys: ['p'], label: 'autotrade.keys.previousAccount' },
  kill: { keys: ['x'], label: 'autotrade.keys.kill', hint: true },
  killClose: { keys: ['S-x'], label: 'autotrade.keys.killClose', dangerous: true },
});

/** name, kind, automation, trader, equity, positions, snapshot time. */
const ACCOUNT_COLUMNS: Column[] = [
  { width: 14, priority: 0 }, { width: 8, priority: 3 }, { width: 10, priority: 0 }, { width: 34, priority: 1 }, { width: 12, align: 'right', priority: 0 },
  { width: 5, align: 'right', priority: 4 }, { width: 12, priority: 2 },
];

/** id, CAC, symbol, interval, worker, state, klines, last kline, updated: narrow terminals drop the high numbers first. */
const COLUMNS: Column[] = [
  { width: 5, align: 'right', priority: 0 }, { width: 16, priority: 1 }, { width: 12, priority: 0 }, { width: 5, priority: 0 },
  { width: 16, priority: 5 }, { width: 11, priority: 0 }, { width: 8, align: 'right', priority: 4 }, { width: 17, priority: 3 }, { width: 14, priority: 2 },
];

/**
 * AutoTrade: the accounts being traded (by this process or another atm process, read from the
 * leases and snapshots in the database), the selected account's live chain per position (last
 * closed kline → indicator/PIP values → target → orders → fills, and why no order was sent), the
 * kill switch (x: cancel orders and stop the automation; X: and close the positions, which places
 * orders, so read-only mode drops it), and the currency analyses in the analyzer threads.
 */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
  const note = panel(root, { top: 0, left: 0, width: '100%', height: 7, theme: ctx.theme() });
  const chain = panel(root, { top: 7, left: 0, width: '100%', height: '50%-7', theme: ctx.theme() });
  const table = panel(root, { top: '50%', left: 0, width: '100%', height: '50%', theme: ctx.theme() });
  let rows: AnalysisView[] = [];
  let accounts: TradedAccount[] = [];
  let selected = 0;
  /** Accounts traded by another process change only in the database: re-read them every few seconds while shown. */
  let lastAccountsRead = 0;

  function readAccounts(): void {
    try {
      accounts = app.trading.accounts();
    } catch (error) {
      accounts = [];
      ctx.toast(ctx.t('toast.error', { message: (error as Error).message }), 'error');
    }
    lastAccountsRead = app.clock.now();
    selected = Math.min(selected, Math.max(0, accounts.length - 1));
  }

  function killSelected(closePositions: boolean): void {
    const a = accounts[selected];
    if (!a) {
      ctx.toast(ctx.t('autotrade.noAccount'), 'error');
      return;
    }
    ctx.confirm(ctx.t(closePositions ? 'trade.confirmKillClose' : 'trade.confirmKill', { account: a.name }), () => {
      const r = app.trading.kill(a.id, { closePositions });
      ctx.toast(ctx.t(`autotrade.killed.${r.where}`, { account: a.name, pid: r.holder?.pid ?? '' }));
      readAccounts();
      page.update();
      ctx.markDirty();
    });
  }
  let cursor = 0;
  /** The row each table line shows (undefined: the header, a blank or an error line). */
  let lineRows: (number | undefined)[] = [];
  let visible = false;
  let destroyed = false;

  async function refresh(): Promise<void> {
    try {
      rows = await app.analysis.list();
    } catch (error) {
      ctx.toast(ctx.t('toast.error', { message: (error as Error).message }), 'error');
    }
    if (destroyed) return;
    cursor = Math.min(cursor, Math.max(0, rows.length - 1));
    page.update();
    ctx.markDirty();
  }

  const offChanged = app.bus.on('analysis.changed', () => {
    if (visible) void refresh();
  });
  const offUpdated = app.bus.on('analysis.updated', () => {
    if (visible) void refresh();
  });
  const offTrading = app.bus.on('trading.event', () => {
    if (!visible) return;
    readAccounts();
    page.update();
    ctx.markDirty();
  });

  const page: Page = {
    id: 'autotrade',
    bindings: bindKeys(keys, {
      up: () => {
        cursor = Math.max(0, cursor - 1);
        page.update();
      },
      down: () => {
        cursor = Math.min(Math.max(0, rows.length - 1), cursor + 1);
        page.update();
      },
      open: () => {
        const a = rows[cursor];
        ctx.goTo('analysis', a ? { analysisId: a.id } : undefined);
      },
      nextAccount: () => {
        selected = Math.min(Math.max(0, accounts.length - 1), selected + 1);
        page.update();
      },
      previousAccount: () => {
        selected = Math.max(0, selected - 1);
        page.update();
      },
      kill: () => killSelected(false),
      killClose: () => killSelected(true),
    }, app.readonly),
    show: () => {
      visible = true;
      root.show();
      readAccounts();
      void app.analysis.resume().then(refresh, (error: unknown) => app.reportError('autotrade', error));
      void refresh();
    },
    hide: () => {
      visible = false;
      root.hide();
    },
    update: () => {
      const { t } = ctx;
      const theme = ctx.theme();
      restyle(note, theme);
      restyle(chain, theme);
      restyle(table, theme);
      note.setLabel(` ${t('autotrade.accounts', { count: accounts.length })} `);
      const akept = visibleColumns(ACCOUNT_COLUMNS, (note.width as number) - 3);
      const arow = (cells: string[]) => tableRow(ACCOUNT_COLUMNS, akept, cells);
      const ahead = [t('autotrade.acol.name'), t('autotrade.acol.kind'), t('autotrade.acol.automation'), t('autotrade.acol.trader'), t('autotrade.acol.equity'), t('autotrade.acol.positions'), t('autotrade.acol.snapshot')];
      const alines = [paint(theme, 'muted', esc(arow(ahead)))];
      if (accounts.length === 0) alines.push(paint(theme, 'muted', esc(t('autotrade.noAccounts'))));
      accounts.forEach((a, i) => {
        const text = esc(arow(accountCells(a, t)));
        const body = a.automation === 'killed' ? paint(theme, 'error', text) : a.trader ? text : paint(theme, 'muted', text);
        alines.push(i === selected ? (theme.color ? `{${theme.colors.selectedBg}-bg}${body}{/${theme.colors.selectedBg}-bg}` : `{inverse}${body}{/inverse}`) : body);
      });
      note.setContent(alines.join('\n'));
      const acc = accounts[selected];
      chain.setLabel(` ${acc ? t('autotrade.chainOf', { account: acc.name }) : t('autotrade.chainNone')} `);
      const cw = Math.max(10, (chain.width as number) - 3);
      const clines: string[] = [];
      if (acc && acc.chains.length === 0) clines.push(paint(theme, 'muted', esc(acc.trader ? t('autotrade.chainWaiting') : t('autotrade.notTraded'))));
      for (const c of acc?.chains ?? []) for (const l of chainLines(c, t, cw)) clines.push(esc(l));
      chain.setContent(clines.join('\n'));
      table.setLabel(` ${t('autotrade.analyses', { count: rows.length })} `);
      const kept = visibleColumns(COLUMNS, (table.width as number) - 3); // a tagged line as wide as the box wraps
      const row = (cells: string[]) => tableRow(COLUMNS, kept, cells);
      const head = [t('autotrade.col.id'), t('autotrade.col.cac'), t('autotrade.col.symbol'), t('autotrade.col.interval'), t('autotrade.col.worker'), t('autotrade.col.state'), t('autotrade.col.klines'), t('autotrade.col.lastKline'), t('autotrade.col.updated')];
      const now = app.clock.now();
      const lines = [paint(theme, 'muted', esc(row(head)))];
      lineRows = [undefined];
      if (rows.length === 0) lines.push('', paint(theme, 'muted', esc(t('autotrade.none'))));
      rows.forEach((a, i) => {
        const worker = a.slot === null ? '-' : t('autotrade.workerValue', { slot: a.slot + 1, thread: a.threadId ?? '?' });
        const text = esc(row([
          String(a.id), a.cacName, a.symbol, a.interval, worker, t(`analysis.states.${a.liveState}`), a.slot === null ? '-' : String(a.count),
          a.lastOpenTime === null ? '-' : formatUtc(a.lastOpenTime, false), a.lastUpdate === null ? '-' : t('autotrade.ago', { time: formatDuration(now - a.lastUpdate) }),
        ]));
        const role = a.liveState === 'failed' ? 'error' : a.liveState === 'recovering' || a.liveState === 'starting' ? 'warn' : undefined;
        const body = role ? paint(theme, role, text) : text;
        lines.push(i === cursor ? (theme.color ? `{${theme.colors.selectedBg}-bg}${body}{/${theme.colors.selectedBg}-bg}` : `{inverse}${body}{/inverse}`) : body);
        lineRows[lines.length - 1] = i;
        if (i === cursor && a.error) lines.push(paint(theme, 'error', esc(`      ${a.error}`)));
      });
      table.setContent(lines.join('\n'));
    },
    tick: () => {
      if (app.clock.now() - lastAccountsRead < 2_000) return [];
      readAccounts();
      page.update();
      return [note, chain];
    },
    mouse: (m: PageMouse) => {
      const cell = cellIn(table, m);
      if (!cell || rows.length === 0) return false;
      if (m.action === 'click') {
        const i = lineRows[cell.row];
        if (i === undefined) return false;
        cursor = i;
      } else cursor = Math.max(0, Math.min(rows.length - 1, cursor + (m.action === 'wheelup' ? -1 : 1)));
      page.update();
      return true;
    },
    destroy: () => {
      destroyed = true;
      offChanged();
      offUpdated();
      offTrading();
      root.destroy();
    },
  };
  return page;
}

export const autotrade: PageModule = { id: 'autotrade', keys, mount };
