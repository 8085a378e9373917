import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { Kline, Klines } from '../../core/market/klines.js';
import type { Theme, ThemeRole } from '../theme.js';
import { ChartViewport } from './viewport.js';

/**
 * A candlestick chart drawn in text.
 *
 * ## Drawing
 * One screen column per candle (or per group of candles when zoomed out). Every text cell has two
 * half-cells of vertical resolution; a column's wick (high..low) and body (open..close) are
 * drawn with light (wick) and heavy (body) box-drawing glyphs chosen per cell from which halves
 * they cover: `│ ┃ ╵ ╷ ╹ ╻ ╿ ╽`. Rising candles (close >= open) use the theme's `up` role,
 * falling ones `down`. Without colour (NO_COLOR) falling bodies are drawn with blocks
 * (`█ ▀ ▄`) so direction stays visible. Below the prices: a volume strip (eighth blocks), optional
 * sub-panels (oscillators), then the time axis; the price axis is on the right; the top line is
 * the readout of the candle under the cursor (time, O H L C V and change).
 *
 * ## Zoom over long histories
 * With `span` candles per column, column c covers candles [a, b); it is drawn as one candle
 * (open[a], max high, min low, close[b-1], sum of volume). Max/min come from a min/max pyramid
 * (level L holds the max high / min low of aligned blocks of 2^L candles, built once in O(n))
 * and sums from prefix sums, so a redraw costs O(width x log n), not O(candles): 5 years of 1m
 * candles redraw as fast as a day's.
 *
 * ## API (the Market and Currency Analysis pages)
 * - `setData(klines)`: all candles of the displayed interval (sorted); `append(kline)` adds a
 *   closed candle (or replaces the last one with the same open time); `setForming(kline)` the
 *   forming candle, drawn after the last one and updated live.
 * - `setOverlays([{ id, values, role, glyph? }])`: lines over the price area; `values[i]` belongs to
 *   candle i (NaN = no value). Zoomed out, a column shows the mean of its candles' values (from
 *   prefix sums, like the volume) drawn over the aggregated candle, so SMA and BOL lines stay
 *   visible over years of candles; at one candle per column they use the cells the candle leaves.
 * - A legend line under the readout names each overlay and sub-panel line in its colour with its
 *   value at the cursor.
 * - `setPanels([{ id, height, series: [{ values, role }], min?, max?, levels? }])`: sub-panels
 *   under the volume strip, each with its own scale (fixed with min/max, e.g. 0..100 for RSI) and
 *   horizontal guide levels.
 * - `setMarkers([{ index, kind: 'buy' | 'sell', role? }])`: ▲ under the low / ▼ over the high of
 *   the column holding candle `index`.
 * - Navigation: `moveCursor(n)`, `pan(columns)`, `zoom(+1 | -1)`, `zoomToFit()`, `home()`, `end()`;
 *   `visibleRange()` gives the closed candles on screen, [from, to).
 *   The view follows new candles while it shows the last one.
 * - `lines(width, height)` renders to tagged text lines (used by the blessed box and by tests);
 *   `attach(parent, options)` creates the blessed box and `render()` refreshes it.
 */

export interface Overlay {
  id: string;
  values: Float64Array;
  role: ThemeRole;
  /** Glyph drawn in the column's cell (default '•'). */
  glyph?: string;
  /** Its name in the legend (default: the id). */
  label?: string;
}

export interface PanelSeries {
  values: Float64Array;
  role: ThemeRole;
  glyph?: string;
  /** Its name in the legend after the panel's title (default: its position). */
  label?: string;
}

/** Where a chart's view is in time, to keep it across an interval switch. */
export interface TimeView {
  follow: boolean;
  endTime: number;
  cursorTime?: number;
  msPerColumn: number;
}

export interface SubPanel {
  id: string;
  /** Rows, at least 2. */
  height: number;
  series: PanelSeries[];
  min?: number;
  max?: number;
  /** Horizontal guide levels (e.g. 30 and 70). */
  levels?: number[];
  /** Short title drawn at the panel's top left. */
  title?: string;
}

export interface Marker {
  /** Candle index in the data. */
  index: number;
  kind: 'buy' | 'sell';
  role?: ThemeRole;
}

export interface ChartLabels {
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  /** Shown when there are no candles. */
  empty: string;
}

const DEFAULT_LABELS: ChartLabels = { open: 'O', high: 'H', low: 'L', close: 'C', volume: 'V', empty: '' };

/** Cell style: a theme role plus flags. */
type Style = ThemeRole | '';

