import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import { getKline, INTERVAL_MS, type Interval, type Klines } from '../../core/market/klines.js';
import type { AnalysisRows } from '../analysis-overlays.js';
import { chartLayers } from '../analysis-overlays.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import { cellIn, type Page, type PageContext, type PageModule, type PageMouse, type PageTarget } from '../page.js';
import { CandleChart } from '../widgets/candles.js';
import { CHART_KEYS, chartActions } from '../widgets/chart-keys.js';
import { panel, restyle } from '../widgets.js';
import { AnalysisLists, AnalysisSeries, applyForm, cacForm, CHART_ROWS, chartIntervals, formValue, parsePip, rowsAtInterval, typeInForm, type Form } from './model.js';
import { analysisListLines, cacListLines, chartInfoLines, formLines, formTitle } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'analysis.keys.up' },
  down: { keys: ['j', 'down'], label: 'analysis.keys.down' },
  focus: { keys: ['f'], label: 'analysis.keys.focus', hint: true },
  open: { keys: ['enter'], label: 'analysis.keys.open', hint: true },
  newCac: { keys: ['n'], label: 'analysis.keys.new', hint: true },
  editCac: { keys: ['e'], label: 'analysis.keys.edit' },
  apply: { keys: ['a'], label: 'analysis.keys.apply', hint: true },
  remove: { keys: ['d'], label: 'analysis.keys.remove' },
  stop: { keys: ['s'], label: 'analysis.keys.stop' },
  resume: { keys: ['r'], label: 'analysis.keys.resume' },
  ...CHART_KEYS,
});

/**
 * Currency Analysis: CACs (list, form with validation), applying one to a symbol, the analyses,
 * and the chart of the selected analysis (candles, overlays, oscillator sub-panels, PIP markers).
 * The chart loads once (the worker's newest rows and their klines) and then appends each analysed
 * closed kline; it reloads only after a gap or a replay.
 */
