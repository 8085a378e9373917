import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import type { BacktestConfig } from '../../core/backtest/config.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule, PageTarget } from '../page.js';
import { paint } from '../theme.js';
import { esc, fit, panel, restyle, wrapWords } from '../widgets.js';
import { completeOnTab, completeSymbol, SimulationForm, SimulationQueue } from './model.js';
import { SweepForm, type SweepResults } from './sweep-model.js';
import { fieldLabel, formLines, queueLines, sweepResultLines } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'simulation.keys.up' },
  down: { keys: ['j', 'down'], label: 'simulation.keys.down' },
  top: { keys: ['g'], label: 'keys.top' },
  bottom: { keys: ['S-g'], label: 'keys.bottom' },
  edit: { keys: ['enter', 'e'], label: 'simulation.keys.edit', hint: true },
  next: { keys: ['l', 'right', 'space'], label: 'simulation.keys.next' },
  prev: { keys: ['left'], label: 'simulation.keys.prev' },
  run: { keys: ['r'], label: 'simulation.keys.run', hint: true },
  addPosition: { keys: ['p'], label: 'simulation.keys.addPosition' },
  removePosition: { keys: ['x'], label: 'simulation.keys.removePosition' },
  reset: { keys: ['n'], label: 'simulation.keys.reset' },
  focus: { keys: ['f'], label: 'simulation.keys.focus', hint: true },
  cancel: { keys: ['c'], label: 'simulation.keys.cancel' },
  sweep: { keys: ['w'], label: 'sweepForm.keys.mode', hint: true },
});

/**
 * Simulation: the form of one backtest (account, range, positions with a strategy whose parameter
 * fields come from its schema, a CAC where the strategy reads one) and the queue of runs. Each run
 * is one app.backtest.run on the simulation pool (several at once) with a job while it runs; a
 * finished run is saved and opens in the Result page.
 */
