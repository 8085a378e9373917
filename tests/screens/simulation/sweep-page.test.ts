import { afterEach, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../../src/core/backtest/sweep.js';
import { ShellHarness } from '../../helpers/shell.js';
import { MIN, T0, randomWalk, toStoreKlines } from '../../core/backtest/helpers.js';

type FieldLike = { key: string; label: { i18n?: string; text?: string; vars?: Record<string, unknown> } };
type PageLike = {
  sweepResults?: Map<number, { report: SweepReport }>;
  form?: { selectedField(): FieldLike | undefined }; sweepForm?: { selectedField(): FieldLike | undefined } };

// Real parts: SQLite in a temp data directory and the simulation pool's worker threads (dist/: run `npm run build` first).
describe('Simulation page: Sweep mode (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  const page = () => (h.shell as unknown as { pages: Map<string, PageLike> }).pages.get('simulation')!;
  /** Moves the cursor (from the top) to the field `key` of the simulation or the sweep form. */
  function toKey(which: 'form' | 'sweepForm', key: string): void {
    h.press('g');
    for (let i = 0; i < 40 && page()[which]?.selectedField()?.key !== key; i++) h.press('j');
    expect(page()[which]?.selectedField()?.key).toBe(key);
  }
  const type = (text: string) => {
    h.press('\r');
    h.press('\x15');
    return h.press(text + '\r');
  };

  it('sweeps sma-cross over a grid on real workers, ranks the trials, and re-runs a row as a saved simulation', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(3000, 44, 20_000, T0 + MIN))) });
    const { t } = h.app;
    h.press('7');
    await h.until('‹CROSSED›');
    toKey('form', 'p0.strategy');
    for (let i = 0; i < 10 && !h.text().includes('‹sma-cross›'); i++) h.press('l');
    let screen = h.press('w');
    expect(screen).toContain(t('sweepForm.form'));
    expect(screen).toContain('‹grid›');
    // an error lands on its field and nothing runs
    toKey('sweepForm', 'range.p0.fast');
    type('1..3');
    screen = h.press('r');
    expect(screen).toContain(t('sweepForm.invalid', { count: 1 }).slice(0, 20));
    expect(page().sweepForm!.selectedField()!.key).toBe('range.p0.fast');
    expect(h.app.jobs.running()).toEqual([]);
    type('2..4:1');
    toKey('sweepForm', 'range.p0.slow');
    type('10,20');
    h.press('r');
    screen = await h.until(t('sweepForm.results', { name: 'SIM_1' }), 60_000);
    const sweeps = h.app.backtest.sweeps();
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]).toMatchObject({ name: 'SIM_1', method: 'grid', objective: 'sharpe', trials: 6 });
    const { report } = page().sweepResults!.get(sweeps[0].id)!;
    expect(report.trials).toBe(6);
    // the stored rows are the shown rows
    for (const r of report.rows) expect(h.app.backtest.sweepRowConfig(sweeps[0].id, r.rank).params).toEqual(r.params);
    expect(report.rows.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(screen).toContain(t('sweepForm.headline', { trials: 6, method: 'grid', objective: 'sharpe', failed: 0 }));
    const best = report.rows[0];
    expect(screen).toContain(`best: fast=${best.params.fast} slow=${best.params.slow}`);
    for (const r of report.rows) expect(screen).toMatch(new RegExp(`[│\\s]${r.rank}\\s+fast=${r.params.fast} slow=${r.params.slow}\\s.*\\s${r.summary.trades}\\s+│`));
    expect(screen).toMatch(new RegExp(`SIM_1 .*100% ${t('simulation.state.done')}`));
    // the second row re-runs as a full simulation, saved and opened in the Result page
    h.press('j');
    h.press('\r');
    await h.until(t('result.list', { count: 1, sort: t('result.sort.date') }), 30_000);
    const saved = h.app.backtest.saved();
    expect(saved.map((s) => s.name)).toEqual(['SIM_1 #2']);
    const one = h.app.backtest.savedOne(saved[0].id)!;
    expect(one.summary.tradeListHash).toBe(report.rows[1].summary.tradeListHash);
    expect(one.config.positions[0].strategy.params).toMatchObject(report.rows[1].params);
  }, 90_000);

  it('shows trials done/total and an ETA in the queue, and cancels a sweep only after asking', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(200_000, 45, 20_000, T0 + MIN))) });
    const { t } = h.app;
    h.press('7');
    await h.until('‹CROSSED›');
    toKey('form', 'p0.strategy');
    for (let i = 0; i < 10 && !h.text().includes('‹sma-cross›'); i++) h.press('l');
    h.press('w');
    toKey('sweepForm', 'method');
    h.press('l');
    toKey('sweepForm', 'trials');
    type('60');
    toKey('sweepForm', 'range.p0.fast');
    type('2..40:1');
    h.press('r');
    let screen = await h.until('/60', 60_000);
    expect(screen).toMatch(new RegExp(`SIM_1 .*${t('simulation.state.running')} \\d+/60`));
    expect(h.app.jobs.running().map((j) => j.label)).toEqual([t('sweepForm.job', { name: 'SIM_1' })]);
    h.press('f');
    screen = h.press('c');
    expect(screen).toContain(t('simulation.confirmCancel', { name: 'SIM_1' }).slice(0, 20));
    h.press('n');
    expect(h.app.jobs.running()).toHaveLength(1);
    h.press('c');
    screen = h.press('y');
    expect(screen).toMatch(new RegExp(`SIM_1 .*${t('simulation.state.cancelled')}`));
    for (let i = 0; i < 100 && h.app.jobs.running().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(h.app.jobs.running()).toEqual([]);
    expect(h.app.backtest.sweeps()).toEqual([]);
  }, 90_000);

  it('shows the walk-forward folds of a sweep with K folds', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(4000, 46, 20_000, T0 + MIN))) });
    const { t } = h.app;
    h.press('7');
    await h.until('‹CROSSED›');
    toKey('form', 'p0.strategy');
    for (let i = 0; i < 10 && !h.text().includes('‹sma-cross›'); i++) h.press('l');
    h.press('w');
    toKey('sweepForm', 'walkForward');
    type('3');
    toKey('sweepForm', 'range.p0.fast');
    type('2..4:2');
    toKey('sweepForm', 'range.p0.slow');
    type('10');
    h.press('r');
    const screen = await h.until(t('sweepForm.results', { name: 'SIM_1' }), 60_000);
    const { report } = page().sweepResults!.get(h.app.backtest.sweeps()[0].id)!;
    expect(report.walkForward!.folds).toHaveLength(3);
    expect(screen).toContain(t('sweepForm.walkForward', { folds: 3, is: report.walkForward!.meanInSample.toFixed(4), oos: report.walkForward!.meanOutOfSample.toFixed(4), ratio: report.walkForward!.ratio === null ? '-' : report.walkForward!.ratio.toFixed(3), ret: report.walkForward!.outOfSampleReturnPct.toFixed(2) }).slice(0, 60));
    for (const f of report.walkForward!.folds) expect(screen).toContain(`${f.fold}  fast=${f.params.fast} slow=10`);
  }, 90_000);
});
