import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule } from '../page.js';
import { paint } from '../theme.js';
import { esc, fit, panel, restyle, tableRow, visibleColumns, type Column } from '../widgets.js';
import { collectorLines, exchangeLines, jobRows, LogPanelState, logRow, poolRows, processRows } from './model.js';

export const keys = defineKeys({
  toggleLog: { keys: ['l'], label: 'keys.toggleLog', hint: true },
  logUp: { keys: ['k', 'up'], label: 'keys.logUp' },
  logDown: { keys: ['j', 'down'], label: 'keys.logDown' },
  logTop: { keys: ['g'], label: 'keys.top' },
  logBottom: { keys: ['S-g'], label: 'keys.bottom' },
});

/** The pools table: pool, threads, max, running, queued, done, failed (narrow boxes drop the last first). */
const POOL_COLUMNS: Column[] = [
  { width: 11, priority: 0 }, { width: 7, align: 'right', priority: 3 }, { width: 4, align: 'right', priority: 2 },
  { width: 7, align: 'right', priority: 1 }, { width: 6, align: 'right', priority: 1 }, { width: 6, align: 'right', priority: 4 }, { width: 6, align: 'right', priority: 4 },
];

/**
 * The jobs list: job, state, progress (or result), ETA. The progress column is wider in a wide
 * box; the job's label takes what is left (an 80-column terminal still shows a bar).
 */
function jobColumns(width: number): Column[] {
  const wide = width >= 70;
  const progress = wide ? 30 : 13;
  // narrow: the ETA column goes (the Market page's job lines keep it) and the label takes its room
  const label = Math.max(10, wide ? width - 9 - progress - 7 - 3 : width - 9 - progress - 2);
  return [{ width: label, priority: 0 }, { width: 9, priority: 0 }, { width: progress, priority: 1 }, { width: 7, align: 'right', priority: 2 }];
}

/** The Dashboard: process status (the old program's "process status" view) and the log panel. */
class DashboardPage implements Page {
  readonly id = 'dashboard' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly processBox: Widgets.BoxElement;
  private readonly poolsBox: Widgets.BoxElement;
  private readonly exchangeBox: Widgets.BoxElement;
  private readonly collectorBox: Widgets.BoxElement;
  private readonly logBox: Widgets.BoxElement;
  private readonly log: LogPanelState;
  private readonly offs: (() => void)[];
  private visible = false;
  private ticks = 0;

  constructor(private readonly ctx: PageContext) {
    const app = (this.app = ctx.app);
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.processBox = panel(this.root, { top: 0, left: 0, width: '50%', height: 12, theme });
    this.poolsBox = panel(this.root, { top: 0, left: '50%', width: '50%', height: 12, theme });
    this.exchangeBox = panel(this.root, { top: 12, left: 0, width: '55%', height: 5, theme });
    this.collectorBox = panel(this.root, { top: 12, left: '55%', width: '45%', height: 5, theme });
    this.logBox = panel(this.root, { top: 17, left: 0, width: '100%', height: '100%-17', theme, scrollable: true, alwaysScroll: true });
    this.log = new LogPanelState(app.config.ui.logPanel);
    const whenVisible = (render: () => void, also = true) => () => {
      if (!this.visible || !also) return;
      render();
      ctx.markDirty();
    };
    this.offs = [
      app.bus.on('log.line', () => whenVisible(() => this.renderLog(), this.log.shown)()),
      app.bus.on('workers.changed', whenVisible(() => this.renderPools())),
      app.bus.on('exchange.state', whenVisible(() => this.renderExchange())),
      app.bus.on('collector.status', whenVisible(() => this.renderCollector())),
      app.bus.on('job.state', whenVisible(() => this.renderPools())),
      app.bus.on('job.progress', whenVisible(() => this.renderPools())),
    ];
    this.bindings = bindKeys(keys, {
      toggleLog: () => {
        this.log.toggle();
        this.update();
      },
      logUp: () => {
        this.log.scrolled(false);
        this.logBox.scroll(-1);
      },
      logDown: () => {
        this.logBox.scroll(1);
        this.log.scrolled(this.logBox.getScrollPerc() >= 100);
      },
      logTop: () => {
        this.log.scrolled(false);
        this.logBox.setScrollPerc(0);
      },
      logBottom: () => {
        this.log.scrolled(true);
        this.logBox.setScrollPerc(100);
      },
    }, app.readonly);
  }

  // ---- rendering ----

  private renderProcess(): void {
    const { t } = this.ctx;
    const width = (this.processBox.width as number) - 2;
    setLabel(this.processBox, ` ${t('dashboard.process')} `);
    const kv = ([label, value]: [string, string]) => `${paint(this.ctx.theme(), 'muted', esc(fit(label, 16)))} ${esc(fit(value, Math.max(0, width - 19)))}`;
    setText(this.processBox, processRows(this.app.status(), this.app.exchangeMode, t).map(kv).join('\n'));
  }

