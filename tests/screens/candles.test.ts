import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows, type Kline } from '../../src/core/market/klines.js';
import type { Theme } from '../../src/screens/theme.js';
import { CandleChart } from '../../src/screens/widgets/candles.js';
import { headlessScreen, type HeadlessScreen } from '../helpers/screen.js';
import { makeKlines } from '../core/market/fixtures.js';

const noColor: Theme = { name: 'none', color: false, colors: {} as Theme['colors'] };
const color: Theme = {
  name: 'test',
  color: true,
  colors: { fg: 'white', bg: 'default', accent: 'cyan', muted: 'grey', border: 'grey', tabActiveFg: 'black', tabActiveBg: 'cyan', statusFg: 'white', statusBg: 'black', up: 'green', down: 'red', warn: 'yellow', error: 'red', selectedFg: 'black', selectedBg: 'cyan' },
};
const T0 = Date.UTC(2024, 0, 1);
const k = (i: number, open: number, high: number, low: number, close: number, volume = 1): Kline => ({
  openTime: T0 + i * 60_000, open, high, low, close, volume, quoteVolume: volume * close, trades: 1, takerBuyVolume: 0, takerBuyQuoteVolume: 0,
});

describe('CandleChart', () => {
  let hs: HeadlessScreen | undefined;
  afterEach(() => {
    hs?.destroy();
    hs = undefined;
  });

  it('draws known candles with half-cell bodies and wicks in a real blessed screen', () => {
    hs = headlessScreen(40, 8);
    const chart = new CandleChart(noColor);
    chart.setData(klinesFromRows([k(0, 10, 16, 8, 14), k(1, 14, 14, 10, 10), k(2, 12, 13, 11, 12)]));
    chart.attach(hs.screen, { top: 0, left: 0, width: 40, height: 6 });
    chart.render();
    hs.screen.render();
    const lines = hs.text();
    // row 0: readout of the cursor candle (the last one)
    expect(lines[0]).toContain('2024-01-01 00:02');
    expect(lines[0]).toContain('O 12  H 13  L 11  C 12');
    // 4 price rows = 8 half-cells over 8..16: up candle wick/body/body/wick, falling body in
    // blocks (no colour), doji with wick halves
    expect(lines.slice(1, 5).map((l) => l.slice(0, 3))).toEqual(['│  ', '┃█╷', '┃█╹', '│  ']);
    expect(lines[1]).toContain('┤16');
    expect(lines[5]).toContain('╵01-01 00:00'); // the first label carries the date
  });

  it('colours rising and falling candles from the theme roles', () => {
    const chart = new CandleChart(color);
    chart.setData(klinesFromRows([k(0, 10, 16, 8, 14), k(1, 14, 14, 10, 10)]));
    const text = chart.lines(30, 6).join('\n');
    expect(text).toContain('{green-fg}┃');
    expect(text).toContain('{red-fg}┃');
  });

  it('zoomed out, each column is the exact aggregate of its candles (pyramid = brute force)', () => {
    const data = makeKlines(T0, 5000, '1m', 21);
    const chart = new CandleChart(noColor);
    chart.setData(data);
    chart.lines(60, 20); // plot width becomes known
    chart.zoomToFit();
    chart.pan(-3);
    const cols = chart.columns(52);
    expect(cols.length).toBeGreaterThan(10);
    for (const col of cols) {
      let hi = -Infinity;
      let lo = Infinity;
      let vol = 0;
      for (let i = col.a; i < col.b; i++) {
        hi = Math.max(hi, data.high[i]);
        lo = Math.min(lo, data.low[i]);
        vol += data.volume[i];
      }
      expect(col.high).toBe(hi);
      expect(col.low).toBe(lo);
      expect(col.open).toBe(data.open[col.a]);
      expect(col.close).toBe(data.close[col.b - 1]);
      expect(col.volume).toBeCloseTo(vol, 6);
    }
    // appended candles update the pyramid incrementally
    for (let i = 0; i < 40; i++) chart.append(k(5000 + i, 3, 1000 + i, 1, 3));
    chart.end();
    const last = chart.columns(52).at(-1)!;
    expect(last.high).toBe(1039);
  });

  it('shows the forming candle, overlays, markers and a sub-panel', () => {
    const chart = new CandleChart(noColor);
    const rows = Array.from({ length: 20 }, (_, i) => k(i, 10 + i, 11 + i, 9 + i, 10.5 + i));
    chart.setData(klinesFromRows(rows));
    chart.setForming(k(20, 30.5, 32, 30, 31));
    const sma = new Float64Array(20).fill(NaN);
    for (let i = 5; i < 20; i++) sma[i] = 5 + i; // below the candles
    chart.setOverlays([{ id: 'sma', values: sma, role: 'accent', glyph: '·' }]);
    chart.setMarkers([{ index: 10, kind: 'buy' }]);
    chart.setPanels([{ id: 'rsi', height: 3, min: 0, max: 100, levels: [30, 70], series: [{ values: new Float64Array(20).fill(50), role: 'accent' }], title: 'RSI' }]);
    const lines = chart.lines(60, 24);
    const text = lines.join('\n');
    expect(lines[0]).toContain('2024-01-01 00:20 *'); // the forming candle is under the cursor
    expect(lines[0]).toContain('C 31');
    expect(text).toContain('·');
    expect(text).toContain('▲');
    expect(text).toContain('RSI');
    expect(text).toContain('┄');
    // a closed candle replaces the forming one
    chart.append(k(20, 30.5, 32, 30, 31.5));
    expect(chart.lines(60, 24)[0]).not.toContain('*');
    expect(chart.length).toBe(21);
  });

  it('moves the cursor and zooms without losing the cursor candle', () => {
    const chart = new CandleChart(noColor);
    chart.setData(makeKlines(T0, 1000, '1m', 3));
    chart.lines(60, 20);
    chart.moveCursor(-5);
    const before = chart.cursorCandle()!.index;
    expect(before).toBe(994);
    chart.zoom(-1);
    chart.zoom(-1);
    expect(chart.candlesPerColumn).toBe(4);
    const col = chart.columns(52).find((c) => c.a <= before && before < c.b);
    expect(col).toBeDefined();
    chart.home();
    expect(chart.lines(60, 20)[0]).toContain('2024-01-01 00:0'); // the first column
  });

  it('says so when there is no data', () => {
    const chart = new CandleChart(noColor);
    chart.labels = { ...chart.labels, empty: 'nothing stored' };
    expect(chart.lines(40, 8).join('\n')).toContain('nothing stored');
  });
});
