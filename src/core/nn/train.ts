import { Rng } from '../random.js';
import { Network, pointLoss } from './network.js';

/**
 * Mini-batch training: SGD with momentum or Adam, L2 on the weights, early stopping on the
 * validation loss with patience (the best weights are kept and restored at the end). The whole
 * state (weights, optimizer moments, epoch, best weights) is plain typed arrays and numbers, so a
 * stopped run is stored and resumed exactly where it stopped.
 */
export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: Optimizer;
  /** SGD momentum (0 = plain SGD). */
  momentum: number;
  l2: number;
  /** Epochs without a better validation loss before stopping (0 = never stop early). */
  patience: number;
  /** Seed of the shuffle inside the training range. */
  seed: number;
}

export const DEFAULT_TRAIN: TrainOptions = { epochs: 50, batchSize: 64, learningRate: 0.001, optimizer: 'adam', momentum: 0.9, l2: 0, patience: 10, seed: 1 };

export interface Dataset {
  /** Row-major inputs, `cols` per row. */
  x: Float64Array;
  y: Float64Array;
  rows: number;
  cols: number;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number;
  /** Share of training / validation rows whose sign is right (sign targets; size targets: sign of the prediction vs the target). */
  accuracy: number;
  valAccuracy: number;
}

/** Everything needed to resume training. */
export interface TrainState {
  epoch: number;
  /** Adam step counter. */
  step: number;
  /** First moment (Adam) or velocity (SGD momentum). */
  m: Float64Array;
  /** Second moment (Adam). */
  v: Float64Array;
  best: Float64Array;
  bestValLoss: number;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
  history: EpochRecord[];
}

export function newTrainState(params: number): TrainState {
  return { epoch: 0, step: 0, m: new Float64Array(params), v: new Float64Array(params), best: new Float64Array(0), bestValLoss: Infinity, bestEpoch: 0, sinceBest: 0, stoppedEarly: false, history: [] };
}

export class TrainingStopped extends Error {
  constructor() {
    super('training stopped');
  }
}

/** Applies one optimizer step to `net.params` from `net.grad`. */
export function optimizerStep(net: Network, state: TrainState, o: TrainOptions): void {
  const p = net.params;
  const g = net.grad;
  const m = state.m;
  const lr = o.learningRate;
  const n = p.length;
  if (o.optimizer === 'adam') {
    const b1 = 0.9;
    const b2 = 0.999;
    const t = ++state.step;
    const c1 = 1 / (1 - Math.pow(b1, t));
    const c2 = 1 / (1 - Math.pow(b2, t));
    const v = state.v;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
      const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
      p[i] -= (lr * mi * c1) / (Math.sqrt(vi * c2) + 1e-8);
    }
  } else {
    const mu = o.momentum;
    state.step++;
    for (let i = 0; i < n; i++) {
      const vi = (m[i] = mu * m[i] - lr * g[i]);
      p[i] += vi;
    }
  }
}

/** Mean loss and sign accuracy of `net` over a dataset. */
export function evaluate(net: Network, d: Dataset): { loss: number; accuracy: number } {
  if (d.rows === 0) return { loss: NaN, accuracy: NaN };
  const bce = net.spec.loss === 'bce';
  let loss = 0;
  let right = 0;
  for (let s = 0; s < d.rows; s++) {
    const o = net.predictOne(d.x, s * d.cols);
    const t = d.y[s];
    loss += pointLoss(bce, o, t);
    if (bce ? o >= 0.5 === t >= 0.5 : o > 0 === t > 0) right++;
  }
  return { loss: loss / d.rows, accuracy: right / d.rows };
}

/**
 * Trains `net` on `train`, validating on `val` after each epoch, from `state` (a new one or a
 * stored one) until `o.epochs` epochs are done, early stopping triggers, or `shouldStop` says so
 * between batches (then TrainingStopped is thrown and `state`/`net` hold the last full epoch).
 * The best weights (lowest validation loss; the last when there is no validation set) end in
 * `net.params`.
 */
export function train(
  net: Network,
  trainSet: Dataset,
  val: Dataset,
  o: TrainOptions,
  state: TrainState,
  hooks: { onEpoch?: (r: EpochRecord) => void; shouldStop?: () => boolean } = {},
): TrainState {
  const n = trainSet.rows;
  if (n === 0) throw new Error('no training rows');
  const order = new Int32Array(n);
  const batch = Math.max(1, Math.min(o.batchSize, n));
  // A resumed run shuffles like the uninterrupted one: the generator is advanced past the epochs
  // done (a stop mid-epoch rolls that epoch back, so the next call redoes it whole).
  const rng = new Rng(o.seed);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let e = 0; e < state.epoch; e++) shuffle(order, rng);
  const snapshot = { params: new Float64Array(net.params.length), m: new Float64Array(state.m.length), v: new Float64Array(state.v.length) };
  while (state.epoch < o.epochs && !state.stoppedEarly) {
    snapshot.params.set(net.params);
    snapshot.m.set(state.m);
    snapshot.v.set(state.v);
    const stepBefore = state.step;
    shuffle(order, rng);
    for (let start = 0; start < n; start += batch) {
      if (hooks.shouldStop?.()) {
        net.params.set(snapshot.params);
        state.m.set(snapshot.m);
        state.v.set(snapshot.v);
        state.step = stepBefore;
        throw new TrainingStopped();
      }
      net.backprop(trainSet.x, trainSet.y, order, start, Math.min(batch, n - start), o.l2);
      optimizerStep(net, state, o);
    }
    state.epoch++;
    const tr = evaluate(net, trainSet);
    const va = val.rows > 0 ? evaluate(net, val) : { loss: NaN, accuracy: NaN };
    const record: EpochRecord = { epoch: state.epoch, loss: tr.loss, valLoss: va.loss, accuracy: tr.accuracy, valAccuracy: va.accuracy };
    state.history.push(record);
    const score = val.rows > 0 ? va.loss : tr.loss;
    if (score < state.bestValLoss || state.best.length === 0) {
      state.bestValLoss = score;
      state.bestEpoch = state.epoch;
      state.best = Float64Array.from(net.params);
      state.sinceBest = 0;
    } else {
      state.sinceBest++;
      if (o.patience > 0 && state.sinceBest >= o.patience) state.stoppedEarly = true;
    }
    hooks.onEpoch?.(record);
  }
  if (state.best.length === net.params.length) net.params.set(state.best);
  return state;
}

function shuffle(order: Int32Array, rng: Rng): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}
