import blessed from 'blessed';
import type { AnalysisView } from '../core/analysis/service.js';
import { bindKeys, defineKeys } from './keys.js';
import { cellIn, type Page, type PageContext, type PageModule, type PageMouse } from './page.js';
import { paint } from './theme.js';
import { esc, formatDuration, formatUtc, panel, restyle, tableRow, visibleColumns, type Column } from './widgets.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'autotrade.keys.up' },
  down: { keys: ['j', 'down'], label: 'autotrade.keys.down' },
  open: { keys: ['enter'], label: 'autotrade.keys.open', hint: true },
});

/** id, CAC, symbol, interval, worker, state, klines, last kline, updated: narrow terminals drop the high numbers first. */
const COLUMNS: Column[] = [
  { width: 5, align: 'right', priority: 0 }, { width: 16, priority: 1 }, { width: 12, priority: 0 }, { width: 5, priority: 0 },
  { width: 16, priority: 5 }, { width: 11, priority: 0 }, { width: 8, align: 'right', priority: 4 }, { width: 17, priority: 3 }, { width: 14, priority: 2 },
];

/**
 * AutoTrade: the currency analyses running in the analyzer threads (worker, state, last update).
 * Trade control (TS / RQPM turning PIP signals into positions) is not built yet, and the page says
 * so; nothing here places orders.
 */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
  const note = panel(root, { top: 0, left: 0, width: '100%', height: 5, theme: ctx.theme() });
  const table = panel(root, { top: 5, left: 0, width: '100%', height: '100%-5', theme: ctx.theme() });
  let rows: AnalysisView[] = [];
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
    }, app.readonly),
    show: () => {
      visible = true;
      root.show();
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
      restyle(table, theme);
      note.setLabel(` ${t('autotrade.title')} `);
      note.setContent([paint(theme, 'warn', esc(t('autotrade.notBuilt')), { bold: true }), esc(t('autotrade.explain'))].join('\n'));
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
      root.destroy();
    },
  };
  return page;
}

export const autotrade: PageModule = { id: 'autotrade', keys, mount };