class AnalysisPage implements Page {
  readonly id = 'analysis' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly cacBox: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly chartBox: Widgets.BoxElement;
  private readonly info: Widgets.BoxElement;
  private readonly formBox: Widgets.BoxElement;
  private readonly chart: CandleChart;
  private readonly lists = new AnalysisLists();
  private readonly series = new AnalysisSeries();
  private readonly offs: (() => void)[] = [];
  /** The analysis on the chart (chosen with Enter), drawn once `chartReady`. */
  private viewed?: number;
  /** The interval the chart shows when longer than the analysis's own (`]`). */
  private shownInterval?: Interval;
  private chartReady = false;
  private loading = false;
  private reloadPending = false;
  private form?: Form;
  /** The key that opened the form reaches our keypress listener too (after the shell's): skip it. */
  private skipKey = false;
  private visible = false;
  private destroyed = false;

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.cacBox = panel(this.root, { top: 0, left: 0, width: 40, height: '50%', theme });
    this.listBox = panel(this.root, { top: '50%', left: 0, width: 40, bottom: 0, theme }); // bottom 0: an odd height leaves no gap
    this.chartBox = panel(this.root, { top: 0, left: 40, width: '100%-40', height: '100%', theme });
    this.chart = new CandleChart(theme);
    this.chart.attach(this.chartBox, { top: 1, left: 1, width: '100%-2', height: '100%-2' });
    this.info = blessed.box({ parent: this.chartBox, top: 1, left: 2, right: 2, bottom: 1, tags: true, wrap: true } as Widgets.BoxOptions);
    this.formBox = panel(this.root, { top: 0, left: 40, width: '100%-40', height: '100%', theme, hidden: true });
    this.bindings = bindKeys(keys, this.actions(), this.app.readonly);
    ctx.screen.on('keypress', this.onFormKey);
    this.offs.push(
      this.app.bus.on('analysis.changed', () => {
        if (this.visible) void this.refresh();
      }),
      this.app.bus.on('analysis.updated', (e) => {
        if (this.visible && e.id === this.viewed) this.onAnalysed(e.id, e.openTime, e.columns, e.row);
      }),
    );
  }

  private actions(): Record<keyof typeof keys, () => void> {
    const onChart = (fn: () => void) => () => {
      fn();
      this.update();
    };
    return {
      up: onChart(() => this.lists.move(-1)),
      down: onChart(() => this.lists.move(1)),
      focus: onChart(() => this.lists.toggleFocus()),
      open: () => this.open(),
      newCac: () => this.openForm(cacForm()),
      editCac: () => {
        const c = this.lists.selectedCac();
        if (c) this.openForm(cacForm(c));
      },
      apply: () => {
        const c = this.lists.selectedCac();
        if (c) this.openForm(applyForm(c));
        else this.ctx.toast(this.ctx.t('analysis.newHint'), 'error');
      },
      remove: () => void this.remove(),
      stop: () => {
        const a = this.lists.selectedAnalysis();
        if (!a || this.lists.focus !== 'analyses') return;
        void this.app.analysis.stopAnalysis(a.id).then(async () => {
          if (this.viewed === a.id) {
            this.chartReady = false;
            this.series.clear();
          }
          await this.refresh();
        }, (error: unknown) => this.ctx.toast(this.ctx.t('toast.error', { message: (error as Error).message }), 'error'));
      },
      resume: () => void this.resume(),
      ...chartActions(this.chart, {
        t: this.ctx.t,
        redraw: () => this.update(),
        toast: (message) => this.ctx.toast(message),
        switchInterval: (by) => this.switchInterval(by),
      }, () => (this.chartBox.width as number) - 12),
    };
  }

  /** Enter: edits the CAC under the cursor, or charts the analysis under it. */
  private open(): void {
    if (this.lists.focus === 'cacs') {
      const c = this.lists.selectedCac();
      if (c) this.openForm(cacForm(c));
      return;
    }
    const a = this.lists.selectedAnalysis();
    if (!a) return;
    this.viewed = a.id;
    this.shownInterval = undefined;
    this.chartReady = false;
    this.update();
    void this.loadChart(a.id);
  }

  /** `r`: resumes the selected analysis (or the one on the chart) when it is stopped or failed. */
  private async resume(): Promise<void> {
    const { t } = this.ctx;
    const a = (this.lists.focus === 'analyses' ? this.lists.selectedAnalysis() : undefined) ?? this.lists.analysis(this.viewed);
    if (!a) return;
    if (a.liveState !== 'stopped' && a.liveState !== 'failed') {
      this.ctx.toast(t('analysis.notStopped', { id: a.id, state: t(`analysis.states.${a.liveState}`) }));
      return;
    }
    try {
      await this.app.analysis.resumeAnalysis(a.id);
    } catch (error) {
      this.ctx.toast(t('toast.error', { message: (error as Error).message }), 'error');
      return;
    }
    this.ctx.toast(t('analysis.resumed', { id: a.id }));
    await this.refresh();
    if (this.viewed === a.id && !this.destroyed) void this.loadChart(a.id);
  }

  /** Click a CAC or an analysis to select it (a second click on an analysis charts it); wheel moves; over the chart as on Market. */
  mouse(m: PageMouse): boolean {
    if (this.form) return false;
    for (const [box, focus] of [[this.cacBox, 'cacs'], [this.listBox, 'analyses']] as const) {
      const cell = cellIn(box, m);
      if (!cell) continue;
      const count = focus === 'cacs' ? this.lists.cacs.length : this.lists.analyses.length;
      if (count === 0) return false;
      const current = focus === 'cacs' ? this.lists.cacCursor : this.lists.listCursor;
      this.lists.focus = focus;
      if (m.action === 'click') {
        if (cell.row >= count) return false;
        if (focus === 'analyses' && cell.row === current) {
          this.open();
          return true;
        }
        this.lists.move(cell.row - current);
      } else this.lists.move(m.action === 'wheelup' ? -1 : 1);
      this.update();
      return true;
    }
    const chartElement = this.chart.element;
    const cell = chartElement && this.chartReady ? cellIn(chartElement, m) : undefined;
    if (!cell) return false;
    if (m.action === 'click') this.chart.cursorToColumn(cell.col);
    else if (m.ctrl) this.chart.zoom(m.action === 'wheelup' ? 1 : -1);
    else this.chart.pan(m.action === 'wheelup' ? -4 : 4);
    this.update();
    return true;
  }

  /** Opens the page on one analysis (AutoTrade's Enter): selects it and draws its chart. */
  reveal(target: PageTarget): void {
    if (target.analysisId === undefined) return;
    const id = target.analysisId;
    this.lists.focus = 'analyses';
    this.viewed = id;
    this.shownInterval = undefined;
    this.chartReady = false;
    const select = () => {
      const i = this.lists.analyses.findIndex((a) => a.id === id);
      if (i >= 0) this.lists.listCursor = i;
      this.update();
      this.ctx.markDirty();
    };
    select();
    void this.refresh().then(() => {
      if (this.destroyed || this.viewed !== id) return;
      select();
      void this.loadChart(id);
    });
  }

  /** Deletes the selected CAC (with its analyses) or analysis, after asking. */
  private async remove(): Promise<void> {
    const { t } = this.ctx;
    if (this.lists.focus === 'cacs') {
      const c = this.lists.selectedCac();
      if (!c) return;
      const going = (await this.app.analysis.list()).filter((a) => a.configId === c.id);
      const question = going.length === 0
        ? t('analysis.confirmDeleteCac', { name: c.cac.name })
        : t('analysis.confirmDeleteCacWith', { name: c.cac.name, count: going.length, list: going.map((a) => `#${a.id} ${a.symbol} ${a.interval}`).join(', ') });
      this.ctx.confirm(question, async () => {
        await this.app.analysis.deleteCac(c.id);
        this.ctx.toast(t('analysis.deleted', { name: c.cac.name }));
        await this.refresh();
      });
    } else {
      const a = this.lists.selectedAnalysis();
      if (!a) return;
      this.ctx.confirm(t('analysis.confirmRemove', { id: a.id, symbol: a.symbol, interval: a.interval, name: a.cacName }), async () => {
        await this.app.analysis.deleteAnalysis(a.id);
        if (this.viewed === a.id) this.viewed = undefined;
        this.ctx.toast(t('analysis.removed', { id: a.id }));
        await this.refresh();
      });
    }
  }

  private async refresh(): Promise<void> {
    try {
      const [cacs, analyses] = await Promise.all([this.app.analysis.listCacs(), this.app.analysis.list()]);
      this.lists.set(cacs, analyses);
    } catch (error) {
      this.ctx.toast(this.ctx.t('toast.error', { message: (error as Error).message }), 'error');
    }
    if (this.destroyed) return;
    this.update();
    this.ctx.markDirty();
  }

  // ---- the chart ----

  /** Loads the chart of analysis `id`: the newest output rows from its worker and their candles. */
  private async loadChart(id: number): Promise<void> {
    if (this.loading) {
      this.reloadPending = true;
      return;
    }
    this.loading = true;
    try {
      const a = this.lists.analysis(id);
      const tail = a ? await this.app.analysis.tail(id, CHART_ROWS) : undefined;
      if (!a || !tail || tail.openTime.length === 0 || this.viewed !== id) {
        this.chartReady = false;
        this.series.clear();
        return;
      }
      const n = tail.openTime.length;
      this.series.load(id, tail, this.app.analysis.loadKlines(a.symbol, a.interval, tail.openTime[0], tail.openTime[n - 1]));
      this.showSeries();
      this.chartReady = true;
    } catch (error) {
      this.chartReady = false;
      this.ctx.toast(this.ctx.t('toast.error', { message: (error as Error).message }), 'error');
    } finally {
      this.loading = false;
      if (!this.destroyed) {
        this.update();
        this.ctx.markDirty();
        if (this.reloadPending && this.viewed !== undefined) {
          this.reloadPending = false;
          void this.loadChart(this.viewed);
        }
      }
    }
  }

  /** A closed kline was analysed: append its candle and row, or reload after a gap or replay. */
  private onAnalysed(id: number, openTime: number, columns: readonly string[] | undefined, row: Float64Array | undefined): void {
    const a = this.lists.analysis(id);
    const last = this.series.lastOpenTime;
    if (this.loading || !this.chartReady || !a || !columns || !row || last === undefined) {
      void this.loadChart(id);
      return;
    }
    const stored = this.app.analysis.loadKlines(a.symbol, a.interval, last + 1, openTime);
    if (!this.series.append(id, stored, openTime, columns, row)) {
      void this.loadChart(id);
      return;
    }
    if (this.shownInterval) {
      // drawn at a longer interval: rebuild its candles and rows, at the same place in time
      const ms = INTERVAL_MS[this.shownInterval];
      const view = this.chart.timeView(ms);
      this.showSeries();
      if (view) this.chart.restoreTimeView(view, ms);
    } else {
      this.chart.append(getKline(this.series.klines, this.series.klines.length - 1));
      this.drawLayers(this.series.klines, this.series.rows());
    }
    this.update();
    this.ctx.markDirty();
  }

  /** The chart's candles and layers from the series, at the interval shown (the analysis's own unless `]` was pressed). */
  private showSeries(): void {
    const a = this.lists.analysis(this.series.id);
    if (!a) return;
    const base = a.interval as Interval;
    const shown = this.shownInterval ?? base;
    const { klines, rows } = rowsAtInterval(this.series.klines, this.series.rows(), base, shown);
    this.chart.setData(klines);
    this.chart.title = `${a.symbol} ${shown} · ${a.cacName}`;
    this.drawLayers(klines, rows);
  }

  /** `]`/`[`: the analysis drawn at a longer interval (or back), at the same place in time. */
  private switchInterval(by: 1 | -1): void {
    const a = this.lists.analysis(this.viewed);
    if (!a || !this.chartReady) return;
    const base = a.interval as Interval;
    const allowed = chartIntervals(base);
    const current = this.shownInterval ?? base;
    const next = allowed[Math.max(0, Math.min(allowed.length - 1, allowed.indexOf(current) + by))];
    if (next === current) {
      if (by < 0) this.ctx.toast(this.ctx.t('analysis.oneInterval', { interval: base }));
      return;
    }
    const view = this.chart.timeView(INTERVAL_MS[current]);
    this.shownInterval = next === base ? undefined : next;
    this.showSeries();
    if (view) this.chart.restoreTimeView(view, INTERVAL_MS[next]);
    this.update();
  }

  private drawLayers(k: Klines, rows: AnalysisRows): void {
    const { overlays, panels, markers } = chartLayers(rows, k.openTime.subarray(0, k.length), this.app.analysis.catalog().indicators);
    this.chart.setOverlays(overlays);
    this.chart.setPanels(panels);
    this.chart.setMarkers(markers);
  }

  // ---- the form (typed text; the shell pauses global keys while it is open) ----

  private openForm(form: Form): void {
    this.form = form;
    this.skipKey = true;
    this.update();
  }

  private readonly onFormKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || !this.form || !key) return;
    if (this.skipKey) {
      this.skipKey = false;
      return;
    }
    const result = typeInForm(this.form, { full: key.full, ch, ctrl: key.ctrl, meta: key.meta });
    if (result === 'ignored') return;
    if (result === 'submit') {
      void this.submit();
      return;
    }
    if (result === 'close') this.form = undefined;
    this.update();
    this.ctx.markDirty();
  };

  private async submit(): Promise<void> {
    const f = this.form;
    if (!f) return;
    try {
      if (f.kind === 'cac') {
        const saved = await this.app.analysis.saveCac(
          { name: formValue(f, 'name'), indicators: formValue(f, 'indicators').split(/\s+/).filter(Boolean), pip: parsePip(formValue(f, 'pip')) },
          f.cacId,
        );
        this.ctx.toast(this.ctx.t('analysis.saved', { name: saved.cac.name }));
      } else {
        const view = await this.app.analysis.createAnalysis(f.cacId!, formValue(f, 'symbol').trim(), formValue(f, 'interval').trim());
        this.ctx.toast(this.ctx.t('analysis.applied', { id: view.id, symbol: view.symbol, count: view.count }));
        this.viewed = view.id;
        this.lists.focus = 'analyses';
      }
      this.form = undefined;
      await this.refresh();
      if (this.viewed !== undefined) void this.loadChart(this.viewed);
    } catch (error) {
      f.error = (error as Error).message;
      this.update();
      this.ctx.markDirty();
    }
  }

  // ---- rendering ----

  private renderLists(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const focus = this.lists.focus;
    this.cacBox.setLabel(` ${t('analysis.cacs')}${focus === 'cacs' ? ' ●' : ''} `);
    this.cacBox.setContent(cacListLines(this.lists, t, theme).join('\n'));
    this.listBox.setLabel(` ${t('analysis.analyses')}${focus === 'analyses' ? ' ●' : ''} `);
    this.listBox.setContent(analysisListLines(this.lists, this.viewed, t, theme).join('\n'));
  }

  private renderChart(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    this.chart.setTheme(theme);
    this.chart.labels = { open: t('analysis.chart.open'), high: t('analysis.chart.high'), low: t('analysis.chart.low'), close: t('analysis.chart.close'), volume: t('analysis.chart.volume'), empty: t('analysis.chart.empty') };
    const a = this.lists.analysis(this.viewed);
    this.chartBox.setLabel(` ${a ? t('analysis.chartTitle', { id: a.id, symbol: a.symbol, interval: a.interval, cac: a.cacName }) : t('analysis.chartNone')} `);
    if (this.viewed !== undefined && this.chartReady) {
      this.info.hide();
      this.chart.element?.show();
      this.chart.render();
    } else {
      this.chart.element?.hide();
      this.info.show();
      this.info.setContent(chartInfoLines({ viewed: this.viewed, loading: this.loading, lists: this.lists, analysis: a }, t, theme).join('\n'));
    }
  }

  private renderForm(form: Form): void {
    this.formBox.setLabel(` ${formTitle(form, this.ctx.t)} `);
    const width = Math.max(10, (this.formBox.width as number) - 4);
    this.formBox.setContent(formLines(form, this.app.analysis.catalog(), this.ctx.t, this.ctx.theme(), width).join('\n'));
  }

  // ---- page ----

  capturesInput(): boolean {
    return this.form !== undefined;
  }

  show(): void {
    this.visible = true;
    this.root.show();
    void this.app.analysis.resume().then(() => this.refresh(), (error: unknown) => this.app.reportError('analysis', error));
    void this.refresh();
  }

  hide(): void {
    this.visible = false;
    this.root.hide();
  }

  update(): void {
    const theme = this.ctx.theme();
    for (const box of [this.cacBox, this.listBox, this.chartBox, this.formBox]) restyle(box, theme);
    this.renderLists();
    if (this.form) {
      this.formBox.show();
      this.chartBox.hide();
      this.renderForm(this.form);
    } else {
      this.formBox.hide();
      this.chartBox.show();
      this.renderChart();
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const off of this.offs) off();
    this.ctx.screen.removeListener('keypress', this.onFormKey);
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new AnalysisPage(ctx);
}

export const analysis: PageModule = { id: 'analysis', keys, mount };
