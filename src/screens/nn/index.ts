import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import type { JobHandle } from '../../core/jobs.js';
import type { NnModelInfo, NnVersion } from '../../core/nn/model.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import { cellIn, type Page, type PageContext, type PageModule, type PageMouse } from '../page.js';
import { paint } from '../theme.js';
import { esc, fit, formatUtc, panel, restyle, wrapWords } from '../widgets.js';
import { completeOnTab, completeSymbol } from '../simulation/model.js';
import { fieldLabel, formLines } from '../simulation/views.js';
import { layersOf, ModelList, modelRows, NnForm, testRangeAfter, TrainingRuns, type DataChoice } from './model.js';
import { curveLines, detailLines, firstShown, listLines, structureLines } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'nnPage.keys.up' },
  down: { keys: ['j', 'down'], label: 'nnPage.keys.down' },
  top: { keys: ['g'], label: 'keys.top' },
  bottom: { keys: ['S-g'], label: 'keys.bottom' },
  create: { keys: ['n'], label: 'nnPage.keys.create', hint: true },
  train: { keys: ['t'], label: 'nnPage.keys.train', hint: true },
  stop: { keys: ['s'], label: 'nnPage.keys.stop', hint: true },
  resume: { keys: ['u'], label: 'nnPage.keys.resume' },
  test: { keys: ['o'], label: 'nnPage.keys.test' },
  remove: { keys: ['d'], label: 'nnPage.keys.remove' },
  edit: { keys: ['enter', 'e'], label: 'nnPage.keys.edit', hint: true },
  next: { keys: ['l', 'right', 'space'], label: 'nnPage.keys.next' },
  prev: { keys: ['left'], label: 'nnPage.keys.prev' },
  start: { keys: ['r'], label: 'nnPage.keys.start', hint: true },
  close: { keys: ['escape'], label: 'nnPage.keys.close', hint: true },
});

type KeyId = keyof typeof keys;
const LIST_KEYS: KeyId[] = ['up', 'down', 'top', 'bottom', 'create', 'train', 'stop', 'resume', 'test', 'remove'];
const FORM_KEYS: KeyId[] = ['up', 'down', 'top', 'bottom', 'edit', 'next', 'prev', 'start', 'close'];

/**
 * Neural Network: the models (list, details, structure drawing, training curves) and the form that
 * creates one or starts a training run. Training is an app.nn.train job in the simulation pool;
 * its epochs come back while it runs and redraw the curves; `s` stops it (the last full epoch is
 * stored), `u` resumes it; a finished run is tested out of sample on the klines held out after it.
 */
