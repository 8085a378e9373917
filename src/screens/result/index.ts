import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule, PageTarget } from '../page.js';
import { paint } from '../theme.js';
import { esc, fit, formatUtc, panel, restyle } from '../widgets.js';
import { configLines, cycleValue, filterTrades, pct, positionReturns, ResultListState, type EquityHistory, type ResultRow, type RoundTrip, type TradeFilter } from './model.js';
import { equityChart, listLines, tradeLines } from './views.js';
import { CandleChart } from '../widgets/candles.js';
import { INTERVAL_MS, emptyKlines, type Klines } from '../../core/market/klines.js';
import { validateCac } from '../../core/analysis/cac.js';
import { chartLayers } from '../analysis-overlays.js';
import { chartPosition, chartRange, nextChartView, positionMarkers } from './position-chart.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'result.keys.up' },
  down: { keys: ['j', 'down'], label: 'result.keys.down' },
  top: { keys: ['g'], label: 'keys.top' },
  bottom: { keys: ['S-g'], label: 'keys.bottom' },
  sort: { keys: ['o'], label: 'result.keys.sort', hint: true },
  reverse: { keys: ['r'], label: 'result.keys.reverse' },
  symbol: { keys: ['f'], label: 'result.keys.symbol', hint: true },
  side: { keys: ['s'], label: 'result.keys.side' },
  outcome: { keys: ['w'], label: 'result.keys.outcome' },
  tradesDown: { keys: ['pagedown', 'S-j'], label: 'result.keys.tradesDown' },
  tradesUp: { keys: ['pageup', 'S-k'], label: 'result.keys.tradesUp' },
  copy: { keys: ['c'], label: 'result.keys.copy', hint: true },
  remove: { keys: ['d'], label: 'result.keys.remove', hint: true },
  position: { keys: ['p'], label: 'resultChart.keys.position', hint: true },
  chartLeft: { keys: ['h', 'left'], label: 'resultChart.keys.left' },
  chartRight: { keys: ['l', 'right'], label: 'resultChart.keys.right' },
  zoomIn: { keys: ['+', '='], label: 'resultChart.keys.zoomIn' },
  zoomOut: { keys: ['-'], label: 'resultChart.keys.zoomOut' },
});


/**
 * Simulation Result: the saved simulations (sortable) and, for the selected one, its figures and
 * configuration, each position's return beside buy-and-hold, the equity history with its drawdown,
 * and the trade log (filtered by symbol, side and outcome).
 */
