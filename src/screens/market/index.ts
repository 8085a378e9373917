import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import type { StoredCac } from '../../core/analysis/repository.js';
import { emptyKlines, INTERVAL_MS, lowerBound, type Kline } from '../../core/market/klines.js';
import { chartLayers } from '../analysis-overlays.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import { cellIn, type Page, type PageContext, type PageModule, type PageMouse } from '../page.js';
import type { Theme } from '../theme.js';
import { CandleChart } from '../widgets/candles.js';
import { CHART_KEYS, chartActions } from '../widgets/chart-keys.js';
import { panel, restyle } from '../widgets.js';
import { LiveFeeds } from './live.js';
import { ChartSeries, SymbolList, symbolRows } from './model.js';
import { TempAnalysisState } from './temp.js';
import { deepStripView, type DeepStripView } from './deep.js';
import { pickerLines, sideLines, symbolListLines, symbolListTop, tempStatusLine } from './views.js';
import { DOWNLOAD_FIELDS, DownloadForm, startDownload, startImport } from './jobs.js';
import { FileBrowser } from '../widgets/file-browser.js';
import { durationText, percentText, progressBar } from '../widgets/progress.js';
import { displayKey } from '../keys.js';
import { esc, fit } from '../widgets.js';
import { paint } from '../theme.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'market.keys.up' },
  down: { keys: ['j', 'down'], label: 'market.keys.down' },
  filter: { keys: ['/'], label: 'market.keys.filter', hint: true },
  sort: { keys: ['s'], label: 'market.keys.sort', hint: true },
  ...CHART_KEYS,
  fit: { keys: ['f'], label: 'market.keys.fit' },
  analyse: { keys: ['a'], label: 'market.keys.analyse', hint: true },
  importData: { keys: ['i'], label: 'market.keys.import', hint: true },
  download: { keys: ['d'], label: 'market.keys.download', hint: true },
  cancelJob: { keys: ['x'], label: 'market.keys.cancelJob' },
});

/** Keys inside the file browser and the download form (shown in their boxes). */
export const browserKeys = defineKeys({
  move: { keys: ['up', 'down', 'k', 'j'], label: 'fileBrowser.keys.move' },
  enter: { keys: ['enter'], label: 'fileBrowser.keys.enter' },
  select: { keys: ['space'], label: 'fileBrowser.keys.select' },
  up: { keys: ['backspace'], label: 'fileBrowser.keys.up' },
  start: { keys: ['i'], label: 'fileBrowser.keys.import' },
  close: { keys: ['escape'], label: 'fileBrowser.keys.close' },
});

type PanelOptions = Widgets.BoxOptions & { theme: Theme };

/**
 * The Market page: the symbols with stored klines (filter with `/`, sort by change, volume or
 * name), a candlestick chart of the selected one (zoom, pan, interval switch, live forming
 * candle), and beside it the order book's top levels and recent trades when an exchange is
 * connected. Without an exchange or stored data it says so: no figure is invented.
 *
 * `a` runs a temporary analysis: a stored CAC (picked from a small list) over the candles on
 * screen, started earlier by the CAC's warm-up when stored klines allow, in the analysis worker
 * pool; the result is drawn like the Currency Analysis page draws a live one and is never stored.
 *
 * State lives in the view models (`SymbolList`, `ChartSeries`, `TempAnalysisState`, `LiveFeeds`);
 * this class wires them to widgets, keys and core events.
 */
