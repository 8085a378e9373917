import { aggregateKlines, canAggregate } from '../../core/market/aggregate.js';
import { alignOpenTime, emptyKlines, getKline, INTERVALS, lowerBound, nextOpenTime, pushKline, sliceKlines, type Interval, type Kline, type Klines } from '../../core/market/klines.js';
import type { SeriesInfo, StoredSymbol } from '../../core/market/repository.js';

/**
 * The Market page's view model, free of any terminal: the symbol list (rows, filter, sort,
 * cursor) and the charted series (base klines, chart interval, forming kline). Every interval is
 * built by core's `aggregateKlines`; the chart widget only groups candles into screen columns.
 */

/** The intervals offered by the interval switch (each built from the stored base interval). */
export const CHART_INTERVALS: Interval[] = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d', '1w', '1M'];
export type SortKey = 'change' | 'volume' | 'symbol';
export const SORTS: SortKey[] = ['change', 'volume', 'symbol'];
const DAY = 86_400_000;

export interface SymbolRow {
  symbol: string;
  base: Interval;
  last: number;
  /** Change over the last 24 h of stored klines, %; NaN when less is stored. */
  change: number;
  /** Quote volume over the last 24 h of stored klines. */
  volume: number;
  lastTime: number;
}

/**
 * One row per symbol with stored klines (its lowest stored interval is the base), then the
 * trading symbols the exchange lists with nothing stored yet.
 */
export function symbolRows(series: SeriesInfo[], listed: StoredSymbol[], klines: (symbol: string, interval: Interval, from: number, to: number) => Klines): SymbolRow[] {
  const bySymbol = new Map<string, SeriesInfo>();
  for (const s of series) {
    if (s.rows === 0) continue;
    const prev = bySymbol.get(s.symbol);
    if (!prev || INTERVALS.indexOf(s.interval) < INTERVALS.indexOf(prev.interval)) bySymbol.set(s.symbol, s);
  }
  const rows: SymbolRow[] = [...bySymbol.values()].map((info) => {
    const lastTime = info.last ?? 0;
    const recent = klines(info.symbol, info.interval, lastTime - DAY, lastTime);
    const n = recent.length;
    const last = n > 0 ? recent.close[n - 1] : NaN;
    const spanned = n > 0 ? lastTime - recent.openTime[0] : 0;
    const change = n > 1 && spanned >= DAY * 0.95 ? ((last - recent.open[0]) / recent.open[0]) * 100 : NaN;
    let volume = 0;
    for (let i = 0; i < n; i++) volume += recent.quoteVolume[i];
    return { symbol: info.symbol, base: info.interval, last, change, volume, lastTime };
  });
  for (const s of listed) {
    if (s.status === 'TRADING' && !bySymbol.has(s.symbol)) rows.push({ symbol: s.symbol, base: '1m', last: NaN, change: NaN, volume: NaN, lastTime: 0 });
  }
  return rows;
}

/** The symbol list: rows, the `/` filter, the sort and the cursor (an index into `visible()`). */
export class SymbolList {
  rows: SymbolRow[] = [];
  filter = '';
  filtering = false;
  sort: SortKey = 'change';
  cursor = 0;

  /** The rows shown: filtered by name, sorted (figures unknown sort last, then by name). */
  visible(): SymbolRow[] {
    const f = this.filter.toUpperCase();
    const list = this.rows.filter((r) => r.symbol.includes(f));
    const num = (x: number) => (Number.isFinite(x) ? x : -Infinity);
    const byName = (a: SymbolRow, b: SymbolRow) => a.symbol.localeCompare(b.symbol);
    if (this.sort === 'change') list.sort((a, b) => num(b.change) - num(a.change) || byName(a, b));
    else if (this.sort === 'volume') list.sort((a, b) => num(b.volume) - num(a.volume) || byName(a, b));
    else list.sort(byName);
    return list;
  }

  /** The cursor kept inside the visible rows. */
  clampedCursor(count = this.visible().length): number {
    this.cursor = Math.max(0, Math.min(this.cursor, count - 1));
    return this.cursor;
  }

  /** Moves the cursor (clamped); returns the symbol under it, or undefined when the list is empty. */
  move(by: number): string | undefined {
    const list = this.visible();
    if (list.length === 0) return undefined;
    this.cursor = Math.max(0, Math.min(list.length - 1, this.cursor + by));
    return list[this.cursor].symbol;
  }

  /** Next sort order; the cursor stays on `selected`. */
  nextSort(selected: string | undefined): void {
    this.sort = SORTS[(SORTS.indexOf(this.sort) + 1) % SORTS.length];
    this.cursor = Math.max(0, this.visible().findIndex((r) => r.symbol === selected));
  }

