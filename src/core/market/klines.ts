/**
 * Columnar klines: one Float64Array per field, from the database to the indicators to the chart.
 *
 * Every value is a float64. Binance prices and quantities are short decimals, so `Number(text)`
 * stored as float64 gives back the same text with `String(value)` (see `formatDecimal`), and open
 * times (ms since 1970) and trade counts are integers well below 2^53: nothing is lost.
 *
 * Intervals are the exchange's (`1m` ... `1M`); open times are aligned to UTC boundaries the way
 * Binance aligns them (see `alignOpenTime`).
 */

export const KLINE_FIELDS = [
  'openTime',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'quoteVolume',
  'trades',
  'takerBuyVolume',
  'takerBuyQuoteVolume',
] as const;

export type KlineField = (typeof KLINE_FIELDS)[number];

/** Klines in columns. `length` rows are valid; arrays may be longer (spare capacity). */
export interface Klines {
  length: number;
  openTime: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  quoteVolume: Float64Array;
  trades: Float64Array;
  takerBuyVolume: Float64Array;
  takerBuyQuoteVolume: Float64Array;
}

/** One kline as plain values (the websocket, tests, readouts). Not for bulk data. */
export interface Kline {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
  takerBuyVolume: number;
  takerBuyQuoteVolume: number;
}

// ---- intervals ----

export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;
export type Interval = (typeof INTERVALS)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-05 00:00 UTC, the first Monday after the epoch: Binance weeks start on Monday. */
const FIRST_MONDAY = 4 * DAY;

/**
 * Nominal duration of each interval in ms. `1M` is a calendar month; its entry (31 days) is an
 * upper bound only: use `nextOpenTime` to step months.
 */
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
  '1M': 31 * DAY,
};

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

/** Parses an interval name; the archive spells the month `1mo`. Throws naming the bad value. */
export function parseInterval(value: string): Interval {
  if (value === '1mo') return '1M';
  if (isInterval(value)) return value;
  throw new RangeError(`unknown interval "${value}" (one of ${INTERVALS.join(' ')})`);
}

/** The archive file name's spelling of an interval (`1M` is `1mo`). */
export function archiveIntervalName(interval: Interval): string {
  return interval === '1M' ? '1mo' : interval;
}

/** True when the interval has a fixed length (everything but `1M`). */
export function isFixedInterval(interval: Interval): boolean {
  return interval !== '1M';
}

/**
 * The open time of the interval containing `time`: fixed intervals up to 3d are aligned to the
 * epoch (so 1h starts on the hour, 1d at 00:00 UTC), `1w` to Monday 00:00 UTC, `1M` to the first
 * day of the calendar month 00:00 UTC.
 */
export function alignOpenTime(time: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(time);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  if (interval === '1w') return Math.floor((time - FIRST_MONDAY) / INTERVAL_MS['1w']) * INTERVAL_MS['1w'] + FIRST_MONDAY;
  const ms = INTERVAL_MS[interval];
  return Math.floor(time / ms) * ms;
}

/** The open time of the kline after the one opening at `openTime` (which must be aligned). */
export function nextOpenTime(openTime: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(openTime);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return openTime + INTERVAL_MS[interval];
}

/** The open time of the kline before the one opening at `openTime`. */
export function previousOpenTime(openTime: number, interval: Interval): number {
  if (interval === '1M') {
    const d = new Date(openTime);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  }
  return openTime - INTERVAL_MS[interval];
}

/** Binance's close time: the next open time minus 1 ms. */
export function closeTime(openTime: number, interval: Interval): number {
  return nextOpenTime(openTime, interval) - 1;
}

/** Number of klines with open times in [from, to] (both aligned, from <= to), for fixed intervals. */
export function countOpenTimes(from: number, to: number, interval: Interval): number {
  if (to < from) return 0;
  if (interval !== '1M') return Math.floor((to - from) / INTERVAL_MS[interval]) + 1;
  let n = 0;
  for (let t = from; t <= to; t = nextOpenTime(t, interval)) n++;
  return n;
}

// ---- construction and helpers ----

/** Fresh klines with room for `capacity` rows and `length` 0. */
export function allocKlines(capacity: number): Klines {
  return {
    length: 0,
    openTime: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
    volume: new Float64Array(capacity),
    quoteVolume: new Float64Array(capacity),
    trades: new Float64Array(capacity),
    takerBuyVolume: new Float64Array(capacity),
    takerBuyQuoteVolume: new Float64Array(capacity),
  };
}

export function emptyKlines(): Klines {
  return allocKlines(0);
}

/** Capacity of the arrays (may exceed `length`). */
export function capacityOf(k: Klines): number {
  return k.openTime.length;
}

/** Klines with capacity at least `capacity`, copying the valid rows when it must grow. */
export function ensureCapacity(k: Klines, capacity: number): Klines {
  if (capacityOf(k) >= capacity) return k;
  const grown = allocKlines(Math.max(capacity, capacityOf(k) * 2, 16));
  for (const f of KLINE_FIELDS) grown[f].set(k[f].subarray(0, k.length));
  grown.length = k.length;
  return grown;
}

