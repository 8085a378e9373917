import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { AnalysisResult } from '../core/analysis/engine.js';
import type { StoredCac } from '../core/analysis/repository.js';
import { cacWarmup } from '../core/analysis/warmup.js';
import type { AggTradeEvent, OrderBookHandle, Subscription } from '../core/exchange/port.js';
import { aggregateKlines, canAggregate } from '../core/market/aggregate.js';
import { INTERVALS, alignOpenTime, nextOpenTime, pushKline, emptyKlines, type Interval, type Kline, type Klines } from '../core/market/klines.js';
import { chartLayers } from './analysis-overlays.js';
import { bindKeys, defineKeys } from './keys.js';
import type { Page, PageContext, PageModule } from './page.js';
import { paint, type ThemeRole } from './theme.js';
import { CandleChart, formatVolume } from './widgets/candles.js';
import { esc, fit, formatUtc, panel, restyle, textWidth } from './widgets.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'market.keys.up' },
  down: { keys: ['j', 'down'], label: 'market.keys.down' },
  filter: { keys: ['/'], label: 'market.keys.filter', hint: true },
  sort: { keys: ['s'], label: 'market.keys.sort', hint: true },
  left: { keys: ['h', 'left'], label: 'market.keys.left' },
  right: { keys: ['l', 'right'], label: 'market.keys.right' },
  panBack: { keys: ['S-h', 'pageup'], label: 'market.keys.panBack' },
  panForward: { keys: ['S-l', 'pagedown'], label: 'market.keys.panForward' },
  zoomIn: { keys: ['+', '='], label: 'market.keys.zoomIn', hint: true },
  zoomOut: { keys: ['-'], label: 'market.keys.zoomOut', hint: true },
  fit: { keys: ['f'], label: 'market.keys.fit' },
  start: { keys: ['g', 'home'], label: 'market.keys.start' },
  end: { keys: ['S-g', 'end'], label: 'market.keys.end' },
  intervalNext: { keys: [']'], label: 'market.keys.intervalNext', hint: true },
  intervalPrev: { keys: ['['], label: 'market.keys.intervalPrev' },
  analyse: { keys: ['a'], label: 'market.keys.analyse', hint: true },
});

/** The intervals offered by the interval switch (each built from the stored base interval). */
const CHART_INTERVALS: Interval[] = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d', '1w', '1M'];
type SortKey = 'change' | 'volume' | 'symbol';
const SORTS: SortKey[] = ['change', 'volume', 'symbol'];
const DAY = 86_400_000;

interface SymbolRow {
  symbol: string;
  base: Interval;
  last: number;
  /** Change over the last 24 h of stored klines, %; NaN when less is stored. */
  change: number;
  /** Quote volume over the last 24 h of stored klines. */
  volume: number;
  lastTime: number;
}

/** A temporary analysis drawn on the chart (never stored). */
interface TempAnalysis {
  symbol: string;
  interval: Interval;
  cac: StoredCac;
  /** Open times of the first and last analysed candle (the visible range when it was run). */
  fromTime: number;
  toTime: number;
  /** Output rows, including the warm-up klines before `fromTime`. */
  rows: AnalysisResult;
  /** The analysed candles as chart indices [from, to) (set when drawn). */
  from: number;
  to: number;
  omitted: string[];
}

/** The CAC picker of the temporary analysis: entry 0 is "none: clear", then the stored CACs. */
interface Picker {
  cursor: number;
  cacs?: StoredCac[];
  error?: string;
}

