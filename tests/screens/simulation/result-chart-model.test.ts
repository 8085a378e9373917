import { describe, expect, it } from 'vitest';
import { chartRange, nextChartView, positionMarkers } from '../../../src/screens/result/position-chart.js';
import type { RoundTrip } from '../../../src/screens/result/model.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const FIVE = 5 * MIN;
/** Twelve 5m candles from T0. */
const openTimes = Float64Array.from({ length: 12 }, (_, i) => T0 + i * FIVE);
const END = T0 + 12 * FIVE;

const trip = (symbol: string, side: 'LONG' | 'SHORT', entryTime: number, exitTime: number): RoundTrip => ({
  symbol, side, entryTime, exitTime, entryPrice: '100', exitPrice: '101', pnl: '1', fees: '0.1',
});

describe('Result position chart model', () => {
  it('marks a LONG entry as a buy and its exit as a sell, a SHORT the other way, at the candles holding the fills', () => {
    const trades = [
      trip('BTCUSDT', 'LONG', T0 + 7 * MIN, T0 + 23 * MIN + 59_999), // candle 1 -> candle 4 (its last ms)
      trip('BTCUSDT', 'SHORT', T0 + 25 * MIN, T0 + 50 * MIN), // exactly at candle 5's open -> exactly candle 10's open
      trip('ETHUSDT', 'LONG', T0 + 2 * MIN, T0 + 3 * MIN), // another position: not on this chart
    ];
    const markers = positionMarkers(openTimes, openTimes.length, END, trades, 'BTCUSDT');
    expect(markers.map((m) => [m.index, m.kind])).toEqual([[1, 'buy'], [4, 'sell'], [5, 'sell'], [10, 'buy']]);
    expect(markers.map((m) => m.role)).toEqual(['up', 'down', 'down', 'up']);
  });

  it('leaves out fills before the first candle and from the end of the last candle on', () => {
    const trades = [trip('BTCUSDT', 'LONG', T0 - MIN, T0 + 11 * FIVE + 4 * MIN), trip('BTCUSDT', 'SHORT', T0 + 11 * FIVE, END)];
    const markers = positionMarkers(openTimes, openTimes.length, END, trades, 'BTCUSDT');
    expect(markers.map((m) => [m.index, m.kind])).toEqual([[11, 'sell'], [11, 'sell']]);
    expect(positionMarkers(openTimes, 0, END, trades, 'BTCUSDT')).toEqual([]);
  });

  it('loads the balance history range widened to the round trips, aligned to the interval', () => {
    const history = { time: [T0 + 3 * MIN, T0 + 40 * MIN], equity: [1, 1], drawdownPct: [0, 0] };
    expect(chartRange(history, [], '5m')).toEqual({ from: T0, to: T0 + 40 * MIN });
    expect(chartRange(history, [trip('BTCUSDT', 'LONG', T0 + 1 * MIN, T0 + 58 * MIN)], '15m')).toEqual({ from: T0, to: T0 + 45 * MIN });
    expect(chartRange(undefined, [trip('BTCUSDT', 'LONG', T0 + 16 * MIN, T0 + 17 * MIN)], '5m')).toEqual({ from: T0 + 15 * MIN, to: T0 + 15 * MIN });
    expect(chartRange(undefined, [], '5m')).toBeUndefined();
  });

  it('cycles the chart from the equity history through every position and back', () => {
    const seen = [-1];
    for (let i = 0; i < 4; i++) seen.push(nextChartView(seen[seen.length - 1], 3));
    expect(seen).toEqual([-1, 0, 1, 2, -1]);
    expect(nextChartView(-1, 0)).toBe(-1);
  });
});
