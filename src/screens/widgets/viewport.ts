/**
 * Which candles a chart shows, free of any drawing: the zoom (`span` candles per screen column),
 * where the view ends, whether it follows new candles, and the cursor. Candle indices count the
 * forming candle (if any) as the last one; `count()` is supplied by the chart.
 *
 * Column c of a view `width` columns wide covers candles [a, b) with b = end - (cols-1-c) * span:
 * the newest column ends at the view's end, older ones step back by whole spans.
 */
export interface ColumnBounds {
  /** First candle of the column. */
  a: number;
  /** One past its last candle. */
  b: number;
}

export class ChartViewport {
  /** Candles per column (a power of two after zooming). */
  span = 1;
  /** One past the last candle shown. */
  endIndex = 0;
  /** True while the view shows the newest candle: it then moves with new candles. */
  follow = true;
  /** The cursor: a candle index (the last candle of its column), or -1 for the last column. */
  cursorIndex = -1;
  /** Width of the plot area at the last render (columns). */
  plotWidth = 80;

  constructor(private readonly count: () => number) {}

  /** New data: follow the end, cursor on the last column (the zoom is kept). */
  reset(): void {
    this.follow = true;
    this.cursorIndex = -1;
    this.endIndex = this.count();
  }

  /** The candle count changed (a candle appended or a forming one set). */
  grew(): void {
    if (this.follow) this.endIndex = this.count();
  }

  /** The columns on screen for a plot `width`, oldest first. */
  bounds(width: number): ColumnBounds[] {
    const n = this.count();
    if (n === 0 || width <= 0) return [];
    const end = this.follow ? n : Math.min(this.endIndex, n);
    const cols = Math.min(width, Math.ceil(end / this.span));
    const out: ColumnBounds[] = [];
    for (let c = 0; c < cols; c++) {
      const b = end - (cols - 1 - c) * this.span;
      out.push({ a: Math.max(0, b - this.span), b });
    }
    return out;
  }

  /** The column holding the cursor. */
  cursorColumn(cols: readonly ColumnBounds[]): number {
    if (this.cursorIndex < 0) return cols.length - 1;
    for (let c = 0; c < cols.length; c++) if (this.cursorIndex < cols[c].b) return c;
    return cols.length - 1;
  }

  /** Candles [from, to) on screen, counting only the first `closed` ones (the forming one is not closed). */
  visibleRange(closed: number): { from: number; to: number } | undefined {
    const cols = this.bounds(this.plotWidth);
    if (cols.length === 0) return undefined;
    const to = Math.min(cols[cols.length - 1].b, closed);
    return to > cols[0].a ? { from: cols[0].a, to } : undefined;
  }

  /** Moves the cursor by columns; past either edge the view pans instead. */
  moveCursor(by: number): void {
    const cols = this.bounds(this.plotWidth);
    if (cols.length === 0) return;
    let c = this.cursorColumn(cols) + by;
    if (c < 0) {
      this.pan(c);
      c = 0;
    } else if (c >= cols.length) {
      this.pan(c - cols.length + 1);
      c = cols.length - 1;
    }
    const after = this.bounds(this.plotWidth);
    const col = after[Math.min(c, after.length - 1)];
    this.cursorIndex = col ? col.b - 1 : -1;
    if (col && col.b >= this.count()) this.cursorIndex = -1;
  }

  /** Moves the view by whole columns (negative = back in time), never past either end. */
  pan(columns: number): void {
    const n = this.count();
    const minEnd = Math.min(n, this.span * Math.min(this.plotWidth, Math.ceil(n / this.span)));
    this.endIndex = Math.max(minEnd, Math.min(n, this.endIndex + columns * this.span));
    this.follow = this.endIndex >= n;
  }

  /** +1 zooms in (half the candles per column), -1 out (twice, up to all on screen). The cursor's candle stays in view. */
  zoom(direction: 1 | -1): void {
    const keep = this.cursorIndex >= 0 ? this.cursorIndex : this.endIndex - 1;
    const maxSpan = Math.max(1, Math.ceil(this.count() / Math.max(1, this.plotWidth)));
    if (direction > 0) this.span = Math.max(1, Math.floor(this.span / 2));
    else if (this.span >= maxSpan) return; // every candle is on screen already
    else this.span = Math.min(nextPow2(maxSpan), this.span * 2);
    this.centerOn(keep);
  }

  /** Every candle on screen at once. */
  zoomToFit(): void {
    this.span = Math.max(1, Math.ceil(this.count() / Math.max(1, this.plotWidth)));
    this.endIndex = this.count();
    this.follow = true;
    this.cursorIndex = -1;
  }

  /** The oldest candles, cursor on the first. */
  home(): void {
    const n = this.count();
    this.endIndex = Math.min(n, this.span * this.plotWidth);
    this.follow = this.endIndex >= n;
    this.cursorIndex = 0;
  }

  /** The newest candles, cursor on the last. */
  end(): void {
    this.endIndex = this.count();
    this.follow = true;
    this.cursorIndex = -1;
  }

  private centerOn(index: number): void {
    const n = this.count();
    const half = Math.floor(this.plotWidth / 2) * this.span;
    this.endIndex = Math.max(Math.min(n, this.span * this.plotWidth), Math.min(n, index + 1 + half));
    this.follow = this.endIndex >= n;
    this.cursorIndex = Math.min(index, n - 1);
    if (this.follow && this.cursorIndex === n - 1) this.cursorIndex = -1;
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
