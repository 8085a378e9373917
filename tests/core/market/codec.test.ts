import { describe, expect, it } from 'vitest';
import { aggregateKlines, canAggregate } from '../../../src/core/market/aggregate.js';
import { decodeChunkToKlines, decodeOpenTimes, encodeChunk } from '../../../src/core/market/codec.js';
import { alignOpenTime, findGaps, klinesEqual, klinesFromRows, nextOpenTime, sliceKlines, type Kline } from '../../../src/core/market/klines.js';
import { makeKlines, makeRows } from './fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('sdv1 codec', () => {
  it('round-trips every value exactly and packs a 1m day small', () => {
    const k = makeKlines(T0, 1440, '1m', 3);
    const blob = encodeChunk(k);
    expect(klinesEqual(decodeChunkToKlines(blob), k)).toBe(true);
    expect(Array.from(decodeOpenTimes(blob))).toEqual(Array.from(k.openTime.subarray(0, k.length)));
    expect(blob.length / k.length).toBeLessThan(24);
    expect(() => decodeChunkToKlines(blob.subarray(0, blob.length - 5))).toThrow('kline chunk truncated');
  });

  it('falls back to raw float64 for values without a short decimal form, still exact', () => {
    const rows = makeRows(T0, 50).map((r, i) => ({ ...r, volume: i === 7 ? Math.PI : r.volume, high: i === 9 ? r.high + 1e-15 * r.high : r.high }));
    const k = klinesFromRows(rows);
    expect(klinesEqual(decodeChunkToKlines(encodeChunk(k)), k)).toBe(true);
  });

  it('round-trips long varints (5-8 bytes, both signs) exactly', () => {
    const rows = makeRows(T0, 64).map((r, i) => {
      const big = i % 2 === 0 ? 12345678.12345678 : 0.00000001; // price jumps of ~1.2e15 scaled units
      return { ...r, open: big, high: big + 1, low: big / 2, close: i % 3 === 0 ? big : 1.5, volume: 2 ** 32 + i, trades: 2 ** 28 + i * 1000 };
    });
    const k = klinesFromRows(rows);
    expect(klinesEqual(decodeChunkToKlines(encodeChunk(k)), k)).toBe(true);
  });

  it('handles gaps, a single row, an empty chunk, and bad OHLC order', () => {
    const rows = makeRows(T0, 30).filter((_, i) => i % 7 !== 3);
    rows[0] = { ...rows[0], high: rows[0].low - 1 }; // inconsistent on purpose
    const k = klinesFromRows(rows);
    expect(klinesEqual(decodeChunkToKlines(encodeChunk(k)), k)).toBe(true);
    const one = sliceKlines(k, 0, 1);
    expect(klinesEqual(decodeChunkToKlines(encodeChunk(one)), one)).toBe(true);
    expect(decodeChunkToKlines(encodeChunk(sliceKlines(k, 0, 0))).length).toBe(0);
  });
});

describe('intervals and gaps', () => {
  it('aligns to UTC boundaries, Monday weeks and calendar months', () => {
    const t = Date.UTC(2024, 1, 29, 13, 47, 12); // Thursday 2024-02-29
    expect(alignOpenTime(t, '1h')).toBe(Date.UTC(2024, 1, 29, 13));
    expect(alignOpenTime(t, '4h')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(alignOpenTime(t, '1d')).toBe(Date.UTC(2024, 1, 29));
    expect(alignOpenTime(t, '1w')).toBe(Date.UTC(2024, 1, 26)); // Monday
    expect(new Date(alignOpenTime(t, '1w')).getUTCDay()).toBe(1);
    expect(alignOpenTime(t, '1M')).toBe(Date.UTC(2024, 1, 1));
    expect(nextOpenTime(Date.UTC(2024, 1, 1), '1M')).toBe(Date.UTC(2024, 2, 1));
    expect(nextOpenTime(Date.UTC(2024, 11, 1), '1M')).toBe(Date.UTC(2025, 0, 1));
  });

  it('finds gaps with their size', () => {
    const rows = makeRows(T0, 10).filter((_, i) => i !== 3 && i !== 4 && i !== 8);
    expect(findGaps(klinesFromRows(rows), '1m')).toEqual([
      { from: T0 + 3 * 60_000, to: T0 + 4 * 60_000, missing: 2 },
      { from: T0 + 8 * 60_000, to: T0 + 8 * 60_000, missing: 1 },
    ]);
  });
});

describe('aggregation', () => {
  /** Reference: the textbook definition applied to plain objects. */
  function reference(rows: Kline[], bucket: (t: number) => number): Kline[] {
    const out = new Map<number, Kline>();
    for (const r of rows) {
      const b = bucket(r.openTime);
      const o = out.get(b);
      if (!o) out.set(b, { ...r, openTime: b });
      else {
        o.high = Math.max(o.high, r.high);
        o.low = Math.min(o.low, r.low);
        o.close = r.close;
        o.volume = Number((o.volume + r.volume).toFixed(1));
        o.quoteVolume = Number((o.quoteVolume + r.quoteVolume).toFixed(4));
        o.trades += r.trades;
        o.takerBuyVolume = Number((o.takerBuyVolume + r.takerBuyVolume).toFixed(1));
        o.takerBuyQuoteVolume = Number((o.takerBuyQuoteVolume + r.takerBuyQuoteVolume).toFixed(4));
      }
    }
    return [...out.values()];
  }

  it('builds 5m, 1h, 1d, 1w and 1M from 1m equal to the definition, with exact decimal sums', () => {
    const start = Date.UTC(2024, 0, 29, 22, 0); // crosses a month end and a Monday
    const rows = makeRows(start, 4 * 1440 + 17, '1m', 11);
    const k = klinesFromRows(rows);
    for (const interval of ['5m', '1h', '1d', '1w', '1M'] as const) {
      const agg = aggregateKlines(k, '1m', interval, { partial: true });
      const ref = klinesFromRows(reference(rows, (t) => alignOpenTime(t, interval)));
      expect(klinesEqual(agg, ref), interval).toBe(true);
    }
    // without partial, the last incomplete hour is dropped
    const hours = aggregateKlines(k, '1m', '1h');
    expect(hours.openTime[hours.length - 1]).toBe(alignOpenTime(start + (4 * 1440 + 17) * 60_000, '1h') - 3_600_000);
    expect(canAggregate('1h', '4h')).toBe(true);
    expect(canAggregate('1h', '1M')).toBe(true);
    expect(canAggregate('3d', '1w')).toBe(false);
    expect(canAggregate('4h', '1h')).toBe(false);
  });
});