/** First index in `times[0..n)` with a value >= t. */
function lowerBound(times: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Trade {
  time: number;
  price: string;
  qty: string;
  sell: boolean;
}

/**
 * The Market page: the symbols with stored klines (filter with `/`, sort by change, volume or
 * name), a candlestick chart of the selected one (zoom, pan, interval switch, live forming
 * candle), and beside it the order book's top levels and recent trades when an exchange is
 * connected. Without an exchange or stored data it says so: no figure is invented.
 *
 * `a` runs a temporary analysis: a stored CAC (picked from a small list) over the candles on
 * screen, started earlier by the CAC's warm-up when stored klines allow, in the analysis worker
 * pool; the result is drawn like the Currency Analysis page draws a live one and is never stored.
 */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
  const listBox = panel(root, { top: 0, left: 0, width: 30, height: '100%', theme: ctx.theme(), wrap: false } as Widgets.BoxOptions & { theme: ReturnType<typeof ctx.theme> });
  const chartBox = panel(root, { top: 0, left: 30, width: '100%-62', height: '100%', theme: ctx.theme() });
  const sideBox = panel(root, { top: 0, right: 0, width: 32, height: '100%', theme: ctx.theme(), wrap: false } as Widgets.BoxOptions & { theme: ReturnType<typeof ctx.theme> });
  const chart = new CandleChart(ctx.theme());
  // inside the border: blessed positions children from the parent's outer edge
  chart.attach(chartBox, { top: 1, left: 1, right: 1, bottom: 1, wrap: false } as Widgets.BoxOptions);
  /** One line under the chart: the temporary analysis' state in words. */
  const tempLine = blessed.box({ parent: chartBox, left: 1, right: 1, bottom: 1, height: 1, tags: true, wrap: false, hidden: true } as Widgets.BoxOptions);
  const pickerBox = panel(chartBox, { top: 'center', left: 'center', width: 70, height: 10, theme: ctx.theme(), hidden: true, wrap: true } as Widgets.BoxOptions & { theme: ReturnType<typeof ctx.theme> });

  let visible = false;
  let rows: SymbolRow[] = [];
  let selected: string | undefined;
  let cursor = 0;
  let filter = '';
  let filtering = false;
  let sort: SortKey = 'change';
  let interval: Interval = '1m';
  let base: Klines = emptyKlines();
  let baseInterval: Interval = '1m';
  /** Closed base klines of the current (incomplete) chart bucket are in `base`; the forming base kline: */
  let formingBase: Kline | undefined;
  let unwatch: (() => void) | undefined;
  let book: OrderBookHandle | undefined;
  let tradesSub: Subscription | undefined;
  const trades: Trade[] = [];
  let liveSymbol: string | undefined;
  let destroyed = false;
  let temp: TempAnalysis | undefined;
  /** The temporary analysis being computed (a newer run or a clear makes `token` stale). */
  let running: { cacName: string; candles: number; warmup: number; token: number } | undefined;
  let runToken = 0;
  let tempError: string | undefined;
  let picker: Picker | undefined;

  // ---- data ----

  function loadRows(): void {
    const series = app.market.series();
    const bySymbol = new Map<string, Interval>();
    for (const s of series) {
      if (s.rows === 0) continue;
      const prev = bySymbol.get(s.symbol);
      if (!prev || INTERVALS.indexOf(s.interval) < INTERVALS.indexOf(prev)) bySymbol.set(s.symbol, s.interval);
    }
    // symbols the exchange lists (imported into the database) but with nothing stored yet
    const listed = app.market.symbols().filter((s) => s.status === 'TRADING' && !bySymbol.has(s.symbol));
    const empty: SymbolRow[] = listed.map((s) => ({ symbol: s.symbol, base: '1m', last: NaN, change: NaN, volume: NaN, lastTime: 0 }));
    rows = [...bySymbol.entries()].map(([symbol, baseI]) => {
      const info = series.find((s) => s.symbol === symbol && s.interval === baseI)!;
      const lastTime = info.last ?? 0;
      const recent = app.market.klines(symbol, baseI, lastTime - DAY, lastTime);
      const n = recent.length;
      const last = n > 0 ? recent.close[n - 1] : NaN;
      const spanned = n > 0 ? lastTime - recent.openTime[0] : 0;
      const change = n > 1 && spanned >= DAY * 0.95 ? ((last - recent.open[0]) / recent.open[0]) * 100 : NaN;
      let volume = 0;
      for (let i = 0; i < n; i++) volume += recent.quoteVolume[i];
      return { symbol, base: baseI, last, change, volume, lastTime };
    });
    rows.push(...empty);
  }

  function visibleRows(): SymbolRow[] {
    const f = filter.toUpperCase();
    const list = rows.filter((r) => r.symbol.includes(f));
    const num = (x: number) => (Number.isFinite(x) ? x : -Infinity);
    if (sort === 'change') list.sort((a, b) => num(b.change) - num(a.change) || a.symbol.localeCompare(b.symbol));
    else if (sort === 'volume') list.sort((a, b) => num(b.volume) - num(a.volume) || a.symbol.localeCompare(b.symbol));
    else list.sort((a, b) => a.symbol.localeCompare(b.symbol));
    return list;
  }

  function select(symbol: string | undefined): void {
    if (symbol === selected) return;
    selected = symbol;
    formingBase = undefined;
    const row = rows.find((r) => r.symbol === symbol);
    baseInterval = row?.base ?? '1m';
    if (!canAggregate(baseInterval, interval)) interval = baseInterval;
    base = symbol ? app.market.klines(symbol, baseInterval) : emptyKlines();
    rebuildChart();
    startLive();
  }

  function rebuildChart(): void {
    buildCandles();
    applyTemp();
  }

  /** Chart candles of `interval` from the base klines; an incomplete last bucket is the forming candle. */
  function buildCandles(): void {
    chart.title = selected ? `${selected} ${interval}` : '';
    if (!selected || base.length === 0) {
      chart.setData(emptyKlines());
      chart.setForming(undefined);
      return;
    }
    const all = interval === baseInterval ? base : aggregateKlines(base, baseInterval, interval, { partial: true });
    const lastBase = base.openTime[base.length - 1];
    const lastBucket = all.openTime[all.length - 1];
    const complete = interval === baseInterval || nextOpenTime(lastBase, baseInterval) === nextOpenTime(lastBucket, interval);
    if (complete) {
      chart.setData(all);
      chart.setForming(formingDisplay(undefined));
    } else {
      chart.setData({ ...all, length: all.length - 1 });
      chart.setForming(formingDisplay(bucketOf(all, all.length - 1)));
    }
  }

  /** The chart's closed candles (index = chart index): what a temporary analysis runs over. */
  function closedCandles(): Klines {
    if (!selected || base.length === 0) return emptyKlines();
    if (interval === baseInterval) return base;
    const all = aggregateKlines(base, baseInterval, interval, { partial: true });
    const lastBase = base.openTime[base.length - 1];
    const complete = nextOpenTime(lastBase, baseInterval) === nextOpenTime(all.openTime[all.length - 1], interval);
    return complete ? all : { ...all, length: all.length - 1 };
  }

  // ---- temporary analysis ----

  /** Draws the temporary analysis on the chart, or clears it when it belongs to another series. */
  function applyTemp(): void {
    if (temp && (temp.symbol !== selected || temp.interval !== interval)) clearTemp();
    if (!temp) {
      chart.setOverlays([]);
      chart.setPanels([]);
      chart.setMarkers([]);
      return;
    }
    const k = closedCandles();
    const times = k.openTime.subarray(0, k.length);
    const from = lowerBound(times, k.length, temp.fromTime);
    const to = lowerBound(times, k.length, temp.toTime + 1);
    const innerHeight = Math.max(0, (chartBox.height as number) - 3);
    const maxPanels = Math.max(1, Math.min(5, Math.floor((innerHeight - 12) / 4)));
    const layers = chartLayers(temp.rows, times, app.analysis.catalog().indicators, { from, to, maxPanels });
    temp.omitted = layers.omitted;
    temp.from = from;
    temp.to = to;
    chart.setOverlays(layers.overlays);
    chart.setPanels(layers.panels);
    chart.setMarkers(layers.markers);
  }

  function clearTemp(): void {
    temp = undefined;
    tempError = undefined;
    running = undefined;
    runToken++;
  }

  /** Runs `stored` over the candles on screen (all when zoomed out fully), in the worker pool. */
  async function runTemp(stored: StoredCac): Promise<void> {
    const k = closedCandles();
    const range = chart.visibleRange() ?? (k.length > 0 ? { from: 0, to: k.length } : undefined);
    const symbol = selected;
    if (!symbol || !range || k.length === 0) {
      ctx.toast(ctx.t('market.analysis.noKlines'), 'error');
      return;
    }
    const to = Math.min(range.to, k.length);
    const from = Math.min(range.from, to - 1);
    const start = Math.max(0, from - cacWarmup(stored.cac));
    const token = ++runToken;
    running = { cacName: stored.cac.name, candles: to - from, warmup: from - start, token };
    tempError = undefined;
    renderChart();
    ctx.markDirty();
    const cut = (a: Float64Array) => a.slice(start, to);
    const columns = {
      length: to - start, openTime: cut(k.openTime), open: cut(k.open), high: cut(k.high), low: cut(k.low), close: cut(k.close),
      volume: cut(k.volume), takerBuyVolume: cut(k.takerBuyVolume),
    };
    try {
      const rows = await app.analysis.runBatch(stored.cac, columns);
      if (token !== runToken || destroyed) return;
      temp = { symbol, interval, cac: stored, fromTime: k.openTime[from], toTime: k.openTime[to - 1], rows, from, to, omitted: [] };
      applyTemp();
    } catch (error) {
      if (token !== runToken || destroyed) return;
      tempError = (error as Error).message;
    } finally {
      if (token === runToken && !destroyed) {
        running = undefined;
        renderChart();
        ctx.markDirty();
      }
    }
  }

  function openPicker(): void {
    const p: Picker = { cursor: 0 };
    picker = p;
    renderPicker();
    app.analysis.listCacs().then(
      (cacs) => {
        p.cacs = cacs;
        const last = temp ? cacs.findIndex((c) => c.id === temp!.cac.id) : -1;
        p.cursor = last >= 0 ? last + 1 : cacs.length > 0 ? 1 : 0;
      },
      (error: unknown) => {
        p.error = (error as Error).message;
      },
    ).finally(() => {
      if (picker === p && !destroyed) {
        renderPicker();
        ctx.markDirty();
      }
    });
  }

  function choose(): void {
    const p = picker;
    if (!p || !p.cacs) return;
    picker = undefined;
    if (p.cursor === 0) {
      const had = temp !== undefined || running !== undefined;
      clearTemp();
      applyTemp();
      if (had) ctx.toast(ctx.t('market.analysis.cleared'));
    } else void runTemp(p.cacs[p.cursor - 1]);
    page.update();
  }

  /** `a`: outside the analysed range, runs the same CAC again over the view; else opens the picker. */
  function analyseKey(): void {
    if (!selected || base.length === 0) {
      ctx.toast(ctx.t('market.analysis.noKlines'), 'error');
      return;
    }
    if (temp && !running && outsideAnalysed()) {
      void runTemp(temp.cac);
      return;
    }
    openPicker();
    page.update();
  }

  /** True when candles on screen lie outside the analysed range. */
  function outsideAnalysed(): boolean {
    if (!temp) return false;
    const r = chart.visibleRange();
    return r !== undefined && (r.from < temp.from || r.to > temp.to);
  }

  function bucketOf(k: Klines, i: number): Kline {
    return {
      openTime: k.openTime[i], open: k.open[i], high: k.high[i], low: k.low[i], close: k.close[i], volume: k.volume[i],
      quoteVolume: k.quoteVolume[i], trades: k.trades[i], takerBuyVolume: k.takerBuyVolume[i], takerBuyQuoteVolume: k.takerBuyQuoteVolume[i],
    };
  }

  /** The forming chart candle: the incomplete bucket merged with the forming base kline. */
  function formingDisplay(bucket: Kline | undefined): Kline | undefined {
    const f = formingBase;
    if (!f) return bucket;
    const start = alignOpenTime(f.openTime, interval);
    if (!bucket || bucket.openTime !== start) return { ...f, openTime: start };
    return {
      ...bucket,
      high: Math.max(bucket.high, f.high),
      low: Math.min(bucket.low, f.low),
      close: f.close,
      volume: bucket.volume + f.volume,
      quoteVolume: bucket.quoteVolume + f.quoteVolume,
      trades: bucket.trades + f.trades,
    };
  }

  /** The incomplete bucket of the chart interval built from stored base klines, if any. */
  function currentBucket(): Kline | undefined {
    if (base.length === 0) return undefined;
    const lastBase = base.openTime[base.length - 1];
    const start = alignOpenTime(lastBase, interval);
    if (nextOpenTime(lastBase, baseInterval) === nextOpenTime(start, interval)) return undefined; // complete
    let i = base.length - 1;
    while (i > 0 && base.openTime[i - 1] >= start) i--;
    const part = aggregateKlines({ ...sliceFrom(base, i) }, baseInterval, interval, { partial: true });
    return part.length > 0 ? bucketOf(part, 0) : undefined;
  }

  function sliceFrom(k: Klines, i: number): Klines {
    const out = { length: k.length - i } as Klines;
    for (const f of ['openTime', 'open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades', 'takerBuyVolume', 'takerBuyQuoteVolume'] as const) out[f] = k[f].subarray(i, k.length);
    return out;
  }

  // ---- live ----

  const offKline = app.bus.on('market.kline', (e) => {
    if (e.symbol !== selected || e.interval !== baseInterval) return;
    if (!e.closed) {
      formingBase = e.kline;
      chart.setForming(formingDisplay(currentBucket()));
    } else {
      if (base.length > 0 && e.kline.openTime <= base.openTime[base.length - 1]) return;
      base = pushKline(base, e.kline);
      if (formingBase && formingBase.openTime <= e.kline.openTime) formingBase = undefined;
      if (interval === baseInterval) chart.append(e.kline);
      else {
        const bucket = currentBucket();
        if (!bucket) {
          // the bucket just completed
          const start = alignOpenTime(e.kline.openTime, interval);
          let i = base.length - 1;
          while (i > 0 && base.openTime[i - 1] >= start) i--;
          const done = aggregateKlines(sliceFrom(base, i), baseInterval, interval, { partial: true });
          if (done.length > 0) chart.append(bucketOf(done, 0));
          chart.setForming(formingDisplay(undefined));
        } else chart.setForming(formingDisplay(bucket));
      }
    }
    if (visible) {
      renderChart();
      ctx.markDirty();
    }
  });
  const offStale = app.bus.on('market.stale', (e) => {
    if (e.symbol === selected && visible) {
      renderSide();
      ctx.markDirty();
    }
  });
  const offStored = app.bus.on('market.stored', (e) => {
    if (!visible) return;
    const row = rows.find((r) => r.symbol === e.symbol);
    if (!row || row.lastTime === 0) {
      loadRows();
      renderList();
      ctx.markDirty();
    }
  });
  const offFilled = app.bus.on('market.filled', (e) => {
    // a REST fill stored many klines at once: reload the selected series
    if (e.symbol !== selected || e.interval !== baseInterval) return;
    base = app.market.klines(e.symbol, baseInterval);
    rebuildChart();
    if (visible) {
      renderChart();
      ctx.markDirty();
    }
  });
  const offSymbols = app.bus.on('market.symbols', () => {
    if (!visible) return;
    loadRows();
    startLive();
    const list = visibleRows();
    if (list.length > 0 && !list.some((r) => r.symbol === selected)) {
      cursor = 0;
      select(list[0].symbol);
    }
    page.update();
    ctx.markDirty();
  });
  const offExchange = app.bus.on('exchange.state', () => {
    if (visible) {
      startLive();
      renderSide();
      ctx.markDirty();
    }
  });

  function stopLive(): void {
    unwatch?.();
    unwatch = undefined;
    book?.unsubscribe();
    book = undefined;
    tradesSub?.unsubscribe();
    tradesSub = undefined;
    trades.length = 0;
    liveSymbol = undefined;
  }

  function startLive(): void {
    const port = app.market.exchange;
    if (!port || !selected) {
      stopLive();
      return;
    }
    if (liveSymbol === selected) return;
    stopLive();
    // a symbol this exchange does not list (e.g. imported archive data while on the local exchange)
    if (app.market.isListed(selected) !== true || app.market.cannotWatch(selected, baseInterval)) return;
    liveSymbol = selected;
    unwatch = app.market.watch(selected, baseInterval);
    try {
      book = port.orderBook(selected, () => {
        if (visible) {
          renderSide();
          ctx.markDirty();
        }
      });
      tradesSub = port.subscribeAggTrades(selected, (e: AggTradeEvent) => {
        trades.unshift({ time: e.T, price: e.p, qty: e.q, sell: e.m });
        if (trades.length > 50) trades.length = 50;
        if (visible) {
          renderSide();
          ctx.markDirty();
        }
      });
    } catch (error) {
      ctx.toast(ctx.t('market.liveFailed', { message: (error as Error).message }), 'error');
    }
  }

  // ---- rendering ----

  function renderList(): void {
    const { t } = ctx;
    const theme = ctx.theme();
    const list = visibleRows();
    if (cursor >= list.length) cursor = Math.max(0, list.length - 1);
    const width = (listBox.width as number) - 2;
    const height = (listBox.height as number) - 2;
    listBox.setLabel(` ${t('market.symbols')} (${t(`market.sort.${sort}`)}) `);
    const lines: string[] = [];
    lines.push(filtering || filter ? paint(theme, 'accent', esc(fit(`/${filter}${filtering ? '▏' : ''}`, width))) : paint(theme, 'muted', esc(fit(`${fit(t('market.col.symbol'), 11)}${fit(t('market.col.change'), 8, 'right')} ${fit(t('market.col.volume'), width - 20, 'right')}`, width))));
    if (rows.length === 0) {
      lines.push('', ...wrap(t('market.noData'), width).map((l) => paint(theme, 'muted', esc(l))));
    } else if (list.length === 0) {
      lines.push(paint(theme, 'muted', esc(fit(t('market.noMatch'), width))));
    }
    const top = Math.max(0, Math.min(cursor - Math.floor((height - 1) / 2), list.length - (height - 1)));
    for (let i = top; i < list.length && lines.length < height; i++) {
      const r = list[i];
      const change = Number.isFinite(r.change) ? `${r.change >= 0 ? '+' : ''}${r.change.toFixed(2)}%` : '-';
      const text = `${fit(r.symbol, 11)}${fit(change, 8, 'right')} ${fit(Number.isFinite(r.volume) ? formatVolume(r.volume) : '-', width - 20, 'right')}`;
      const role: ThemeRole = !Number.isFinite(r.change) ? 'muted' : r.change >= 0 ? 'up' : 'down';
      if (i === cursor) lines.push(theme.color ? `{${theme.colors.selectedBg}-bg}{${theme.colors.selectedFg}-fg}${esc(fit(text, width))}{/${theme.colors.selectedFg}-fg}{/${theme.colors.selectedBg}-bg}` : `{inverse}${esc(fit(text, width))}{/inverse}`);
      else lines.push(paint(theme, role, esc(fit(text, width))));
    }
    listBox.setContent(lines.join('\n'));
  }

  function renderChart(): void {
    const { t } = ctx;
    chart.labels = { open: t('market.chart.open'), high: t('market.chart.high'), low: t('market.chart.low'), close: t('market.chart.close'), volume: t('market.chart.volume'), empty: selected ? t('market.chart.empty') : t('market.chart.noSymbol') };
    chartBox.setLabel(` ${selected ? `${selected} · ${interval}${chart.candlesPerColumn > 1 ? ` · ${t('market.perColumn', { n: chart.candlesPerColumn })}` : ''}` : t('market.chart.title')} `);
    // a line under the chart tells the temporary analysis' state (it needs the rendered view)
    const withStatus = temp !== undefined || running !== undefined || tempError !== undefined;
    const el = chart.element as Widgets.BoxElement & { bottom: number };
    el.bottom = withStatus ? 2 : 1; // blessed ignores an unchanged position
    chart.render();
    if (withStatus) {
      tempLine.setContent(tempStatus());
      tempLine.show();
    } else tempLine.hide();
    renderPicker();
  }

  function tempStatus(): string {
    const { t } = ctx;
    const theme = ctx.theme();
    const width = Math.max(10, (chartBox.width as number) - 4);
    const line = (role: ThemeRole, text: string) => paint(theme, role, esc(fit(text, width)));
    if (running) return line('warn', t('market.analysis.running', { cac: running.cacName, candles: running.candles, warmup: running.warmup }));
    if (tempError !== undefined) return line('error', t('market.analysis.failed', { message: tempError }));
    if (!temp) return '';
    const first = formatUtc(temp.fromTime, false);
    const last = formatUtc(temp.toTime, false);
    const range = `${first} → ${first.slice(0, 10) === last.slice(0, 10) ? last.slice(11) : last}`;
    if (outsideAnalysed()) return line('warn', t('market.analysis.outside', { cac: temp.cac.cac.name, range }));
    let text = t('market.analysis.shown', { cac: temp.cac.cac.name, range });
    if (temp.omitted.length > 0) text += ` · ${t('market.analysis.omitted', { panels: temp.omitted.join(', ') })}`;
    return line('accent', text);
  }

  function renderPicker(): void {
    const p = picker;
    if (!p || !visible) {
      pickerBox.hide();
      return;
    }
    const { t } = ctx;
    const theme = ctx.theme();
    const boxHeight = (chartBox.height as number) - 2;
    const width = Math.max(24, Math.min(72, (chartBox.width as number) - 4));
    const inner = width - 2;
    pickerBox.setLabel(` ${t('market.analysis.title')} `);
    const head = wrap(t('market.analysis.intro', { symbol: selected ?? '', interval }), inner).map((l) => paint(theme, 'muted', esc(l)));
    head.push('');
    const tail = ['', paint(theme, 'muted', esc(fit(t('market.analysis.help'), inner)))];
    const body: string[] = [];
    if (p.error !== undefined) body.push(...wrap(t('market.analysis.listFailed', { message: p.error }), inner).map((l) => paint(theme, 'error', esc(l))));
    else if (!p.cacs) body.push(paint(theme, 'muted', esc(t('market.analysis.loading'))));
    else {
      const entries = [t('market.analysis.none'), ...p.cacs.map((c) => `${c.cac.name}  ${c.cac.indicators.map((x) => x.type).join(' ')}${c.cac.pip ? ' +PIP' : ''}`)];
      const room = Math.max(1, boxHeight - 2 - head.length - tail.length - (p.cacs.length === 0 ? 4 : 0));
      const top = Math.max(0, Math.min(p.cursor - Math.floor(room / 2), entries.length - room));
      for (let i = top; i < entries.length && i < top + room; i++) {
        const text = esc(fit(`${i === p.cursor ? '▸ ' : '  '}${entries[i]}`, inner));
        body.push(i === p.cursor ? (theme.color ? `{${theme.colors.selectedBg}-bg}{${theme.colors.selectedFg}-fg}${text}{/${theme.colors.selectedFg}-fg}{/${theme.colors.selectedBg}-bg}` : `{inverse}${text}{/inverse}`) : text);
      }
      if (p.cacs.length === 0) body.push('', ...wrap(t('market.analysis.noCacs'), inner).map((l) => paint(theme, 'warn', esc(l))));
    }
    const lines = [...head, ...body, ...tail];
    pickerBox.width = width + 2;
    pickerBox.height = Math.max(5, Math.min(lines.length + 2, boxHeight));
    pickerBox.setContent(lines.join('\n'));
    pickerBox.show();
  }

  function renderSide(): void {
    const { t } = ctx;
    const theme = ctx.theme();
    const width = (sideBox.width as number) - 2;
    const height = (sideBox.height as number) - 2;
    sideBox.setLabel(` ${t('market.book')} `);
    const lines: string[] = [];
    const port = app.market.exchange;
    if (selected && liveSymbol === selected && app.market.isStale(selected)) lines.push(...wrap(t('market.stale'), width).map((l) => paint(theme, 'warn', esc(l))));
    const why = selected ? app.market.cannotWatch(selected, baseInterval) : undefined;
    if (port && selected && (app.market.isListed(selected) !== true || why)) {
      const key = why === 'source' ? 'market.otherSource' : app.market.isListed(selected) === false ? 'market.notListed' : 'market.listing';
      const source = app.market.series(selected).find((s) => s.interval === baseInterval)?.source ?? '';
      lines.push(...wrap(t(key, { symbol: selected, venue: port.venue, source }), width).map((l) => paint(theme, 'muted', esc(l))));
      sideBox.setContent(lines.join('\n'));
      return;
    }
    if (!port) {
      lines.push(...wrap(t('market.noExchange'), width).map((l) => paint(theme, 'muted', esc(l))));
      sideBox.setContent(lines.join('\n'));
      return;
    }
    if (!selected) {
      sideBox.setContent(paint(theme, 'muted', esc(t('market.chart.noSymbol'))));
      return;
    }
    const view = book?.book;
    const levels = Math.max(3, Math.min(10, Math.floor((height - 6) / 4)));
    const col = (a: string, b: string) => `${fit(a, Math.floor(width / 2), 'right')}${fit(b, width - Math.floor(width / 2), 'right')}`;
    lines.push(paint(theme, 'muted', esc(col(t('market.price'), t('market.qty')))));
    if (!view || !view.synced) lines.push(paint(theme, 'muted', esc(t('market.bookSyncing'))));
    else {
      for (const [p, q] of view.asks(levels).reverse()) lines.push(paint(theme, 'down', esc(col(p, q))));
      lines.push(paint(theme, 'muted', esc('─'.repeat(width))));
      for (const [p, q] of view.bids(levels)) lines.push(paint(theme, 'up', esc(col(p, q))));
    }
    lines.push('', paint(theme, 'accent', esc(t('market.trades'))));
    if (trades.length === 0) lines.push(paint(theme, 'muted', esc(t('market.noTrades'))));
    for (const tr of trades) {
      if (lines.length >= height) break;
      const time = new Date(tr.time).toISOString().slice(11, 19);
      lines.push(paint(theme, tr.sell ? 'down' : 'up', esc(`${time} ${fit(tr.price, 11, 'right')} ${fit(tr.qty, width - 21, 'right')}`)));
    }
    sideBox.setContent(lines.join('\n'));
  }

  function wrap(text: string, width: number): string[] {
    const out: string[] = [];
    let line = '';
    for (const word of text.split(/\s+/)) {
      if (line && textWidth(line + ' ' + word) > width) { // display width: Hangul takes two cells
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(line);
    return out;
  }

  function moveSelection(by: number): void {
    const list = visibleRows();
    if (list.length === 0) return;
    cursor = Math.max(0, Math.min(list.length - 1, cursor + by));
    select(list[cursor].symbol);
    page.update();
  }

  function switchInterval(by: number): void {
    const allowed = CHART_INTERVALS.filter((i) => canAggregate(baseInterval, i));
    const at = Math.max(0, allowed.indexOf(interval));
    const next = allowed[Math.max(0, Math.min(allowed.length - 1, at + by))];
    if (next === interval) return;
    interval = next;
    rebuildChart();
    renderChart();
  }

  // typed text while filtering
  const onKeypress = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!visible || !filtering || !key) return;
    // The shell hears every key before the page (it subscribes before any page is mounted), so
    // while filtering it has already ignored this one: ending the filter here is safe.
    const endFilter = () => {
      filtering = false;
    };
    if (key.name === 'escape') {
      filter = '';
      endFilter();
    } else if (key.name === 'enter' || key.name === 'return') {
      endFilter();
    } else if (key.name === 'backspace') {
      filter = filter.slice(0, -1);
    } else if (ch && /^[A-Za-z0-9_]$/.test(ch)) {
      filter += ch.toUpperCase();
    } else return;
    cursor = 0;
    const list = visibleRows();
    if (list.length > 0) select(list[0].symbol);
    page.update();
    ctx.markDirty();
  };
  ctx.screen.on('keypress', onKeypress);

  // keys while the CAC picker is open (the shell pauses its own keys meanwhile)
  const onPickerKey = (_ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    const p = picker;
    if (!visible || !p || !key) return;
    const count = 1 + (p.cacs?.length ?? 0);
    switch (key.full) {
      case 'up':
      case 'k':
        p.cursor = Math.max(0, p.cursor - 1);
        break;
      case 'down':
      case 'j':
        p.cursor = Math.min(count - 1, p.cursor + 1);
        break;
      case 'enter':
        choose();
        break;
      case 'escape':
        picker = undefined;
        break;
      default:
        return;
    }
    page.update();
    ctx.markDirty();
  };
  ctx.screen.on('keypress', onPickerKey);

  const chartAction = (fn: () => void) => () => {
    fn();
    renderChart();
  };

  const page: Page = {
    id: 'market',
    bindings: bindKeys(
      keys,
      {
        up: () => moveSelection(-1),
        down: () => moveSelection(1),
        filter: () => {
          filtering = true;
          renderList();
        },
        sort: () => {
          sort = SORTS[(SORTS.indexOf(sort) + 1) % SORTS.length];
          const list = visibleRows();
          cursor = Math.max(0, list.findIndex((r) => r.symbol === selected));
          renderList();
        },
        left: chartAction(() => chart.moveCursor(-1)),
        right: chartAction(() => chart.moveCursor(1)),
        panBack: chartAction(() => chart.pan(-Math.max(1, Math.floor(((chartBox.width as number) - 12) / 2)))),
        panForward: chartAction(() => chart.pan(Math.max(1, Math.floor(((chartBox.width as number) - 12) / 2)))),
        zoomIn: chartAction(() => chart.zoom(1)),
        zoomOut: chartAction(() => chart.zoom(-1)),
        fit: chartAction(() => chart.zoomToFit()),
        start: chartAction(() => chart.home()),
        end: chartAction(() => chart.end()),
        intervalNext: () => switchInterval(1),
        intervalPrev: () => switchInterval(-1),
        analyse: analyseKey,
      },
      app.readonly,
    ),
    show: () => {
      visible = true;
      root.show();
      loadRows();
      const list = visibleRows();
      if (!selected && list.length > 0) {
        cursor = 0;
        select(list[0].symbol);
      } else if (selected) startLive();
      page.update();
    },
    hide: () => {
      visible = false;
      filtering = false;
      picker = undefined;
      root.hide();
      stopLive();
    },
    update: () => {
      const theme = ctx.theme();
      for (const box of [listBox, chartBox, sideBox, pickerBox]) restyle(box, theme);
      chart.setTheme(theme);
      renderList();
      renderChart();
      renderSide();
    },
    capturesInput: () => filtering || picker !== undefined,
    destroy: () => {
      destroyed = true;
      runToken++;
      ctx.screen.removeListener('keypress', onPickerKey);
      offKline();
      offStale();
      offStored();
      offFilled();
      offSymbols();
      offExchange();
      ctx.screen.removeListener('keypress', onKeypress);
      stopLive();
      root.destroy();
    },
  };
  return page;
}

export const market: PageModule = { id: 'market', keys, mount };
