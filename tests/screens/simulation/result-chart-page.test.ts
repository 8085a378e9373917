import { afterEach, describe, expect, it } from 'vitest';
import type { BacktestConfig } from '../../../src/core/backtest/config.js';
import { ShellHarness } from '../../helpers/shell.js';
import { MIN, T0, config, randomWalk, toStoreKlines } from '../../core/backtest/helpers.js';

const smaCross: BacktestConfig = config({
  account: { initialBalance: '10000' },
  positions: [{ symbol: 'BTCUSDT', interval: '5m', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } } }],
});

/** The lines of the chart box: from its label to the trade box's top border. */
function chartLines(lines: string[], label: string): string[] {
  const top = lines.findIndex((l) => l.includes(label));
  const bottom = lines.findIndex((l, i) => i > top && l.includes('Trades'));
  return lines.slice(top + 1, bottom);
}

describe('Simulation Result page: the position chart (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: p shows the position's candles with every entry and exit marked, then the equity again`, async () => {
      h = await new ShellHarness().start({ width, height, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(3000, 41, 20_000, T0 + MIN))) });
      const { t } = h.app;
      const run = await h.app.backtest.run(smaCross, { inProcess: true });
      const id = h.app.backtest.save(run, smaCross, 'CHARTED');
      const trips = h.app.backtest.trades(id)!;
      expect(trips.length).toBeGreaterThan(0);
      let screen = h.press('8');
      expect(screen).toContain(t('result.chart'));
      screen = h.press('p');
      const title = t('resultChart.title', { symbol: 'BTCUSDT', interval: '5m', index: 1, count: 1, trades: trips.length });
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      const shownTitle = title.slice(0, Math.min(title.length, width - 8));
      expect(screen).toContain(shownTitle);
      expect(screen).not.toContain(t('result.chart'));
      const chart = chartLines(lines, shownTitle).join('\n');
      // the first trip is a LONG or SHORT: its entry and exit make one ▲ and one ▼ somewhere
      expect(chart).toContain('▲');
      expect(chart).toContain('▼');
      // every fill is marked, several to a column when zoomed out: at most two marks per round trip
      const marks = (chart.match(/[▲▼]/g) ?? []).length;
      expect(marks).toBeLessThanOrEqual(trips.length * 2);
      // + zooms the chart in (fewer candles per column, so the drawing changes)
      h.press('+');
      expect(chartLines(h.hs.text(), shownTitle).join('\n')).not.toEqual(chart);
      // one position: p again goes back to the equity history
      screen = h.press('p');
      expect(screen).toContain(t('result.chart'));
    });
  }

  it('draws the analysis a CAC strategy read (overlays over the prices) beside its fills', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(3000, 43, 20_000, T0 + MIN))) });
    const cfg = config({
      account: { initialBalance: '10000' },
      positions: [{ symbol: 'BTCUSDT', interval: '5m', leverage: 1, strategy: { name: 'rqpm', params: {}, cac: { indicators: ['EMA:n=20', 'BOL:n=20,k=2'], pip: { mode: 'classical' } } } }],
    });
    const run = await h.app.backtest.run(cfg, { inProcess: true });
    h.app.backtest.save(run, cfg, 'WITHCAC');
    h.press('8');
    h.press('p');
    const title = 'BTCUSDT 5m: ';
    // the analysis comes back from the worker a turn later; its legend names the overlays
    await h.until(/EMA[^\n]*BOL/);
    const chart = chartLines(h.hs.text(), title).join('\n');
    expect(chart).toMatch(/EMA/);
    expect(chart).toMatch(/BOL/);
    expect(chart).toContain('•');
  });

  it('says in words when the position\'s klines are not stored', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(3000, 42, 20_000, T0 + MIN))) });
    const { t } = h.app;
    const run = await h.app.backtest.run(smaCross, { inProcess: true });
    h.app.backtest.save(run, smaCross, 'ARCHIVED');
    // as after a run over --input archives: the store has no klines of the simulation
    h.parts.klines.deleteSeriesKlines('BTCUSDT', '1m');
    h.press('8');
    const screen = h.press('p');
    expect(screen).toContain(t('resultChart.noKlines', { symbol: 'BTCUSDT', interval: '5m' }).slice(0, 60));
    const chart = chartLines(h.hs.text(), 'BTCUSDT 5m: ').join('\n');
    expect(chart).not.toMatch(/[▲▼┃]/);
  });
});
