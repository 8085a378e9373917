import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { bindKeys, defineKeys } from './keys.js';
import type { Page, PageContext, PageModule } from './page.js';
import { paint, type ThemeRole } from './theme.js';
import { esc, fit, formatBytes, formatDuration, formatUtc, panel, restyle } from './widgets.js';

export const keys = defineKeys({
  toggleLog: { keys: ['l'], label: 'keys.toggleLog', hint: true },
  logUp: { keys: ['k', 'up'], label: 'keys.logUp' },
  logDown: { keys: ['j', 'down'], label: 'keys.logDown' },
  logTop: { keys: ['g'], label: 'keys.top' },
  logBottom: { keys: ['S-g'], label: 'keys.bottom' },
});

const LEVEL_ROLE: Record<string, ThemeRole> = { trace: 'muted', debug: 'muted', info: 'fg', warn: 'warn', error: 'error', fatal: 'error' };

/** The Dashboard: process status (the old program's "process status" view) and the log panel. */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
  const process_ = panel(root, { top: 0, left: 0, width: '50%', height: 12, theme: ctx.theme() });
  const pools = panel(root, { top: 0, left: '50%', width: '50%', height: 12, theme: ctx.theme() });
  const exchangeBox = panel(root, { top: 12, left: 0, width: '100%', height: 4, theme: ctx.theme() });
  const log = panel(root, { top: 16, left: 0, width: '100%', height: '100%-16', theme: ctx.theme(), scrollable: true, alwaysScroll: true });
  let showLog = app.config.ui.logPanel;
  let followLog = true;
  let visible = false;

  const offLog = app.bus.on('log.line', () => {
    if (visible && showLog) {
      renderLog();
      ctx.markDirty();
    }
  });
  const offPools = app.bus.on('workers.changed', () => {
    if (visible) {
      renderPools();
      ctx.markDirty();
    }
  });

  const offExchange = app.bus.on('exchange.state', () => {
    if (visible) {
      renderExchange();
      ctx.markDirty();
    }
  });

  /** The Exchange block: websocket rate, lag, reconnects and the local order books. */
  function renderExchange(): void {
    const { t } = ctx;
    const width = (exchangeBox.width as number) - 2;
    exchangeBox.setLabel(` ${t('exchange.dashboard.title')} `);
    const st = app.exchangeStats();
    if (!st) {
      exchangeBox.setContent(paint(ctx.theme(), 'muted', esc(fit(t('exchange.dashboard.offline'), width))));
      return;
    }
    const line1 = t('exchange.dashboard.line', {
      venue: st.simulated ? t('exchange.dashboard.simulated') : st.venue,
      rate: st.messagesPerSecond.toFixed(0), lag: Math.round(st.lagMs), maxLag: Math.round(st.maxLagMs), reconnects: st.reconnects,
      streams: st.streams, connections: st.connections, weight: st.usedWeight, limit: st.weightLimit,
    });
    const books = st.books.length === 0
      ? t('exchange.dashboard.noBooks')
      : st.books.map((b) => t('exchange.dashboard.book', { symbol: b.symbol, state: t(`exchange.dashboard.bookState.${b.state}`), bid: b.bestBid ?? '-', ask: b.bestAsk ?? '-', resyncs: b.resyncs })).join('  ');
    exchangeBox.setContent([esc(fit(line1, width)), esc(fit(books, width))].join('\n'));
  }

  let ticks = 0;
  /** Runs `render` and tells whether the box's text changed. */
  function setIfChanged(box: Widgets.BoxElement, render: () => void): boolean {
    const before = box.getContent();
    render();
    return box.getContent() !== before;
  }

  function kv(label: string, value: string, width: number): string {
    return `${paint(ctx.theme(), 'muted', esc(fit(label, 16)))} ${esc(fit(value, Math.max(0, width - 19)))}`;
  }

  function renderProcess(): void {
    const { t } = ctx;
    const s = app.status();
    const width = (process_.width as number) - 2;
    const ex = s.exchange;
    const exchange =
      ex.kind === 'none' ? t('status.exchange.none') :
      ex.kind === 'connecting' ? t('status.exchange.connecting', { venue: ex.venue }) :
      ex.kind === 'connected' ? (ex.simulated ? t('status.exchange.simulated') : t('status.exchange.connected', { venue: ex.venue })) :
      t('status.exchange.disconnected', { venue: ex.venue, reason: ex.reason });
    process_.setLabel(` ${t('dashboard.process')} `);
    process_.setContent(
      [
        kv(t('dashboard.uptime'), `${formatDuration(s.uptimeMs, false)} (${formatUtc(s.startedAt, false)} UTC)`, width),
        kv(t('dashboard.memory'), formatBytes(s.rssBytes), width),
        kv(t('dashboard.heap'), formatBytes(s.heapUsedBytes), width),
        kv(t('dashboard.events'), t('dashboard.eventsValue', { rate: s.eventsPerSecond.toFixed(1), total: s.eventsTotal }), width),
        kv(t('dashboard.mode'), app.exchangeMode, width),
        kv(t('dashboard.exchange'), exchange, width),
        kv(t('dashboard.readonly'), s.readonly ? t('dashboard.yes') : t('dashboard.no'), width),
        kv(t('dashboard.database'), s.databasePath, width),
        kv(t('dashboard.schema'), s.schemaVersion ?? '-', width),
      ].join('\n'),
    );
  }

  function renderPools(): void {
    const { t } = ctx;
    const s = app.status();
    const cols = [t('dashboard.pool'), t('dashboard.threads'), t('dashboard.max'), t('dashboard.running'), t('dashboard.queued'), t('dashboard.completed'), t('dashboard.failed')];
    const w = [11, 7, 4, 7, 6, 6, 6];
    const row = (cells: string[]) => cells.map((c, i) => fit(c, w[i], i === 0 ? 'left' : 'right')).join(' ');
    const lines = [
      paint(ctx.theme(), 'muted', esc(row(cols))),
      ...s.pools.map((p) => esc(row([t(`dashboard.poolNames.${p.name}`), String(p.threads), String(p.maxThreads), String(p.running), String(p.queued), String(p.completed), String(p.failed)]))),
      '',
      paint(ctx.theme(), 'accent', esc(t('dashboard.jobs'))),
      ...(s.jobs.length === 0 ? [paint(ctx.theme(), 'muted', esc(t('dashboard.noJobs')))] : s.jobs.slice(0, 5).map((j) => esc(j.label))),
    ];
    pools.setLabel(` ${t('dashboard.pools')} `);
    pools.setContent(lines.join('\n'));
  }

  function renderLog(): void {
    const { t } = ctx;
    log.setLabel(` ${t('dashboard.log', { level: app.status().logLevel, file: app.paths.logFile })} `);
    const records = app.recentLogs();
    const theme = ctx.theme();
    const lines = records.length === 0
      ? [paint(theme, 'muted', esc(t('dashboard.noLog')))]
      : records.map((r) => {
          const time = new Date(r.time).toISOString().slice(11, 19);
          const level = fit(r.level.toUpperCase(), 5);
          const comp = r.component ? `[${r.component}] ` : '';
          return `${paint(theme, 'muted', time)} ${paint(theme, LEVEL_ROLE[r.level] ?? 'fg', level)} ${esc(comp + r.msg)}`;
        });
    log.setContent(lines.join('\n'));
    if (followLog) log.setScrollPerc(100);
  }

  function layout(): void {
    if (showLog) log.show();
    else log.hide();
  }

  const page: Page = {
    id: 'dashboard',
    bindings: bindKeys(keys, {
      toggleLog: () => {
        showLog = !showLog;
        layout();
        page.update();
      },
      logUp: () => {
        followLog = false;
        log.scroll(-1);
      },
      logDown: () => {
        log.scroll(1);
        followLog = log.getScrollPerc() >= 100;
      },
      logTop: () => {
        followLog = false;
        log.setScrollPerc(0);
      },
      logBottom: () => {
        followLog = true;
        log.setScrollPerc(100);
      },
    }, app.readonly),
    show: () => {
      visible = true;
      root.show();
    },
    hide: () => {
      visible = false;
      root.hide();
    },
    update: () => {
      const theme = ctx.theme();
      for (const box of [process_, pools, exchangeBox, log] as Widgets.BoxElement[]) restyle(box, theme);
      layout();
      renderProcess();
      renderPools();
      renderExchange();
      if (showLog) renderLog();
    },
    tick: () => {
      // Redraw only what changed. The process figures are samples (the event rate is a 5 s
      // window), so they refresh every 5 s; redrawing them every second cost more idle CPU than
      // the rest of the program.
      const changed: Widgets.BlessedElement[] = [];
      if (++ticks % 5 === 0 && setIfChanged(process_, renderProcess)) changed.push(process_);
      if (setIfChanged(exchangeBox, renderExchange)) changed.push(exchangeBox);
      return changed;
    },
    destroy: () => {
      offLog();
      offPools();
      offExchange();
      root.destroy();
    },
  };
  return page;
}

export const dashboard: PageModule = { id: 'dashboard', keys, mount };
