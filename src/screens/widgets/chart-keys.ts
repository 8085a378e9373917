import type { TFunction } from '../../core/i18n.js';
import { defineKeys } from '../keys.js';
import type { CandleChart } from './candles.js';

/**
 * The chart's keys, one set for every page that shows a CandleChart (Market, Currency
 * Analysis): cursor, pan, zoom, first/last candle and the interval.
 */
export const CHART_KEYS = defineKeys({
  left: { keys: ['h', 'left'], label: 'chart.keys.left' },
  right: { keys: ['l', 'right'], label: 'chart.keys.right' },
  panBack: { keys: ['S-h', 'pageup'], label: 'chart.keys.panBack' },
  panForward: { keys: ['S-l', 'pagedown'], label: 'chart.keys.panForward' },
  zoomIn: { keys: ['+', '='], label: 'chart.keys.zoomIn', hint: true },
  zoomOut: { keys: ['-'], label: 'chart.keys.zoomOut', hint: true },
  start: { keys: ['g', 'home'], label: 'chart.keys.start' },
  end: { keys: ['S-g', 'end'], label: 'chart.keys.end' },
  intervalNext: { keys: [']'], label: 'chart.keys.intervalNext', hint: true },
  intervalPrev: { keys: ['['], label: 'chart.keys.intervalPrev' },
});

export type ChartKeyId = keyof typeof CHART_KEYS;

export interface ChartHost {
  t: TFunction;
  /** Redraws the chart after a change. */
  redraw(): void;
  toast(message: string): void;
  /** Switches to the next (+1) or previous (-1) interval. */
  switchInterval(by: 1 | -1): void;
}

/** The actions of CHART_KEYS on `chart`; `+`/`-` at the end of the zoom say so. */
export function chartActions(chart: CandleChart, host: ChartHost, plotWidth: () => number): Record<ChartKeyId, () => void> {
  const on = (fn: () => void) => () => {
    fn();
    host.redraw();
  };
  const half = () => Math.max(1, Math.floor(plotWidth() / 2));
  const zoom = (direction: 1 | -1) => () => {
    if (!chart.zoom(direction)) host.toast(host.t(direction > 0 ? 'chart.zoomDeepest' : 'chart.zoomWidest'));
    host.redraw();
  };
  return {
    left: on(() => chart.moveCursor(-1)),
    right: on(() => chart.moveCursor(1)),
    panBack: on(() => chart.pan(-half())),
    panForward: on(() => chart.pan(half())),
    zoomIn: zoom(1),
    zoomOut: zoom(-1),
    start: on(() => chart.home()),
    end: on(() => chart.end()),
    intervalNext: () => host.switchInterval(1),
    intervalPrev: () => host.switchInterval(-1),
  };
}