/** Half-cell coverage: 0 none, 1 wick, 2 body. Index = top * 3 + bottom. */
const LINE_GLYPHS = [' ', '╷', '╻', '╵', '│', '╽', '╹', '╿', '┃'];
/** Without colour, falling bodies: blocks (a wick half next to a body half is drawn as the body). */
const BLOCK_GLYPHS = [' ', '╷', '▄', '╵', '│', '▄', '▀', '▀', '█'];
const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The columns the chart keeps (a copy of six of the ten kline fields, with room to grow). */
type Series = Pick<Klines, 'length' | 'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume'>;
const SERIES_FIELDS = ['openTime', 'open', 'high', 'low', 'close', 'volume'] as const;

function allocSeries(capacity: number): Series {
  const cap = Math.max(16, capacity);
  return {
    length: 0,
    openTime: new Float64Array(cap),
    open: new Float64Array(cap),
    high: new Float64Array(cap),
    low: new Float64Array(cap),
    close: new Float64Array(cap),
    volume: new Float64Array(cap),
  };
}

class Pyramid {
  /** hi[L][j] = max high of candles [j*2^L, (j+1)*2^L); lo likewise. Level 0 aliases the data. */
  hi: Float64Array[] = [];
  lo: Float64Array[] = [];
  /** volume prefix sums: pv[i] = sum of volume[0..i). */
  pv = new Float64Array(1);

  build(k: Series): void {
    const n = k.length;
    this.hi = [k.high];
    this.lo = [k.low];
    let len = n;
    let level = 0;
    while (len > 1) {
      const next = Math.ceil(len / 2);
      const cap = Math.max(next, Math.ceil(k.high.length / 2 ** (level + 1)));
      const hi = new Float64Array(cap);
      const lo = new Float64Array(cap);
      const phi = this.hi[level];
      const plo = this.lo[level];
      for (let j = 0; j < next; j++) {
        const a = 2 * j;
        const b = a + 1;
        if (b < len) {
          hi[j] = phi[a] > phi[b] ? phi[a] : phi[b];
          lo[j] = plo[a] < plo[b] ? plo[a] : plo[b];
        } else {
          hi[j] = phi[a];
          lo[j] = plo[a];
        }
      }
      this.hi.push(hi);
      this.lo.push(lo);
      len = next;
      level++;
    }
    this.pv = new Float64Array(Math.max(n, k.volume.length) + 1);
    let s = 0;
    for (let i = 0; i < n; i++) {
      this.pv[i + 1] = s += k.volume[i];
    }
  }

  /** Max high and min low of candles [a, b). */
  range(a: number, b: number, out: { hi: number; lo: number }): void {
    let hi = -Infinity;
    let lo = Infinity;
    let level = 0;
    while (a < b && level < this.hi.length) {
      const H = this.hi[level];
      const L = this.lo[level];
      if (a & 1) {
        if (H[a] > hi) hi = H[a];
        if (L[a] < lo) lo = L[a];
        a++;
      }
      if (b & 1) {
        b--;
        if (H[b] > hi) hi = H[b];
        if (L[b] < lo) lo = L[b];
      }
      a >>= 1;
      b >>= 1;
      level++;
    }
    out.hi = hi;
    out.lo = lo;
  }
}

export interface Column {
  a: number;
  b: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  forming: boolean;
}

export class CandleChart {
  private data: Series = allocSeries(0);
  private forming?: Kline;
  private readonly pyramid = new Pyramid();
  private overlays: Overlay[] = [];
  /** Per overlay: prefix sums of its finite values and of their count (the per-column mean). */
  private overlaySums: { sum: Float64Array; count: Uint32Array }[] = [];
  private panels: SubPanel[] = [];
  private markers: Marker[] = [];
  /** Zoom, pan and cursor (the forming candle counts as index data.length). */
  private readonly view = new ChartViewport(() => this.count());
  private decimals = 2;
  private box?: Widgets.BoxElement;
  labels: ChartLabels = DEFAULT_LABELS;
  title = '';
  volumeRows = 3;

  constructor(private theme: Theme) {}

  // ---- data ----

  setData(k: Klines): void {
    const copy = allocSeries(Math.ceil(k.length * 1.05) + 1024);
    for (const f of SERIES_FIELDS) copy[f].set(k[f].subarray(0, k.length));
    copy.length = k.length;
    this.data = copy;
    this.pyramid.build(copy);
    this.decimals = guessDecimals(copy);
    this.view.reset();
  }

