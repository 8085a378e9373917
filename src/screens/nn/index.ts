import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { parse } from 'yaml';
import type { App } from '../../core/app.js';
import { featureNames } from '../../core/nn/features.js';
import { EXAMPLE_CONFIG, type NnModelInfo } from '../../core/nn/model.js';
import type { NnTrainOptions } from '../../core/nn/service.js';
import type { EpochRecord } from '../../core/nn/train.js';
import { INTERVAL_MS, type Interval } from '../../core/market/klines.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule } from '../page.js';
import { paint } from '../theme.js';
import { esc, fit, panel, restyle } from '../widgets.js';
import { layersOf, NnListState } from './model.js';
import { curveLines, listLines, structureLines, testLines } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'nnPage.keys.up' },
  down: { keys: ['j', 'down'], label: 'nnPage.keys.down' },
  top: { keys: ['g'], label: 'keys.top' },
  bottom: { keys: ['S-g'], label: 'keys.bottom' },
  create: { keys: ['n'], label: 'nnPage.keys.create', hint: true },
  train: { keys: ['t'], label: 'nnPage.keys.train', hint: true },
  stop: { keys: ['s'], label: 'nnPage.keys.stop', hint: true },
  resume: { keys: ['r'], label: 'nnPage.keys.resume' },
  test: { keys: ['x'], label: 'nnPage.keys.test', hint: true },
  remove: { keys: ['d'], label: 'nnPage.keys.remove' },
});

interface Training {
  name: string;
  controller: AbortController;
  history: EpochRecord[];
  planned: number;
}

/**
 * Neural Network: the stored models; for the selected one its structure drawn as columns of nodes,
 * its configuration, the loss and accuracy curves of its training (updated per epoch while a
 * simulation worker trains it; stop and resume), and its out-of-sample test. Creating from a
 * file, other ranges and symbols: `atm nn` (docs/neural-network.md).
 */
