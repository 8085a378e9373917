import type { TFunction } from '../../core/i18n.js';
import type { CacIndicator } from '../../core/analysis/cac.js';
import { INTERVALS, INTERVAL_MS, type Interval } from '../../core/market/klines.js';
import type { SeriesInfo } from '../../core/market/repository.js';
import { featureNames } from '../../core/nn/features.js';
import { ACTIVATIONS, INITS } from '../../core/nn/network.js';
import { MODEL_TYPES, NnConfigError, validateNnConfig, type NnConfig, type NnModelInfo } from '../../core/nn/model.js';
import { DEFAULT_TRAIN, OPTIMIZERS, type EpochRecord } from '../../core/nn/train.js';
import { FieldCursor, type Field } from '../simulation/model.js';
import { parseUtc } from '../simulation/model.js';

/**
 * The Neural Network page's view model, free of any terminal: the create form (model, training
 * parameters, market data; each error named on its field), the training form of an existing model
 * (market data only), the training runs with their per-epoch history, the model list, and the
 * layers the structure drawing shows.
 */

export interface NnFormValues {
  name: string;
  type: string;
  cac: string;
  indicators: string;
  lines: string;
  lags: string;
  returns: string;
  targetKind: string;
  horizon: string;
  hidden: string;
  init: string;
  seed: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  optimizer: string;
  momentum: string;
  l2: string;
  patience: string;
  validation: string;
  symbol: string;
  interval: string;
  from: string;
  to: string;
  testShare: string;
}

/** The market data a training run reads: the training range, and after it the range held out for the out-of-sample test. */
export interface DataChoice {
  symbol: string;
  interval: Interval;
  from: number;
  /** The last kline of the training range (validation included). */
  to: number;
  test?: { from: number; to: number };
}

export interface NamedCac {
  name: string;
  indicators: CacIndicator[];
}

export interface NnFormResult {
  /** The validated configuration (create mode), its name blank when the form's was. */
  config?: NnConfig;
  data?: DataChoice;
  errors: Map<string, string>;
}

const DATA_KEYS = ['symbol', 'interval', 'from', 'to', 'testShare'] as const;
const CHOICES: Partial<Record<keyof NnFormValues, readonly string[]>> = {
  type: MODEL_TYPES, targetKind: ['sign', 'size'], init: INITS, optimizer: OPTIMIZERS, interval: INTERVALS,
};

/** An indicator as the form writes it: `MFI:n=14`. */
export function indicatorText(i: CacIndicator): string {
  const params = Object.entries(i.params).map(([k, v]) => `${k}=${v}`).join(',');
  return params ? `${i.type}:${params}` : i.type;
}

/** `16:relu 8:tanh` (a size alone takes relu); undefined when a token is not `size[:activation]`. */
export function parseHidden(text: string): { size: number; activation: string }[] | undefined {
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  const out: { size: number; activation: string }[] = [];
  for (const token of tokens) {
    const m = /^(\d+)(?::([a-z]+))?$/i.exec(token);
    if (!m) return undefined;
    out.push({ size: Number(m[1]), activation: (m[2] ?? 'relu').toLowerCase() });
  }
  return out;
}

/** The form key a configuration field's error belongs on (`training.epochs` → `epochs`). */
export function formKeyOf(field: string): keyof NnFormValues {
  if (field.startsWith('hidden')) return 'hidden';
  if (field === 'features' || field === 'features.lines') return 'lines';
  if (field === 'features.indicators') return 'indicators';
  if (field === 'target.kind') return 'targetKind';
  const last = field.split('.').at(-1) ?? field;
  return (last in blankValues() ? last : 'name') as keyof NnFormValues;
}

function blankValues(): NnFormValues {
  return {
    name: '', type: 'mlp', cac: '', indicators: 'MFI:n=14', lines: '', lags: '2', returns: '3', targetKind: 'sign', horizon: '1',
    hidden: '16:relu 8:relu', init: 'xavier', seed: '1', epochs: String(DEFAULT_TRAIN.epochs), batchSize: String(DEFAULT_TRAIN.batchSize),
    learningRate: String(DEFAULT_TRAIN.learningRate), optimizer: DEFAULT_TRAIN.optimizer, momentum: String(DEFAULT_TRAIN.momentum),
    l2: '0.0001', patience: String(DEFAULT_TRAIN.patience), validation: '0.2', symbol: '', interval: '1m', from: '', to: '', testShare: '0.2',
  };
}

/**
 * The form: `create` shows every field (model, training, data); `train` only the data of a new
 * training run of an existing model.
 */