  /** Adds a closed candle, or replaces the last one when the open time is the same. */
  append(kline: Kline): void {
    const d = this.data;
    if (d.length > 0 && kline.openTime < d.openTime[d.length - 1]) return;
    const replace = d.length > 0 && d.openTime[d.length - 1] === kline.openTime;
    let grown = d;
    if (d.openTime.length < d.length + 1) {
      grown = allocSeries(d.openTime.length * 2);
      for (const f of SERIES_FIELDS) grown[f].set(d[f].subarray(0, d.length));
      grown.length = d.length;
    }
    const i = replace ? d.length - 1 : d.length;
    for (const f of SERIES_FIELDS) grown[f][i] = kline[f];
    if (!replace) grown.length++;
    this.data = grown;
    const levelsNeeded = grown.length > 1 ? Math.ceil(Math.log2(grown.length)) + 1 : 1;
    if (grown !== d || grown.length > this.pyramid.pv.length - 1 || levelsNeeded > this.pyramid.hi.length) this.pyramid.build(grown);
    else this.updatePyramid(i);
    if (this.forming && this.forming.openTime <= kline.openTime) this.forming = undefined;
    this.view.grew();
  }

  setForming(kline: Kline | undefined): void {
    const last = this.data.length > 0 ? this.data.openTime[this.data.length - 1] : -Infinity;
    this.forming = kline && kline.openTime > last ? kline : undefined;
    this.view.grew();
  }

  setOverlays(overlays: Overlay[]): void {
    this.overlays = overlays;
    this.overlaySums = overlays.map((o) => {
      const sum = new Float64Array(o.values.length + 1);
      const count = new Uint32Array(o.values.length + 1);
      for (let i = 0; i < o.values.length; i++) {
        const v = o.values[i];
        const ok = Number.isFinite(v);
        sum[i + 1] = sum[i] + (ok ? v : 0);
        count[i + 1] = count[i] + (ok ? 1 : 0);
      }
      return { sum, count };
    });
  }

  /** Overlay `k`'s value for candles [a, b): the value itself at one candle, else the mean of the finite ones. */
  private overlayValue(k: number, a: number, b: number): number {
    const o = this.overlays[k];
    const end = Math.min(b, this.data.length, o.values.length);
    if (end <= a) return NaN;
    if (end - a === 1) return o.values[a];
    const sums = this.overlaySums[k];
    const n = sums.count[end] - sums.count[a];
    return n > 0 ? (sums.sum[end] - sums.sum[a]) / n : NaN;
  }

  setPanels(panels: SubPanel[]): void {
    this.panels = panels;
  }

  setMarkers(markers: Marker[]): void {
    this.markers = [...markers].sort((x, y) => x.index - y.index);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
  }

  get length(): number {
    return this.data.length;
  }

  /** Candles including the forming one. */
  count(): number {
    return this.data.length + (this.forming ? 1 : 0);
  }

  get candlesPerColumn(): number {
    return this.view.span;
  }

  /** The candle under the cursor (closed or forming), with its index. */
  cursorCandle(): { index: number; kline: Kline } | undefined {
    const cols = this.columns(this.view.plotWidth);
    if (cols.length === 0) return undefined;
    const col = cols[this.view.cursorColumn(cols)];
    return { index: col.b - 1, kline: { openTime: this.openTimeOf(col.a), open: col.open, high: col.high, low: col.low, close: col.close, volume: col.volume, quoteVolume: NaN, trades: NaN, takerBuyVolume: NaN, takerBuyQuoteVolume: NaN } };
  }

  /** The closed candles on screen (as of the last render's width): indices [from, to). */
  visibleRange(): { from: number; to: number } | undefined {
    return this.view.visibleRange(this.data.length);
  }

  /** True when every candle is on screen (zoomed out fully). */
  showsAll(): boolean {
    const r = this.visibleRange();
    return r !== undefined && r.from === 0 && r.to === this.data.length;
  }

  // ---- navigation (see ChartViewport) ----

  moveCursor(by: number): void {
    this.view.moveCursor(by);
  }

  /** Moves the view by whole columns (negative = back in time). */
  pan(columns: number): void {
    this.view.pan(columns);
  }

  /**
   * +1 zooms in (fewer candles per column), -1 out. The cursor's candle stays in view. Returns
   * false when the zoom is already at that end (one candle per column, or every candle on screen).
   */
  zoom(direction: 1 | -1): boolean {
    const before = this.view.span;
    this.view.zoom(direction);
    return this.view.span !== before;
  }

  /** Where the view is in time: the open time at its end and at the cursor, and the time a column covers. */
  timeView(intervalMs: number): TimeView | undefined {
    const n = this.count();
    if (n === 0) return undefined;
    const v = this.view;
    const end = v.follow ? n : Math.min(v.endIndex, n);
    return {
      follow: v.follow,
      endTime: this.openTimeOf(end - 1),
      cursorTime: v.cursorIndex >= 0 ? this.openTimeOf(Math.min(v.cursorIndex, n - 1)) : undefined,
      msPerColumn: v.span * intervalMs,
    };
  }