  /**
   * A key typed while filtering: letters and digits extend the filter, Backspace shortens it,
   * Enter ends it, Esc clears and ends it. Returns false for a key the filter does not take;
   * otherwise the cursor goes to the first match.
   */
  typeFilter(key: 'escape' | 'enter' | 'backspace' | { char: string }): boolean {
    if (key === 'escape') {
      this.filter = '';
      this.filtering = false;
    } else if (key === 'enter') this.filtering = false;
    else if (key === 'backspace') this.filter = this.filter.slice(0, -1);
    else if (/^[A-Za-z0-9_]$/.test(key.char)) this.filter += key.char.toUpperCase();
    else return false;
    this.cursor = 0;
    return true;
  }

  find(symbol: string): SymbolRow | undefined {
    return this.rows.find((r) => r.symbol === symbol);
  }
}

/** What the chart shows after a change of the series. */
export interface ChartUpdate {
  /** A candle to append to the chart (a closed chart candle). */
  append?: Kline;
  /** The forming chart candle (undefined: none). */
  forming?: Kline;
}

/**
 * The charted series: the stored klines of the base interval (the symbol's lowest stored one),
 * the chart interval built from them, and the forming base kline from the live feed. A chart
 * candle is closed once its bucket's last base kline is stored; the incomplete last bucket, merged
 * with the forming base kline, is the forming chart candle.
 */
export class ChartSeries {
  symbol?: string;
  base: Klines = emptyKlines();
  baseInterval: Interval = '1m';
  interval: Interval = '1m';
  /** The forming (not yet closed) base kline from the live feed. */
  formingBase?: Kline;

  /** Charts `symbol` from its stored base klines; the chart interval falls back to the base when it cannot be built. */
  load(symbol: string | undefined, base: Klines, baseInterval: Interval): void {
    this.symbol = symbol;
    this.base = base;
    this.baseInterval = baseInterval;
    this.formingBase = undefined;
    if (!canAggregate(baseInterval, this.interval)) this.interval = baseInterval;
  }

  /** Replaces the stored klines (after a REST fill), keeping symbol, intervals and forming kline. */
  reload(base: Klines): void {
    this.base = base;
  }

  /** The chart intervals that can be built from the base interval. */
  intervals(): Interval[] {
    return CHART_INTERVALS.filter((i) => canAggregate(this.baseInterval, i));
  }

  /** Steps the chart interval by `by` within `intervals()` (clamped); false when it did not change. */
  switchInterval(by: number): boolean {
    const allowed = this.intervals();
    const at = Math.max(0, allowed.indexOf(this.interval));
    const next = allowed[Math.max(0, Math.min(allowed.length - 1, at + by))];
    if (next === this.interval) return false;
    this.interval = next;
    return true;
  }

  /** The closed chart candles (index = chart index): complete buckets only. */
  closed(): Klines {
    if (!this.symbol || this.base.length === 0) return emptyKlines();
    return aggregateKlines(this.base, this.baseInterval, this.interval);
  }

  /** The forming chart candle: the incomplete last bucket merged with the forming base kline. */
  forming(): Kline | undefined {
    const f = this.formingBase;
    const k = this.base;
    if (this.interval === this.baseInterval) return f;
    const lastBase = k.length > 0 ? k.openTime[k.length - 1] : undefined;
    const start = alignOpenTime(f ? f.openTime : lastBase!, this.interval);
    if (!f && (lastBase === undefined || nextOpenTime(lastBase, this.baseInterval) === nextOpenTime(start, this.interval))) return undefined;
    // the bucket's stored base klines (a view: pushKline below copies before it writes)
    let part = sliceKlines(k, lowerBound(k, start));
    if (f && (part.length === 0 || f.openTime > part.openTime[part.length - 1])) part = pushKline(part, f);
    const bucket = aggregateKlines(part, this.baseInterval, this.interval, { partial: true });
    return bucket.length > 0 ? getKline(bucket, bucket.length - 1) : undefined;
  }

  /** A forming base kline from the live feed; returns the forming chart candle. */
  onForming(kline: Kline): Kline | undefined {
    this.formingBase = kline;
    return this.forming();
  }

  /**
   * A closed base kline from the live feed: stored in the series; returns what the chart must show
   * (a completed chart candle to append, and the forming one), or undefined for a kline already held.
   */
  onClosed(kline: Kline): ChartUpdate | undefined {
    const k = this.base;
    if (k.length > 0 && kline.openTime <= k.openTime[k.length - 1]) return undefined;
    this.base = pushKline(k, kline);
    if (this.formingBase && this.formingBase.openTime <= kline.openTime) this.formingBase = undefined;
    if (this.interval === this.baseInterval) return { append: kline, forming: this.formingBase };
    const complete = nextOpenTime(kline.openTime, this.baseInterval) === nextOpenTime(alignOpenTime(kline.openTime, this.interval), this.interval);
    if (!complete) return { forming: this.forming() };
    const start = alignOpenTime(kline.openTime, this.interval);
    const done = aggregateKlines(sliceKlines(this.base, lowerBound(this.base, start)), this.baseInterval, this.interval);
    return { append: done.length > 0 ? getKline(done, done.length - 1) : undefined, forming: this.forming() };
  }
}
