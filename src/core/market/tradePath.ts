import type { DeepTrade } from './deepCodec.js';

/**
 * Intrabar paths from recorded aggregated trades, for the fill model (core/futures/fills.ts): per
 * kline, its open, then the turning points of its trades' prices in trade order (each run of
 * prices moving one way kept as its last, furthest price), then its close. Between two turning
 * points the price moved monotonically, which is what the fill model's legs need, so every price
 * the trades reached is on the path and nothing else is.
 *
 * Plain data for the simulation worker: `points` holds every kline's path one after another;
 * kline j's path is `points[offsets[j] .. offsets[j + 1])`, empty when it had no trade (the fill
 * model then uses the OHLC path).
 */
export interface IntrabarPaths {
  offsets: Float64Array;
  points: Float64Array;
  /** Klines with a path. */
  klines: number;
}

/** Appends `price` to a turning-point path (merging a continued move, dropping a repeat). */
function push(path: number[], start: number, price: number): void {
  const n = path.length - start;
  if (n > 0 && path[path.length - 1] === price) return;
  if (n >= 2) {
    const a = path[path.length - 2];
    const b = path[path.length - 1];
    if ((b > a && price > b) || (b < a && price < b)) {
      path[path.length - 1] = price;
      return;
    }
  }
  path.push(price);
}

/**
 * Paths for klines of `intervalMs` opening at `openTime` (sorted), from `trades` sorted by id
 * (time order). Trades outside every kline are ignored.
 */
export function buildTradePaths(
  k: { length: number; openTime: ArrayLike<number>; open: ArrayLike<number>; close: ArrayLike<number> },
  trades: readonly DeepTrade[],
  intervalMs = 60_000,
): IntrabarPaths {
  const offsets = new Float64Array(k.length + 1);
  const points: number[] = [];
  let t = 0;
  let klines = 0;
  for (let j = 0; j < k.length; j++) {
    offsets[j] = points.length;
    const from = k.openTime[j];
    const to = from + intervalMs;
    while (t < trades.length && trades[t].time < from) t++;
    if (t >= trades.length || trades[t].time >= to) continue;
    const start = points.length;
    push(points, start, k.open[j]);
    for (; t < trades.length && trades[t].time < to; t++) push(points, start, Number(trades[t].price));
    push(points, start, k.close[j]);
    if (points.length - start < 2) points.push(k.close[j]); // a kline that never moved: open → close (the same price)
    klines++;
  }
  offsets[k.length] = points.length;
  return { offsets, points: Float64Array.from(points), klines };
}