  /**
   * Restores a `timeView` on new data of `intervalMs` candles: the same time per column (the
   * nearest power of two of candles) and the same end and cursor times.
   */
  restoreTimeView(t: TimeView, intervalMs: number): void {
    const v = this.view;
    const n = this.count();
    const wanted = Math.max(1, t.msPerColumn / intervalMs);
    const maxSpan = Math.max(1, Math.ceil(n / Math.max(1, v.plotWidth)));
    const span = Math.min(2 ** Math.round(Math.log2(wanted)), 2 ** Math.ceil(Math.log2(maxSpan)));
    v.span = span;
    if (n === 0 || t.follow) {
      v.end();
    } else {
      v.endIndex = Math.max(Math.min(n, span * v.plotWidth), Math.min(n, this.indexAt(t.endTime) + 1));
      v.follow = v.endIndex >= n;
    }
    v.cursorIndex = t.cursorTime === undefined ? -1 : Math.min(n - 1, this.indexAt(t.cursorTime));
    if (v.follow && v.cursorIndex === n - 1) v.cursorIndex = -1;
  }

  /** The last candle opening at or before `time` (0 when all open later). */
  private indexAt(time: number): number {
    const d = this.data;
    let lo = 0;
    let hi = d.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (d.openTime[mid] <= time) lo = mid + 1;
      else hi = mid;
    }
    if (this.forming && this.forming.openTime <= time) return d.length;
    return Math.max(0, lo - 1);
  }

  /** Every candle on screen at once. */
  zoomToFit(): void {
    this.view.zoomToFit();
  }

  /** Puts the cursor on plot column `c` as last drawn (a click on the chart). */
  cursorToColumn(c: number): void {
    const cols = this.view.bounds(this.view.plotWidth);
    if (cols.length === 0 || c >= cols.length) return;
    const col = cols[Math.max(0, c)];
    this.view.cursorIndex = col.b >= this.count() ? -1 : col.b - 1;
  }

  home(): void {
    this.view.home();
  }

  end(): void {
    this.view.end();
  }

  // ---- columns ----

  private openTimeOf(i: number): number {
    return i < this.data.length ? this.data.openTime[i] : (this.forming?.openTime ?? NaN);
  }

  /** The columns on screen for a plot `width`, oldest first (what `lines` draws). */
  columns(width: number): Column[] {
    const d = this.data;
    const m = { hi: 0, lo: 0 };
    return this.view.bounds(width).map(({ a, b }) => {
      const closedEnd = Math.min(b, d.length);
      let open: number;
      let high = -Infinity;
      let low = Infinity;
      let close: number;
      let volume = 0;
      if (closedEnd > a) {
        this.pyramid.range(a, closedEnd, m);
        high = m.hi;
        low = m.lo;
        open = d.open[a];
        close = d.close[closedEnd - 1];
        volume = this.pyramid.pv[closedEnd] - this.pyramid.pv[a];
      } else {
        open = this.forming!.open;
        close = this.forming!.close;
      }
      const formingHere = b > d.length && this.forming !== undefined;
      if (formingHere) {
        const f = this.forming!;
        if (f.high > high) high = f.high;
        if (f.low < low) low = f.low;
        close = f.close;
        volume += f.volume;
      }
      return { a, b, open, high, low, close, volume, forming: formingHere };
    });
  }

  private updatePyramid(i: number): void {
    const p = this.pyramid;
    const n = this.data.length;
    let j = i;
    let len = n;
    for (let level = 1; level < p.hi.length; level++) {
      j = j >> 1;
      const a = 2 * j;
      const b = a + 1;
      const H = p.hi[level - 1];
      const L = p.lo[level - 1];
      if (b < len) {
        p.hi[level][j] = H[a] > H[b] ? H[a] : H[b];
        p.lo[level][j] = L[a] < L[b] ? L[a] : L[b];
      } else {
        p.hi[level][j] = H[a];
        p.lo[level][j] = L[a];
      }
      len = Math.ceil(len / 2);
    }
    p.pv[i + 1] = p.pv[i] + this.data.volume[i];
  }

  // ---- rendering ----

  /**
   * Renders to `height` lines of blessed-tagged text, each `width` cells wide. Pure: reads the
   * data and view, changes nothing but the remembered plot width.
   */
  lines(width: number, height: number): string[] {
    const theme = this.theme;
    if (width < 10 || height < 4) return Array.from({ length: Math.max(0, height) }, () => '');
    if (this.count() === 0) {
      const out = [this.title ? tagged(theme, 'accent', fitText(this.title, width)) : ''];
      for (let r = 1; r < height; r++) out.push(r === Math.floor(height / 2) ? tagged(theme, 'muted', fitText(this.labels.empty, width)) : '');
      return out;
    }
    // sizes
    const last = this.data.length > 0 ? this.data.close[this.data.length - 1] : this.forming!.close;
    const axisWidth = Math.max(8, formatPrice(last, this.decimals).length + 2);
    const plotW = Math.max(1, width - axisWidth);
    this.view.plotWidth = plotW;
    const panelRows = this.panels.reduce((a, p) => a + Math.max(2, p.height), 0);
    const legendRows = (this.overlays.length > 0 || this.panels.length > 0) && height - 2 - panelRows >= 8 ? 1 : 0;
    const volRows = height - 2 - legendRows - panelRows >= 10 ? this.volumeRows : 0;
    const priceRows = Math.max(2, height - 2 - legendRows - volRows - panelRows);
    const cols = this.columns(plotW);
    const cursor = this.view.cursorColumn(cols);
    const scale = priceScale(cols, priceRows);
    const grid = this.priceGrid(cols, scale, plotW);
    const out = [this.readout(cols[cursor], width)];
    if (legendRows > 0) out.push(this.legend(cols[cursor], width));
    // price rows with the axis
    const labelEvery = Math.max(2, Math.round(priceRows / Math.max(1, Math.min(8, Math.floor(priceRows / 3)))));
    for (let r = 0; r < priceRows; r++) {
      const labelled = r % labelEvery === 0 || r === priceRows - 1;
      const axis = labelled ? '┤' + formatPrice(scale.hi - ((r * 2) / (scale.halves - 1)) * (scale.hi - scale.lo), this.decimals) : '│';
      out.push(rowText(theme, grid.glyph[r], grid.style[r], cursor) + tagged(theme, 'muted', fitText(axis, axisWidth)));
    }
    out.push(...this.volumeLines(cols, volRows, plotW, axisWidth, cursor));
    for (const p of this.panels) out.push(...this.panelLines(p, cols, plotW, axisWidth, cursor));
    out.push(tagged(theme, 'muted', fitText(this.timeAxis(cols, plotW), width)));
    return out.slice(0, height);
  }

  /** The price area's cells: candles (wick and body per half-cell), then overlays and markers where free. */
  private priceGrid(cols: Column[], scale: PriceScale, plotW: number): { glyph: string[][]; style: Style[][] } {
    const rows = scale.halves / 2;
    const glyph: string[][] = [];
    const style: Style[][] = [];
    for (let r = 0; r < rows; r++) {
      glyph.push(new Array<string>(plotW).fill(' '));
      style.push(new Array<Style>(plotW).fill(''));
    }
    const { yOf } = scale;
    const coverTop = new Uint8Array(rows);
    const coverBottom = new Uint8Array(rows);
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c];
      const up = col.close >= col.open;
      coverTop.fill(0);
      coverBottom.fill(0);
      const wTop = yOf(col.high);
      const wBot = yOf(col.low);
      const cover = (from: number, to: number, kind: number) => {
        for (let y = from; y <= to; y++) (y & 1 ? coverBottom : coverTop)[y >> 1] = kind;
      };
      cover(wTop, wBot, 1);
      cover(yOf(Math.max(col.open, col.close)), yOf(Math.min(col.open, col.close)), 2);
      const table = !this.theme.color && !up ? BLOCK_GLYPHS : LINE_GLYPHS;
      for (let r = wTop >> 1; r <= wBot >> 1; r++) {
        glyph[r][c] = table[coverTop[r] * 3 + coverBottom[r]];
        style[r][c] = up ? 'up' : 'down';
      }
    }
    // overlays: at one candle per column in the cells the candle leaves free; zoomed out, the
    // column's mean drawn over the aggregated candle (whose wick spans the line anyway)
    const over = this.view.span > 1;
    for (let k = 0; k < this.overlays.length; k++) {
      const o = this.overlays[k];
      for (let c = 0; c < cols.length; c++) {
        const v = this.overlayValue(k, cols[c].a, cols[c].b);
        if (!Number.isFinite(v) || v > scale.hi || v < scale.lo) continue;
        const r = yOf(v) >> 1;
        if (over || glyph[r][c] === ' ') {
          glyph[r][c] = o.glyph ?? '•';
          style[r][c] = o.role;
        }
      }
    }
    this.drawMarkers(cols, scale, glyph, style);
    return { glyph, style };
  }

  /** ▲ under the low / ▼ over the high of the column holding each marker's candle. */
  private drawMarkers(cols: Column[], scale: PriceScale, glyph: string[][], style: Style[][]): void {
    const rows = scale.halves / 2;
    let mi = 0;
    for (let c = 0; c < cols.length && this.markers.length > 0; c++) {
      const col = cols[c];
      while (mi < this.markers.length && this.markers[mi].index < col.a) mi++;
      for (let x = mi; x < this.markers.length && this.markers[x].index < col.b; x++) {
        const m = this.markers[x];
        const buy = m.kind === 'buy';
        const r = buy ? Math.min(rows - 1, (scale.yOf(col.low) >> 1) + 1) : Math.max(0, (scale.yOf(col.high) >> 1) - 1);
        glyph[r][c] = buy ? '▲' : '▼';
        style[r][c] = m.role ?? (buy ? 'up' : 'down');
      }
    }
  }

  /** The top line: time, O H L C V and change of the column under the cursor. */
  private readout(cc: Column, width: number): string {
    const change = cc.open !== 0 ? ((cc.close - cc.open) / cc.open) * 100 : 0;
    const L = this.labels;
    const price = (v: number) => formatPrice(v, this.decimals);
    const text =
      `${this.title ? this.title + '  ' : ''}${formatTime(this.openTimeOf(cc.a))}${cc.b - cc.a > 1 ? ` (${cc.b - cc.a})` : ''}${cc.forming ? ' *' : ''}  ` +
      `${L.open} ${price(cc.open)}  ${L.high} ${price(cc.high)}  ${L.low} ${price(cc.low)}  ` +
      `${L.close} ${price(cc.close)}  ${L.volume} ${formatVolume(cc.volume)}  ${change >= 0 ? '+' : ''}${change.toFixed(2)}%`;
    return tagged(this.theme, cc.close >= cc.open ? 'up' : 'down', fitText(text, width));
  }

  /**
   * The legend: each overlay and sub-panel line by name, in its colour, with its value at the
   * cursor ('-' where it has none); entries that do not fit are left out whole.
   */
  private legend(cc: Column, width: number): string {
    const entries: { text: string; role: ThemeRole }[] = [];
    const fmt = (v: number, price: boolean) => (Number.isFinite(v) ? (price ? formatPrice(v, this.decimals) : formatPanel(v)) : '-');
    this.overlays.forEach((o, k) => entries.push({ text: `${o.glyph ?? '•'}${o.label ?? o.id} ${fmt(this.overlayValue(k, cc.a, cc.b), true)}`, role: o.role }));
    for (const p of this.panels) {
      const last = Math.min(cc.b, this.data.length) - 1;
      p.series.forEach((s, i) => {
        const name = p.series.length > 1 ? `${p.title ?? p.id}${s.label ? '.' + s.label : `#${i + 1}`}` : (p.title ?? p.id);
        entries.push({ text: `${name} ${fmt(last >= 0 ? s.values[last] : NaN, false)}`, role: s.role });
      });
    }
    let out = '';
    let used = 0;
    for (const e of entries) {
      const w = [...e.text].length + (used > 0 ? 2 : 0);
      if (used + w > width) continue;
      out += (used > 0 ? '  ' : '') + tagged(this.theme, e.role, e.text);
      used += w;
    }
    return out + ' '.repeat(Math.max(0, width - used));
  }

  /** The volume strip: eighth blocks scaled to the largest column on screen. */
  private volumeLines(cols: Column[], volRows: number, plotW: number, axisWidth: number, cursor: number): string[] {
    const out: string[] = [];
    let vmax = 0;
    for (const c of cols) if (c.volume > vmax) vmax = c.volume;
    for (let r = 0; r < volRows; r++) {
      const g = new Array<string>(plotW).fill(' ');
      const s = new Array<Style>(plotW).fill('');
      for (let c = 0; c < cols.length; c++) {
        const eighths = vmax > 0 ? Math.round((cols[c].volume / vmax) * volRows * 8) : 0;
        const fromBottom = volRows - 1 - r;
        g[c] = EIGHTHS[Math.max(0, Math.min(8, eighths - fromBottom * 8))];
        s[c] = cols[c].close >= cols[c].open ? 'up' : 'down';
      }
      const axis = r === 0 ? '┤' + formatVolume(vmax) : '│';
      out.push(rowText(this.theme, g, s, cursor) + tagged(this.theme, 'muted', fitText(axis, axisWidth)));
    }
    return out;
  }

  private panelLines(p: SubPanel, cols: Column[], plotW: number, axisWidth: number, cursor: number): string[] {
    const rows = Math.max(2, p.height);
    const values: number[][] = p.series.map((s) => cols.map((c) => s.values[Math.min(c.b, this.data.length) - 1]));
    let min = p.min ?? Infinity;
    let max = p.max ?? -Infinity;
    if (p.min === undefined || p.max === undefined) {
      for (const vs of values)
        for (const v of vs) {
          if (!Number.isFinite(v)) continue;
          if (p.min === undefined && v < min) min = v;
          if (p.max === undefined && v > max) max = v;
        }
    }
    if (!(max > min)) {
      max = (Number.isFinite(max) ? max : 0) + 1;
      min = (Number.isFinite(min) ? min : 0) - 1;
    }
    const halves = rows * 2;
    const yOf = (v: number) => Math.max(0, Math.min(halves - 1, Math.round(((max - v) / (max - min)) * (halves - 1))));
    const glyph: string[][] = [];
    const style: Style[][] = [];
    for (let r = 0; r < rows; r++) {
      glyph.push(new Array<string>(plotW).fill(' '));
      style.push(new Array<Style>(plotW).fill(''));
    }
    for (const level of p.levels ?? []) {
      if (level < min || level > max) continue;
      const r = yOf(level) >> 1;
      for (let c = 0; c < plotW; c++) {
        glyph[r][c] = '┄';
        style[r][c] = 'muted';
      }
    }
    p.series.forEach((s, si) => {
      const vs = values[si];
      for (let c = 0; c < cols.length; c++) {
        const v = vs[c];
        if (!Number.isFinite(v)) continue;
        const y = yOf(v);
        glyph[y >> 1][c] = s.glyph ?? (y & 1 ? '▄' : '▀');
        style[y >> 1][c] = s.role;
      }
    });
    const out: string[] = [];
    for (let r = 0; r < rows; r++) {
      let axis = '│';
      if (r === 0) axis = '┤' + formatPanel(max);
      else if (r === rows - 1) axis = '┤' + formatPanel(min);
      let text = rowText(this.theme, glyph[r], style[r], cursor);
      if (r === 0 && p.title) text = tagged(this.theme, 'accent', fitText(p.title, Math.min(plotW, p.title.length))) + rowText(this.theme, glyph[r].slice(p.title.length), style[r].slice(p.title.length), cursor - p.title.length);
      out.push(text + tagged(this.theme, 'muted', fitText(axis, axisWidth)));
    }
    return out;
  }

  /**
   * Time labels every few columns. The format follows the time between two labels, so labels
   * differ from each other: times within a day ('14:00', with the date where the day changes),
   * days within months ('10-27'), months ('2024-03'), years.
   */
  private timeAxis(cols: Column[], plotW: number): string {
    if (cols.length === 0) return '';
    const perColumn = cols.length > 1 ? (this.openTimeOf(cols[cols.length - 1].a) - this.openTimeOf(cols[0].a)) / (cols.length - 1) : 0;
    const step = perColumn * 12; // about one label per 12 columns
    const day = 86_400_000;
    let previousDay = '';
    const fmt = (t: number) => {
      const iso = new Date(t).toISOString();
      if (step < day) {
        const date = iso.slice(5, 10);
        const label = date !== previousDay ? `${date} ${iso.slice(11, 16)}` : iso.slice(11, 16);
        previousDay = date;
        return label;
      }
      if (step < 60 * day) return iso.slice(5, 10);
      if (step < 2 * 365 * day) return iso.slice(0, 7);
      return iso.slice(0, 4);
    };
    const chars = new Array<string>(plotW).fill(' ');
    let next = 0;
    for (let c = 0; c < cols.length; c++) {
      if (c < next) continue;
      const label = fmt(this.openTimeOf(cols[c].a));
      if (c + label.length + 1 > plotW) break;
      chars[c] = '╵';
      for (let x = 0; x < label.length; x++) chars[c + 1 + x] = label[x];
      next = c + label.length + 4;
    }
    return chars.join('');
  }

  // ---- blessed ----

  /** Creates the chart's box inside `parent`; call `render()` after data or view changes. */
  attach(parent: Widgets.Node, options: Widgets.BoxOptions = {}): Widgets.BoxElement {
    this.box = blessed.box({ parent, tags: true, ...options });
    return this.box;
  }

  get element(): Widgets.BoxElement | undefined {
    return this.box;
  }

  /** Refreshes the box content for its current size (the screen redraw is the caller's). */
  render(): void {
    const box = this.box;
    if (!box) return;
    const width = (box.width as number) - (box.border ? 2 : 0);
    const height = (box.height as number) - (box.border ? 2 : 0);
    box.setContent(this.lines(width, height).join('\n'));
  }
}