export class NnForm extends FieldCursor {
  values: NnFormValues = blankValues();
  mode: 'create' | 'train' = 'create';
  /** The model a `train` form trains. */
  model?: string;

  constructor(public cacs: NamedCac[] = [], public series: SeriesInfo[] = []) {
    super();
    this.values.symbol = this.symbols()[0] ?? '';
  }

  /** Stored symbols with klines, sorted. */
  symbols(): string[] {
    return [...new Set(this.series.filter((s) => s.rows > 0).map((s) => s.symbol))].sort();
  }

  reset(mode: 'create' | 'train', model?: string, data?: { symbol: string; interval: string }): void {
    const keep = { symbol: data?.symbol ?? this.values.symbol, interval: data?.interval ?? this.values.interval };
    // a create form keeps what was typed before (Esc closed it, or the last model came from it)
    this.values = mode === 'create' ? { ...this.values, ...keep } : { ...this.values, ...keep, from: '', to: '' };
    if (!this.values.symbol) this.values.symbol = this.symbols()[0] ?? '';
    this.mode = mode;
    this.model = model;
    this.cursor = 0;
  }

  fields(): Field[] {
    const v = this.values;
    const field = (key: keyof NnFormValues, allowed?: string, section?: number): Field => {
      const choices = key === 'cac' ? ['', ...this.cacs.map((c) => c.name)] : CHOICES[key];
      return { key, label: { i18n: `nnPage.field.${key}` }, kind: choices ? 'choice' : 'text', value: v[key], choices, allowed, section };
    };
    const data = [
      field('symbol', undefined, 3), field('interval'), field('from', 'YYYY-MM-DD'), field('to', 'YYYY-MM-DD'), field('testShare', '0..0.9'),
    ];
    if (this.mode === 'train') return data;
    const out = [
      field('name', 'A-Z a-z 0-9 _ . -'), field('type'), field('cac'), field('indicators', 'TYPE:p=v …'), field('lines', 'TYPE.line …'),
      field('lags', '0..500'), field('returns', '0..500'), field('targetKind'), field('horizon', '1..10000'),
    ];
    if (v.type === 'mlp') out.push(field('hidden', `size:${ACTIVATIONS.join('|')} …`));
    out.push(
      field('init'), field('seed', '0..2³²-1'),
      field('epochs', '1..100000', 1), field('batchSize', '1..'), field('learningRate', '(0, 10]'), field('optimizer'),
    );
    if (v.optimizer === 'sgd') out.push(field('momentum', '0..0.999'));
    out.push(field('l2', '0..10'), field('patience', '0..'), field('validation', '0..0.9'));
    out.push(...data.map((f, i) => (i === 0 ? { ...f, section: 2 } : f)));
    return out;
  }

  /** Sets a value by key; a CAC fills the indicators with its list. */
  set(key: string, value: string): void {
    const k = key as keyof NnFormValues;
    if (!(k in this.values)) return;
    this.values[k] = k === 'symbol' ? value.trim().toUpperCase() : value;
    if (k === 'cac') {
      const cac = this.cacs.find((c) => c.name === value);
      if (cac) {
        this.values.indicators = cac.indicators.map(indicatorText).join(' ');
        this.values.lines = '';
      }
    }
    this.move(0);
  }

  cycle(delta: 1 | -1): void {
    const f = this.selectedField();
    if (!f || f.kind !== 'choice' || !f.choices || f.choices.length === 0) return;
    const i = f.choices.indexOf(f.value);
    this.set(f.key, f.choices[(i + delta + f.choices.length) % f.choices.length] ?? f.choices[0]);
  }

  /** Every line the indicators typed so far offer (undefined while they do not validate). */
  availableLines(): string[] | undefined {
    const indicators = this.values.indicators.split(/\s+/).filter(Boolean);
    try {
      return validateNnConfig({ type: 'logreg', features: { indicators, lines: [], returns: 1 } }).features.lines;
    } catch {
      return undefined;
    }
  }

