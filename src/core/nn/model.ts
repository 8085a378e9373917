import { AtmError } from '../errors.js';
import { outputColumns } from '../analysis/engine.js';
import { AnalysisParamError, parseIndicatorArg, validateIndicator, type CacIndicator } from '../analysis/cac.js';
import { ACTIVATIONS, INITS, type Activation, type Init, type LayerSpec } from './network.js';
import { DEFAULT_TRAIN, OPTIMIZERS, type EpochRecord, type Optimizer, type TrainOptions } from './train.js';
import { featureNames, type FeatureSpec, type TargetSpec } from './features.js';

/**
 * A model's configuration (what `atm nn create --config` reads and the database keeps), the trained
 * versions stored beside it, and the repository port that stores them (src/db/nnStore.ts).
 */
export const MODEL_TYPES = ['mlp', 'logreg'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface NnTraining extends TrainOptions {
  /** Share of the training klines, at the end of the range, kept for validation (0 = none). */
  validation: number;
}

export interface NnConfig {
  name: string;
  type: ModelType;
  features: FeatureSpec;
  target: TargetSpec;
  /** Hidden layers (empty for logreg). */
  hidden: LayerSpec[];
  init: Init;
  seed: number;
  training: NnTraining;
}

export { networkSpec } from './predictor.js';

/** A configuration problem: names the field and the reason. */
export class NnConfigError extends AtmError {
  constructor(readonly field: string, reason: string, where = 'model') {
    super('user', `${where}: ${field}: ${reason}`, { field });
    this.name = 'NnConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(where: string, obj: Obj, key: string, field: string, fallback: number, min: number, max: number, int = false, minExclusive = false): number {
  const raw = obj[key];
  if (raw === undefined || raw === null) return fallback;
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  const range = `${int ? 'an integer' : 'a number'} ${minExclusive ? `greater than ${min}` : `from ${min}`} ${minExclusive ? 'and at most' : 'to'} ${max}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new NnConfigError(field, `${JSON.stringify(raw)} is not a number; allowed: ${range}`, where);
  if (int && !Number.isInteger(v)) throw new NnConfigError(field, `${v} is not an integer; allowed: ${range}`, where);
  if ((minExclusive ? v <= min : v < min) || v > max) throw new NnConfigError(field, `${v} is out of range; allowed: ${range}`, where);
  return v;
}

function oneOf<T extends string>(where: string, obj: Obj, key: string, field: string, allowed: readonly T[], fallback: T): T {
  const raw = obj[key];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'string' || !allowed.includes(raw as T)) throw new NnConfigError(field, `${JSON.stringify(raw)} is not allowed; allowed: ${allowed.join(', ')}`, where);
  return raw as T;
}

function known(where: string, obj: Obj, prefix: string, keys: string[]): void {
  for (const k of Object.keys(obj)) if (!keys.includes(k)) throw new NnConfigError(prefix + k, `unknown key; allowed: ${keys.join(', ')}`, where);
}

/** Validates a configuration from plain data (a YAML file, the database, the page's form). */
export function validateNnConfig(input: unknown, where = 'model'): NnConfig {
  if (!isObj(input)) throw new NnConfigError('(top)', 'expected a mapping with type, features, target, hidden, training', where);
  known(where, input, '', ['name', 'type', 'features', 'target', 'hidden', 'init', 'seed', 'training']);
  const name = input.name === undefined || input.name === null ? '' : String(input.name).trim();
  if (name.length > 64) throw new NnConfigError('name', 'at most 64 characters', where);
  if (name !== '' && !/^[A-Za-z0-9_.-]+$/.test(name)) throw new NnConfigError('name', `${JSON.stringify(name)}: use letters, digits, _ . -`, where);
  const type = oneOf(where, input, 'type', 'type', MODEL_TYPES, 'mlp');

  const f = input.features;
  if (!isObj(f)) throw new NnConfigError('features', 'expected a mapping with indicators, lines, lags, returns', where);
  known(where, f, 'features.', ['indicators', 'lines', 'lags', 'returns']);
  if (!Array.isArray(f.indicators)) throw new NnConfigError('features.indicators', 'expected a list of indicators ("TYPE:param=value" or { type, params })', where);
  let indicators: CacIndicator[];
  try {
    indicators = f.indicators.map((item): CacIndicator => {
      if (typeof item === 'string') {
        const { type: t, params } = parseIndicatorArg(item);
        return validateIndicator(t, params);
      }
      if (isObj(item) && typeof item.type === 'string') return validateIndicator(item.type, (item.params as Obj | undefined) ?? {});
      throw new NnConfigError('features.indicators', `${JSON.stringify(item)} is not an indicator ("TYPE:param=value" or { type, params })`, where);
    });
  } catch (error) {
    if (error instanceof AnalysisParamError) throw new NnConfigError('features.indicators', error.message, where);
    throw error;
  }
  const { columns } = outputColumns({ name: '', indicators, pip: null });
  let lines: string[];
  if (f.lines === undefined || f.lines === null || (Array.isArray(f.lines) && f.lines.length === 0)) lines = columns;
  else if (Array.isArray(f.lines)) lines = f.lines.map(String);
  else throw new NnConfigError('features.lines', 'expected a list of lines such as MFI.norm', where);
  for (const l of lines) if (!columns.includes(l)) throw new NnConfigError('features.lines', `${l} is not a line of the indicators; they have ${columns.join(', ') || 'none'}`, where);
  const lags = num(where, f, 'lags', 'features.lags', 0, 0, 500, true);
  const returns = num(where, f, 'returns', 'features.returns', 0, 0, 500, true);
  if (lines.length === 0 && returns === 0) throw new NnConfigError('features', 'no inputs: choose indicator lines or returns', where);

  const t = isObj(input.target) ? input.target : {};
  if (input.target !== undefined && !isObj(input.target)) throw new NnConfigError('target', 'expected a mapping with kind and horizon', where);
  known(where, t, 'target.', ['kind', 'horizon']);
  const target: TargetSpec = { kind: oneOf(where, t, 'kind', 'target.kind', ['sign', 'size'] as const, 'sign'), horizon: num(where, t, 'horizon', 'target.horizon', 1, 1, 10_000, true) };

  let hidden: LayerSpec[] = [];
  if (type === 'mlp') {
    const h = input.hidden ?? [{ size: 16, activation: 'relu' }];
    if (!Array.isArray(h)) throw new NnConfigError('hidden', 'expected a list of layers { size, activation }', where);
    hidden = h.map((layer, i) => {
      const l = typeof layer === 'number' ? { size: layer } : layer;
      if (!isObj(l)) throw new NnConfigError(`hidden[${i}]`, 'expected { size, activation }', where);
      known(where, l, `hidden[${i}].`, ['size', 'activation']);
      return { size: num(where, l, 'size', `hidden[${i}].size`, 16, 1, 4096, true), activation: oneOf<Activation>(where, l, 'activation', `hidden[${i}].activation`, ACTIVATIONS, 'relu') };
    });
  } else if (Array.isArray(input.hidden) && input.hidden.length > 0) {
    throw new NnConfigError('hidden', 'logreg has no hidden layers; remove them or use type mlp', where);
  }
  const init = oneOf<Init>(where, input, 'init', 'init', INITS, 'xavier');
  const seed = num(where, input, 'seed', 'seed', 1, 0, 2 ** 32 - 1, true);

  const tr = isObj(input.training) ? input.training : {};
  if (input.training !== undefined && !isObj(input.training)) throw new NnConfigError('training', 'expected a mapping', where);
  known(where, tr, 'training.', ['epochs', 'batchSize', 'learningRate', 'optimizer', 'momentum', 'l2', 'patience', 'validation', 'seed']);
  const training: NnTraining = {
    epochs: num(where, tr, 'epochs', 'training.epochs', DEFAULT_TRAIN.epochs, 1, 100_000, true),
    batchSize: num(where, tr, 'batchSize', 'training.batchSize', DEFAULT_TRAIN.batchSize, 1, 1_000_000, true),
    learningRate: num(where, tr, 'learningRate', 'training.learningRate', DEFAULT_TRAIN.learningRate, 0, 10, false, true),
    optimizer: oneOf<Optimizer>(where, tr, 'optimizer', 'training.optimizer', OPTIMIZERS, DEFAULT_TRAIN.optimizer),
    momentum: num(where, tr, 'momentum', 'training.momentum', DEFAULT_TRAIN.momentum, 0, 0.999),
    l2: num(where, tr, 'l2', 'training.l2', DEFAULT_TRAIN.l2, 0, 10),
    patience: num(where, tr, 'patience', 'training.patience', DEFAULT_TRAIN.patience, 0, 100_000, true),
    validation: num(where, tr, 'validation', 'training.validation', 0.2, 0, 0.9),
    seed: num(where, tr, 'seed', 'training.seed', seed, 0, 2 ** 32 - 1, true),
  };
  return { name, type, features: { indicators, lines, lags, returns }, target, hidden, init, seed, training };
}

/** `NN_<n>`: the smallest n > 0 not used by an existing name. */
export function nextNnName(existing: Iterable<string>): string {
  const used = new Set<number>();
  for (const name of existing) {
    const m = /^NN_(\d+)$/.exec(name);
    if (m) used.add(Number(m[1]));
  }
  let n = 1;
  while (used.has(n)) n++;
  return `NN_${n}`;
}

/** What `atm nn create --example` prints: a commented configuration that validates as is. */
export const EXAMPLE_CONFIG = `# A neural network model for atm (atm nn create --config <file>).
# Blank name: the model is named NN_<n>.
name: ""
# mlp (hidden layers below) or logreg (logistic regression: no hidden layers)
type: mlp
features:
  # The indicators whose lines are inputs, written as in a CAC ("TYPE:param=value").
  indicators: ["MMACDSHORT", "MFI:n=14", "DMIXADX"]
  # Which of their lines (TYPE.line; a repeated type is TYPE#2.line). Empty: every line.
  lines: [MMACDSHORT.norm, MFI.norm, DMIXADX.norm]
  # Past klines of each line besides the current one.
  lags: 4
  # Past log returns of the close as extra inputs (0 = none).
  returns: 4
target:
  # sign: is the close higher after \`horizon\` klines (sigmoid output, cross-entropy);
  # size: that return in percent (linear output, squared error).
  kind: sign
  horizon: 5
# Hidden layers: size and activation (relu, tanh, sigmoid, linear).
hidden:
  - { size: 16, activation: relu }
  - { size: 8, activation: relu }
# Weight initialisation (xavier, he, uniform) and its seed.
init: he
seed: 1
training:
  epochs: 50
  batchSize: 64
  learningRate: 0.001
  optimizer: adam        # adam or sgd (with momentum)
  momentum: 0.9          # sgd only
  l2: 0.0001             # weight decay on the weights (not the biases)
  patience: 10           # epochs without a better validation loss before stopping (0 = never)
  validation: 0.2        # the last 20 % of the klines (by time) validate
`;

/** The training data a version was trained on. */
export interface NnDataRange {
  symbol: string;
  interval: string;
  from: number;
  to: number;
}

/** The out-of-sample test of a version (a range after any training data). */
export interface NnTestResult {
  range: NnDataRange;
  rows: number;
  accuracy: number;
  /** Mean cross-entropy (sign targets) or squared error (size targets). */
  logLoss: number;
  /** Trading the predicted sign kline by kline: compounded return in percent after fees. */
  strategyReturnPct: number;
  /** The same without fees. */
  grossReturnPct: number;
  buyAndHoldPct: number;
  /** Position changes (each flip long↔short counts 2 sides). */
  trades: number;
  feeRate: number;
  testedAt: number;
}

/** The training record of a version. */
export interface NnTrainingRecord {
  range: NnDataRange;
  trainRows: number;
  valRows: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
  /** Training reached its end (epochs or early stopping); false for a stopped run that can resume. */
  finished: boolean;
  seconds: number;
}

/** One stored version: everything inference needs, and what resuming needs. */
export interface NnVersion {
  name: string;
  version: number;
  config: NnConfig;
  inputs: string[];
  mean: number[];
  sd: number[];
  ySd: number;
  params: Float64Array;
  /** The optimizer's state and counters (resume), when training may continue. */
  optimizer: NnOptimizerState | null;
  record: NnTrainingRecord;
  test: NnTestResult | null;
  createdAt: number;
}

export interface NnOptimizerState {
  epoch: number;
  step: number;
  m: Float64Array;
  v: Float64Array;
  /** The weights of the last full epoch (params hold the best ones). */
  last: Float64Array;
  sinceBest: number;
}

/** What a model looks like in lists. */
export interface NnModelInfo {
  id: number;
  name: string;
  type: ModelType;
  config: NnConfig;
  versions: number;
  latest: { version: number; finished: boolean; epochs: number; valLoss: number; test: NnTestResult | null } | null;
  createdAt: number;
  updatedAt: number;
}

/** The model as plain data for inference (PIP, workers): no optimizer, no history. */
export interface NnModelData {
  name: string;
  version: number;
  config: NnConfig;
  mean: number[];
  sd: number[];
  ySd: number;
  params: Float64Array;
}

export function modelData(v: NnVersion): NnModelData {
  return { name: v.name, version: v.version, config: v.config, mean: v.mean, sd: v.sd, ySd: v.ySd, params: v.params };
}

/** The repository port (src/db/nnStore.ts). */
export interface NnRepository {
  list(): NnModelInfo[];
  get(name: string): NnModelInfo | undefined;
  /** Creates a model with no version; throws a user error when the name exists. */
  create(config: NnConfig): NnModelInfo;
  remove(name: string): boolean;
  /** Stores a new version (number = last + 1) and returns it. */
  saveVersion(v: Omit<NnVersion, 'version' | 'createdAt'>): number;
  /** One version, the latest when `version` is omitted. */
  loadVersion(name: string, version?: number): NnVersion | undefined;
  setTest(name: string, version: number, test: NnTestResult): void;
}
