import { describe, expect, it } from 'vitest';
import { aggregateKlines } from '../../../src/core/market/aggregate.js';
import { getKline, klinesFromRows, rangeOf, sliceKlines, type Interval, type Kline, type Klines } from '../../../src/core/market/klines.js';
import type { SeriesInfo, StoredSymbol } from '../../../src/core/market/repository.js';
import { ChartSeries, SymbolList, symbolRows, type SymbolRow } from '../../../src/screens/market/model.js';
import { makeKlines, makeRows } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const DAY = 86_400_000;

const info = (symbol: string, interval: Interval, k: Klines): SeriesInfo => ({
  symbol, interval, first: k.openTime[0], last: k.openTime[k.length - 1], rows: k.length, missing: 0, bytes: 0, chunks: 0, updatedAt: 0, source: 'binance',
} as SeriesInfo);
const listed = (symbol: string, status = 'TRADING'): StoredSymbol => ({ symbol, status, baseAsset: symbol.slice(0, 3), quoteAsset: 'USDT', tickSize: '0.01', pricePrecision: 2, onboardDate: null, firstKlineTime: null });
const row = (symbol: string, change: number, volume: number): SymbolRow => ({ symbol, base: '1m', last: 1, change, volume, lastTime: 1 });

describe('symbolRows', () => {
  it('takes the lowest stored interval as base, the last day as change and volume, then listed symbols with nothing stored', () => {
    const eth1m = makeKlines(T0, 2 * 1440, '1m', 3);
    const eth1h = makeKlines(T0, 48, '1h', 4);
    const btc = makeKlines(T0, 600, '1m', 5); // 10 hours: no 24 h change
    const stored: Record<string, Klines> = { 'ETHUSDT 1m': eth1m, 'ETHUSDT 1h': eth1h, 'BTCUSDT 1m': btc };
    const rows = symbolRows(
      [info('ETHUSDT', '1h', eth1h), info('ETHUSDT', '1m', eth1m), info('BTCUSDT', '1m', btc), { ...info('XRPUSDT', '1m', btc), rows: 0 }],
      [listed('ETHUSDT'), listed('SOLUSDT'), listed('OLDUSDT', 'SETTLING')],
      (symbol, interval, from, to) => rangeOf(stored[`${symbol} ${interval}`], from, to),
    );
    expect(rows.map((r) => [r.symbol, r.base])).toEqual([['ETHUSDT', '1m'], ['BTCUSDT', '1m'], ['SOLUSDT', '1m']]);
    const eth = rows[0];
    const lastTime = eth1m.openTime[eth1m.length - 1];
    const day = rangeOf(eth1m, lastTime - DAY, lastTime);
    expect(eth.last).toBe(eth1m.close[eth1m.length - 1]);
    expect(eth.change).toBeCloseTo(((eth.last - day.open[0]) / day.open[0]) * 100, 10);
    let volume = 0;
    for (let i = 0; i < day.length; i++) volume += day.quoteVolume[i];
    expect(eth.volume).toBeCloseTo(volume, 6);
    expect(rows[1].change).toBeNaN(); // less than a day stored
    expect(rows[1].volume).toBeGreaterThan(0);
    expect(rows[2]).toMatchObject({ symbol: 'SOLUSDT', lastTime: 0 });
    expect(rows[2].last).toBeNaN();
  });
});