  private renderPools(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const s = this.app.status();
    const kept = visibleColumns(POOL_COLUMNS, (this.poolsBox.width as number) - 3); // a tagged line as wide as the box wraps
    const row = (cells: string[]) => tableRow(POOL_COLUMNS, kept, cells);
    const [head, ...pools] = poolRows(s, t);
    const width = (this.poolsBox.width as number) - 3;
    const JOB_COLUMNS = jobColumns(width);
    const jobCols = visibleColumns(JOB_COLUMNS, width);
    const jobRow = (cells: string[]) => tableRow(JOB_COLUMNS, jobCols, cells);
    const room = Math.max(1, (this.poolsBox.height as number) - 2 - pools.length - 4);
    const jobs = jobRows(this.app.jobs.list(), t, Math.min(20, JOB_COLUMNS[2].width - 5), room);
    const lines = [
      paint(theme, 'muted', esc(row(head))),
      ...pools.map((cells) => esc(row(cells))),
      '',
      `${paint(theme, 'accent', esc(t('dashboard.jobs')))}`,
      ...(jobs.length === 0
        ? [paint(theme, 'muted', esc(fit(t('dashboard.noJobs'), width)))]
        : [
            paint(theme, 'muted', esc(jobRow([t('dashboard.col.job'), t('dashboard.col.state'), t('dashboard.col.progress'), t('dashboard.col.eta')]))),
            ...jobs.map((j) => {
              const [label, state, detail, eta] = j.cells;
              // the state cell coloured; the rest plain
              const parts = jobCols.map((i) => fit([label, state, detail, eta][i] ?? '', JOB_COLUMNS[i].width, JOB_COLUMNS[i].align ?? 'left'));
              return jobCols.map((i, n) => (i === 1 ? paint(theme, j.role, esc(parts[n])) : esc(parts[n]))).join(' ');
            }),
          ]),
    ];
    this.poolsBox.setLabel(` ${t('dashboard.pools')} `);
    this.poolsBox.setContent(lines.join('\n'));
  }

  /** The Exchange block: websocket rate, lag, reconnects and the local order books. */
  private renderExchange(): void {
    const { t } = this.ctx;
    const width = (this.exchangeBox.width as number) - 2;
    setLabel(this.exchangeBox, ` ${t('exchange.dashboard.title')} `);
    const lines = exchangeLines(this.app.exchangeStats(), t);
    if (!lines) setText(this.exchangeBox, paint(this.ctx.theme(), 'muted', esc(fit(t('exchange.dashboard.offline'), width))));
    else setText(this.exchangeBox, lines.map((l) => esc(fit(l, width))).join('\n'));
  }

  /** The Collector block: who collects (here or `atm collect`) and the figures it published. */
  private renderCollector(): void {
    const { t } = this.ctx;
    const width = (this.collectorBox.width as number) - 2;
    setLabel(this.collectorBox, ` ${t('collector.panel.title')} `);
    const view = this.app.collector.view();
    const lines = collectorLines(view, t);
    const role = view.role === 'none' ? 'muted' : 'fg';
    setText(this.collectorBox, lines.map((l) => paint(this.ctx.theme(), role, esc(fit(l, width)))).join('\n'));
  }

  private renderLog(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    this.logBox.setLabel(` ${t('dashboard.log', { level: this.app.status().logLevel, file: this.app.paths.logFile })} `);
    const records = this.app.recentLogs();
    const lines = records.length === 0
      ? [paint(theme, 'muted', esc(t('dashboard.noLog')))]
      : records.map(logRow).map((r) => `${paint(theme, 'muted', r.time)} ${paint(theme, r.role, r.level)} ${esc(r.text)}`);
    this.logBox.setContent(lines.join('\n'));
    if (this.log.follow) this.logBox.setScrollPerc(100);
  }

  // ---- page ----

  show(): void {
    this.visible = true;
    this.root.show();
  }

  hide(): void {
    this.visible = false;
    this.root.hide();
  }

  update(): void {
    const theme = this.ctx.theme();
    for (const box of [this.processBox, this.poolsBox, this.exchangeBox, this.collectorBox, this.logBox]) restyle(box, theme);
    if (this.log.shown) this.logBox.show();
    else this.logBox.hide();
    this.renderProcess();
    this.renderPools();
    this.renderExchange();
    this.renderCollector();
    if (this.log.shown) this.renderLog();
  }

  /**
   * Redraws only what changed. The process figures are samples (the event rate is a 5 s window),
   * so they refresh every 5 s; redrawing them every second cost more idle CPU than the rest of
   * the program.
   */
  tick(): Widgets.BlessedElement[] {
    const changed: Widgets.BlessedElement[] = [];
    if (++this.ticks % 5 === 0 && setIfChanged(this.processBox, () => this.renderProcess())) changed.push(this.processBox);
    if (setIfChanged(this.exchangeBox, () => this.renderExchange())) changed.push(this.exchangeBox);
    // the collector's last heartbeat ages with the clock (another process's status is read from its lease)
    if (setIfChanged(this.collectorBox, () => this.renderCollector())) changed.push(this.collectorBox);
    // the ETA of running jobs moves with the clock
    if (this.app.jobs.running().length > 0 && setIfChanged(this.poolsBox, () => this.renderPools())) changed.push(this.poolsBox);
    return changed;
  }

  destroy(): void {
    for (const off of this.offs) off();
    this.root.destroy();
  }
}

/**
 * Sets a box's text only when it differs. blessed's setContent blanks the box's area on the
 * screen at once; the once-a-second tick redraws only boxes whose text changed, so setting the
 * same text again left the Exchange box blank (after connecting, after a resize) until a full
 * redraw.
 */
function setText(box: Widgets.BoxElement, text: string): void {
  if ((box as unknown as { content: string }).content !== text) box.setContent(text);
}

/** Sets a box's label only when it differs (its label is a child box: the same blanking applies). */
function setLabel(box: Widgets.BoxElement, label: string): void {
  if ((box as unknown as { _label?: { content: string } })._label?.content !== label) box.setLabel(label);
}

/** Runs `render` and tells whether the box's text changed. */
function setIfChanged(box: Widgets.BoxElement, render: () => void): boolean {
  const before = box.getContent();
  render();
  return box.getContent() !== before;
}

export function mount(ctx: PageContext): Page {
  return new DashboardPage(ctx);
}

export const dashboard: PageModule = { id: 'dashboard', keys, mount };
