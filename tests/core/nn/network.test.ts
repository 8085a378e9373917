import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, Network, type Activation, type NetworkSpec } from '../../../src/core/nn/network.js';
import { DEFAULT_TRAIN, evaluate, newTrainState, train, TrainingStopped, type Dataset } from '../../../src/core/nn/train.js';
import { Rng } from '../../../src/core/random.js';

function randomData(rows: number, cols: number, seed: number, target: (x: Float64Array, base: number, rng: Rng) => number): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  for (let r = 0; r < rows; r++) y[r] = target(x, r * cols, rng);
  return { x, y, rows, cols };
}

/** Central finite differences of the batch loss, against backprop's gradient. */
function gradientCheck(spec: NetworkSpec, l2: number): number {
  const net = new Network(spec);
  net.init('xavier', 7);
  // Biases away from 0 so every path is exercised (relu's kink is avoided by the random inputs).
  for (let l = 0; l < net.layers; l++) for (let j = 0; j < net.sizes[l + 1]; j++) net.params[net.bOff[l] + j] = 0.1 * (j + 1);
  const d = randomData(6, spec.inputs, 3, (x, b) => (spec.loss === 'bce' ? (x[b] > 0 ? 1 : 0) : x[b] * 0.5));
  net.backprop(d.x, d.y, undefined, 0, d.rows, l2);
  const analytic = Float64Array.from(net.grad);
  let worst = 0;
  const h = 1e-6;
  for (let i = 0; i < net.params.length; i++) {
    const keep = net.params[i];
    net.params[i] = keep + h;
    const up = net.backprop(d.x, d.y, undefined, 0, d.rows, l2);
    net.params[i] = keep - h;
    const down = net.backprop(d.x, d.y, undefined, 0, d.rows, l2);
    net.params[i] = keep;
    const numeric = (up - down) / (2 * h);
    const rel = Math.abs(numeric - analytic[i]) / Math.max(1e-8, Math.abs(numeric) + Math.abs(analytic[i]));
    if (Math.abs(numeric - analytic[i]) > 1e-9) worst = Math.max(worst, rel);
  }
  return worst;
}

describe('neural network: backpropagation', () => {
  for (const act of ACTIVATIONS) {
    for (const loss of ['bce', 'mse'] as const) {
      it(`matches finite differences: ${act} hidden layers, ${loss}, with L2`, () => {
        const spec: NetworkSpec = { inputs: 4, hidden: [{ size: 5, activation: act as Activation }, { size: 3, activation: act as Activation }], loss };
        expect(gradientCheck(spec, 0.01)).toBeLessThan(1e-5);
        expect(gradientCheck(spec, 0)).toBeLessThan(1e-5);
      });
    }
  }

  it('matches finite differences for logistic regression', () => {
    expect(gradientCheck({ inputs: 3, hidden: [], loss: 'bce' }, 0.1)).toBeLessThan(1e-6);
  });

  it('a batch of shuffled rows gives the same gradient as the same rows in order', () => {
    const net = new Network({ inputs: 3, hidden: [{ size: 4, activation: 'tanh' }], loss: 'bce' });
    net.init('he', 2);
    const d = randomData(10, 3, 5, (x, b) => (x[b + 1] > 0 ? 1 : 0));
    const rows = Int32Array.from([9, 3, 4, 0]);
    net.backprop(d.x, d.y, rows, 0, 4, 0);
    const viaRows = Float64Array.from(net.grad);
    const x = new Float64Array(12);
    const y = new Float64Array(4);
    rows.forEach((r, i) => {
      x.set(d.x.subarray(r * 3, r * 3 + 3), i * 3);
      y[i] = d.y[r];
    });
    net.backprop(x, y, undefined, 0, 4, 0);
    expect(Array.from(net.grad)).toEqual(Array.from(viaRows));
  });
});