class SimulationPage implements Page {
  readonly id = 'simulation' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly formBox: Widgets.BoxElement;
  private readonly queueBox: Widgets.BoxElement;
  private readonly infoBox: Widgets.BoxElement;
  private form?: SimulationForm;
  private readonly queue = new SimulationQueue();
  private errors = new Map<string, string>();
  private focus: 'form' | 'queue' = 'form';
  /** The left panel: the simulation form, the sweep form, or a finished sweep's ranked table. */
  private mode: 'simulation' | 'sweep' | 'results' = 'simulation';
  private sweepForm?: SweepForm;
  private sweepErrors = new Map<string, string>();
  private readonly sweepResults = new Map<number, SweepResults & { from?: number; to?: number }>();
  private shownSweep?: number;
  /** The edit buffer of the selected text field, while editing. */
  private editing?: string;
  /** The key that started editing reaches our keypress listener too (after the shell's): skip it. */
  private skipKey = false;
  private pendingConfig?: BacktestConfig;
  private visible = false;
  private destroyed = false;
  private readonly controllers = new Map<number, () => void>();

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.formBox = panel(this.root, { top: 0, left: 0, width: '55%', height: '100%', theme });
    this.queueBox = panel(this.root, { top: 0, left: '55%', width: '45%', height: '50%', theme });
    this.infoBox = panel(this.root, { top: '50%', left: '55%', width: '45%', bottom: 0, theme });
    const then = (f: () => void) => () => {
      f();
      this.update();
    };
    this.bindings = bindKeys(keys, {
      up: then(() => this.move(-1)),
      down: then(() => this.move(1)),
      top: then(() => this.move(-Infinity)),
      bottom: then(() => this.move(Infinity)),
      edit: then(() => this.edit()),
      next: then(() => this.active()?.cycle(1)),
      prev: then(() => this.active()?.cycle(-1)),
      run: () => (this.mode === 'simulation' ? this.run() : this.runSweep()),
      addPosition: then(() => this.form?.addPosition()),
      removePosition: then(() => this.form?.removePosition()),
      reset: then(() => {
        if (this.form) this.form.values = this.form.blank();
        if (this.form) this.form.cursor = 0;
        this.errors.clear();
      }),
      focus: then(() => (this.focus = this.focus === 'form' ? 'queue' : 'form')),
      cancel: () => this.cancel(),
      sweep: then(() => {
        this.mode = this.mode === 'sweep' ? 'simulation' : 'sweep';
        this.focus = 'form';
      }),
    }, this.app.readonly);
    ctx.screen.on('keypress', this.onKey);
  }

  /** The form the left panel edits (none while it shows a sweep's table). */
  private active(): SimulationForm | SweepForm | undefined {
    if (this.mode === 'results') return undefined;
    if (this.mode === 'sweep' && this.form) return (this.sweepForm ??= new SweepForm(this.form));
    return this.form;
  }

  private move(delta: number): void {
    if (this.focus === 'queue') return this.queue.move(delta);
    const shown = this.shownSweep === undefined ? undefined : this.sweepResults.get(this.shownSweep);
    if (this.mode === 'results' && shown) shown.cursor = Math.max(0, Math.min(shown.report.rows.length - 1, shown.cursor + delta));
    else this.active()?.move(delta);
  }

  /**
   * Enter: edits a text field, turns a choice, re-runs a sweep's row as a simulation, or (in the
   * queue) opens a finished run's result or a finished sweep's table.
   */
  private edit(): void {
    if (this.focus === 'queue') {
      const item = this.queue.selected();
      if (item?.simulationId !== undefined) this.ctx.goTo('result', { simulationId: item.simulationId });
      else if (item?.sweepId !== undefined && this.sweepResults.has(item.sweepId)) {
        this.shownSweep = item.sweepId;
        this.mode = 'results';
        this.focus = 'form';
      }
      return;
    }
    if (this.mode === 'results') return this.rerunRow();
    const form = this.active();
    const f = form?.selectedField();
    if (!f || !form) return;
    if (f.kind === 'choice') form.cycle(1);
    else {
      this.editing = f.value;
      this.skipKey = true;
    }
  }

  private readonly onKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || this.editing === undefined || !key || key.name === 'return') return;
    if (this.skipKey) {
      this.skipKey = false;
      return;
    }
    const form = this.active();
    const f = form?.selectedField();
    if (!f || !form || !this.form) return;
    if (key.full === 'escape') this.editing = undefined;
    else if (key.full === 'enter') {
      form.set(f.key, this.editing);
      (form === this.form ? this.errors : this.sweepErrors).delete(f.key);
      this.editing = undefined;
      form.move(1);
    } else if (key.full === 'backspace') this.editing = this.editing.slice(0, -1);
    else if (key.full === 'C-u') this.editing = '';
    else if (key.full === 'tab' && f.key.endsWith('.symbol')) this.editing = completeOnTab(this.editing, this.form.symbols);
    else if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') this.editing += ch;
    else return;
    this.update();
    this.ctx.markDirty();
  };

  private takenNames(): string[] {
    return [...this.app.backtest.saved().map((s) => s.name), ...this.queue.items.map((i) => i.name)];
  }

  /** Validates the form and adds a run to the queue (errors are named on their fields). */
  private run(): void {
    const { t } = this.ctx;
    if (!this.form) return;
    const r = this.form.validate(t, this.takenNames());
    this.errors = r.errors;
    if (!r.config) {
      const keys = this.form.fields().map((f) => f.key);
      const first = keys.findIndex((k) => r.errors.has(k));
      if (first >= 0) this.form.cursor = first;
      this.focus = 'form';
      this.ctx.toast(t('simulation.invalid', { count: r.errors.size }), 'error');
      this.update();
      return;
    }
    this.launch(r.config, r.name, r.from, r.to);
  }

  /** Adds one simulation to the queue; when it finishes it is saved and opened in the Result page. */
  private launch(config: BacktestConfig, name: string, from: number | undefined, to: number | undefined): void {
    const { t } = this.ctx;
    const r = { name, from, to };
    const item = this.queue.add(r.name);
    this.queue.cursor = this.queue.items.length - 1;
    const job = this.app.jobs.start(t('simulation.job', { name: r.name }));
    this.controllers.set(item.key, () => job.cancel());
    this.ctx.toast(t('simulation.queued', { name: r.name }));
    this.update();
    void this.app.backtest
      .run(config, {
        from: r.from, to: r.to, signal: job.signal,
        onProgress: (done, total) => {
          this.queue.progress(item.key, done, total, Date.now());
          job.progress(done, total);
          this.redrawQueue();
        },
      })
      .then((result) => {
        const id = this.app.backtest.save(result, config, r.name);
        this.queue.finish(item.key, id);
        job.done();
        if (this.destroyed) return;
        this.ctx.toast(t('simulation.finished', { name: r.name }));
        if (this.visible) this.ctx.goTo('result', { simulationId: id });
        else this.redrawQueue();
      })
      .catch((error: unknown) => {
        if (job.signal.aborted) this.queue.cancelled(item.key);
        else {
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          this.queue.fail(item.key, message);
          job.fail(error);
          if (!this.destroyed) this.ctx.toast(t('simulation.failed', { name: r.name, error: message }), 'error');
        }
        this.redrawQueue();
      })
      .finally(() => this.controllers.delete(item.key));
  }

  /**
   * Sweep mode: validates the simulation form (its errors send the page back to it), builds the
   * plan from the sweep form (errors on their fields) and runs app.backtest.sweep as a job; the
   * queue counts trials; the finished sweep is stored and its ranked table shown.
   */
  private runSweep(): void {
    const { t } = this.ctx;
    if (!this.form) return;
    const r = this.form.validate(t, this.takenNames());
    this.errors = r.errors;
    if (!r.config) {
      this.mode = 'simulation';
      const first = this.form.fields().findIndex((f) => r.errors.has(f.key));
      if (first >= 0) this.form.cursor = first;
      this.focus = 'form';
      this.ctx.toast(t('simulation.invalid', { count: r.errors.size }), 'error');
      this.update();
      return;
    }
    const sweepForm = (this.sweepForm ??= new SweepForm(this.form));
    const p = sweepForm.plan(r.config, t);
    this.sweepErrors = p.errors;
    if (!p.plan) {
      this.mode = 'sweep';
      this.focus = 'form';
      const first = sweepForm.fields().findIndex((f) => p.errors.has(f.key));
      if (first >= 0) sweepForm.cursor = first;
      this.ctx.toast(t('sweepForm.invalid', { count: p.errors.size }), 'error');
      this.update();
      return;
    }
    const { config, name, from, to } = r;
    const plan = p.plan;
    const item = this.queue.add(name, 'trials');
    this.queue.cursor = this.queue.items.length - 1;
    const job = this.app.jobs.start(t('sweepForm.job', { name }));
    this.controllers.set(item.key, () => job.cancel());
    this.ctx.toast(t('sweepForm.queued', { name }));
    this.update();
    void this.app.backtest
      .sweep(config, plan, {
        from, to, signal: job.signal,
        onProgress: (done, total) => {
          this.queue.progress(item.key, done, total, Date.now());
          job.progress(done, total);
          this.redrawQueue();
        },
      })
      .then((report) => {
        if (job.signal.aborted) throw new Error('cancelled');
        const sweepId = this.app.backtest.saveSweep(report, config, plan, name);
        this.sweepResults.set(sweepId, { sweepId, name, report, cursor: 0, from, to });
        this.queue.finish(item.key, undefined, sweepId);
        job.done();
        if (this.destroyed) return;
        this.ctx.toast(t('sweepForm.finished', { name, trials: report.trials }));
        if (this.visible) {
          this.shownSweep = sweepId;
          this.mode = 'results';
          this.focus = 'form';
          this.update();
          this.ctx.markDirty();
        }
      })
      .catch((error: unknown) => {
        if (job.signal.aborted) this.queue.cancelled(item.key);
        else {
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          this.queue.fail(item.key, message);
          job.fail(error);
          if (!this.destroyed) this.ctx.toast(t('simulation.failed', { name, error: message }), 'error');
        }
        this.redrawQueue();
      })
      .finally(() => this.controllers.delete(item.key));
  }

  /** Enter on a sweep's row: its configuration runs as a full simulation (saved, opened in the Result page). */
  private rerunRow(): void {
    const shown = this.shownSweep === undefined ? undefined : this.sweepResults.get(this.shownSweep);
    const row = shown?.report.rows[shown.cursor];
    if (!shown || !row) return;
    const { config } = this.app.backtest.sweepRowConfig(shown.sweepId, row.rank);
    this.launch(config, `${shown.name} #${row.rank}`, shown.from, shown.to);
  }

  /** Cancels the selected run after asking. */
  private cancel(): void {
    const item = this.queue.selected();
    const stop = item && this.controllers.get(item.key);
    if (!item || !stop) {
      this.ctx.toast(this.ctx.t('simulation.nothingToCancel'));
      return;
    }
    this.ctx.confirm(this.ctx.t('simulation.confirmCancel', { name: item.name }), () => {
      stop();
      this.queue.cancelled(item.key);
      this.update();
    });
  }

  private redrawQueue(): void {
    if (!this.visible || this.destroyed) return;
    this.renderQueue();
    this.ctx.markDirty();
  }

  /** Reads the strategies, CACs and stored symbols (on show); the form keeps its values. */
  private async load(): Promise<void> {
    const [strategies, cacs] = await Promise.all([this.app.strategies(), this.app.analysis.listCacs()]);
    if (this.destroyed) return;
    const symbols = [...new Set(this.app.market.series().filter((s) => s.interval === '1m' && s.rows > 0).map((s) => s.symbol))].sort();
    const named = cacs.map((c) => ({ name: c.cac.name, cac: c.cac }));
    if (!this.form) this.form = new SimulationForm(strategies, named, symbols);
    else Object.assign(this.form, { strategies, cacs: named, symbols });
    if (this.pendingConfig) {
      this.form.load(this.pendingConfig);
      this.pendingConfig = undefined;
    }
    this.update();
    this.ctx.markDirty();
  }

  // ---- rendering ----

  private renderForm(): void {
    const { t } = this.ctx;
    const w = (this.formBox.width as number) - 3;
    const h = (this.formBox.height as number) - 2;
    const shown = this.shownSweep === undefined ? undefined : this.sweepResults.get(this.shownSweep);
    if (this.mode === 'results' && shown) {
      this.formBox.setLabel(` ${t('sweepForm.results', { name: shown.name })} `);
      this.formBox.setContent(sweepResultLines(shown, this.focus === 'form', w, h, this.ctx.theme(), t).join('\n'));
      return;
    }
    this.formBox.setLabel(` ${t(this.mode === 'sweep' ? 'sweepForm.form' : 'simulation.form')} `);
    const form = this.active();
    if (!form) {
      this.formBox.setContent(paint(this.ctx.theme(), 'muted', esc(t('simulation.loading'))));
      return;
    }
    this.formBox.setContent(formLines(form, form === this.form ? this.errors : this.sweepErrors, this.editing, this.focus === 'form', w, h, this.ctx.theme(), t).join('\n'));
  }

  private renderQueue(): void {
    const { t } = this.ctx;
    const w = (this.queueBox.width as number) - 3;
    const h = (this.queueBox.height as number) - 2;
    this.queueBox.setLabel(` ${t('simulation.queue', { running: this.queue.active().length, count: this.queue.items.length })} `);
    this.queueBox.setContent(queueLines(this.queue.items, this.queue.cursor, this.focus === 'queue', w, h, this.ctx.theme(), t).join('\n'));
  }

  /** The selected field: what it is, what is allowed, its error, and symbol completions. */
  private renderInfo(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.infoBox.width as number) - 3;
    this.infoBox.setLabel(` ${t('simulation.info')} `);
    const active = this.active();
    const f = active?.selectedField();
    if (!f || !this.form) {
      this.infoBox.setContent(this.mode === 'results' ? paint(theme, 'muted', esc(fit(t('sweepForm.rerunHint'), w))) : '');
      return;
    }
    if (active !== this.form) {
      const lines = [paint(theme, 'accent', esc(fit(fieldLabel(f, t), w)))];
      if (f.allowed) lines.push(esc(fit(t('simulation.allowed', { allowed: f.allowed }), w)));
      const error = this.sweepErrors.get(f.key);
      if (error) lines.push(...wrapWords(error, w).map((l) => paint(theme, 'error', esc(l))));
      this.infoBox.setContent(lines.join('\n'));
      return;
    }
    const lines: string[] = [paint(theme, 'accent', esc(fit(fieldLabel(f, t), w)))];
    const strategy = f.key.includes('.param.') || f.key.endsWith('.strategy') ? this.form.strategy(this.form.values.positions[Number(/^p(\d+)/.exec(f.key)![1])].strategy) : undefined;
    if (strategy?.description) lines.push(...wrapWords(strategy.description, w).map(esc));
    if (f.allowed) lines.push(esc(fit(t('simulation.allowed', { allowed: f.allowed }), w)));
    const error = this.errors.get(f.key);
    if (error) lines.push(...wrapWords(error, w).map((l) => paint(theme, 'error', esc(l))));
    if (f.key.endsWith('.symbol')) {
      const typed = this.editing ?? f.value;
      const matches = completeSymbol(this.editing !== undefined ? typed : '', this.form.symbols);
      lines.push(paint(theme, 'muted', esc(fit(matches.length ? t('simulation.symbols', { list: matches.join(' ') }) : t('simulation.noSymbols'), w))));
    }
    if (this.editing !== undefined) lines.push(paint(theme, 'muted', esc(fit(t('simulation.editHint'), w))));
    this.infoBox.setContent(lines.join('\n'));
  }

  // ---- page ----

  capturesInput(): boolean {
    return this.editing !== undefined;
  }

  show(): void {
    this.visible = true;
    this.root.show();
    void this.load().catch((error: unknown) => this.app.reportError('simulation', error));
  }

  hide(): void {
    this.visible = false;
    this.editing = undefined;
    this.root.hide();
  }

  reveal(target: PageTarget): void {
    if (!target.simulationConfig) return;
    if (this.form) {
      this.form.load(target.simulationConfig);
      this.errors.clear();
      this.focus = 'form';
      this.update();
    } else this.pendingConfig = target.simulationConfig;
  }

  update(): void {
    const theme = this.ctx.theme();
    for (const box of [this.formBox, this.queueBox, this.infoBox]) restyle(box, theme);
    this.renderForm();
    this.renderQueue();
    this.renderInfo();
  }

  destroy(): void {
    this.destroyed = true;
    this.ctx.screen.removeListener('keypress', this.onKey);
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new SimulationPage(ctx);
}

export const simulation: PageModule = { id: 'simulation', keys, mount };