class ResultPage implements Page {
  readonly id = 'result' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly detailBox: Widgets.BoxElement;
  private readonly chartBox: Widgets.BoxElement;
  private readonly tradeBox: Widgets.BoxElement;
  private readonly list = new ResultListState();
  private readonly rowCache = new Map<number, ResultRow>();
  private filter: TradeFilter = {};
  private tradeFirst = 0;
  /** The selected simulation's history and trades, loaded once per selection. */
  private loaded?: { id: number; history?: EquityHistory; trades?: RoundTrip[] };
  /** The chart box: the equity history (-1) or a position's candles with its entries and exits (`p` cycles). */
  private chartView = -1;
  private readonly candles: CandleChart;
  /** Which simulation and position the candle chart holds (its klines are read once per choice). */
  private candlesFor?: string;

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    // heights are set in layout() from the body's height, so the three rows always meet
    this.listBox = panel(this.root, { top: 0, left: 0, width: '50%', height: 8, theme });
    this.detailBox = panel(this.root, { top: 0, left: '50%', width: '50%', height: 8, theme });
    this.chartBox = panel(this.root, { top: 8, left: 0, width: '100%', height: 6, theme });
    this.tradeBox = panel(this.root, { top: 14, left: 0, width: '100%', bottom: 0, theme });
    this.candles = new CandleChart(theme);
    this.candles.volumeRows = 2;
    const moved = (f: () => void) => () => {
      f();
      this.update();
    };
    this.bindings = bindKeys(keys, {
      up: moved(() => this.list.move(-1)),
      down: moved(() => this.list.move(1)),
      top: moved(() => this.list.jump('top')),
      bottom: moved(() => this.list.jump('bottom')),
      sort: moved(() => this.list.cycleSort()),
      reverse: moved(() => this.list.reverse()),
      symbol: moved(() => this.setFilter({ symbol: cycleValue(this.list.selected()?.config.positions.map((p) => p.symbol) ?? [], this.filter.symbol) })),
      side: moved(() => this.setFilter({ side: cycleValue(['LONG', 'SHORT'] as const, this.filter.side) })),
      outcome: moved(() => this.setFilter({ outcome: cycleValue(['win', 'loss'] as const, this.filter.outcome) })),
      tradesDown: moved(() => (this.tradeFirst += this.tradeRoom())),
      tradesUp: moved(() => (this.tradeFirst = Math.max(0, this.tradeFirst - this.tradeRoom()))),
      copy: () => this.copy(),
      remove: () => this.remove(),
      position: moved(() => (this.chartView = nextChartView(this.chartView, this.list.selected()?.config.positions.length ?? 0))),
      chartLeft: moved(() => this.candles.moveCursor(-1)),
      chartRight: moved(() => this.candles.moveCursor(1)),
      zoomIn: moved(() => this.candles.zoom(1)),
      zoomOut: moved(() => this.candles.zoom(-1)),
    }, this.app.readonly);
  }

  private setFilter(change: TradeFilter): void {
    this.filter = { ...this.filter, ...change };
    this.tradeFirst = 0;
  }

  private tradeRoom(): number {
    return Math.max(1, (this.tradeBox.height as number) - 3);
  }

  /**
   * Reads the saved simulations again (on show, after a delete, when one is revealed). A saved
   * simulation never changes, so its row is read once (savedOne parses its stored result) and kept.
   */
  private reload(selectId?: number): void {
    const rows: ResultRow[] = [];
    const saved = this.app.backtest.saved();
    const ids = new Set(saved.map((s) => s.id));
    for (const id of this.rowCache.keys()) if (!ids.has(id)) this.rowCache.delete(id);
    for (const s of saved) {
      let row = this.rowCache.get(s.id);
      if (!row) {
        const one = this.app.backtest.savedOne(s.id);
        if (!one?.summary) continue;
        const m = one.summary;
        row = {
          id: s.id, name: s.name, finishedAt: s.finishedAt ?? s.createdAt, returnPct: m.returnPct, sharpe: m.sharpe,
          maxDrawdownPct: m.maxDrawdownPct, trades: m.trades, initialBalance: m.initialBalance, finalBalance: m.finalBalance,
          buyAndHoldReturnPct: m.buyAndHoldReturnPct ?? {}, positionPnl: m.positionPnl, config: one.config,
        };
        this.rowCache.set(s.id, row);
      }
      rows.push(row);
    }
    this.list.setRows(rows, selectId);
    this.loaded = undefined;
  }

  private detailData(row: ResultRow): { history?: EquityHistory; trades?: RoundTrip[] } {
    if (this.loaded?.id !== row.id) {
      this.loaded = { id: row.id, history: this.app.backtest.history(row.id), trades: this.app.backtest.trades(row.id) };
      this.filter = {};
      this.tradeFirst = 0;
      this.chartView = -1;
    }
    return this.loaded;
  }

  private copy(): void {
    const row = this.list.selected();
    if (!row) return;
    this.ctx.goTo('simulation', { simulationConfig: row.config });
    this.ctx.toast(this.ctx.t('result.copied', { name: row.name }));
  }

  private remove(): void {
    const row = this.list.selected();
    if (!row) return;
    this.ctx.confirm(this.ctx.t('result.confirmRemove', { name: row.name, trades: row.trades }), () => {
      this.app.backtest.remove(row.id);
      this.reload();
      this.update();
      this.ctx.toast(this.ctx.t('result.removed', { name: row.name }));
    });
  }

  // ---- rendering ----

  private renderList(): void {
    const { t } = this.ctx;
    const w = (this.listBox.width as number) - 3;
    const h = (this.listBox.height as number) - 2;
    this.listBox.setLabel(` ${t('result.list', { count: this.list.rows.length, sort: t(`result.sort.${this.list.sort}`) })} `);
    this.listBox.setContent(listLines(this.list, w, h, this.ctx.theme(), t).join('\n'));
  }

  private renderDetail(row: ResultRow | undefined, trades: RoundTrip[] | undefined): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.detailBox.width as number) - 3;
    this.detailBox.setLabel(` ${row ? row.name : t('result.detail')} `);
    if (!row) {
      this.detailBox.setContent(paint(theme, 'muted', esc(fit(t('result.noneSelected'), w))));
      return;
    }
    const line = (s: string) => esc(fit(s, w));
    // a short box drops the headings first, so the configuration's positions stay in view
    const roomy = (this.detailBox.height as number) - 2 >= 4 + row.config.positions.length * 2;
    const [account, ...positions] = configLines(row.config);
    const lines = [
      line(t('result.summary', { initial: row.initialBalance, final: row.finalBalance, ret: pct(row.returnPct), sharpe: row.sharpe.toFixed(2), dd: pct(-Math.abs(row.maxDrawdownPct)), trades: row.trades })),
      ...(roomy ? [paint(theme, 'accent', line(t('result.config')))] : []),
      ...positions.map(line),
      line(account),
      ...(roomy ? [paint(theme, 'accent', line(t('result.versusHold')))] : []),
      ...positionReturns(row, trades).map((p) => line(t('result.position', { symbol: p.symbol, strategy: p.returnPct === undefined ? '-' : pct(p.returnPct), pnl: p.pnl ?? '-', hold: pct(p.buyAndHoldPct) }))),
    ];
    this.detailBox.setContent(lines.join('\n'));
  }

  private renderChart(row: ResultRow | undefined, history: EquityHistory | undefined): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.chartBox.width as number) - 3;
    const h = (this.chartBox.height as number) - 2;
    this.chartBox.setLabel(` ${t('result.chart')} `);
    if (!row || !history || history.equity.length === 0) {
      this.chartBox.setContent(paint(theme, 'muted', esc(fit(t(row && !history ? 'result.noHistory' : 'result.noneSelected'), w))));
      return;
    }
    const axis = 12;
    const c = equityChart(history, w - axis, h - 1);
    const label = (v: string) => paint(theme, 'muted', esc(fit(v, axis - 1, 'right'))) + ' ';
    const eqLines = c.equity.map((r, i) => (i === 0 ? label(c.max.toFixed(2)) : i === c.equity.length - 1 ? label(c.min.toFixed(2)) : ' '.repeat(axis)) + paint(theme, 'up', esc(r)));
    const ddLines = c.drawdown.map((r, i) => (i === 0 ? label(t('result.ddAxis')) : i === c.drawdown.length - 1 ? label(pct(-c.maxDrawdown)) : ' '.repeat(axis)) + paint(theme, 'down', esc(r)));
    const from = formatUtc(history.time[0], false);
    const to = formatUtc(history.time[history.time.length - 1], false);
    const footer = ' '.repeat(axis) + paint(theme, 'muted', esc(from + fit(to, Math.max(0, w - axis - from.length), 'right')));
    this.chartBox.setContent([...eqLines, ...ddLines, footer].join('\n'));
  }

  /**
   * A position's candles over the simulation's range with ▲ buy / ▼ sell at each fill's candle;
   * the klines are read from the store once per simulation and position (none: said in words).
   */
  private renderPositionChart(row: ResultRow, history: EquityHistory | undefined, trades: RoundTrip[] | undefined): void {
    const { t } = this.ctx;
    const pos = chartPosition(row.config, this.chartView);
    if (!pos) return;
    const w = (this.chartBox.width as number) - 3;
    const h = (this.chartBox.height as number) - 2;
    const own = (trades ?? []).filter((tr) => tr.symbol === pos.symbol);
    this.chartBox.setLabel(` ${t('resultChart.title', { symbol: pos.symbol, interval: pos.interval, index: this.chartView + 1, count: row.config.positions.length, trades: own.length })} `);
    const key = `${row.id}:${this.chartView}`;
    if (this.candlesFor !== key) {
      this.candlesFor = key;
      const range = chartRange(history, own, pos.interval);
      const k = range ? this.app.market.klines(pos.symbol, pos.interval, range.from, range.to) : undefined;
      this.candles.labels = {
        open: t('resultChart.open'), high: t('resultChart.high'), low: t('resultChart.low'), close: t('resultChart.close'), volume: t('resultChart.volume'),
        empty: t('resultChart.noKlines', { symbol: pos.symbol, interval: pos.interval }),
      };
      this.candles.title = `${pos.symbol} ${pos.interval}`;
      this.candles.setOverlays([]);
      this.candles.setPanels([]);
      if (k && k.length > 0) {
        this.candles.setData(k);
        const end = k.openTime[k.length - 1] + INTERVAL_MS[pos.interval];
        this.candles.setMarkers(positionMarkers(k.openTime, k.length, end, own, pos.symbol));
        if (pos.strategy.cac !== undefined) void this.loadAnalysis(key, pos.strategy.cac, k);
      } else {
        this.candles.setData(emptyKlines());
        this.candles.setMarkers([]);
      }
      this.candles.lines(w, h); // sets the plot width, so the fit below spans the box
      this.candles.zoomToFit();
    }
    this.candles.setTheme(this.ctx.theme());
    this.chartBox.setContent(this.candles.lines(w, h).join('\n'));
  }

  /**
   * The analysis a CAC strategy read, computed again over the chart's klines (the analysis worker,
   * as the Market page's temporary analysis): its overlays over the prices and its oscillators in
   * sub-panels as room allows. Only the fills are marked, so ▲/▼ keep one meaning on this chart.
   */
  private async loadAnalysis(key: string, input: unknown, k: Klines): Promise<void> {
    try {
      const result = await this.app.analysis.runBatch(validateCac(input), k);
      if (this.candlesFor !== key) return;
      const inner = (this.chartBox.height as number) - 2;
      const maxPanels = Math.max(0, Math.min(3, Math.floor((inner - 10) / 4)));
      const layers = chartLayers(result, k.openTime.subarray(0, k.length), this.app.analysis.catalog().indicators, { maxPanels });
      this.candles.setOverlays(layers.overlays);
      this.candles.setPanels(layers.panels);
      this.update(); // the shell's render does not read the page again
      this.ctx.markDirty();
    } catch (err) {
      if (this.candlesFor === key) this.ctx.toast(this.ctx.t('resultChart.analysisFailed', { message: err instanceof Error ? err.message : String(err) }), 'error');
    }
  }

  private renderTrades(row: ResultRow | undefined, trades: RoundTrip[] | undefined): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.tradeBox.width as number) - 3;
    const h = (this.tradeBox.height as number) - 2;
    const all = t('result.all');
    const shown = trades ? filterTrades(trades, this.filter) : [];
    this.tradeFirst = Math.max(0, Math.min(this.tradeFirst, shown.length - 1));
    this.tradeBox.setLabel(` ${t('result.trades', {
      shown: shown.length, total: trades?.length ?? 0, symbol: this.filter.symbol ?? all,
      side: this.filter.side ?? all, outcome: this.filter.outcome ? t(`result.outcome.${this.filter.outcome}`) : all,
    })} `);
    if (!row || !trades) {
      this.tradeBox.setContent(paint(theme, 'muted', esc(fit(t(row ? 'result.noTrades' : 'result.noneSelected'), w))));
      return;
    }
    this.tradeBox.setContent(tradeLines(shown, this.tradeFirst, w, h, theme, t).join('\n'));
  }

  // ---- page ----

  /** The shell calls update() before show(): the list is read again here and drawn at once. */
  show(): void {
    this.reload();
    this.update();
    this.root.show();
  }

  hide(): void {
    this.root.hide();
  }

  reveal(target: PageTarget): void {
    if (target.simulationId === undefined) return;
    this.reload(target.simulationId);
    this.update();
  }

  /** Rows: the list and detail 40% of the body, the chart 30%, the trades the rest. */
  private layout(): void {
    const height = this.root.height as number;
    const top = Math.max(6, Math.floor(height * 0.4));
    const chart = this.chartView >= 0 ? Math.max(8, Math.floor(height * 0.45)) : Math.max(5, Math.floor(height * 0.3));
    this.listBox.height = top;
    this.detailBox.height = top;
    this.chartBox.top = top;
    this.chartBox.height = chart;
    this.tradeBox.top = top + chart;
  }

  update(): void {
    const theme = this.ctx.theme();
    this.layout();
    for (const box of [this.listBox, this.detailBox, this.chartBox, this.tradeBox]) restyle(box, theme);
    const row = this.list.selected();
    const data = row ? this.detailData(row) : {};
    this.renderList();
    this.renderDetail(row, data.trades);
    if (row && this.chartView >= 0) this.renderPositionChart(row, data.history, data.trades);
    else this.renderChart(row, data.history);
    this.renderTrades(row, data.trades);
  }

  destroy(): void {
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new ResultPage(ctx);
}

export const result: PageModule = { id: 'result', keys, mount };
