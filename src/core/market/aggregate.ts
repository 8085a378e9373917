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
  // per summed column: 10^scale, or 1 to add the float64 values as they are (integers, or no scale)
  const scaleOf = (c: Float64Array) => {
    const d = decimalScale(c, 0, n);
    return d <= 0 ? 1 : 10 ** d;
  };
  const p0 = scaleOf(volume);
  const p1 = scaleOf(quoteVolume);
  const p2 = scaleOf(trades);
  const p3 = scaleOf(takerBuyVolume);
  const p4 = scaleOf(takerBuyQuoteVolume);
  const oT = out.openTime, oO = out.open, oH = out.high, oL = out.low, oC = out.close;
  const o0 = out.volume, o1 = out.quoteVolume, o2 = out.trades, o3 = out.takerBuyVolume, o4 = out.takerBuyQuoteVolume;
  let j = -1;
  let bucketEnd = -Infinity;
  let lastOpen = 0;
  let h = 0, l = 0, c = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  const flush = () => {
    if (j < 0) return;
    oH[j] = h;
    oL[j] = l;
    oC[j] = c;
    o0[j] = p0 === 1 ? s0 : s0 / p0;
    o1[j] = p1 === 1 ? s1 : s1 / p1;
    o2[j] = p2 === 1 ? s2 : s2 / p2;
    o3[j] = p3 === 1 ? s3 : s3 / p3;
    o4[j] = p4 === 1 ? s4 : s4 / p4;
  };
  for (let i = 0; i < n; i++) {
    const t = openTime[i];
    if (t >= bucketEnd) {
      flush();
      const start = alignOpenTime(t, target);
      bucketEnd = nextOpenTime(start, target);
      j++;
      oT[j] = start;
      oO[j] = open[i];
      h = high[i];
      l = low[i];
      s0 = s1 = s2 = s3 = s4 = 0;
    } else {
      if (high[i] > h) h = high[i];
      if (low[i] < l) l = low[i];
    }
    c = close[i];
    s0 += p0 === 1 ? volume[i] : Math.round(volume[i] * p0);
    s1 += p1 === 1 ? quoteVolume[i] : Math.round(quoteVolume[i] * p1);
    s2 += p2 === 1 ? trades[i] : Math.round(trades[i] * p2);
    s3 += p3 === 1 ? takerBuyVolume[i] : Math.round(takerBuyVolume[i] * p3);
    s4 += p4 === 1 ? takerBuyQuoteVolume[i] : Math.round(takerBuyQuoteVolume[i] * p4);
    lastOpen = t;
  }
  flush();
  out.length = j + 1;
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
