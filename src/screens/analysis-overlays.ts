import type { IndicatorInfo } from '../core/analysis/service.js';
import type { ThemeRole } from './theme.js';
import type { Marker, Overlay, SubPanel } from './widgets/candles.js';

/**
 * How an analysis' output is drawn on the candle chart, shared by the Currency Analysis page (a
 * live analysis) and the Market page (a temporary analysis over the visible range):
 * - overlay indicators (SMA, EMA, WMA, PSAR, BOL, IVP): one line per output line over the prices;
 *   PIP's swing highs/lows as marks over the prices at the kline that confirms them;
 * - oscillators: sub-panels, each with one scale. Lines of different units never share a panel:
 *   DMIXADX's +DI/−DI/ADX (0..100) and its ATH-normalised combined signal `norm` (−1..1) get a
 *   panel each, as do MFI (0..100) and its `norm`; MMACD's macd/signal (price units) and its
 *   `norm`; NES `value` and WOI `value` (−1..1); PIP's filtered classical signal `cs` (−1..1) with
 *   its action direction (−1/0/+1).
 * - PIP's impulses: ▲ (enter/flip long) and ▼ (short) markers on the candles.
 */

/** Rows from an analysis: column names `<TYPE>[#n].<line>`, open times, one array per column. */
export interface AnalysisRows {
  columns: readonly string[];
  openTime: Float64Array;
  values: Float64Array[];
}

export interface ChartLayers {
  overlays: Overlay[];
  panels: SubPanel[];
  markers: Marker[];
  /** Titles of sub-panels left out for lack of room (`maxPanels`). */
  omitted: string[];
}

export const LINE_ROLES: ThemeRole[] = ['accent', 'warn', 'up', 'down', 'muted', 'fg'];

interface PanelSpec {
  /** Appended to the indicator's label in the panel title ('' for the main panel). */
  suffix: string;
  lines: string[];
  min?: number;
  max?: number;
  levels?: number[];
  height: number;
}

const MMACD_PANELS: PanelSpec[] = [
  { suffix: '', lines: ['macd', 'signal'], levels: [0], height: 4 },
  { suffix: ' norm', lines: ['norm'], min: -1, max: 1, levels: [0], height: 3 },
];

/** Oscillators drawn in sub-panels: one entry per panel, each with its own scale. */
export const PANELS: Record<string, PanelSpec[]> = {
  MMACD: MMACD_PANELS,
  MMACDSHORT: MMACD_PANELS,
  MMACDLONG: MMACD_PANELS,
  DMIXADX: [
    { suffix: '', lines: ['plusDI', 'minusDI', 'adx'], min: 0, max: 100, levels: [25], height: 4 },
    { suffix: ' norm', lines: ['norm'], min: -1, max: 1, levels: [0], height: 3 },
  ],
  MFI: [
    { suffix: '', lines: ['value'], min: 0, max: 100, levels: [20, 80], height: 4 },
    { suffix: ' norm', lines: ['norm'], min: -1, max: 1, levels: [0], height: 3 },
  ],
  NES: [{ suffix: '', lines: ['value'], min: -1, max: 1, levels: [0], height: 4 }],
  WOI: [{ suffix: '', lines: ['value'], min: -1, max: 1, levels: [0], height: 4 }],
  PIP: [{ suffix: ' cs', lines: ['cs', 'direction'], min: -1, max: 1, levels: [0], height: 4 }],
};

export interface LayerOptions {
  /** Only candles [from, to) get values (the analysed range); default all. */
  from?: number;
  to?: number;
  /** At most this many sub-panels (main panels come first, then the normalised ones); default 4. */
  maxPanels?: number;
}

/**
 * Maps analysis rows onto the chart's candles (by open time: rows and candles match one to one
 * unless klines are missing) and builds the overlays, sub-panels and markers to draw.
 * `candleTimes` are the chart's candle open times (index = candle index).
 */
export function chartLayers(rows: AnalysisRows, candleTimes: Float64Array, catalog: readonly IndicatorInfo[], options: LayerOptions = {}): ChartLayers {
  const n = candleTimes.length;
  const from = Math.max(0, options.from ?? 0);
  const to = Math.min(n, options.to ?? n);
  const maxPanels = options.maxPanels ?? 4;
  const rowOf = new Map<number, number>();
  for (let i = 0; i < rows.openTime.length; i++) rowOf.set(rows.openTime[i], i);
  const pick = (column: string): Float64Array => {
    const out = new Float64Array(n).fill(NaN);
    const c = rows.columns.indexOf(column);
    if (c < 0) return out;
    const values = rows.values[c];
    for (let i = from; i < to; i++) {
      const r = rowOf.get(candleTimes[i]);
      if (r !== undefined) out[i] = values[r];
    }
    return out;
  };

  const overlays: Overlay[] = [];
  const candidates: { panel: SubPanel; at: number; k: number }[] = [];
  let role = 0;
  const prefixes = [...new Set(rows.columns.map((c) => c.split('.')[0]))];
  prefixes.forEach((prefix, at) => {
    const type = prefix.split('#')[0];
    const spec = catalog.find((s) => s.type === type);
    if (spec?.overlay) {
      for (const line of spec.lines) {
        overlays.push({ id: `${prefix}.${line}`, values: pick(`${prefix}.${line}`), role: LINE_ROLES[role++ % LINE_ROLES.length], glyph: type === 'PSAR' ? '·' : undefined });
      }
      return;
    }
    (PANELS[type] ?? []).forEach((p, k) => {
      const panel: SubPanel = {
        id: `${prefix}${p.suffix}`, title: `${prefix}${p.suffix}`, height: p.height, min: p.min, max: p.max, levels: p.levels,
        series: p.lines.map((line, i) => ({ values: pick(`${prefix}.${line}`), role: LINE_ROLES[i % LINE_ROLES.length] })),
      };
      candidates.push({ panel, at, k });
    });
  });
  if (prefixes.includes('PIP')) {
    overlays.push({ id: 'PIP.swingHigh', values: pick('PIP.swingHigh'), role: 'down', glyph: '−' });
    overlays.push({ id: 'PIP.swingLow', values: pick('PIP.swingLow'), role: 'up', glyph: '−' });
  }
  // With too little room the main panels win over the normalised ones; shown in the CAC's order.
  candidates.sort((a, b) => Math.sign(a.k) - Math.sign(b.k) || a.at - b.at || a.k - b.k);
  const kept = candidates.slice(0, maxPanels).sort((a, b) => a.at - b.at || a.k - b.k);
  const panels = kept.map((c) => c.panel);
  const omitted = candidates.slice(maxPanels).map((c) => c.panel.title ?? c.panel.id);

  const impulse = pick('PIP.impulse');
  const markers: Marker[] = [];
  for (let i = from; i < to; i++) {
    if (impulse[i] === 1) markers.push({ index: i, kind: 'buy', role: 'up' });
    else if (impulse[i] === -1) markers.push({ index: i, kind: 'sell', role: 'down' });
  }
  return { overlays, panels, markers, omitted };
}
