import { allocKlines, alignOpenTime, decimalScale, INTERVAL_MS, INTERVALS, nextOpenTime, type Interval, type Klines } from './klines.js';

/**
 * Higher intervals from lower ones, the way the exchange builds them: klines whose open times fall
 * in the same aligned bucket (see `alignOpenTime`: UTC boundaries, weeks from Monday 00:00 UTC,
 * calendar months) become one kline with
 *
 *   openTime = the bucket's open time, open = first open, high = max high, low = min low,
 *   close = last close, volume / quoteVolume / trades / takerBuy* = sums.
 *
 * Sums are exact: each summed column is added as scaled integers (its decimal scale found over the
 * input, see `decimalScale`) and divided once, so a sum equals `Number()` of the exchange's decimal
 * sum. A column with no decimal scale falls back to float64 addition.
 */
export interface AggregateOptions {
  /**
   * Keep the last bucket even when its last source kline is not there yet (the forming candle).
   * Default false: a bucket is emitted only once its final source kline is present.
   */
  partial?: boolean;
}

/** True when `target` can be built from `source` (an exact multiple on aligned boundaries). */
export function canAggregate(source: Interval, target: Interval): boolean {
  if (source === target) return true;
  if (INTERVALS.indexOf(target) < INTERVALS.indexOf(source)) return false;
  if (target === '1M') return INTERVAL_MS[source] <= INTERVAL_MS['1d'];
  if (source === '1M') return false;
  if (target === '1w') return INTERVAL_MS['1d'] % INTERVAL_MS[source] === 0;
  return INTERVAL_MS[target] % INTERVAL_MS[source] === 0;
}

/** Aggregates sorted klines of `source` into `target`. */
export function aggregateKlines(k: Klines, source: Interval, target: Interval, options: AggregateOptions = {}): Klines {
  if (!canAggregate(source, target)) throw new RangeError(`cannot build ${target} klines from ${source} klines`);
  const n = k.length;
  if (source === target) return k;
  const step = INTERVAL_MS[source];
  const estimate = target === '1M' ? Math.ceil((n * step) / (28 * 86_400_000)) + 2 : Math.ceil((n * step) / INTERVAL_MS[target]) + 2;
  const out = allocKlines(Math.min(n, estimate));
  const { openTime, open, high, low, close, volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume } = k;
  const sums = [volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume];
  const outSums = [out.volume, out.quoteVolume, out.trades, out.takerBuyVolume, out.takerBuyQuoteVolume];
  const scales = sums.map((c) => {
    const d = decimalScale(c, 0, n);
    return d < 0 ? 1 : 10 ** d;
  });
  let j = -1;
  let bucketEnd = -Infinity;
  let lastOpen = 0;
  for (let i = 0; i < n; i++) {
    const t = openTime[i];
    if (t >= bucketEnd) {
      const start = alignOpenTime(t, target);
      bucketEnd = nextOpenTime(start, target);
      j++;
      out.openTime[j] = start;
      out.open[j] = open[i];
      out.high[j] = high[i];
      out.low[j] = low[i];
      out.close[j] = close[i];
      for (let c = 0; c < 5; c++) outSums[c][j] = scales[c] === 1 ? sums[c][i] : Math.round(sums[c][i] * scales[c]);
    } else {
      if (high[i] > out.high[j]) out.high[j] = high[i];
      if (low[i] < out.low[j]) out.low[j] = low[i];
      out.close[j] = close[i];
      for (let c = 0; c < 5; c++) outSums[c][j] += scales[c] === 1 ? sums[c][i] : Math.round(sums[c][i] * scales[c]);
    }
    lastOpen = t;
  }
  out.length = j + 1;
  for (let c = 0; c < 5; c++) {
    const p = scales[c];
    if (p === 1) continue;
    const col = outSums[c];
    for (let x = 0; x < out.length; x++) col[x] = col[x] / p;
  }
  if (!options.partial && out.length > 0 && lastOpen + step !== bucketEnd) out.length--;
  return out;
}

/**
 * Rounds `value` to the number of decimals of `like` (a decimal string from the exchange): float
 * sums of decimals then compare equal to the exchange's decimal sums.
 */
export function roundLike(value: number, like: string): number {
  const dot = like.indexOf('.');
  const decimals = dot < 0 ? 0 : like.length - dot - 1;
  return Number(value.toFixed(decimals));
}

/** Rounds a sum to at most `decimals` places (default 8), removing float noise. */
export function roundSum(value: number, decimals = 8): number {
  return Number(value.toFixed(decimals));
}