/** The price range on screen and the half-cell row of a price (0 = top). */
interface PriceScale {
  hi: number;
  lo: number;
  halves: number;
  yOf(price: number): number;
}

function priceScale(cols: Column[], priceRows: number): PriceScale {
  let hi = -Infinity;
  let lo = Infinity;
  for (const c of cols) {
    if (c.high > hi) hi = c.high;
    if (c.low < lo) lo = c.low;
  }
  if (!(hi > lo)) {
    const pad = Math.abs(hi) * 0.001 || 1;
    hi += pad;
    lo -= pad;
  }
  const halves = priceRows * 2;
  const yOf = (price: number) => {
    const y = Math.round(((hi - price) / (hi - lo)) * (halves - 1));
    return y < 0 ? 0 : y >= halves ? halves - 1 : y;
  };
  return { hi, lo, halves, yOf };
}

// ---- text helpers ----

function tagged(theme: Theme, role: ThemeRole | '', text: string): string {
  const safe = escapeTags(text);
  if (!role || !theme.color || theme.colors[role] === 'default') return safe;
  const c = theme.colors[role];
  return `{${c}-fg}${safe}{/${c}-fg}`;
}

function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** A row of cells as tagged text: runs of one style share one tag; the cursor column is inverse. */
function rowText(theme: Theme, glyphs: string[], styles: Style[], cursor: number): string {
  let out = '';
  let run = '';
  let runStyle: Style = '';
  const flush = () => {
    if (run) out += tagged(theme, runStyle, run);
    run = '';
  };
  for (let c = 0; c < glyphs.length; c++) {
    if (c === cursor) {
      flush();
      out += `{inverse}${tagged(theme, styles[c], glyphs[c])}{/inverse}`;
      continue;
    }
    const s = glyphs[c] === ' ' ? '' : styles[c];
    if (s !== runStyle) {
      flush();
      runStyle = s;
    }
    run += glyphs[c];
  }
  flush();
  return out;
}

