import { afterEach, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';
import { waitFor } from '../../helpers/wait.js';
import { MIN, T0, momentumKlines, smallConfig } from '../../core/nn/data.js';
import { textWidth } from '../../../src/screens/widgets.js';
import type { NnForm } from '../../../src/screens/nn/model.js';

// Real parts: SQLite in a temp data directory and training in the simulation pool's worker threads
// (dist/: run `npm run build` first). The klines are generated with a learnable momentum.
describe('Neural Network page (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  const page = () => (h.shell as unknown as { pages: Map<string, { form: NnForm }> }).pages.get('neural')!;
  /** Moves the form's cursor to the field `key` with j/k, as a user would. */
  function toField(key: string): void {
    h.press('g');
    for (let i = 0; i < 40 && page().form.selectedField()?.key !== key; i++) h.press('j');
    expect(page().form.selectedField()?.key).toBe(key);
  }
  /** Enter, Ctrl-U, the text, Enter: replaces a text field's value. */
  function type(key: string, text: string): string {
    toField(key);
    h.press('\r');
    h.press('\x15');
    return h.press(text + '\r');
  }

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: names bad fields, creates NN_1, trains it in a worker with live curves, and tests it out of sample`, async () => {
      h = await new ShellHarness().start({ width, height, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', momentumKlines(3000, 7)) });
      const { t } = h.app;
      let screen = h.press('9');
      expect(screen).toContain(t('nnPage.none').slice(0, 20));
      screen = h.press('n');
      await h.until(t('nnPage.formCreate'));
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // bad values: each is named on its field, nothing is created
      type('epochs', '0');
      type('hidden', '64:relu 4:banana');
      screen = h.press('r');
      expect(screen).toContain(t('nnPage.invalid', { count: 2 }).slice(0, 20));
      expect(page().form.selectedField()?.key).toBe('hidden');
      expect(screen).toContain('banana');
      expect(h.app.nn.list()).toEqual([]);
      expect(h.app.jobs.running()).toEqual([]);
      // fixed: the structure shows the 64-node layer summarised
      type('hidden', '64:relu 4:tanh');
      screen = type('epochs', '4');
      expect(screen).toContain('⋮');
      expect(screen).toMatch(/64 +4 +1/);
      expect(screen).toMatch(/in +relu +tanh +sigmoid/);
      type('batchSize', '64');
      type('learningRate', '0.01');
      screen = h.press('r');
      expect(h.app.nn.list().map((m) => m.name)).toEqual(['NN_1']);
      expect(screen).toContain('NN_1');
      // training, then the out-of-sample test on the last 20 % of the klines
      screen = await h.until(t('nnPage.detail.test'), 60_000);
      await waitFor(() => h.app.jobs.running().length === 0, 10_000, 'the jobs to end');
      screen = h.text();
      const model = h.app.nn.get('NN_1')!;
      const v = h.app.nn.version('NN_1')!;
      expect(model.latest).toMatchObject({ version: 1, finished: true, epochs: 4 });
      expect(v.test).not.toBeNull();
      expect(v.test!.range.from).toBeGreaterThan(v.record.range.to);
      if (width > 100) expect(screen).toContain('v1'); // the version column drops first on a narrow terminal
      expect(screen).toContain(v.test!.accuracy.toFixed(3));
      expect(screen).toContain(t('nnPage.curves.title', { epochs: 4 }));
      expect(screen).toContain(`${t('nnPage.curves.loss')} ${v.record.history[3].loss.toFixed(4)}`);
      if (width > 100) expect(screen).toContain(t('nnPage.detail.testFigures', { accuracy: v.test!.accuracy.toFixed(3), logLoss: v.test!.logLoss.toFixed(4) }));
    }, 90_000);
  }

  it('stops a training run (stored, resumable), resumes it where it stopped, and deletes only after asking', async () => {
    h = await new ShellHarness().start({ width: 160, height: 45, seed: (_, parts) => parts.klines.insert('BTCUSDT', '1m', momentumKlines(20_000, 8)) });
    const { t } = h.app;
    h.press('9');
    h.press('n');
    await h.until(t('nnPage.formCreate'));
    type('name', 'slow');
    type('hidden', '64:relu 32:relu');
    type('epochs', '400');
    type('batchSize', '16');
    type('patience', '0');
    h.press('r');
    const progress: { label: string; done: number }[] = [];
    h.app.bus.on('job.progress', (e) => progress.push(e));
    // the curves draw per epoch while the worker trains
    await h.until(new RegExp(t('nnPage.status.running', { epochs: '[1-9]\\d*', planned: 400 })), 60_000);
    let screen = h.text();
    expect(screen).toMatch(new RegExp(t('nnPage.curves.title', { epochs: '[1-9]\\d*' }).replace(/[()]/g, '\\$&')));
    screen = h.press('s');
    expect(screen).toMatch(new RegExp(t('nnPage.status.stopping', { epochs: '\\d+', planned: 400 })));
    await waitFor(() => h.app.nn.version('slow') !== undefined, 30_000, 'the stopped run to be stored');
    await h.until(new RegExp(`slow .*${t('nnPage.status.stopped')}`), 10_000);
    expect(h.app.jobs.running()).toEqual([]);
    const stopped = h.app.nn.version('slow')!;
    expect(stopped.record.finished).toBe(false);
    const done = stopped.record.history.length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(400);
    expect(progress.length).toBeGreaterThan(0);
    expect(h.text()).toContain(t('nnPage.detail.stopped'));
    // resume: the run continues from the stored epochs; stop it again after a few more
    h.press('u');
    const running = new RegExp(t('nnPage.status.running', { epochs: '(\\d+)', planned: 400 }));
    await waitFor(() => Number(running.exec(h.text())?.[1] ?? 0) > done, 60_000, 'the resumed run to pass the stored epochs');
    h.press('s');
    await waitFor(() => h.app.nn.version('slow')!.version === stopped.version + 1, 30_000, 'the resumed run to be stored');
    await h.until(new RegExp(`slow .*${t('nnPage.status.stopped')}`), 10_000);
    expect(h.app.jobs.running()).toEqual([]);
    const resumed = h.app.nn.version('slow')!;
    expect(resumed.version).toBe(stopped.version + 1);
    expect(resumed.record.history.length).toBeGreaterThan(done);
    expect(resumed.record.history.slice(0, done)).toEqual(stopped.record.history);
    // delete asks; n keeps the model, y deletes it and its versions
    screen = h.press('d');
    expect(screen).toContain(t('nnPage.confirmRemove', { name: 'slow', versions: resumed.version }).slice(0, 30));
    h.press('n');
    expect(h.app.nn.list().map((m) => m.name)).toEqual(['slow']);
    h.press('d');
    screen = h.press('y');
    expect(h.app.nn.list()).toEqual([]);
    expect(screen).toContain(t('nnPage.none').slice(0, 20));
  }, 120_000);
  it('trains an existing model on a chosen range (a too short one fails in words), then tests it out of sample with o', async () => {
    h = await new ShellHarness().start({ width: 120, height: 40, seed: (app, parts) => {
      parts.klines.insert('BTCUSDT', '1m', momentumKlines(3000, 9));
      app.nn.create(smallConfig('M1'));
    } });
    const { t } = h.app;
    let screen = h.press('9');
    expect(screen).toMatch(new RegExp(`M1 .*${t('nnPage.status.none')}`));
    // a second model of the same name: the store's refusal lands on the name field; Esc closes the form
    h.press('n');
    type('name', 'M1');
    screen = h.press('r');
    expect(screen).toContain('a model named M1 exists already');
    expect(page().form.selectedField()?.key).toBe('name');
    expect(h.app.nn.list().map((m) => m.name)).toEqual(['M1']);
    toField('indicators');
    expect(h.text()).toContain(t('nnPage.availableLines', { lines: 'MFI.value MFI.norm' }));
    screen = h.press('\x1b');
    expect(screen).toContain(t('nnPage.list', { count: 1 }));
    expect(screen).toContain(t('nnPage.detail.untrained'));
    screen = h.press('t');
    expect(screen).toContain(t('nnPage.formTrain', { name: 'M1' }));
    expect(page().form.fields().map((f) => f.key)).toEqual(['symbol', 'interval', 'from', 'to', 'testShare']);
    expect(screen.replace(/[\s│]+/g, ' ')).toContain(t('nnPage.storedRange', { from: '2024-01-01 00:00', to: '2024-01-03 01:59', rows: 3000 }));
    // eleven klines: no complete input with a label; the worker's user error is shown in one line
    type('from', '2024-01-01 00:00');
    type('to', '2024-01-01 00:10');
    h.press('r');
    screen = await h.until(t('nnPage.status.failed'), 30_000);
    expect(screen).toContain('no training rows');
    expect(screen).not.toContain('    at ');
    expect(h.app.nn.version('M1')).toBeUndefined();
    await waitFor(() => h.app.jobs.running().length === 0, 5000, 'the job to end');
    // up to 2024-01-02 12:00 with nothing held out: trained, not tested
    h.press('t');
    type('from', '');
    type('to', '2024-01-02 12:00');
    type('testShare', '0');
    h.press('r');
    await waitFor(() => h.app.nn.version('M1')?.record.finished === true, 30_000, 'M1 to be trained');
    screen = await h.until(new RegExp(`M1 .*${t('nnPage.status.trained')}`), 10_000);
    const v = h.app.nn.version('M1')!;
    expect(v.record.range).toMatchObject({ symbol: 'BTCUSDT', interval: '1m', from: T0, to: Date.UTC(2024, 0, 2, 12, 0) });
    expect(v.test).toBeNull();
    expect(screen).toContain(t('nnPage.detail.noTest').slice(0, 30));
    // o: the test runs on every stored kline after the training range
    h.press('o');
    await waitFor(() => h.app.nn.version('M1')?.test != null, 30_000, 'the test to be stored');
    const tested = h.app.nn.version('M1')!.test!;
    expect(tested.range.from).toBe(v.record.range.to + MIN);
    expect(tested.range.to).toBe(T0 + 2999 * MIN);
    screen = await h.until(t('nnPage.detail.testFigures', { accuracy: tested.accuracy.toFixed(3), logLoss: tested.logLoss.toFixed(4) }), 5000);
    // the momentum is learnable: out of sample, the sign is right more often than not
    expect(tested.accuracy).toBeGreaterThan(0.55);
    // in Korean every line still fits the terminal
    await h.app.setLanguage('ko');
    screen = await h.until(h.app.t('nnPage.list', { count: 1 }));
    for (const line of h.hs.text()) expect(textWidth(line)).toBeLessThanOrEqual(120);
  }, 90_000);
  it('the mouse: a click selects a model, the wheel moves; in the form a click selects a field and a second one edits it', async () => {
    const click = (x: number, y: number) => `\x1b[<0;${x + 1};${y + 1}M\x1b[<0;${x + 1};${y + 1}m`;
    const wheel = (x: number, y: number, down: boolean) => `\x1b[<${down ? 65 : 64};${x + 1};${y + 1}M`;
    h = await new ShellHarness().start({ width: 120, height: 40, seed: (app, parts) => {
      parts.klines.insert('BTCUSDT', '1m', momentumKlines(500, 3));
      app.nn.create(smallConfig('alpha'));
      app.nn.create(smallConfig('beta', { type: 'logreg', hidden: [] }));
    } });
    const { t } = h.app;
    h.press('9');
    const detail = () => h.text().includes(t('nnPage.detail.model', { name: 'beta', type: 'logreg', versions: 0 }));
    expect(detail()).toBe(false);
    const rowOf = (name: string) => h.hs.text().findIndex((l) => l.startsWith(`│${name} `));
    h.hs.type(click(3, rowOf('beta')));
    await waitFor(detail, 3000, 'beta to be described');
    h.hs.type(wheel(3, rowOf('beta'), false));
    await waitFor(() => h.text().includes(t('nnPage.detail.model', { name: 'alpha', type: 'mlp', versions: 0 })), 3000, 'alpha to be described');
    h.press('n');
    const epochsRow = h.hs.text().findIndex((l) => l.includes(t('nnPage.field.epochs')));
    h.hs.type(click(3, epochsRow));
    await waitFor(() => page().form.selectedField()?.key === 'epochs', 3000, 'the epochs field to be selected');
    h.hs.type(click(3, epochsRow));
    await h.until(`${page().form.values.epochs}▏`);
    h.press('\x15');
    h.press('7\r');
    expect(page().form.values.epochs).toBe('7');
  });
});