describe('neural network: learning', () => {
  it('learns XOR', () => {
    const x = Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
    const y = Float64Array.from([0, 1, 1, 0]);
    const d: Dataset = { x, y, rows: 4, cols: 2 };
    const net = new Network({ inputs: 2, hidden: [{ size: 8, activation: 'tanh' }], loss: 'bce' });
    net.init('xavier', 1);
    train(net, d, { x: new Float64Array(0), y: new Float64Array(0), rows: 0, cols: 2 }, { ...DEFAULT_TRAIN, epochs: 2000, batchSize: 4, learningRate: 0.05, patience: 0 }, newTrainState(net.params.length));
    const out = [0, 1, 2, 3].map((r) => net.predictOne(x, r * 2));
    expect(out[0]).toBeLessThan(0.1);
    expect(out[1]).toBeGreaterThan(0.9);
    expect(out[2]).toBeGreaterThan(0.9);
    expect(out[3]).toBeLessThan(0.1);
  });

  it('learns a known synthetic signal (a non-linear rule under noise) and generalises to unseen rows', () => {
    const rule = (x: Float64Array, b: number, rng: Rng) => (x[b] * x[b + 1] + 0.5 * x[b + 2] + 0.1 * rng.normal() > 0 ? 1 : 0);
    const tr = randomData(3000, 5, 11, rule);
    const va = randomData(1000, 5, 12, rule);
    const te = randomData(1000, 5, 13, rule);
    const net = new Network({ inputs: 5, hidden: [{ size: 16, activation: 'relu' }, { size: 8, activation: 'relu' }], loss: 'bce' });
    net.init('he', 3);
    const before = evaluate(net, te).accuracy;
    const state = train(net, tr, va, { ...DEFAULT_TRAIN, epochs: 60, batchSize: 32, learningRate: 0.01, patience: 8 }, newTrainState(net.params.length));
    const after = evaluate(net, te);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(after.accuracy).toBeGreaterThan(before + 0.2);
    // The best validation epoch's weights are the ones kept.
    expect(evaluate(net, va).loss).toBeCloseTo(state.bestValLoss, 12);
  });

  it('learns a size target (MSE) with SGD and momentum', () => {
    const rule = (x: Float64Array, b: number) => 0.8 * x[b] - 0.3 * x[b + 1];
    const tr = randomData(1000, 2, 21, rule);
    const va = randomData(200, 2, 22, rule);
    const net = new Network({ inputs: 2, hidden: [{ size: 4, activation: 'linear' }], loss: 'mse' });
    net.init('uniform', 5);
    train(net, tr, va, { ...DEFAULT_TRAIN, optimizer: 'sgd', momentum: 0.9, learningRate: 0.01, epochs: 40, batchSize: 16 }, newTrainState(net.params.length));
    expect(evaluate(net, va).loss).toBeLessThan(1e-4);
  });

  it('stops early when validation loss stops improving and keeps the best weights', () => {
    // Pure noise labels: the validation loss cannot keep improving.
    const noise = (_x: Float64Array, _b: number, rng: Rng) => (rng.next() < 0.5 ? 1 : 0);
    const tr = randomData(200, 10, 31, noise);
    const va = randomData(200, 10, 32, noise);
    const net = new Network({ inputs: 10, hidden: [{ size: 32, activation: 'relu' }], loss: 'bce' });
    net.init('he', 1);
    const state = train(net, tr, va, { ...DEFAULT_TRAIN, epochs: 500, learningRate: 0.01, patience: 5 }, newTrainState(net.params.length));
    expect(state.stoppedEarly).toBe(true);
    expect(state.epoch).toBe(state.bestEpoch + 5);
    expect(state.epoch).toBeLessThan(500);
    const min = Math.min(...state.history.map((h) => h.valLoss));
    expect(state.bestValLoss).toBe(min);
    expect(evaluate(net, va).loss).toBeCloseTo(min, 12);
  });

  it('a stopped and resumed run ends with the same weights as an uninterrupted one', () => {
    const rule = (x: Float64Array, b: number) => (x[b] - x[b + 1] > 0 ? 1 : 0);
    const tr = randomData(300, 3, 41, rule);
    const va = randomData(100, 3, 42, rule);
    const spec: NetworkSpec = { inputs: 3, hidden: [{ size: 6, activation: 'tanh' }], loss: 'bce' };
    const o = { ...DEFAULT_TRAIN, epochs: 12, batchSize: 20, learningRate: 0.01, patience: 0 };
    const a = new Network(spec);
    a.init('xavier', 9);
    train(a, tr, va, o, newTrainState(a.params.length));

    const b = new Network(spec);
    b.init('xavier', 9);
    const state = newTrainState(b.params.length);
    let calls = 0;
    // Stop in the middle of epoch 5 (15 batches per epoch).
    expect(() => train(b, tr, va, o, state, { shouldStop: () => ++calls > 4 * 15 + 7 })).toThrow(TrainingStopped);
    expect(state.epoch).toBe(4);
    const resumed = new Network(spec, b.params);
    train(resumed, tr, va, o, state);
    expect(Array.from(resumed.params)).toEqual(Array.from(a.params));
  });
});

describe('logistic regression', () => {
  it('equals a Newton (IRLS) reference fit with the same L2', () => {
    const d = randomData(400, 3, 51, (x, b, rng) => (1.5 * x[b] - x[b + 1] + 0.3 + rng.normal() > 0 ? 1 : 0));
    const l2 = 0.01;
    // Reference: minimise mean BCE + l2/2·|w|² (bias not penalised) by Newton's method.
    const k = d.cols + 1;
    const beta = new Float64Array(k);
    for (let iter = 0; iter < 50; iter++) {
      const g = new Float64Array(k);
      const H = Array.from({ length: k }, () => new Float64Array(k));
      for (let r = 0; r < d.rows; r++) {
        const f = [1, ...d.x.subarray(r * d.cols, r * d.cols + d.cols)];
        let z = 0;
        for (let i = 0; i < k; i++) z += beta[i] * f[i];
        const p = 1 / (1 + Math.exp(-z));
        for (let i = 0; i < k; i++) {
          g[i] += ((p - d.y[r]) * f[i]) / d.rows;
          for (let j = 0; j < k; j++) H[i][j] += (p * (1 - p) * f[i] * f[j]) / d.rows;
        }
      }
      for (let i = 1; i < k; i++) {
        g[i] += l2 * beta[i];
        H[i][i] += l2;
      }
      const step = solve(H, g);
      for (let i = 0; i < k; i++) beta[i] -= step[i];
    }
    const net = new Network({ inputs: 3, hidden: [], loss: 'bce' });
    net.init('xavier', 1);
    train(net, d, { x: new Float64Array(0), y: new Float64Array(0), rows: 0, cols: 3 }, { ...DEFAULT_TRAIN, optimizer: 'sgd', momentum: 0.5, epochs: 3000, batchSize: 400, learningRate: 1, l2, patience: 0 }, newTrainState(net.params.length));
    // Network params: weights w0..w2 then the bias.
    expect(net.params[3]).toBeCloseTo(beta[0], 6);
    for (let i = 0; i < 3; i++) expect(net.params[i]).toBeCloseTo(beta[i + 1], 6);
  });
});

function solve(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= f * M[c][j];
    }
  }
  return Float64Array.from(M.map((row, i) => row[n] / row[i]));
}
