import { describe, expect, it } from 'vitest';
import { validateCac } from '../../src/core/analysis/cac.js';
import { analyzeBatch } from '../../src/core/analysis/engine.js';
import { INDICATORS } from '../../src/core/analysis/indicators/index.js';
import { chartLayers } from '../../src/screens/analysis-overlays.js';
import { CandleChart } from '../../src/screens/widgets/candles.js';
import type { Theme } from '../../src/screens/theme.js';
import { generateKlines, toKlines } from '../core/analysis/data.js';

const catalog = Object.values(INDICATORS).map((s) => ({ type: s.type, lines: s.lines, overlay: s.overlay, summary: s.summary, params: [] }));

describe('analysis chart layers (shared by the Currency Analysis and Market pages)', () => {
  const k = generateKlines(400, 4);
  const cac = validateCac({ name: 'x', indicators: ['EMA:n=10', 'DMIXADX:n=7', 'MFI:n=7'], pip: { mode: 'classical', csNSamples: 5, csAt1: 0.2, csAt2: 0.05 } });
  const rows = analyzeBatch(cac, k);

  it('gives lines of different units their own panel and scale: DI/ADX 0..100, the ATH-normalised signal -1..1', () => {
    const layers = chartLayers(rows, k.openTime, catalog, { maxPanels: 10 });
    const byId = new Map(layers.panels.map((p) => [p.id, p]));
    expect([...byId.keys()]).toEqual(['DMIXADX', 'DMIXADX norm', 'MFI', 'MFI norm', 'PIP cs']);
    expect(byId.get('DMIXADX')).toMatchObject({ min: 0, max: 100 });
    expect(byId.get('DMIXADX')!.series).toHaveLength(3);
    expect(byId.get('DMIXADX norm')).toMatchObject({ min: -1, max: 1 });
    expect(byId.get('MFI norm')).toMatchObject({ min: -1, max: 1 });
    expect(layers.overlays.map((o) => o.id)).toEqual(['EMA.value', 'PIP.swingHigh', 'PIP.swingLow']);
    expect(layers.markers.length).toBeGreaterThan(0);
    expect(layers.omitted).toEqual([]);
    // the normalised signal uses the height of its panel instead of a flat line at the bottom
    const chart = new CandleChart({ name: 'none', color: false, colors: {} as Theme['colors'] });
    chart.setData(toKlines(k));
    chart.setPanels([byId.get('DMIXADX norm')!]);
    const text = chart.lines(120, 30);
    const panelRows = text.slice(-4, -1);
    expect(panelRows[0]).toContain('DMIXADX norm');
    expect(panelRows.filter((l) => /[▀▄]/.test(l)).length).toBeGreaterThanOrEqual(2);
  });

  it('leaves the normalised panels out first when room is short, and only fills the given range', () => {
    const layers = chartLayers(rows, k.openTime, catalog, { maxPanels: 3, from: 100, to: 200 });
    expect(layers.panels.map((p) => p.id)).toEqual(['DMIXADX', 'MFI', 'PIP cs']);
    expect(layers.omitted).toEqual(['DMIXADX norm', 'MFI norm']);
    const ema = layers.overlays[0].values;
    expect(Number.isNaN(ema[99])).toBe(true);
    expect(ema[150]).toBe(rows.values[rows.columns.indexOf('EMA.value')][150]);
    expect(Number.isNaN(ema[200])).toBe(true);
    for (const m of layers.markers) expect(m.index >= 100 && m.index < 200).toBe(true);
  });
});
