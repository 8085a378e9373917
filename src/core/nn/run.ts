import { AtmError } from '../errors.js';
import type { KlineColumns } from '../analysis/indicators/types.js';
import { computeFeatures, featureNames, fitScaler, labelOf, rangeRows, timeSplit, toDataset, type FeatureMatrix, type Scaler } from './features.js';
import { networkSpec, type NnConfig, type NnDataRange, type NnModelData, type NnTestResult, type NnVersion } from './model.js';
import { NnPredictor } from './predictor.js';

export { NnPredictor } from './predictor.js';
import { Network, pointLoss } from './network.js';
import { newTrainState, train, TrainingStopped, type EpochRecord, type TrainState } from './train.js';

/**
 * The work of a training run and of an out-of-sample test, on plain data (the worker calls these;
 * tests and the bench call them in process).
 */

/** Taker fee per side on the traded notional, used by the out-of-sample test's trading return. */
export const TEST_FEE_RATE = 0.0004;

export interface TrainRunInput {
  name: string;
  config: NnConfig;
  klines: KlineColumns;
  range: NnDataRange;
  /** A stopped version to continue (its weights, optimizer state and history). */
  resume?: NnVersion | null;
}

export type TrainRunOutput = Omit<NnVersion, 'version' | 'createdAt'>;

/** Trains (or resumes) a model over the klines; returns the version to store, finished or stopped. */
export function runTraining(input: TrainRunInput, hooks: { onEpoch?: (r: EpochRecord) => void; shouldStop?: () => boolean; now?: () => number } = {}): TrainRunOutput {
  const started = (hooks.now ?? Date.now)();
  const { config } = input;
  const m = computeFeatures(config.features, config.target, input.klines);
  const { train: tr, val } = timeSplit(m.n, config.training.validation);
  const trainRows = rangeRows(m, tr[0], tr[1], config.target.horizon);
  const valRows = rangeRows(m, val[0], val[1], config.target.horizon);
  if (trainRows.length === 0) throw new TrainDataError(`no training rows: ${m.n} klines give no complete input with a label (warm-up, lags and the ${config.target.horizon}-kline horizon need more klines)`);
  const resume = input.resume ?? null;
  const scaler: Scaler = resume ? { mean: Float64Array.from(resume.mean), sd: Float64Array.from(resume.sd), ySd: resume.ySd } : fitScaler(m, trainRows, config.target);
  const trainSet = toDataset(m, trainRows, scaler, config.target);
  const valSet = toDataset(m, valRows, scaler, config.target);
  const spec = networkSpec(config);
  let net: Network;
  let state: TrainState;
  if (resume && resume.optimizer) {
    const o = resume.optimizer;
    net = new Network(spec, o.last);
    state = {
      epoch: o.epoch, step: o.step, m: Float64Array.from(o.m), v: Float64Array.from(o.v), best: Float64Array.from(resume.params),
      bestValLoss: resume.record.bestValLoss ?? Infinity, bestEpoch: resume.record.bestEpoch, sinceBest: o.sinceBest, stoppedEarly: false,
      history: resume.record.history.map((h) => ({ ...h, valLoss: h.valLoss ?? NaN, valAccuracy: h.valAccuracy ?? NaN })),
    };
  } else {
    net = new Network(spec);
    net.init(config.init, config.seed);
    state = newTrainState(net.params.length);
  }
  let finished = true;
  let last: Float64Array;
  try {
    train(net, trainSet, valSet, config.training, state, hooks);
    last = state.best.length ? state.best : Float64Array.from(net.params);
  } catch (error) {
    if (!(error instanceof TrainingStopped)) throw error;
    finished = false;
    last = Float64Array.from(net.params);
    if (state.best.length === net.params.length) net.params.set(state.best);
  }
  const seconds = ((hooks.now ?? Date.now)() - started) / 1000 + (resume?.record.seconds ?? 0);
  return {
    name: input.name,
    config,
    inputs: featureNames(config.features),
    mean: Array.from(scaler.mean),
    sd: Array.from(scaler.sd),
    ySd: scaler.ySd,
    params: Float64Array.from(net.params),
    optimizer: { epoch: state.epoch, step: state.step, m: state.m, v: state.v, last, sinceBest: state.sinceBest },
    record: {
      range: input.range, trainRows: trainRows.length, valRows: valRows.length, history: state.history, bestEpoch: state.bestEpoch,
      bestValLoss: state.bestValLoss, stoppedEarly: state.stoppedEarly, finished, seconds,
    },
    test: null,
  };
}

/** Too little data for a model: a user error (one line). */
export class TrainDataError extends AtmError {
  constructor(message: string) {
    super('user', message);
    this.name = 'TrainDataError';
  }
}

/**
 * The out-of-sample test over klines [from, n) of the matrix (the klines before `from` are the
 * warm-up): accuracy and loss on the rows whose label lies inside the range; and the return of
 * trading the predicted sign kline by kline: at each close the position becomes +1 (rise
 * predicted) or −1, held to the next close; each change of position pays TEST_FEE_RATE per side on
 * the notional (entering 1 side, a flip 2 sides, the exit at the end 1 side), compounded.
 */
export function testOnMatrix(model: NnModelData, m: FeatureMatrix, from: number, range: NnDataRange, feeRate = TEST_FEE_RATE, now = Date.now()): NnTestResult {
  const p = new NnPredictor(model);
  const target = model.config.target;
  const bce = target.kind === 'sign';
  const rows = rangeRows(m, from, m.n, target.horizon);
  let loss = 0;
  let right = 0;
  for (const t of rows) {
    const o = p.predict(m.x, t * m.cols);
    const y = labelOf(m.forward[t], target);
    loss += pointLoss(bce, o, y);
    if (bce ? o >= 0.5 === y >= 0.5 : o > 0 === y > 0) right++;
  }
  let equity = 1;
  let gross = 1;
  let pos = 0;
  let trades = 0;
  for (let t = from; t + 1 < m.n; t++) {
    if (!m.valid[t]) continue;
    const o = p.predict(m.x, t * m.cols);
    const want = (bce ? o >= 0.5 : o > 0) ? 1 : -1;
    if (want !== pos) {
      const sides = Math.abs(want - pos);
      equity *= 1 - feeRate * sides;
      trades += sides;
      pos = want;
    }
    const r = m.close[t + 1] / m.close[t] - 1;
    equity *= 1 + pos * r;
    gross *= 1 + pos * r;
  }
  if (pos !== 0) {
    equity *= 1 - feeRate;
    trades++;
  }
  const first = Math.min(from, m.n - 1);
  return {
    range, rows: rows.length,
    accuracy: rows.length ? right / rows.length : NaN,
    logLoss: rows.length ? loss / rows.length : NaN,
    strategyReturnPct: (equity - 1) * 100,
    grossReturnPct: (gross - 1) * 100,
    buyAndHoldPct: m.n > 0 ? (m.close[m.n - 1] / m.close[first] - 1) * 100 : NaN,
    trades, feeRate, testedAt: now,
  };
}

/** Tests over klines whose first `warmup` are warm-up only (before the test range). */
export function runTest(model: NnModelData, klines: KlineColumns, warmup: number, range: NnDataRange, now = Date.now()): NnTestResult {
  const m = computeFeatures(model.config.features, model.config.target, klines);
  return testOnMatrix(model, m, warmup, range, TEST_FEE_RATE, now);
}
