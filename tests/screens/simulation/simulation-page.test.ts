import { afterEach, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';
import { MIN, T0, randomWalk, toStoreKlines } from '../../core/backtest/helpers.js';

// Real parts: SQLite in a temp data directory and the simulation pool's worker threads (dist/: run `npm run build` first).
describe('Simulation page (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  const seed = (_: unknown, parts: ShellHarness['parts']) => {
    parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(8000, 41, 20_000, T0 + MIN)));
    parts.klines.insert('ETHUSDT', '1m', toStoreKlines(randomWalk(8000, 42, 2000, T0 + MIN)));
  };

  /** Moves the cursor to the field whose line shows `label`, by pressing j from the top. */
  async function toField(label: string): Promise<string> {
    let screen = h.press('g');
    for (let i = 0; i < 40 && !selectedLineHas(label); i++) screen = h.press('j');
    expect(selectedLineHas(label)).toBe(true);
    return screen;
  }
  /** The highlighted form line (inverse under NO_COLOR, the selection colours otherwise) contains `text`. */
  function selectedLineHas(text: string): boolean {
    const { t } = h.app;
    const form = (h.shell as unknown as { pages: Map<string, { form?: { selectedField(): { label: { i18n?: string; text?: string; vars?: Record<string, unknown> } } } }> }).pages.get('simulation')?.form;
    const f = form?.selectedField();
    if (!f) return false;
    const label = f.label.text ?? t(f.label.i18n!, f.label.vars);
    return label.trim() === text.trim();
  }
  const type = (text: string) => {
    h.press('\r');
    h.press('\x15'); // Ctrl-U clears the old value
    return h.press(text + '\r');
  };

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: fills the form, shows named errors, runs a real backtest and opens it in the Result page`, async () => {
      h = await new ShellHarness().start({ width, height, seed });
      const { t } = h.app;
      h.press('7');
      let screen = await h.until('‹CROSSED›');
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // symbol completion over the stored symbols
      await toField(t('simulation.field.symbol', { n: 1 }));
      h.press('\r');
      h.press('\x15');
      h.press('e');
      screen = h.press('\t');
      expect(screen).toContain('ETHUSDT▏');
      screen = h.press('\r');
      // the strategy: turn the choice to sma-cross; its parameters appear from the schema
      await toField(t('simulation.field.strategy'));
      for (let i = 0; i < 10 && !h.text().includes('‹sma-cross›'); i++) h.press('l');
      screen = h.text();
      expect(screen).toContain('‹sma-cross›');
      await toField('fast');
      screen = type('1');
      await toField('slow');
      type('20');
      screen = h.press('r');
      expect(screen).toContain(t('simulation.error.range', { allowed: '2..100000' }).slice(0, 12));
      expect(h.app.jobs.running()).toEqual([]);
      await toField('fast');
      type('5');
      await toField(t('simulation.field.leverage'));
      type('2');
      h.press('r');
      await h.until(t('result.list', { count: 1, sort: t('result.sort.date') }), 20_000);
      screen = await h.until('SIM_1');
      expect(screen).toContain('ETHUSDT 1m x2 sma-cross fast=5');
      expect(h.app.jobs.running()).toEqual([]);
      const saved = h.app.backtest.saved();
      expect(saved.map((s) => s.name)).toEqual(['SIM_1']);
      expect(h.app.backtest.savedOne(saved[0].id)!.summary.klines).toBe(8000);
      // back on the Simulation page the queue shows it done, and Enter there opens its result again
      screen = h.press('7');
      expect(screen).toMatch(new RegExp(`SIM_1 .*100% ${t('simulation.state.done')}`));
      h.press('f');
      screen = h.press('\r');
      expect(screen).toContain(t('result.list', { count: 1, sort: t('result.sort.date') }));
      h.press('7');
      h.press('f');
      // c on the Result page copies the configuration back
      screen = h.press('8');
      screen = h.press('c');
      await h.until(t('simulation.form'));
      screen = await h.until('‹sma-cross›');
      await toField('fast');
      expect(h.text()).toMatch(/fast\s+5/);
    });
  }

  it('queues several runs at once, reports progress, and cancels one only after asking', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(400_000, 43, 20_000, T0 + MIN))) });
    const { t } = h.app;
    h.press('7');
    await h.until('‹CROSSED›');
    await toField(t('simulation.field.strategy'));
    for (let i = 0; i < 10 && !h.text().includes('‹sma-cross›'); i++) h.press('l');
    const progress: { label: string; done: number; total: number }[] = [];
    h.app.bus.on('job.progress', (e) => progress.push(e));
    // no await between these keys: the cancel lands before the first run leaves the pool's queue
    h.press('r');
    let screen = h.press('r');
    expect(screen).toContain('SIM_2');
    expect(h.app.jobs.running()).toHaveLength(2);
    h.press('f'); // the queue
    h.press('g');
    screen = h.press('c');
    expect(screen).toContain(t('simulation.confirmCancel', { name: 'SIM_1' }).slice(0, 20));
    screen = h.press('n');
    expect(h.app.jobs.running()).toHaveLength(2);
    h.press('c');
    screen = h.press('y');
    expect(screen).toMatch(new RegExp(`SIM_1 .*${t('simulation.state.cancelled')}`));
    expect(h.app.jobs.running().map((j) => j.label)).toEqual([t('simulation.job', { name: 'SIM_2' })]);
    // quitting asks while a simulation runs, naming it
    screen = h.press('q');
    expect(screen).toContain(t('quit.question'));
    expect(screen).toContain(t('simulation.job', { name: 'SIM_2' }));
    h.press('n');
    // the other finishes, is saved, and opens in the Result page; the cancelled one is not saved
    await h.until(t('result.list', { count: 1, sort: t('result.sort.date') }), 60_000);
    expect(h.app.backtest.saved().map((s) => s.name)).toEqual(['SIM_2']);
    expect(h.app.jobs.running()).toEqual([]);
    const last = progress.filter((p) => p.label === t('simulation.job', { name: 'SIM_2' })).at(-1)!;
    expect(last).toMatchObject({ done: 400_000, total: 400_000 });
    expect(progress.some((p) => p.label === t('simulation.job', { name: 'SIM_1' }) && p.done === p.total)).toBe(false);
  }, 90_000);
});
