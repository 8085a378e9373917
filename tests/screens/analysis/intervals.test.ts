import { describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import { chartIntervals, rowsAtInterval } from '../../../src/screens/analysis/model.js';
import { makeRows } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('an analysis drawn at a longer interval (model)', () => {
  const klines = klinesFromRows(makeRows(T0, 10, '1m', 3, 2.0));
  const openTime = new Float64Array(klines.openTime.subarray(0, 10));
  const sma = Float64Array.from({ length: 10 }, (_, i) => 100 + i);
  const impulse = new Float64Array([0, 1, 0, 0, 0, 0, 0, -1, 0, 0]);
  const rows = { columns: ['SMA#1.value', 'PIP.impulse'], openTime, values: [sma, impulse] };

  it('offers its own interval and the longer ones its candles build', () => {
    expect(chartIntervals('1m').slice(0, 4)).toEqual(['1m', '3m', '5m', '15m']);
    expect(chartIntervals('1h')).not.toContain('30m');
  });

  it('aggregates the candles; each row is the value at the candle\'s close; impulses inside are kept', () => {
    const { klines: shown, rows: out } = rowsAtInterval(klines, rows, '1m', '5m');
    expect(shown.length).toBe(2);
    expect(Array.from(out.openTime)).toEqual([T0, T0 + 5 * 60_000]);
    expect(shown.high[0]).toBe(Math.max(...Array.from(klines.high.subarray(0, 5))));
    expect(Array.from(out.values[0])).toEqual([104, 109]);
    expect(Array.from(out.values[1])).toEqual([1, -1]);
  });

  it('at its own interval changes nothing', () => {
    const same = rowsAtInterval(klines, rows, '1m', '1m');
    expect(same.klines).toBe(klines);
    expect(same.rows).toBe(rows);
  });
});