class NnPage implements Page {
  readonly id = 'neural' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly netBox: Widgets.BoxElement;
  private readonly curveBox: Widgets.BoxElement;
  private readonly list = new NnListState();
  private training: Training | undefined;
  private curvesFor: { name: string; history: EpochRecord[]; planned: number } | undefined;

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.listBox = panel(this.root, { top: 0, left: 0, width: '40%', height: '100%', theme });
    this.netBox = panel(this.root, { top: 0, left: '40%', width: '60%', height: '50%', theme });
    this.curveBox = panel(this.root, { top: '50%', left: '40%', width: '60%', bottom: 0, theme });
    const moved = (f: () => void) => () => {
      f();
      this.update();
      this.ctx.markDirty();
    };
    this.bindings = bindKeys(keys, {
      up: moved(() => this.list.move(-1)),
      down: moved(() => this.list.move(1)),
      top: moved(() => this.list.jump('top')),
      bottom: moved(() => this.list.jump('bottom')),
      create: () => this.create(),
      train: () => this.train(false),
      stop: () => this.stop(),
      resume: () => this.train(true),
      test: () => void this.test(),
      remove: () => this.remove(),
    }, this.app.readonly);
  }

  private reload(select?: string): void {
    this.list.setRows(this.app.nn.list(), select);
  }

  private create(): void {
    try {
      const model = this.app.nn.create({ ...(parse(EXAMPLE_CONFIG) as object), name: '' });
      this.reload(model.name);
      this.ctx.toast(this.ctx.t('nnPage.created', { name: model.name }));
    } catch (error) {
      this.ctx.toast((error as Error).message, 'error');
    }
    this.update();
    this.ctx.markDirty();
  }

  /** The klines to train on: the latest version's, else the stored 1m series with the most klines. */
  private trainingData(model: NnModelInfo): Pick<NnTrainOptions, 'symbol' | 'interval' | 'from' | 'to'> | undefined {
    const v = this.app.nn.version(model.name);
    if (v) return { symbol: v.record.range.symbol, interval: v.record.range.interval as Interval, from: v.record.range.from, to: v.record.range.to };
    const series = this.app.market.series().filter((s) => s.interval === '1m' && s.rows > 0).sort((a, b) => b.rows - a.rows)[0];
    return series ? { symbol: series.symbol, interval: '1m' } : undefined;
  }

  private train(resume: boolean): void {
    const { t } = this.ctx;
    const model = this.list.selected();
    if (!model) return;
    if (this.training) {
      this.ctx.toast(t('nnPage.busy', { name: this.training.name }), 'error');
      return;
    }
    if (resume && !(model.latest && !model.latest.finished)) {
      this.ctx.toast(t('nnPage.nothingToResume', { name: model.name }), 'error');
      return;
    }
    const data = resume ? {} : this.trainingData(model);
    if (!data) {
      this.ctx.toast(t('nnPage.noData'), 'error');
      return;
    }
    const stored = resume ? this.app.nn.version(model.name) : undefined;
    const training: Training = { name: model.name, controller: new AbortController(), history: stored ? [...stored.record.history] : [], planned: model.config.training.epochs };
    this.training = training;
    this.ctx.toast(t('nnPage.started', { name: model.name, symbol: data.symbol ?? stored?.record.range.symbol ?? '', interval: data.interval ?? stored?.record.range.interval ?? '' }));
    this.update();
    this.ctx.markDirty();
    this.app.nn
      .train(model.name, {
        ...data, resume, signal: training.controller.signal,
        onEpoch: (r, planned) => {
          training.history.push(r);
          training.planned = planned;
          this.update();
          this.ctx.markDirty();
        },
      })
      .then((s) => this.ctx.toast(t(s.finished ? 'nnPage.finished' : 'nnPage.stoppedAt', { name: s.name, version: s.version, epochs: s.epochs })))
      .catch((error: unknown) => this.ctx.toast((error as Error).message, 'error'))
      .finally(() => {
        this.training = undefined;
        this.reload();
        this.update();
        this.ctx.markDirty();
      });
  }

  private stop(): void {
    if (!this.training) return;
    this.training.controller.abort();
    this.ctx.toast(this.ctx.t('nnPage.stopping', { name: this.training.name }));
  }

  /** The out-of-sample test of the latest version over the stored klines after its training data. */
  private async test(): Promise<void> {
    const { t } = this.ctx;
    const model = this.list.selected();
    const v = model ? this.app.nn.version(model.name) : undefined;
    if (!model || !v) {
      if (model) this.ctx.toast(t('nnPage.untrainedTest', { name: model.name }), 'error');
      return;
    }
    const r = v.record.range;
    try {
      const test = await this.app.nn.test(model.name, { from: r.to + INTERVAL_MS[r.interval as Interval] });
      this.ctx.toast(t('nnPage.tested', { name: model.name, accuracy: (test.accuracy * 100).toFixed(1), ret: test.strategyReturnPct.toFixed(2) }));
    } catch (error) {
      this.ctx.toast((error as Error).message, 'error');
    }
    this.reload();
    this.update();
    this.ctx.markDirty();
  }

  private remove(): void {
    const model = this.list.selected();
    if (!model || this.training?.name === model.name) return;
    this.ctx.confirm(this.ctx.t('nn.confirmDelete', { name: model.name, versions: model.versions }), () => {
      this.app.nn.remove(model.name);
      this.reload();
      this.update();
      this.ctx.toast(this.ctx.t('nn.deleted', { name: model.name }));
    });
  }

  // ---- rendering ----

  private renderList(): void {
    const { t } = this.ctx;
    const w = (this.listBox.width as number) - 3;
    const h = (this.listBox.height as number) - 2;
    this.listBox.setLabel(` ${t('nnPage.list', { count: this.list.rows.length })} `);
    this.listBox.setContent(listLines(this.list, w, h, this.ctx.theme(), t, this.training?.name).join('\n'));
  }

  private renderNet(model: NnModelInfo | undefined): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.netBox.width as number) - 3;
    const h = (this.netBox.height as number) - 2;
    this.netBox.setLabel(` ${model ? t('nnPage.structure', { name: model.name }) : t('nnPage.structureNone')} `);
    if (!model) {
      this.netBox.setContent(paint(theme, 'muted', esc(fit(t('nnPage.noneSelected'), w))));
      return;
    }
    const c = model.config;
    const info = [
      esc(fit(t('nn.show.features', { lines: c.features.lines.join(', ') || '-', lags: c.features.lags, returns: c.features.returns }), w)),
      esc(fit(t('nn.show.target', { kind: c.target.kind, horizon: c.target.horizon }), w)),
    ];
    const room = Math.max(3, h - info.length);
    this.netBox.setContent([...structureLines(layersOf(model, featureNames(c.features).length), w, room, theme), ...info].join('\n'));
  }

  private renderCurves(model: NnModelInfo | undefined): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const w = (this.curveBox.width as number) - 3;
    this.curveBox.setLabel(` ${t('nnPage.curves')} `);
    if (!model) {
      this.curveBox.setContent('');
      return;
    }
    let history: EpochRecord[];
    let planned = model.config.training.epochs;
    if (this.training?.name === model.name) {
      history = this.training.history;
      planned = this.training.planned;
    } else {
      // the stored record is read once per model and version shown
      const key = `${model.name}@${model.latest?.version ?? 0}`;
      if (this.curvesFor?.name !== key) {
        const v = model.latest ? this.app.nn.version(model.name) : undefined;
        this.curvesFor = { name: key, history: v?.record.history ?? [], planned };
      }
      history = this.curvesFor.history;
    }
    const room = (this.curveBox.height as number) - 2;
    const curves = curveLines(history, planned, w, theme, t);
    const test = testLines(model, w, theme, t);
    // a short box keeps the test in view: the scale line and the gap go first
    const shown = curves.length + 1 + test.length <= room ? [...curves, '', ...test] : [...curves.slice(0, Math.max(1, room - test.length - 1)), ...test];
    this.curveBox.setContent(shown.join('\n'));
  }

  // ---- page ----

  show(): void {
    this.reload();
    this.update();
    this.root.show();
  }

  hide(): void {
    this.root.hide();
  }

  update(): void {
    const theme = this.ctx.theme();
    for (const box of [this.listBox, this.netBox, this.curveBox]) restyle(box, theme);
    const model = this.list.selected();
    this.renderList();
    this.renderNet(model);
    this.renderCurves(model);
  }

  destroy(): void {
    this.training?.controller.abort();
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new NnPage(ctx);
}

export const neural: PageModule = { id: 'neural', keys, mount };