class NnPage implements Page {
  readonly id = 'neural' as const;
  private readonly all: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly detailBox: Widgets.BoxElement;
  private readonly formBox: Widgets.BoxElement;
  private readonly structBox: Widgets.BoxElement;
  private readonly curveBox: Widgets.BoxElement;
  private readonly list = new ModelList();
  private readonly runs = new TrainingRuns();
  private readonly jobs = new Map<string, JobHandle>();
  private form = new NnForm();
  private errors = new Map<string, string>();
  private mode: 'list' | 'form' = 'list';
  private editing?: string;
  private skipKey = false;
  private visible = false;
  private destroyed = false;
  /** The selected model's latest version, read once per selection and after each change. */
  private version?: { name: string; v: NnVersion | undefined };

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.listBox = panel(this.root, { top: 0, left: 0, width: '50%', height: '40%', theme });
    this.detailBox = panel(this.root, { top: '40%', left: 0, width: '50%', bottom: 0, theme });
    this.formBox = panel(this.root, { top: 0, left: 0, width: '50%', height: '100%', theme, hidden: true });
    this.structBox = panel(this.root, { top: 0, left: '50%', width: '50%', height: '40%', theme });
    this.curveBox = panel(this.root, { top: '40%', left: '50%', width: '50%', bottom: 0, theme });
    const then = (f: () => void) => () => {
      f();
      this.update();
    };
    this.all = bindKeys(keys, {
      up: then(() => this.move(-1)),
      down: then(() => this.move(1)),
      top: then(() => this.move(-Infinity)),
      bottom: then(() => this.move(Infinity)),
      create: then(() => this.openForm('create')),
      train: then(() => this.openForm('train')),
      stop: () => this.stop(),
      resume: () => this.resume(),
      test: () => this.test(),
      remove: () => this.remove(),
      edit: then(() => this.edit()),
      next: then(() => this.form.cycle(1)),
      prev: then(() => this.form.cycle(-1)),
      start: () => this.start(),
      close: then(() => {
        this.mode = 'list';
        this.errors.clear();
      }),
    }, this.app.readonly);
    ctx.screen.on('keypress', this.onKey);
  }

  /** The bindings of the current mode: the list's, or the form's. */
  get bindings(): KeyBinding[] {
    const ids = this.mode === 'list' ? LIST_KEYS : FORM_KEYS;
    return this.all.filter((b) => ids.includes(b.id as KeyId));
  }

  private move(delta: number): void {
    if (this.mode === 'form') this.form.move(delta);
    else this.list.move(delta);
  }

  private selectedName(): string | undefined {
    return this.list.selected()?.name;
  }

  private openForm(mode: 'create' | 'train'): void {
    const name = this.selectedName();
    this.readSeries();
    if (mode === 'train') {
      if (!name) return this.ctx.toast(this.ctx.t('nnPage.noModel'));
      if (this.runs.active(name)) return this.ctx.toast(this.ctx.t('nnPage.busy', { name }), 'error');
      const range = this.latest(name)?.record.range;
      this.form.reset('train', name, range);
    } else this.form.reset('create');
    this.errors.clear();
    this.mode = 'form';
  }

  /** Enter (or a second click): edits a text field or turns a choice. */
  private edit(byKey = true): void {
    const f = this.form.selectedField();
    if (!f) return;
    if (f.kind === 'choice') this.form.cycle(1);
    else {
      this.editing = f.value;
      // the key that started editing reaches our keypress listener too (after the shell's): skip it
      this.skipKey = byKey;
    }
  }

  private readonly onKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || this.editing === undefined || !key || key.name === 'return') return;
    if (this.skipKey) {
      this.skipKey = false;
      return;
    }
    const f = this.form.selectedField();
    if (!f) return;
    if (key.full === 'escape') this.editing = undefined;
    else if (key.full === 'enter') {
      this.form.set(f.key, this.editing);
      this.errors.delete(f.key);
      this.editing = undefined;
      this.form.move(1);
    } else if (key.full === 'backspace') this.editing = this.editing.slice(0, -1);
    else if (key.full === 'C-u') this.editing = '';
    else if (key.full === 'tab' && f.key === 'symbol') this.editing = completeOnTab(this.editing, this.form.symbols());
    else if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') this.editing += ch;
    else return;
    this.update();
    this.ctx.markDirty();
  };

  /** r in the form: validates it (errors on their fields), creates the model in create mode, and starts training. */
  private start(): void {
    const { t } = this.ctx;
    const r = this.form.validate(t);
    let name = this.form.model;
    if (r.errors.size === 0 && this.form.mode === 'create' && r.config) {
      try {
        name = this.app.nn.create(r.config).name;
      } catch (error) {
        r.errors.set('name', error instanceof Error ? error.message : String(error));
      }
    }
    this.errors = r.errors;
    if (r.errors.size > 0 || !r.data || !name) {
      const first = this.form.fields().findIndex((f) => r.errors.has(f.key));
      if (first >= 0) this.form.cursor = first;
      this.ctx.toast(t('nnPage.invalid', { count: r.errors.size }), 'error');
      this.update();
      return;
    }
    this.mode = 'list';
    if (this.form.mode === 'create') this.form.values.name = '';
    this.reload(name);
    this.train(name, r.data, false);
    this.update();
  }

  /** Runs app.nn.train as a job; a finished run with a held-out range is tested on it. */
  private train(name: string, data: DataChoice | undefined, resume: boolean): void {
    const { t } = this.ctx;
    const model = this.app.nn.get(name);
    if (!model) return;
    const job = this.app.jobs.start(t('nnPage.job', { name }));
    this.jobs.set(name, job);
    const stored = resume ? this.latest(name)?.record.history ?? [] : [];
    this.runs.start(name, model.config.training.epochs, data, stored);
    this.ctx.toast(t(resume ? 'nnPage.resumed' : 'nnPage.started', { name }));
    this.refreshList();
    const options = resume ? { resume: true } : { symbol: data!.symbol, interval: data!.interval, from: data!.from, to: data!.to };
    void this.app.nn
      .train(name, {
        ...options, signal: job.signal,
        onEpoch: (record, planned) => {
          this.runs.epoch(name, record);
          job.progress(record.epoch, planned);
          this.redraw();
        },
      })
      .then(async (summary) => {
        this.version = undefined;
        if (!summary.finished) {
          job.done();
          this.runs.set(name, 'stopped');
          this.notify(t('nnPage.stopped', { name, epochs: summary.epochs }));
          return;
        }
        this.notify(t('nnPage.finished', { name, epochs: summary.epochs, valLoss: summary.bestValLoss.toFixed(4) }));
        // a resumed run (no data chosen) is tested on the klines after its range; a test share of 0 holds nothing out
        const test = data ? data.test : this.after(name);
        if (test) await this.runTest(name, test); // the job lasts until the test is stored
        else this.runs.set(name, 'done');
        job.done();
      })
      .catch((error: unknown) => this.failed(name, job, error))
      .finally(() => {
        this.jobs.delete(name);
        this.redraw(true);
      });
  }

  /** The out-of-sample test of the latest version over `range`. */
  private async runTest(name: string, range: { from: number; to: number }): Promise<void> {
    const { t } = this.ctx;
    this.runs.set(name, 'testing');
    this.redraw(true);
    const test = await this.app.nn.test(name, { from: range.from, to: range.to });
    this.runs.set(name, 'done');
    this.version = undefined;
    this.notify(t('nnPage.tested', { name, accuracy: test.accuracy.toFixed(3), ret: test.strategyReturnPct.toFixed(2) }));
  }

  private failed(name: string, job: JobHandle | undefined, error: unknown): void {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    this.runs.set(name, 'failed', message);
    job?.fail(error);
    this.notify(this.ctx.t('nnPage.failed', { name, error: message }), 'error');
  }

  private notify(message: string, kind: 'info' | 'error' = 'info'): void {
    if (!this.destroyed) this.ctx.toast(message, kind);
  }

  /** The range after the latest version's training data, to the end of the stored klines. */
  private after(name: string): { from: number; to: number } | undefined {
    const r = this.latest(name)?.record.range;
    return r ? testRangeAfter(r.to, r.interval, this.app.market.series(r.symbol), r.symbol) : undefined;
  }

  private stop(): void {
    const name = this.selectedName();
    const job = name ? this.jobs.get(name) : undefined;
    if (!name || !job || this.runs.get(name)?.state !== 'running') return this.ctx.toast(this.ctx.t('nnPage.notRunning'));
    this.runs.set(name, 'stopping');
    job.cancel();
    this.update();
  }

  private resume(): void {
    const { t } = this.ctx;
    const name = this.selectedName();
    if (!name) return this.ctx.toast(t('nnPage.noModel'));
    if (this.runs.active(name)) return this.ctx.toast(t('nnPage.busy', { name }), 'error');
    const v = this.latest(name);
    if (!v || v.record.finished) return this.ctx.toast(t('nnPage.nothingToResume', { name }), 'error');
    this.train(name, undefined, true);
    this.update();
  }

  private test(): void {
    const { t } = this.ctx;
    const name = this.selectedName();
    if (!name) return this.ctx.toast(t('nnPage.noModel'));
    if (this.runs.active(name)) return this.ctx.toast(t('nnPage.busy', { name }), 'error');
    if (!this.latest(name)) return this.ctx.toast(t('nnPage.untrained', { name }), 'error');
    const range = this.after(name);
    if (!range) return this.ctx.toast(t('nnPage.noTestData', { name }), 'error');
    if (!this.runs.get(name)) this.runs.start(name, 0, undefined);
    const job = this.app.jobs.start(t('nnPage.testJob', { name }));
    this.jobs.set(name, job);
    void this.runTest(name, range)
      .then(() => job.done())
      .catch((error: unknown) => this.failed(name, job, error))
      .finally(() => {
        this.jobs.delete(name);
        this.redraw(true);
      });
    this.update();
  }

  /** d: deletes the selected model and every version, after asking. */
  private remove(): void {
    const { t } = this.ctx;
    const row = this.list.selected();
    if (!row) return this.ctx.toast(t('nnPage.noModel'));
    if (this.runs.active(row.name)) return this.ctx.toast(t('nnPage.busy', { name: row.name }), 'error');
    this.ctx.confirm(t('nnPage.confirmRemove', { name: row.name, versions: row.version ?? 0 }), () => {
      this.app.nn.remove(row.name);
      this.runs.forget(row.name);
      this.version = undefined;
      this.ctx.toast(t('nnPage.removed', { name: row.name }));
      this.reload();
      this.update();
    });
  }

  private latest(name: string): NnVersion | undefined {
    if (this.version?.name !== name) this.version = { name, v: this.app.nn.version(name) };
    return this.version.v;
  }

  private models: NnModelInfo[] = [];

  /** Reads the models again (on show and after a change). */
  private reload(select?: string): void {
    this.models = this.app.nn.list();
    this.version = undefined;
    this.list.setRows(modelRows(this.models, this.runs), select);
  }

  /** The list rows from the models read last and the runs' live state (each epoch). */
  private refreshList(): void {
    this.list.setRows(modelRows(this.models, this.runs));
  }

  /** Redraws after an event from a run; `reread` reads the models again (a version was stored). */
  private redraw(reread = false): void {
    if (this.destroyed) return;
    if (reread) this.reload();
    else this.refreshList();
    if (!this.visible) return;
    this.update();
    this.ctx.markDirty();
  }

  /** The stored series the data fields offer (read on show and when a form opens). */
  private readSeries(): void {
    this.form.series = this.app.market.series();
    if (!this.form.values.symbol) this.form.values.symbol = this.form.symbols()[0] ?? '';
  }

  /** The stored CACs the inputs can come from (read on show). */
  private async loadCacs(): Promise<void> {
    const cacs = await this.app.analysis.listCacs();
    if (this.destroyed) return;
    this.form.cacs = cacs.map((c) => ({ name: c.cac.name, indicators: c.cac.indicators }));
    this.update();
    this.ctx.markDirty();
  }

  // ---- rendering ----

  private size(box: Widgets.BoxElement): { w: number; h: number } {
    return { w: Math.max(1, (box.width as number) - 3), h: Math.max(1, (box.height as number) - 2) };
  }

  private renderList(): void {
    const { t } = this.ctx;
    const { w, h } = this.size(this.listBox);
    this.listBox.setLabel(` ${t('nnPage.list', { count: this.list.rows.length })} `);
    this.listBox.setContent(listLines(this.list, this.mode === 'list', w, h, this.ctx.theme(), t).join('\n'));
  }

  private renderDetail(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const { w, h } = this.size(this.detailBox);
    const name = this.selectedName();
    const model = name ? this.models.find((m) => m.name === name) : undefined;
    this.detailBox.setLabel(` ${t('nnPage.details')} `);
    if (!model) {
      this.detailBox.setContent(wrapWords(t('nnPage.empty'), w).map((l) => paint(theme, 'muted', esc(l))).join('\n'));
      return;
    }
    const lines = detailLines(model, this.latest(model.name), this.runs.get(model.name), w, t);
    this.detailBox.setContent(lines.slice(0, h).map((l) => (l.role ? paint(theme, l.role, esc(l.text)) : esc(l.text))).join('\n'));
  }

  private renderForm(): void {
    const { t } = this.ctx;
    const { w, h } = this.size(this.formBox);
    this.formBox.setLabel(` ${this.form.mode === 'create' ? t('nnPage.formCreate') : t('nnPage.formTrain', { name: this.form.model })} `);
    this.formBox.setContent(formLines(this.form, this.errors, this.editing, true, w, h, this.ctx.theme(), t).join('\n'));
  }

  /** The structure of the selected model, or (in the form) of the model the form describes. */
  private renderStructure(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const { w, h } = this.size(this.structBox);
    this.structBox.setLabel(` ${t('nnPage.structure')} `);
    let config = this.mode === 'form' && this.form.mode === 'create' ? this.form.validate(t).config : undefined;
    if (this.mode === 'list' || this.form.mode === 'train') config = this.models.find((m) => m.name === this.selectedName())?.config;
    if (!config) {
      this.structBox.setContent(paint(theme, 'muted', esc(fit(t(this.mode === 'form' ? 'nnPage.structureInvalid' : 'nnPage.structureNone'), w))));
      return;
    }
    this.structBox.setContent(structureLines(layersOf(config), w, h).map(esc).join('\n'));
  }

  /** The loss and accuracy curves: the live run's epochs, else the latest version's record; in the form, the selected field's help. */
  private renderCurves(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const { w, h } = this.size(this.curveBox);
    if (this.mode === 'form') {
      this.curveBox.setLabel(` ${t('nnPage.field.info')} `);
      this.curveBox.setContent(this.fieldInfo(w).join('\n'));
      return;
    }
    const name = this.selectedName();
    const run = name ? this.runs.get(name) : undefined;
    const history = run && run.history.length > 0 ? run.history : name ? this.latest(name)?.record.history ?? [] : [];
    this.curveBox.setLabel(` ${t('nnPage.curves.title', { epochs: history.length })} `);
    this.curveBox.setContent(curveLines(history, w, h, t).map((l) => paint(theme, 'fg', esc(l))).join('\n'));
  }

  private fieldInfo(w: number): string[] {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const f = this.form.selectedField();
    if (!f) return [];
    const lines = [paint(theme, 'accent', esc(fit(fieldLabel(f, t), w)))];
    lines.push(...wrapWords(t(`nnPage.help.${f.key}`), w).map(esc));
    if (f.allowed) lines.push(esc(fit(t('simulation.allowed', { allowed: f.allowed }), w)));
    const error = this.errors.get(f.key);
    if (error) lines.push(...wrapWords(error, w).map((l) => paint(theme, 'error', esc(l))));
    if (f.key === 'indicators' || f.key === 'lines') {
      const available = this.form.availableLines();
      if (available) lines.push(...wrapWords(t('nnPage.availableLines', { lines: available.join(' ') || '-' }), w).map((l) => paint(theme, 'muted', esc(l))));
    }
    const stored = this.form.series.find((x) => x.symbol === this.form.values.symbol && x.interval === this.form.values.interval);
    if (['symbol', 'interval', 'from', 'to'].includes(f.key) && stored?.first != null && stored.last != null) {
      lines.push(...wrapWords(t('nnPage.storedRange', { from: formatUtc(stored.first, false), to: formatUtc(stored.last, false), rows: stored.rows }), w).map((l) => paint(theme, 'muted', esc(l))));
    }
    if (f.key === 'symbol') {
      const matches = completeSymbol(this.editing ?? '', this.form.symbols());
      lines.push(paint(theme, 'muted', esc(fit(matches.length ? t('simulation.symbols', { list: matches.join(' ') }) : t('nnPage.noSymbols'), w))));
    }
    if (this.editing !== undefined) lines.push(paint(theme, 'muted', esc(fit(t('simulation.editHint'), w))));
    return lines;
  }

  /**
   * A click on a model selects it; in the form, a click on a field selects it and a second click
   * edits or turns it. The wheel moves the selection. (Same first row as the views draw.)
   */
  mouse(m: PageMouse): boolean {
    const form = this.mode === 'form';
    const box = form ? this.formBox : this.listBox;
    const cell = this.editing === undefined ? cellIn(box, m) : undefined;
    if (!cell) return false;
    if (m.action !== 'click') this.move(m.action === 'wheelup' ? -1 : 1);
    else if (form) {
      const count = this.form.fields().length;
      const index = firstShown(this.form.cursor, count, this.size(box).h) + cell.row;
      if (index >= count) return false;
      if (index === this.form.cursor) this.edit(false);
      else this.form.cursor = index;
    } else {
      const index = firstShown(this.list.cursor, this.list.rows.length, Math.max(1, this.size(box).h - 1)) + cell.row - 1;
      if (cell.row === 0 || index >= this.list.rows.length) return false;
      this.list.cursor = index;
    }
    this.update();
    return true;
  }

  // ---- page ----

  capturesInput(): boolean {
    return this.editing !== undefined;
  }

  show(): void {
    this.visible = true;
    this.root.show();
    this.reload();
    this.readSeries();
    this.update();
    void this.loadCacs().catch((error: unknown) => this.app.reportError('neural', error));
  }

  hide(): void {
    this.visible = false;
    this.editing = undefined;
    this.root.hide();
  }

  update(): void {
    const theme = this.ctx.theme();
    for (const box of [this.listBox, this.detailBox, this.formBox, this.structBox, this.curveBox]) restyle(box, theme);
    const form = this.mode === 'form';
    this.refreshList();
    this.formBox[form ? 'show' : 'hide']();
    this.listBox[form ? 'hide' : 'show']();
    this.detailBox[form ? 'hide' : 'show']();
    if (form) this.renderForm();
    else {
      this.renderList();
      this.renderDetail();
    }
    this.renderStructure();
    this.renderCurves();
  }

  destroy(): void {
    this.destroyed = true;
    this.ctx.screen.removeListener('keypress', this.onKey);
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new NnPage(ctx);
}

export const neural: PageModule = { id: 'neural', keys, mount };