function fitText(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length >= width) return chars.slice(0, width).join('');
  return text + ' '.repeat(width - chars.length);
}

/** Decimals to show prices with: the most any of the last closes uses (capped at 8). */
function guessDecimals(k: Series): number {
  let d = 0;
  for (let i = Math.max(0, k.length - 200); i < k.length; i++) {
    const s = String(k.close[i]);
    const dot = s.indexOf('.');
    if (dot >= 0 && !s.includes('e')) d = Math.max(d, s.length - dot - 1);
  }
  return Math.min(8, d);
}

export function formatPrice(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toFixed(decimals);
}

export function formatVolume(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const a = Math.abs(value);
  if (a >= 1e9) return (value / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return (value / 1e6).toFixed(2) + 'M';
  if (a >= 1e4) return (value / 1e3).toFixed(1) + 'k';
  return a >= 100 ? value.toFixed(0) : value.toFixed(a >= 1 ? 2 : 4);
}

function formatPanel(value: number): string {
  const a = Math.abs(value);
  return a >= 1000 ? formatVolume(value) : value.toFixed(a >= 10 ? 1 : 3);
}

function formatTime(t: number): string {
  if (!Number.isFinite(t)) return '-';
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Bench helper: redraw time of a 200x50 chart over `k` zoomed out to fit, and zoomed in at the
 * end (ms, best of several), plus the pyramid build time.
 */
export async function chartRedrawBench(k: Klines): Promise<Record<string, number>> {
  const theme: Theme = {
    name: 'bench',
    color: true,
    colors: { fg: 'white', bg: 'default', accent: 'cyan', muted: 'grey', border: 'grey', tabActiveFg: 'black', tabActiveBg: 'cyan', statusFg: 'white', statusBg: 'black', up: 'green', down: 'red', warn: 'yellow', error: 'red', selectedFg: 'black', selectedBg: 'cyan' },
  };
  const chart = new CandleChart(theme);
  let t = performance.now();
  chart.setData(k);
  const buildMs = performance.now() - t;
  chart.lines(200, 50);
  chart.zoomToFit();
  let fit = Infinity;
  for (let r = 0; r < 20; r++) {
    t = performance.now();
    chart.lines(200, 50);
    fit = Math.min(fit, performance.now() - t);
  }
  chart.end();
  while (chart.candlesPerColumn > 1) chart.zoom(1);
  let near = Infinity;
  for (let r = 0; r < 20; r++) {
    t = performance.now();
    chart.lines(200, 50);
    near = Math.min(near, performance.now() - t);
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return { chartSetDataMs: round(buildMs), chartRedraw200x50FitAllMs: round(fit), chartRedraw200x50ZoomedInMs: round(near), chartCandles: k.length };
}