describe('SymbolList', () => {
  const list = () => {
    const l = new SymbolList();
    l.rows = [row('BTCUSDT', -2, 900), row('ETHUSDT', 3, 100), row('SOLUSDT', NaN, NaN), row('ADAUSDT', 3, 50)];
    return l;
  };

  it('sorts by change (unknown last, ties by name), by volume, by name; the cursor follows the selection', () => {
    const l = list();
    expect(l.visible().map((r) => r.symbol)).toEqual(['ADAUSDT', 'ETHUSDT', 'BTCUSDT', 'SOLUSDT']);
    l.cursor = 2; // BTCUSDT
    l.nextSort('BTCUSDT');
    expect(l.sort).toBe('volume');
    expect(l.visible().map((r) => r.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT']);
    expect(l.cursor).toBe(0);
    l.nextSort('SOLUSDT');
    expect(l.visible().map((r) => r.symbol)).toEqual(['ADAUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expect(l.cursor).toBe(3);
    l.nextSort(undefined);
    expect(l.sort).toBe('change');
    expect(l.cursor).toBe(0);
  });

  it('clamps the cursor at both ends and says when the list is empty', () => {
    const l = list();
    expect(l.move(-5)).toBe('ADAUSDT');
    expect(l.cursor).toBe(0);
    expect(l.move(10)).toBe('SOLUSDT');
    expect(l.cursor).toBe(3);
    l.rows = [];
    expect(l.move(1)).toBeUndefined();
    expect(l.clampedCursor()).toBe(0);
  });

  it('filters on typed letters and digits (upper-cased), backspace shortens, Esc clears, Enter keeps it', () => {
    const l = list();
    l.filtering = true;
    l.cursor = 3;
    expect(l.typeFilter({ char: 't' })).toBe(true);
    expect(l.cursor).toBe(0);
    expect(l.typeFilter({ char: 'h' })).toBe(true);
    expect(l.typeFilter({ char: '-' })).toBe(false);
    expect(l.filter).toBe('TH');
    expect(l.visible().map((r) => r.symbol)).toEqual(['ETHUSDT']);
    l.typeFilter('backspace');
    expect(l.visible().map((r) => r.symbol)).toEqual(['ADAUSDT', 'ETHUSDT', 'BTCUSDT', 'SOLUSDT']); // every one has a T
    l.typeFilter('enter');
    expect(l.filtering).toBe(false);
    expect(l.filter).toBe('T');
    l.filtering = true;
    l.typeFilter('escape');
    expect([l.filter, l.filtering]).toEqual(['', false]);
    expect(l.visible()).toHaveLength(4);
  });
});

describe('ChartSeries', () => {
  const merged = (parts: Kline[], interval: Interval) => getKline(aggregateKlines(klinesFromRows(parts), '1m', interval, { partial: true }), 0);

  it('charts complete buckets as closed candles and the incomplete last one as the forming candle', () => {
    const base = makeKlines(T0, 5 * 20 + 3, '1m', 7); // 20 full 5m buckets, then 3 minutes
    const s = new ChartSeries();
    s.load('ETHUSDT', base, '1m');
    expect(s.closed().length).toBe(base.length);
    expect(s.forming()).toBeUndefined();
    expect(s.switchInterval(2)).toBe(true);
    expect(s.interval).toBe('5m');
    const closed = s.closed();
    expect(closed.length).toBe(20);
    expect(getKline(closed, 19)).toEqual(getKline(aggregateKlines(sliceKlines(base, 95, 100), '1m', '5m'), 0));
    const forming = s.forming()!;
    expect(forming.openTime).toBe(T0 + 100 * MIN);
    expect(forming).toEqual(merged(makeRows(T0, 103, '1m', 7).slice(100), '5m'));
  });

  it('merges the forming base kline into the incomplete bucket (max high, min low, its close, summed volume)', () => {
    const rows = makeRows(T0, 8, '1m', 9); // one 5m bucket and 3 minutes of the next
    const s = new ChartSeries();
    s.interval = '5m';
    s.load('ETHUSDT', klinesFromRows(rows), '1m');
    const stored = s.forming()!;
    const live: Kline = { ...rows[7], openTime: T0 + 8 * MIN, high: 999, low: 0.5, close: 7, volume: 2.5 };
    const shown = s.onForming(live)!;
    expect(shown.openTime).toBe(T0 + 5 * MIN);
    expect(shown.open).toBe(rows[5].open);
    expect(shown.high).toBe(999);
    expect(shown.low).toBe(0.5);
    expect(shown.close).toBe(7);
    expect(shown.volume).toBeCloseTo(stored.volume + 2.5, 9);
    expect(s.closed().length).toBe(1); // the forming kline never becomes a closed candle by itself
  });

  it('a forming base kline in the next bucket is a candle of its own at the bucket start', () => {
    const rows = makeRows(T0, 5, '1m', 2); // exactly one complete 5m bucket
    const s = new ChartSeries();
    s.interval = '5m';
    s.load('X', klinesFromRows(rows), '1m');
    expect(s.forming()).toBeUndefined();
    const f = s.onForming({ ...rows[0], openTime: T0 + 6 * MIN })!;
    expect(f.openTime).toBe(T0 + 5 * MIN);
    expect(f.close).toBe(rows[0].close);
  });

  it('closed base klines: appended at the base interval; at a higher one the bucket is appended once its last minute closes', () => {
    const rows = makeRows(T0, 13, '1m', 11);
    const s = new ChartSeries();
    s.interval = '5m';
    s.load('ETHUSDT', klinesFromRows(rows.slice(0, 8)), '1m');
    s.onForming({ ...rows[8], close: 1234 });
    const u8 = s.onClosed(rows[8])!;
    expect(u8.append).toBeUndefined();
    expect(u8.forming).toEqual(merged(rows.slice(5, 9), '5m'));
    expect(s.formingBase).toBeUndefined(); // the closed kline replaced it
    expect(s.onClosed(rows[8])).toBeUndefined(); // already held
    expect(s.onClosed(rows[3])).toBeUndefined();
    const u9 = s.onClosed(rows[9])!;
    expect(u9.append).toEqual(merged(rows.slice(5, 10), '5m'));
    expect(u9.forming).toBeUndefined();
    expect(s.closed().length).toBe(2);
    const u10 = s.onClosed(rows[10])!;
    expect(u10.forming).toEqual(merged(rows.slice(10, 11), '5m'));
    // at the base interval every closed kline is a candle
    const b = new ChartSeries();
    b.load('ETHUSDT', klinesFromRows(rows.slice(0, 3)), '1m');
    expect(b.onClosed(rows[3])).toEqual({ append: rows[3], forming: undefined });
    expect(b.closed().length).toBe(4);
  });

  it('calendar buckets: weeks start Monday 00:00 UTC, months on the first, from 1d klines', () => {
    const start = Date.UTC(2024, 0, 29); // a Monday; January ends on Wednesday
    const rows = makeRows(start, 3 + 29 + 5, '1d', 4); // Jan 29..31, all of February (2024: 29 days), March 1..5
    const s = new ChartSeries();
    s.load('ETHUSDT', klinesFromRows(rows), '1d');
    expect(s.intervals()).toEqual(['1d', '1w', '1M']);
    expect(s.switchInterval(5)).toBe(true);
    expect(s.interval).toBe('1M');
    expect(s.switchInterval(1)).toBe(false); // clamped at the last
    const months = s.closed();
    // only the last bucket waits for its final kline: January (stored from the 29th) and February are
    // closed, March is forming
    expect([...months.openTime.subarray(0, months.length)]).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 1)]);
    expect(months.high[1]).toBe(Math.max(...rows.slice(3, 32).map((r) => r.high)));
    expect(s.forming()!.openTime).toBe(Date.UTC(2024, 2, 1));
    expect(s.forming()!.close).toBe(rows[rows.length - 1].close);
    s.switchInterval(-1);
    const weeks = s.closed();
    expect(new Date(weeks.openTime[0]).getUTCDay()).toBe(1);
    expect(weeks.openTime[1] - weeks.openTime[0]).toBe(7 * DAY);
  });

  it('an interval that cannot be built from the base falls back to the base', () => {
    const s = new ChartSeries();
    s.interval = '3m';
    s.load('ETHUSDT', makeKlines(T0, 10, '1h', 1), '1h');
    expect(s.interval).toBe('1h');
    expect(s.intervals()[0]).toBe('1h');
    expect(s.intervals()).not.toContain('30m');
    expect(s.switchInterval(-1)).toBe(false);
  });

  it('no symbol or no klines: no candles', () => {
    const s = new ChartSeries();
    expect(s.closed().length).toBe(0);
    expect(s.forming()).toBeUndefined();
  });
});