  /** The configuration as plain data for validateNnConfig (numbers stay text: the core names bad ones). */
  private input(errors: Map<string, string>, t: TFunction): Record<string, unknown> {
    const v = this.values;
    const hidden = v.type === 'mlp' ? parseHidden(v.hidden) : [];
    if (!hidden || (v.type === 'mlp' && hidden.length === 0)) errors.set('hidden', t('nnPage.error.hidden'));
    return {
      name: v.name.trim(), type: v.type,
      features: { indicators: v.indicators.split(/\s+/).filter(Boolean), lines: v.lines.split(/[\s,]+/).filter(Boolean), lags: v.lags, returns: v.returns },
      target: { kind: v.targetKind, horizon: v.horizon },
      hidden: hidden && hidden.length > 0 ? hidden : undefined, init: v.init, seed: v.seed,
      training: {
        epochs: v.epochs, batchSize: v.batchSize, learningRate: v.learningRate, optimizer: v.optimizer, momentum: v.momentum,
        l2: v.l2, patience: v.patience, validation: v.validation,
      },
    };
  }

  /**
   * Validates every field: the data section here, the model with the core's validator, run again
   * with each bad field set back to its default until it passes, so every bad field is named at once.
   */
  validate(t: TFunction): NnFormResult {
    const errors = new Map<string, string>();
    const data = this.validateData(errors, t);
    if (this.mode === 'train') return { data: errors.size ? undefined : data, errors };
    const input = this.input(errors, t);
    let config: NnConfig | undefined;
    for (let attempt = 0; attempt < 40 && !config; attempt++) {
      try {
        config = validateNnConfig(input, 'form');
      } catch (error) {
        if (!(error instanceof NnConfigError)) throw error;
        const key = formKeyOf(error.field);
        const reason = error.message.replace(/^form: [^:]+: /, '');
        if (!errors.has(key)) errors.set(key, reason);
        if (!clearField(input, error.field)) break;
      }
    }
    return errors.size ? { errors } : { config, data, errors };
  }

  private validateData(errors: Map<string, string>, t: TFunction): DataChoice | undefined {
    const v = this.values;
    const symbol = v.symbol.trim().toUpperCase();
    const interval = v.interval as Interval;
    const s = this.series.find((x) => x.symbol === symbol && x.interval === interval && x.rows > 0);
    if (!symbol) errors.set('symbol', t('nnPage.error.symbol'));
    else if (!s || s.first === null || s.last === null) errors.set('symbol', t('nnPage.error.noKlines', { symbol, interval }));
    const from = v.from.trim() ? parseUtc(v.from, false) : s?.first ?? undefined;
    const to = v.to.trim() ? parseUtc(v.to, true) : s?.last ?? undefined;
    if (v.from.trim() && from === undefined) errors.set('from', t('nnPage.error.date'));
    if (v.to.trim() && to === undefined) errors.set('to', t('nnPage.error.date'));
    const share = Number(v.testShare);
    if (v.testShare.trim() === '' || !Number.isFinite(share) || share < 0 || share > 0.9) errors.set('testShare', t('nnPage.error.share'));
    if (errors.size || !s || from === undefined || to === undefined) return undefined;
    return splitData(symbol, interval, Math.max(from, s.first!), Math.min(to, s.last!), share, errors, t);
  }
}

