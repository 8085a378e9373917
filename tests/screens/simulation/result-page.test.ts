import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/core/app.js';
import type { BacktestConfig } from '../../../src/core/backtest/config.js';
import { ShellHarness } from '../../helpers/shell.js';
import { MIN, T0, config, randomWalk, toStoreKlines } from '../../core/backtest/helpers.js';

const smaCross = (fast: number, slow: number): BacktestConfig => config({
  account: { initialBalance: '10000' },
  positions: [{ symbol: 'BTCUSDT', interval: '5m', leverage: 2, strategy: { name: 'sma-cross', params: { fast, slow } } }],
});

/** Two real backtests on generated klines, saved as the page will read them. */
async function seedTwo(app: App): Promise<{ a: number; b: number; retA: number; retB: number }> {
  const cfgA = smaCross(5, 20);
  const cfgB = smaCross(10, 40);
  const ra = await app.backtest.run(cfgA, { inProcess: true });
  const rb = await app.backtest.run(cfgB, { inProcess: true });
  return { a: app.backtest.save(ra, cfgA, 'SIM_A'), b: app.backtest.save(rb, cfgB, 'SIM_B'), retA: ra.summary.returnPct, retB: rb.summary.returnPct };
}

describe('Simulation Result page (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: lists saved simulations, sorts them, shows the selected one's figures and configuration`, async () => {
      h = await new ShellHarness().start({ width, height, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(6000, 31, 20_000, T0 + MIN))) });
      const { t } = h.app;
      const seeded = await seedTwo(h.app);
      let screen = h.press('8');
      /** The list row of a simulation (the detail box's label on the top border names the selected one too). */
      const rowOf = (name: string) => h.hs.text().findIndex((l, i) => i > 2 && l.includes(name));
      expect(screen).toContain(t('result.list', { count: 2, sort: t('result.sort.date') }));
      expect(screen).toContain('SIM_A');
      expect(screen).toContain('SIM_B');
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // newest first: SIM_B is selected and described
      expect(screen).toContain(width > 100 ? 'BTCUSDT 5m x2 sma-cross fast=10 slow=40' : 'BTCUSDT 5m x2 sma-cross fast=10');
      // sort by name (A first, selection kept on SIM_B), then by return
      screen = h.press('o');
      expect(screen).toContain(t('result.list', { count: 2, sort: t('result.sort.name') }));
      expect(rowOf('SIM_A')).toBeLessThan(rowOf('SIM_B'));
      expect(screen).toContain('sma-cross fast=10');
      screen = h.press('o');
      const better = seeded.retA >= seeded.retB ? 'SIM_A' : 'SIM_B';
      const worse = better === 'SIM_A' ? 'SIM_B' : 'SIM_A';
      expect(rowOf(better)).toBeLessThan(rowOf(worse));
      screen = h.press('r');
      expect(rowOf(worse)).toBeLessThan(rowOf(better));
      // the selection moves with j/k
      screen = h.press('g');
      expect(screen).toContain(better === 'SIM_A' ? 'sma-cross fast=10' : 'sma-cross fast=5 ');
      screen = h.press('j');
      expect(screen).toContain(better === 'SIM_A' ? 'sma-cross fast=5 ' : 'sma-cross fast=10');
    });
  }

  it('shows the equity history and trade log, deletes only after asking, and copies a configuration to the Simulation page', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(6000, 32, 20_000, T0 + MIN))) });
    const { t } = h.app;
    await seedTwo(h.app);
    h.press('8');
    let screen = h.text();
    // the store gives the balance history and the round trips: no "store lacks" words
    expect(screen).not.toContain(t('result.noHistory'));
    expect(screen).not.toContain(t('result.noTrades'));
    const countBefore = h.app.backtest.saved().length;
    screen = h.press('d');
    expect(screen).toContain(t('result.confirmRemove', { name: 'SIM_B', trades: h.app.backtest.savedOne(2)!.summary.trades }).slice(0, 30));
    screen = h.press('n');
    expect(h.app.backtest.saved()).toHaveLength(countBefore);
    h.press('d');
    screen = h.press('y');
    await h.until(t('result.list', { count: countBefore - 1, sort: t('result.sort.date') }));
    expect(h.app.backtest.saved()).toHaveLength(countBefore - 1);
    // the selection moves to the remaining simulation, whose configuration is copied
    screen = h.press('c');
    expect(screen).toContain(t('result.copied', { name: 'SIM_A' }).slice(0, 20));
  });
});
