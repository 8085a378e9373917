import type { TFunction } from '../../core/i18n.js';
import type { DeepStrip } from '../../core/market/deepService.js';
import type { SubPanel } from '../widgets/candles.js';

/** Rows of each deep data sub-panel under the chart. */
export const DEEP_PANEL_HEIGHT = 3;

/** What the Market page shows under the chart from stored deep data. */
export interface DeepStripView {
  /** Sub-panels for the chart: trade flow (taker buys vs sells per candle) and depth (bids vs asks near the mid). */
  panels: SubPanel[];
  /** One dim line instead, when nothing is stored for the symbol. */
  line?: string;
}

/**
 * The trade-flow and depth strip for `strip` (app.market.deep.strip over the chart's candles):
 * a panel per kind of data present; without any, one line saying none is recorded and how to get
 * it. `room` is the chart's rows left for sub-panels: panels that do not fit are left out.
 */
export function deepStripView(strip: DeepStrip | undefined, symbol: string | undefined, t: TFunction, room = Infinity): DeepStripView {
  if (!symbol) return { panels: [] };
  if (!strip || (!strip.hasTrades && !strip.hasBook)) return { panels: [], line: t('deep.strip.none', { symbol }) };
  const panels: SubPanel[] = [];
  if (strip.hasTrades) {
    panels.push({
      id: 'deep.flow', height: DEEP_PANEL_HEIGHT, min: 0, title: t('deep.strip.flow'),
      series: [{ values: strip.buy, role: 'up', label: t('deep.strip.buy') }, { values: strip.sell, role: 'down', label: t('deep.strip.sell') }],
    });
  }
  if (strip.hasBook) {
    panels.push({
      id: 'deep.depth', height: DEEP_PANEL_HEIGHT, min: 0, title: t('deep.strip.depth', { pct: strip.depthPercent }),
      series: [{ values: strip.bid, role: 'up', label: t('deep.strip.bid') }, { values: strip.ask, role: 'down', label: t('deep.strip.ask') }],
    });
  }
  const fit = Math.max(0, Math.floor(room / (DEEP_PANEL_HEIGHT + 1)));
  return { panels: panels.slice(0, fit) };
}