/** Appends one kline, growing if needed; returns the (possibly new) klines. */
export function pushKline(k: Klines, kline: Kline): Klines {
  const out = ensureCapacity(k, k.length + 1);
  setKline(out, out.length, kline);
  out.length++;
  return out;
}

export function setKline(k: Klines, i: number, kline: Kline): void {
  for (const f of KLINE_FIELDS) k[f][i] = kline[f];
}

export function getKline(k: Klines, i: number): Kline {
  if (i < 0 || i >= k.length) throw new RangeError(`kline index ${i} outside 0..${k.length - 1}`);
  return {
    openTime: k.openTime[i],
    open: k.open[i],
    high: k.high[i],
    low: k.low[i],
    close: k.close[i],
    volume: k.volume[i],
    quoteVolume: k.quoteVolume[i],
    trades: k.trades[i],
    takerBuyVolume: k.takerBuyVolume[i],
    takerBuyQuoteVolume: k.takerBuyQuoteVolume[i],
  };
}

/** Klines built from plain objects (tests, small lists). */
export function klinesFromRows(rows: readonly Kline[]): Klines {
  const k = allocKlines(rows.length);
  for (let i = 0; i < rows.length; i++) setKline(k, i, rows[i]);
  k.length = rows.length;
  return k;
}

/** Rows [start, end) as views on the same memory (no copy). */
export function sliceKlines(k: Klines, start: number, end = k.length): Klines {
  const s = Math.max(0, Math.min(start, k.length));
  const e = Math.max(s, Math.min(end, k.length));
  const out = { length: e - s } as Klines;
  for (const f of KLINE_FIELDS) out[f] = k[f].subarray(s, e);
  return out;
}

/** A copy trimmed to `length` (own memory, exact size): safe to transfer to a worker. */
export function compactKlines(k: Klines): Klines {
  const out = allocKlines(k.length);
  for (const f of KLINE_FIELDS) out[f].set(k[f].subarray(0, k.length));
  out.length = k.length;
  return out;
}

/** Concatenates in the order given (no sorting, no de-duplication). */
export function concatKlines(parts: readonly Klines[]): Klines {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = allocKlines(n);
  let at = 0;
  for (const p of parts) {
    for (const f of KLINE_FIELDS) out[f].set(p[f].subarray(0, p.length), at);
    at += p.length;
  }
  out.length = n;
  return out;
}

/** Index of the first row with openTime >= time (binary search; rows sorted by open time). */
export function lowerBound(k: Klines, time: number): number {
  let lo = 0;
  let hi = k.length;
  const t = k.openTime;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows with from <= openTime <= to, as views. */
export function rangeOf(k: Klines, from: number, to: number): Klines {
  return sliceKlines(k, lowerBound(k, from), lowerBound(k, to + 1));
}

/** Shortest decimal text of a float64 read from a Binance decimal (no exponent for normal sizes). */
export function formatDecimal(value: number): string {
  const s = String(value);
  if (!s.includes('e')) return s;
  // Very small or very large values: fall back to fixed notation without trailing zeros.
  return value.toFixed(20).replace(/\.?0+$/, '');
}

/** Equality of every field of every valid row (tests, verify). */
export function klinesEqual(a: Klines, b: Klines): boolean {
  if (a.length !== b.length) return false;
  for (const f of KLINE_FIELDS) {
    const x = a[f];
    const y = b[f];
    for (let i = 0; i < a.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

/** A missing stretch of open times: `from` and `to` are the first and last missing open time. */
export interface Gap {
  from: number;
  to: number;
  /** Number of missing klines. */
  missing: number;
}

/** Gaps between consecutive rows (rows sorted by open time, no duplicates). */
export function findGaps(k: Klines, interval: Interval): Gap[] {
  const gaps: Gap[] = [];
  const t = k.openTime;
  for (let i = 1; i < k.length; i++) {
    const expected = nextOpenTime(t[i - 1], interval);
    if (t[i] !== expected) {
      const last = previousOpenTime(t[i], interval);
      gaps.push({ from: expected, to: last, missing: countOpenTimes(expected, last, interval) });
    }
  }
  return gaps;
}

const SCALE_POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
const SCALE_LIMIT = 2 ** 52;

/**
 * The smallest number of decimals d (0..12) so that round(v * 10^d) / 10^d === v for every value
 * in [start, end), with the integers below 2^52; -1 when there is none. For values read from
 * decimal text this is the text's number of decimals (trailing zeros aside).
 */
export function decimalScale(values: Float64Array, start = 0, end = values.length): number {
  let d = 0;
  let p = 1;
  for (let i = start; i < end; i++) {
    const v = values[i];
    for (;;) {
      const m = Math.round(v * p);
      if (m / p === v && Math.abs(m) < SCALE_LIMIT) break;
      if (!Number.isFinite(v) || d >= 12) return -1;
      d++;
      p = SCALE_POW10[d];
    }
  }
  return d;
}

export function isoMinute(time: number): string {
  return new Date(time).toISOString().slice(0, 16).replace('T', ' ');
}
