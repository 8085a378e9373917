import type { BacktestConfig } from '../../core/backtest/config.js';
import { alignOpenTime, type Interval } from '../../core/market/klines.js';
import type { Marker } from '../widgets/candles.js';
import type { EquityHistory, RoundTrip } from './model.js';

/**
 * The Result page's position chart, free of any terminal: which position is shown (a key cycles
 * the equity chart and each position), the time range of its klines, and the ▲ buy / ▼ sell
 * markers of its round trips at the candles holding their fills.
 */

/** What the chart box shows: the equity history (-1) or the position at that index. */
export function nextChartView(current: number, positions: number): number {
  return current + 1 >= positions ? -1 : current + 1;
}

/**
 * The time range to load for one symbol: the simulation's balance history, widened to the round
 * trips' times (a store without history still gets a chart); aligned to the interval's open times.
 */
export function chartRange(history: EquityHistory | undefined, trades: readonly RoundTrip[], interval: Interval): { from: number; to: number } | undefined {
  let from = Infinity;
  let to = -Infinity;
  if (history && history.time.length > 0) {
    from = history.time[0];
    to = history.time[history.time.length - 1];
  }
  for (const tr of trades) {
    from = Math.min(from, tr.entryTime);
    to = Math.max(to, tr.exitTime);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to)) return undefined;
  return { from: alignOpenTime(from, interval), to: alignOpenTime(to, interval) };
}

/** Index of the last candle opening at or before `time` (-1 when all open later). */
function candleAt(openTimes: ArrayLike<number>, length: number, time: number): number {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (openTimes[mid] <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Every entry and exit of `symbol`'s round trips as a marker on the candle holding its fill time
 * (a LONG enters with a buy and exits with a sell, a SHORT the other way round). Fills before the
 * first candle or after the last one's interval (`endTime`, exclusive) are left out.
 */
export function positionMarkers(openTimes: ArrayLike<number>, length: number, endTime: number, trades: readonly RoundTrip[], symbol: string): Marker[] {
  const markers: Marker[] = [];
  const add = (time: number, kind: 'buy' | 'sell') => {
    if (time >= endTime) return;
    const index = candleAt(openTimes, length, time);
    if (index >= 0) markers.push({ index, kind, role: kind === 'buy' ? 'up' : 'down' });
  };
  for (const tr of trades) {
    if (tr.symbol !== symbol) continue;
    add(tr.entryTime, tr.side === 'LONG' ? 'buy' : 'sell');
    add(tr.exitTime, tr.side === 'LONG' ? 'sell' : 'buy');
  }
  return markers.sort((a, b) => a.index - b.index);
}

/** The position a chart view names, or undefined for the equity view. */
export function chartPosition(config: BacktestConfig, view: number): BacktestConfig['positions'][number] | undefined {
  return view >= 0 ? config.positions[view] : undefined;
}
