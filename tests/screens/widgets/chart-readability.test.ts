import { describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import type { Theme } from '../../../src/screens/theme.js';
import { CandleChart } from '../../../src/screens/widgets/candles.js';
import { CHART_KEYS } from '../../../src/screens/widgets/chart-keys.js';
import { keys as marketKeys } from '../../../src/screens/market/index.js';
import { keys as analysisKeys } from '../../../src/screens/analysis/index.js';
import { makeRows } from '../../core/market/fixtures.js';

const noColor: Theme = { name: 'none', color: false, colors: {} as Theme['colors'] };
const T0 = Date.UTC(2024, 0, 1);

/** A simple moving average of the closes (NaN until `n` candles). */
function sma(close: Float64Array, length: number, n: number): Float64Array {
  const out = new Float64Array(length).fill(NaN);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    sum += close[i];
    if (i >= n) sum -= close[i - n];
    if (i >= n - 1) out[i] = sum / n;
  }
  return out;
}

describe('chart readability', () => {
  const klines = klinesFromRows(makeRows(T0, 20_000, '1m', 5, 2.0));

  it('fully zoomed out, the overlays still show in (nearly) every column', () => {
    const chart = new CandleChart(noColor);
    chart.setData(klines);
    chart.setOverlays([
      { id: 'SMA1', values: sma(klines.close, klines.length, 50), role: 'accent', glyph: '•' },
      { id: 'BOL1.upper', values: sma(klines.close, klines.length, 50).map((v) => v * 1.01), role: 'warn', glyph: '∙' },
    ]);
    chart.lines(120, 30);
    chart.zoomToFit();
    expect(chart.candlesPerColumn).toBeGreaterThan(100);
    const lines = chart.lines(120, 30);
    const price = lines.slice(2, 20).map((l) => l.slice(0, 108));
    for (const glyph of ['•', '∙']) {
      const columns = new Set<number>();
      for (const line of price) [...line].forEach((ch, c) => ch === glyph && columns.add(c));
      expect(columns.size, glyph).toBeGreaterThan(80) // of 108: before the fix none showed;
    }
  });

  it('a legend names each overlay and panel line with its value at the cursor', () => {
    const chart = new CandleChart(noColor);
    chart.setData(klines);
    const values = sma(klines.close, klines.length, 20);
    chart.setOverlays([{ id: 'SMA1', values, role: 'accent' }]);
    chart.setPanels([{ id: 'RSI1', title: 'RSI1', height: 4, min: 0, max: 100, series: [{ values: new Float64Array(klines.length).fill(42.5), role: 'warn' }] }]);
    const legendValue = (line: string) => Number(/•SMA1 (\S+)/.exec(line)?.[1]);
    let lines = chart.lines(120, 30);
    expect(legendValue(lines[1])).toBeCloseTo(values[klines.length - 1], 2);
    expect(lines[1]).toContain('RSI1 42.5');
    chart.moveCursor(-300);
    lines = chart.lines(120, 30);
    expect(legendValue(lines[1])).toBeCloseTo(values[klines.length - 301], 2); // follows the cursor
    expect(values[klines.length - 301]).not.toBeCloseTo(values[klines.length - 1], 2);
  });

  it('time axis labels differ from each other at 1h (the date where the day changes)', () => {
    const hourly = klinesFromRows(makeRows(T0, 500, '1h', 5, 2.0));
    const chart = new CandleChart(noColor);
    chart.setData(hourly);
    const lines = chart.lines(120, 20);
    const labels = lines[lines.length - 1].split('╵').map((s) => s.trim()).filter(Boolean);
    expect(labels.length).toBeGreaterThan(4);
    for (let i = 1; i < labels.length; i++) expect(labels[i], labels.join(' | ')).not.toBe(labels[i - 1]);
    expect(labels.some((l) => /^\d\d-\d\d \d\d:\d\d$/.test(l))).toBe(true);
  });

  it('zoom says when it is at either end', () => {
    const chart = new CandleChart(noColor);
    chart.setData(klines);
    chart.lines(120, 20);
    expect(chart.zoom(1)).toBe(false); // one candle per column already
    expect(chart.zoom(-1)).toBe(true);
    chart.zoomToFit();
    expect(chart.zoom(-1)).toBe(false);
  });

  it('one set of chart keys on the Market and Currency Analysis pages', () => {
    for (const [id, def] of Object.entries(CHART_KEYS)) {
      expect((marketKeys as Record<string, unknown>)[id], id).toEqual(def);
      expect((analysisKeys as Record<string, unknown>)[id], id).toEqual(def);
    }
    for (const key of ['g', 'S-g', 'S-h', 'S-l', '[', ']']) {
      expect(Object.values(analysisKeys).some((d) => d.keys.includes(key)), key).toBe(true);
    }
  });
});