class MarketPage implements Page {
  readonly id = 'market' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly chartBox: Widgets.BoxElement;
  private readonly sideBox: Widgets.BoxElement;
  /** One line under the chart: the temporary analysis' state in words. */
  private readonly tempLine: Widgets.BoxElement;
  /** One dim line under the chart when no deep data (trades, book) is stored for the symbol. */
  private readonly deepLine: Widgets.BoxElement;
  /** The trade-flow and depth sub-panels from stored deep data (app.market.deep). */
  private deepView: DeepStripView = { panels: [] };
  private readonly pickerBox: Widgets.BoxElement;
  private readonly chart: CandleChart;
  private readonly list = new SymbolList();
  private readonly series = new ChartSeries();
  private readonly temp: TempAnalysisState;
  private readonly live: LiveFeeds;
  private readonly offs: (() => void)[] = [];
  private visible = false;
  /** Two lines at the bottom of the symbol list: the page's latest job, its progress bar and ETA. */
  private readonly jobBox: Widgets.BoxElement;
  /** The file browser (`i`) or the download form (`d`), one at a time, in one box. */
  private readonly formBox: Widgets.BoxElement;
  private browser: FileBrowser | undefined;
  private form: DownloadForm | undefined;
  /** Jobs started from this page, oldest first. */
  private readonly jobIds: string[] = [];
  /** The key that opened the browser or form reaches onFormKey too (after the shell): skip it. */
  private opening = false;
  /** Where the file browser opens: the working directory, then the folder it was last in. */
  private importDir = process.cwd();

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.listBox = panel(this.root, { top: 0, left: 0, width: 30, height: '100%', theme, wrap: false } as PanelOptions);
    this.chartBox = panel(this.root, { top: 0, left: 30, width: '100%-62', height: '100%', theme });
    this.sideBox = panel(this.root, { top: 0, right: 0, width: 32, height: '100%', theme, wrap: false } as PanelOptions);
    this.chart = new CandleChart(theme);
    // inside the border: blessed positions children from the parent's outer edge
    this.chart.attach(this.chartBox, { top: 1, left: 1, right: 1, bottom: 1, wrap: false } as Widgets.BoxOptions);
    this.tempLine = blessed.box({ parent: this.chartBox, left: 1, right: 1, bottom: 1, height: 1, tags: true, wrap: false, hidden: true } as Widgets.BoxOptions);
    this.deepLine = blessed.box({ parent: this.chartBox, left: 1, right: 1, bottom: 1, height: 1, tags: true, wrap: false, hidden: true } as Widgets.BoxOptions);
    this.pickerBox = panel(this.chartBox, { top: 'center', left: 'center', width: 70, height: 10, theme, hidden: true, wrap: true } as PanelOptions);
    this.jobBox = blessed.box({ parent: this.listBox, left: 1, right: 1, bottom: 1, height: 2, tags: true, wrap: false, hidden: true } as Widgets.BoxOptions);
    this.formBox = panel(this.root, { top: 'center', left: 'center', width: 64, height: 16, theme, hidden: true, wrap: false } as PanelOptions);
    this.temp = new TempAnalysisState(this.app.analysis, () => {
      this.applyTemp();
      this.redraw(() => this.renderChart());
    });
    this.live = new LiveFeeds(
      this.app.market,
      () => this.redraw(() => this.renderSide()),
      (message) => ctx.toast(ctx.t('market.liveFailed', { message }), 'error'),
    );
    this.bindings = bindKeys(keys, this.actions(), this.app.readonly);
    this.listen();
  }

  // ---- keys ----

  private actions(): Record<keyof typeof keys, () => void> {
    const chart = this.chart;
    const onChart = (fn: () => void) => () => {
      fn();
      this.renderChart();
    };
    return {
      ...chartActions(chart, {
        t: this.ctx.t,
        redraw: () => this.renderChart(),
        toast: (message) => this.ctx.toast(message),
        switchInterval: (by) => this.switchInterval(by),
      }, () => (this.chartBox.width as number) - 12),
      up: () => this.moveSelection(-1),
      down: () => this.moveSelection(1),
      filter: () => {
        this.list.filtering = true;
        this.renderList();
      },
      sort: () => {
        this.list.nextSort(this.series.symbol);
        this.renderList();
      },
      fit: onChart(() => chart.zoomToFit()),
      analyse: () => this.analyseKey(),
      importData: () => {
        this.form = undefined;
        this.browser = new FileBrowser(this.importDir);
        this.opening = true;
        this.renderForm();
      },
      download: () => {
        this.browser = undefined;
        this.form = new DownloadForm(this.series.symbol ?? '', this.series.baseInterval);
        this.opening = true;
        this.renderForm();
      },
      cancelJob: () => this.cancelJob(),
    };
  }

  /** Typed text while filtering. The shell hears every key first and ignores it meanwhile. */
  private readonly onFilterKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || !this.list.filtering || !key) return;
    const typed = key.name === 'escape' ? 'escape' : key.name === 'enter' || key.name === 'return' ? 'enter' : key.name === 'backspace' ? 'backspace' : { char: ch ?? '' };
    if (!this.list.typeFilter(typed)) return;
    const rows = this.list.visible();
    if (rows.length > 0) this.select(rows[0].symbol);
    this.redraw(() => this.update());
  };

  /** Keys while the CAC picker is open (the shell pauses its own keys meanwhile). */
  private readonly onPickerKey = (_ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || !this.temp.picker || !key) return;
    const k = key.full;
    if (k === 'up' || k === 'k') this.temp.movePicker(-1);
    else if (k === 'down' || k === 'j') this.temp.movePicker(1);
    else if (k === 'escape') this.temp.picker = undefined;
    else if (k === 'enter') this.choose();
    else return;
    this.redraw(() => this.update());
  };

  /** Keys while the file browser or the download form is open (the shell pauses its own keys). */
  private readonly onFormKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (this.opening) {
      this.opening = false;
      return;
    }
    if (!this.visible || !key || (!this.browser && !this.form)) return;
    const k = key.full;
    if (this.browser) this.importDir = this.browser.dir;
    if (k === 'escape') {
      this.browser = undefined;
      this.form = undefined;
    } else if (this.browser) {
      const b = this.browser;
      if (k === 'up' || k === 'k') b.move(-1);
      else if (k === 'down' || k === 'j') b.move(1);
      else if (k === 'enter') b.enter(); // blessed sends 'return' then 'enter' for one Enter
      else if (k === 'space') b.toggle();
      else if (k === 'backspace') {
        b.cursor = b.entries.findIndex((e) => e.kind === 'up');
        if (b.cursor >= 0) b.enter();
        else b.cursor = 0;
      } else if (k === 'i') {
        const paths = b.chosen();
        this.browser = undefined;
        this.jobIds.push(startImport(this.app, paths, this.ctx.t));
        this.ctx.toast(this.ctx.t('market.jobs.started'));
      } else return;
    } else if (this.form) {
      const f = this.form;
      if (k === 'tab' || k === 'down') f.moveFocus(1);
      else if (k === 'S-tab' || k === 'up') f.moveFocus(-1);
      else if (k === 'backspace') f.backspace();
      else if (k === 'enter') {
        const request = f.request(this.ctx.t);
        if (request) {
          this.form = undefined;
          this.jobIds.push(startDownload(this.app, request, this.ctx.t));
          this.ctx.toast(this.ctx.t('market.jobs.started'));
        }
      } else if (ch && ch.length === 1 && !key.ctrl && !key.meta) f.type(ch);
      else return;
    }
    if (this.browser) this.importDir = this.browser.dir;
    this.renderForm();
    this.renderList();
    this.renderJobs();
    this.ctx.markDirty();
  };

  /** `x`: cancels this page's latest running job, after asking. */
  private cancelJob(): void {
    const running = this.app.jobs.list().filter((j) => j.state === 'running' && this.jobIds.includes(j.id));
    const job = running[0]; // newest first
    if (!job) {
      this.ctx.toast(this.ctx.t('market.jobs.noneRunning'));
      return;
    }
    this.ctx.confirm(this.ctx.t('market.jobs.confirmCancel', { label: job.label }), () => {
      this.app.jobs.cancel(job.id);
    });
  }

  private moveSelection(by: number): void {
    const symbol = this.list.move(by);
    if (symbol === undefined) return;
    this.select(symbol);
    this.update();
  }

  /** `]`/`[`: the next or previous interval, at the same place in time and the same time per column. */
  private switchInterval(by: number): void {
    const before = this.series.interval;
    const view = this.chart.timeView(INTERVAL_MS[before]);
    if (!this.series.switchInterval(by)) return;
    this.rebuildChart();
    if (view) this.chart.restoreTimeView(view, INTERVAL_MS[this.series.interval]);
    this.renderChart();
  }

  /** `a`: outside the analysed range, runs the same CAC again over the view; else opens the picker. */
  private analyseKey(): void {
    if (!this.series.symbol || this.series.base.length === 0) {
      this.ctx.toast(this.ctx.t('market.analysis.noKlines'), 'error');
      return;
    }
    if (this.temp.temp && !this.temp.running && this.temp.outside(this.chart.visibleRange())) {
      this.runTemp(this.temp.temp.cac);
      return;
    }
    this.temp.openPicker();
    this.update();
  }

  private choose(): void {
    const chosen = this.temp.choose();
    if (chosen === 'cleared') {
      this.applyTemp();
      this.ctx.toast(this.ctx.t('market.analysis.cleared'));
    } else if (chosen) this.runTemp(chosen);
  }

  /** Runs `stored` over the candles on screen (all when zoomed out fully), in the worker pool. */
  private runTemp(stored: StoredCac): void {
    const k = this.series.closed();
    const view = this.chart.visibleRange() ?? (k.length > 0 ? { from: 0, to: k.length } : undefined);
    const symbol = this.series.symbol;
    if (!symbol || !view || k.length === 0) {
      this.ctx.toast(this.ctx.t('market.analysis.noKlines'), 'error');
      return;
    }
    void this.temp.run(stored, symbol, this.series.interval, k, view);
    this.redraw(() => this.renderChart());
  }

  // ---- data ----

  private loadRows(): void {
    const market = this.app.market;
    this.list.rows = symbolRows(market.series(), market.symbols(), (symbol, interval, from, to) => market.klines(symbol, interval, from, to));
  }

  private select(symbol: string | undefined): void {
    if (symbol === this.series.symbol) return;
    const baseInterval = (symbol && this.list.find(symbol)?.base) || '1m';
    this.series.load(symbol, symbol ? this.app.market.klines(symbol, baseInterval) : emptyKlines(), baseInterval);
    this.rebuildChart();
    this.live.start(this.series.symbol, this.series.baseInterval);
  }

  /** The chart's candles from the series, then the temporary analysis on them. */
  private rebuildChart(): void {
    const s = this.series;
    this.chart.title = s.symbol ? `${s.symbol} ${s.interval}` : '';
    this.chart.setData(s.closed());
    this.chart.setForming(s.forming());
    this.loadDeep();
    this.applyTemp();
  }

  /** The deep data strip for the chart's candles (bounded reads: see DeepDataService.strip). */
  private loadDeep(): void {
    const { symbol, interval } = this.series;
    const k = this.series.closed();
    const strip = symbol && k.length > 0 ? this.app.market.deep.strip(symbol, k.openTime.subarray(0, k.length), INTERVAL_MS[interval]) : undefined;
    const room = Math.max(0, (this.chartBox.height as number) - 3 - 12);
    this.deepView = deepStripView(strip, symbol, this.ctx.t, room);
  }

  /** Draws the temporary analysis on the chart, or clears it when it belongs to another series. */
  private applyTemp(): void {
    this.temp.keepFor(this.series.symbol, this.series.interval);
    const temp = this.temp.temp;
    if (!temp) {
      this.chart.setOverlays([]);
      this.chart.setPanels(this.deepView.panels);
      this.chart.setMarkers([]);
      return;
    }
    const k = this.series.closed();
    const times = k.openTime.subarray(0, k.length);
    const from = lowerBound(k, temp.fromTime);
    const to = lowerBound(k, temp.toTime + 1);
    const innerHeight = Math.max(0, (this.chartBox.height as number) - 3);
    const maxPanels = Math.max(1, Math.min(5, Math.floor((innerHeight - 12) / 4)));
    const layers = chartLayers(temp.rows, times, this.app.analysis.catalog().indicators, { from, to, maxPanels });
    temp.omitted = layers.omitted;
    temp.from = from;
    temp.to = to;
    this.chart.setOverlays(layers.overlays);
    this.chart.setPanels([...layers.panels, ...this.deepView.panels]);
    this.chart.setMarkers(layers.markers);
  }

  // ---- core events ----

  private listen(): void {
    const { bus } = this.app;
    this.ctx.screen.on('keypress', this.onFilterKey);
    this.ctx.screen.on('keypress', this.onPickerKey);
    this.ctx.screen.on('keypress', this.onFormKey);
    this.offs.push(
      bus.on('job.progress', (e) => {
        if (this.jobIds.includes(e.id)) this.redraw(() => this.renderJobs());
      }),
      bus.on('job.state', (e) => {
        if (!this.jobIds.includes(e.id)) return;
        this.redraw(() => {
          this.renderList();
          this.renderJobs();
        });
      }),
      bus.on('market.kline', (e) => {
        if (e.symbol === this.series.symbol && e.interval === this.series.baseInterval) this.onKline(e.kline, e.closed);
      }),
      bus.on('market.stale', (e) => {
        if (e.symbol === this.series.symbol) this.redraw(() => this.renderSide());
      }),
      bus.on('market.stored', (e) => {
        const row = this.list.find(e.symbol);
        if (this.visible && (!row || row.lastTime === 0)) {
          this.loadRows();
          // the first klines stored (an import or download from this page): chart them
          if (!this.series.symbol) {
            const rows = this.list.visible();
            if (rows.length > 0) {
              this.list.cursor = 0;
              this.select(rows[0].symbol);
              this.redraw(() => this.update());
              return;
            }
          }
          this.redraw(() => this.renderList());
        }
      }),
      bus.on('market.filled', (e) => {
        // a REST fill stored many klines at once: reload the selected series
        if (e.symbol !== this.series.symbol || e.interval !== this.series.baseInterval) return;
        this.series.reload(this.app.market.klines(e.symbol, e.interval));
        this.rebuildChart();
        this.redraw(() => this.renderChart());
      }),
      bus.on('market.symbols', () => this.onSymbols()),
      bus.on('market.deep.stored', (e) => {
        if (e.symbol !== this.series.symbol) return;
        this.loadDeep();
        this.applyTemp();
        this.redraw(() => this.renderChart());
      }),
      bus.on('exchange.state', () => {
        if (!this.visible) return;
        this.live.start(this.series.symbol, this.series.baseInterval);
        this.redraw(() => this.renderSide());
      }),
    );
  }

  private onKline(kline: Kline, closed: boolean): void {
    if (!closed) this.chart.setForming(this.series.onForming(kline));
    else {
      const change = this.series.onClosed(kline);
      if (!change) return;
      if (change.append) this.chart.append(change.append);
      this.chart.setForming(change.forming);
    }
    this.redraw(() => this.renderChart());
  }

  private onSymbols(): void {
    if (!this.visible) return;
    this.loadRows();
    this.live.start(this.series.symbol, this.series.baseInterval);
    const rows = this.list.visible();
    if (rows.length > 0 && !rows.some((r) => r.symbol === this.series.symbol)) {
      this.list.cursor = 0;
      this.select(rows[0].symbol);
    }
    this.redraw(() => this.update());
  }

  /** Runs `render` and asks for a frame, only while the page is visible. */
  private redraw(render: () => void): void {
    if (!this.visible) return;
    render();
    this.ctx.markDirty();
  }

  // ---- rendering ----

  private renderList(): void {
    const { t } = this.ctx;
    this.listBox.setLabel(` ${t('market.symbols')} (${t(`market.sort.${this.list.sort}`)}) `);
    const jobLines = this.jobIds.length > 0 ? 2 : 0; // the job box takes the last two lines
    this.listBox.setContent(symbolListLines(this.list, t, this.ctx.theme(), (this.listBox.width as number) - 2, (this.listBox.height as number) - 2 - jobLines).join('\n'));
  }

  /** The page's latest job: its label, then a progress bar with percent and ETA, or how it ended. */
  private renderJobs(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const job = this.app.jobs.list().find((j) => this.jobIds.includes(j.id));
    if (!job) {
      this.jobBox.hide();
      return;
    }
    const width = Math.max(10, (this.listBox.width as number) - 4);
    let second: string;
    if (job.state === 'running') {
      const pct = percentText(job.done, job.total);
      const eta = job.etaMs !== undefined ? ` ${t('jobs.eta', { time: durationText(job.etaMs) })}` : '';
      const tail = `${pct ? ` ${pct}` : ''}${eta}`;
      second = esc(progressBar(job.done, job.total, Math.max(4, width - tail.length)) + tail);
    } else {
      const role = job.state === 'done' ? 'up' : job.state === 'failed' ? 'error' : 'warn';
      second = paint(theme, role, esc(fit(`${t(`jobs.state.${job.state}`)}: ${job.error ?? job.result ?? ''}`, width)));
    }
    this.jobBox.setContent(`${paint(theme, 'accent', esc(fit(job.label, width)))}\n${second}`);
    this.jobBox.show();
  }

  /** The file browser or the download form, centred over the page. */
  private renderForm(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    if (!this.visible || (!this.browser && !this.form)) {
      this.formBox.hide();
      return;
    }
    const screenW = (this.root.width as number) || 80;
    const screenH = (this.root.height as number) || 24;
    const width = Math.max(30, Math.min(72, screenW - 4));
    const height = Math.max(8, Math.min(20, screenH - 2));
    this.formBox.width = width;
    this.formBox.height = height;
    const inner = width - 2;
    let lines: string[];
    if (this.browser) {
      this.formBox.setLabel(` ${t('fileBrowser.title')} `);
      // the keys, wrapped to the box's width
      const hints: string[] = [''];
      for (const [id, d] of Object.entries(browserKeys)) {
        const item = `${d.keys.slice(0, id === 'move' ? 2 : 1).map(displayKey).join('')} ${t(d.label)}`;
        const last = hints.length - 1;
        if (hints[last] && hints[last].length + 3 + item.length > inner) hints.push(item);
        else hints[last] = hints[last] ? `${hints[last]} · ${item}` : item;
      }
      lines = [...this.browser.lines(t, theme, inner, height - 2 - hints.length), ...hints.map((l) => paint(theme, 'muted', esc(fit(l, inner))))];
      this.formBox.height = Math.min(height, lines.length + 2);
    } else {
      const f = this.form!;
      this.formBox.setLabel(` ${t('market.download.title')} `);
      lines = DOWNLOAD_FIELDS.map((field, i) => {
        const label = fit(t(`market.download.${field}`), 10);
        const value = f.values[field] + (i === f.focus ? '_' : '');
        const text = esc(fit(`${i === f.focus ? '>' : ' '} ${label} ${value}`, inner));
        return i === f.focus ? paint(theme, 'accent', text) : text;
      });
      lines.push(paint(theme, 'muted', esc(fit(t('market.download.defaults'), inner))));
      if (f.error) lines.push(paint(theme, 'error', esc(fit(f.error, inner))));
      lines.push('', paint(theme, 'muted', esc(fit(t('market.download.hint'), inner))));
      this.formBox.height = Math.min(height, lines.length + 2);
    }
    this.formBox.setContent(lines.join('\n'));
    this.formBox.show();
    this.formBox.setFront();
  }

  private renderChart(): void {
    const { t } = this.ctx;
    const { symbol, interval } = this.series;
    const chart = this.chart;
    chart.labels = { open: t('market.chart.open'), high: t('market.chart.high'), low: t('market.chart.low'), close: t('market.chart.close'), volume: t('market.chart.volume'), empty: symbol ? t('market.chart.empty') : t('market.chart.noSymbol') };
    const perColumn = chart.candlesPerColumn > 1 ? ` · ${t('market.perColumn', { n: chart.candlesPerColumn })}` : '';
    this.chartBox.setLabel(` ${symbol ? `${symbol} · ${interval}${perColumn}` : t('market.chart.title')} `);
    // a line under the chart tells the temporary analysis' state (it needs the rendered view)
    const withStatus = this.temp.shown;
    const deepLine = this.deepView.line;
    (chart.element as Widgets.BoxElement & { bottom: number }).bottom = 1 + (withStatus ? 1 : 0) + (deepLine ? 1 : 0); // blessed ignores an unchanged position
    (this.tempLine as Widgets.BoxElement & { bottom: number }).bottom = deepLine ? 2 : 1;
    chart.render();
    if (deepLine) {
      this.deepLine.setContent(paint(this.ctx.theme(), 'muted', esc(fit(deepLine, Math.max(10, (this.chartBox.width as number) - 4)))));
      this.deepLine.show();
    } else this.deepLine.hide();
    if (withStatus) {
      const width = Math.max(10, (this.chartBox.width as number) - 4);
      this.tempLine.setContent(tempStatusLine(this.temp, this.temp.outside(chart.visibleRange()), t, this.ctx.theme(), width));
      this.tempLine.show();
    } else this.tempLine.hide();
    this.renderPicker();
  }

  private renderPicker(): void {
    if (!this.temp.picker || !this.visible) {
      this.pickerBox.hide();
      return;
    }
    const boxHeight = (this.chartBox.height as number) - 2;
    const width = Math.max(24, Math.min(72, (this.chartBox.width as number) - 4));
    this.pickerBox.setLabel(` ${this.ctx.t('market.analysis.title')} `);
    const lines = pickerLines(this.temp, this.series, this.ctx.t, this.ctx.theme(), width - 2, boxHeight);
    this.pickerBox.width = width + 2;
    this.pickerBox.height = Math.max(5, Math.min(lines.length + 2, boxHeight));
    this.pickerBox.setContent(lines.join('\n'));
    this.pickerBox.show();
  }

  private renderSide(): void {
    const market = this.app.market;
    const { symbol, baseInterval } = this.series;
    this.sideBox.setLabel(` ${this.ctx.t('market.book')} `);
    const why = symbol ? market.cannotWatch(symbol, baseInterval) : undefined;
    const listed = symbol ? market.isListed(symbol) : undefined;
    const blocked = symbol && (listed !== true || why)
      ? { key: why === 'source' ? 'market.otherSource' : listed === false ? 'market.notListed' : 'market.listing', source: market.series(symbol).find((s) => s.interval === baseInterval)?.source ?? '' }
      : undefined;
    const lines = sideLines(
      { symbol, venue: market.venue(), blocked, stale: symbol !== undefined && this.live.symbol === symbol && market.isStale(symbol), book: this.live.book, trades: this.live.trades },
      this.ctx.t, this.ctx.theme(), (this.sideBox.width as number) - 2, (this.sideBox.height as number) - 2,
    );
    this.sideBox.setContent(lines.join('\n'));
  }

  // ---- page ----

  show(): void {
    this.visible = true;
    this.root.show();
    this.loadRows();
    const rows = this.list.visible();
    if (!this.series.symbol && rows.length > 0) {
      this.list.cursor = 0;
      this.select(rows[0].symbol);
    } else if (this.series.symbol) this.live.start(this.series.symbol, this.series.baseInterval);
    this.update();
  }

  hide(): void {
    this.visible = false;
    this.list.filtering = false;
    this.temp.picker = undefined;
    this.browser = undefined;
    this.form = undefined;
    this.formBox.hide();
    this.root.hide();
    this.live.stop();
  }

  /**
   * Below SIDE_PANEL_MIN_WIDTH columns the order-book panel collapses and the chart takes its
   * room (at 80 columns the chart would otherwise be 16 columns wide).
   */
  private layout(): void {
    const wide = ((this.ctx.screen.width as number) || 80) >= SIDE_PANEL_MIN_WIDTH;
    this.chartBox.width = wide ? '100%-62' : '100%-30';
    if (wide) this.sideBox.show();
    else this.sideBox.hide();
  }

  update(): void {
    const theme = this.ctx.theme();
    this.layout();
    for (const box of [this.listBox, this.chartBox, this.sideBox, this.pickerBox, this.formBox]) restyle(box, theme);
    this.chart.setTheme(theme);
    this.renderList();
    this.renderChart();
    this.renderSide();
    this.renderJobs();
    this.renderForm();
  }

  capturesInput(): boolean {
    return this.list.filtering || this.temp.picker !== undefined || this.browser !== undefined || this.form !== undefined;
  }

  /** Click a symbol to chart it, wheel over the list to move; over the chart: click moves the cursor, wheel pans (Ctrl+wheel zooms). */
  mouse(m: PageMouse): boolean {
    const listCell = cellIn(this.listBox, m);
    if (listCell) {
      if (m.action !== 'click') {
        this.moveSelection(m.action === 'wheelup' ? -1 : 1);
        return true;
      }
      const rows = this.list.visible();
      if (this.list.rows.length === 0 || listCell.row === 0) return false;
      const index = symbolListTop(this.list, (this.listBox.height as number) - 2) + listCell.row - 1;
      if (index >= rows.length) return false;
      this.moveSelection(index - this.list.clampedCursor(rows.length));
      return true;
    }
    const chartElement = this.chart.element;
    const chartCell = chartElement ? cellIn(chartElement, m) : undefined;
    if (!chartCell) return false;
    if (m.action === 'click') this.chart.cursorToColumn(chartCell.col);
    else if (m.ctrl) this.chart.zoom(m.action === 'wheelup' ? 1 : -1);
    else this.chart.pan(m.action === 'wheelup' ? -4 : 4);
    this.renderChart();
    return true;
  }

  destroy(): void {
    this.temp.dispose();
    this.ctx.screen.removeListener('keypress', this.onPickerKey);
    this.ctx.screen.removeListener('keypress', this.onFormKey);
    this.ctx.screen.removeListener('keypress', this.onFilterKey);
    for (const off of this.offs) off();
    this.live.stop();
    this.root.destroy();
  }
}

/** The order book and trades panel shows from this terminal width on. */
export const SIDE_PANEL_MIN_WIDTH = 120;

export function mount(ctx: PageContext): Page {
  return new MarketPage(ctx);
}

export const market: PageModule = { id: 'market', keys, mount };
