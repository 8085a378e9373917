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
import { pickerLines, sideLines, symbolListLines, symbolListTop, tempStatusLine } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'market.keys.up' },
  down: { keys: ['j', 'down'], label: 'market.keys.down' },
  filter: { keys: ['/'], label: 'market.keys.filter', hint: true },
  sort: { keys: ['s'], label: 'market.keys.sort', hint: true },
  ...CHART_KEYS,
  fit: { keys: ['f'], label: 'market.keys.fit' },
  analyse: { keys: ['a'], label: 'market.keys.analyse', hint: true },
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
  private readonly pickerBox: Widgets.BoxElement;
  private readonly chart: CandleChart;
  private readonly list = new SymbolList();
  private readonly series = new ChartSeries();
  private readonly temp: TempAnalysisState;
  private readonly live: LiveFeeds;
  private readonly offs: (() => void)[] = [];
  private visible = false;

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
    this.pickerBox = panel(this.chartBox, { top: 'center', left: 'center', width: 70, height: 10, theme, hidden: true, wrap: true } as PanelOptions);
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
    this.applyTemp();
  }

  /** Draws the temporary analysis on the chart, or clears it when it belongs to another series. */
  private applyTemp(): void {
    this.temp.keepFor(this.series.symbol, this.series.interval);
    const temp = this.temp.temp;
    if (!temp) {
      this.chart.setOverlays([]);
      this.chart.setPanels([]);
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
    this.chart.setPanels(layers.panels);
    this.chart.setMarkers(layers.markers);
  }

  // ---- core events ----

  private listen(): void {
    const { bus } = this.app;
    this.ctx.screen.on('keypress', this.onFilterKey);
    this.ctx.screen.on('keypress', this.onPickerKey);
    this.offs.push(
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
    this.listBox.setContent(symbolListLines(this.list, t, this.ctx.theme(), (this.listBox.width as number) - 2, (this.listBox.height as number) - 2).join('\n'));
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
    (chart.element as Widgets.BoxElement & { bottom: number }).bottom = withStatus ? 2 : 1; // blessed ignores an unchanged position
    chart.render();
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
    for (const box of [this.listBox, this.chartBox, this.sideBox, this.pickerBox]) restyle(box, theme);
    this.chart.setTheme(theme);
    this.renderList();
    this.renderChart();
    this.renderSide();
  }

  capturesInput(): boolean {
    return this.list.filtering || this.temp.picker !== undefined;
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