/** Sets a bad field back to its default in the input (false when nothing more can be cleared). */
function clearField(input: Record<string, unknown>, field: string): boolean {
  const features = input.features as Record<string, unknown>;
  if (field === 'features.indicators' || field === 'features') {
    if (features.indicators && (features.indicators as unknown[]).length === 0 && features.returns === 1) return false;
    input.features = { indicators: [], lines: [], lags: 0, returns: 1 };
    return true;
  }
  if (field === 'features.lines') {
    features.lines = [];
    return true;
  }
  if (field.startsWith('hidden')) {
    if (input.hidden === undefined) return false;
    input.hidden = undefined;
    return true;
  }
  const path = field.split('.');
  let obj: Record<string, unknown> = input;
  for (const p of path.slice(0, -1)) {
    const next = obj[p];
    if (typeof next !== 'object' || next === null) return false;
    obj = next as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  if (obj[last] === undefined) return false;
  obj[last] = last === 'name' ? '' : undefined;
  return true;
}

/**
 * The training range and the test range after it: the last `share` of the klines in [from, to]
 * (by time) is held out for the out-of-sample test.
 */
export function splitData(symbol: string, interval: Interval, from: number, to: number, share: number, errors: Map<string, string>, t: TFunction): DataChoice | undefined {
  const step = INTERVAL_MS[interval];
  if (to < from) {
    errors.set('to', t('nnPage.error.order'));
    return undefined;
  }
  const n = Math.floor((to - from) / step) + 1;
  const train = Math.max(1, Math.round(n * (1 - share)));
  const trainTo = from + (train - 1) * step;
  const test = train < n ? { from: trainTo + step, to: from + (n - 1) * step } : undefined;
  return { symbol, interval, from, to: trainTo, test };
}

// ---- training runs ----

export type RunState = 'running' | 'stopping' | 'testing' | 'done' | 'stopped' | 'failed';

export interface TrainingRun {
  name: string;
  state: RunState;
  /** Every epoch so far (a resumed run starts with the stored ones). */
  history: EpochRecord[];
  planned: number;
  data?: DataChoice;
  error?: string;
}

/** The page's training runs by model name (at most one each); the curves read their history. */
export class TrainingRuns {
  private readonly runs = new Map<string, TrainingRun>();

  get(name: string): TrainingRun | undefined {
    return this.runs.get(name);
  }

  active(name: string): boolean {
    const s = this.runs.get(name)?.state;
    return s === 'running' || s === 'stopping' || s === 'testing';
  }

  start(name: string, planned: number, data: DataChoice | undefined, history: EpochRecord[] = []): TrainingRun {
    const run: TrainingRun = { name, state: 'running', history: [...history], planned, data };
    this.runs.set(name, run);
    return run;
  }

  /** An epoch from the worker; a repeated or out-of-order epoch number replaces the later ones. */
  epoch(name: string, record: EpochRecord): void {
    const run = this.runs.get(name);
    if (!run) return;
    while (run.history.length > 0 && run.history[run.history.length - 1].epoch >= record.epoch) run.history.pop();
    run.history.push(record);
  }

  set(name: string, state: RunState, error?: string): void {
    const run = this.runs.get(name);
    if (run) Object.assign(run, { state, error });
  }

  forget(name: string): void {
    this.runs.delete(name);
  }
}

// ---- the list ----

export interface ModelRow {
  name: string;
  type: string;
  version: number | undefined;
  /** done, stopped (resumable), none (never trained), or the live state of a run. */
  status: 'trained' | 'stopped' | 'none' | RunState;
  epochs: number;
  planned: number;
  accuracy?: number;
  logLoss?: number;
  returnPct?: number;
}

export function modelRows(models: readonly NnModelInfo[], runs: TrainingRuns): ModelRow[] {
  return models.map((m) => {
    const run = runs.get(m.name);
    const live = run && runs.active(m.name) ? run.state : run?.state === 'failed' ? 'failed' : undefined;
    const latest = m.latest;
    const status = live ?? (latest ? (latest.finished ? 'trained' : 'stopped') : 'none');
    return {
      name: m.name, type: m.type, version: latest?.version, status,
      epochs: live ? run!.history.length : latest?.epochs ?? 0, planned: run?.planned ?? m.config.training.epochs,
      accuracy: latest?.test?.accuracy, logLoss: latest?.test?.logLoss, returnPct: latest?.test?.strategyReturnPct,
    };
  });
}

/** The list's selection by name, so it stays on its model when the list changes. */
export class ModelList {
  rows: ModelRow[] = [];
  cursor = 0;

  setRows(rows: ModelRow[], select?: string): void {
    const keep = select ?? this.selected()?.name;
    this.rows = rows;
    const i = keep === undefined ? -1 : rows.findIndex((r) => r.name === keep);
    this.cursor = i >= 0 ? i : Math.max(0, Math.min(this.cursor, rows.length - 1));
  }

  selected(): ModelRow | undefined {
    return this.rows[this.cursor];
  }

  move(delta: number): void {
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + delta));
  }
}

// ---- the structure ----

export interface LayerView {
  size: number;
  /** `in`, an activation, or the output's (sigmoid for a sign target, linear for a size). */
  kind: string;
}

/** The layers to draw: the inputs, each hidden layer, the output. */
export function layersOf(config: Pick<NnConfig, 'type' | 'features' | 'hidden' | 'target'>): LayerView[] {
  const hidden = config.type === 'logreg' ? [] : config.hidden;
  return [
    { size: featureNames(config.features).length, kind: 'in' },
    ...hidden.map((h) => ({ size: h.size, kind: h.activation })),
    { size: 1, kind: config.target.kind === 'sign' ? 'sigmoid' : 'linear' },
  ];
}

/** The test range after a version's training data: to the end of the stored klines of its symbol and interval. */
export function testRangeAfter(trainedTo: number, interval: string, series: readonly SeriesInfo[], symbol: string): { from: number; to: number } | undefined {
  const s = series.find((x) => x.symbol === symbol && x.interval === interval);
  const step = INTERVAL_MS[interval as Interval] ?? 60_000;
  if (!s || s.last === null || s.last < trainedTo + step) return undefined;
  return { from: trainedTo + step, to: s.last };
}
