import { validateCac, type Cac } from '../core/analysis/cac.js';
import { AnalysisEngine, analyzeBatch } from '../core/analysis/engine.js';
import { emptyBar, readBar, type KlineColumns } from '../core/analysis/indicators/index.js';
import { EXAMPLE_CONFIG, validateNnConfig, type NnModelData } from '../core/nn/model.js';
import { networkSpec } from '../core/nn/predictor.js';
import { Network } from '../core/nn/network.js';
import { DEFAULT_TRAIN, newTrainState, optimizerStep, train } from '../core/nn/train.js';
import { parse } from 'yaml';
import { Rng } from '../core/random.js';
import type { BenchSection } from './index.js';

/**
 * Neural network figures, on one thread (the main one). CPU figures divide by this process's CPU
 * time (a shared machine inflates wall time, not CPU time); each is the best of 3 runs.
 * - trainSamplesPerSec / trainSamplesPerCpuSec: a 64-32-16-1 MLP (relu, sigmoid output, BCE),
 *   Adam, mini-batches of 64: forward, backpropagation and the optimizer step over 50 000 random
 *   rows (one epoch, no evaluation);
 * - trainEpochSamplesPerSec: the same through train(), which also evaluates the training and
 *   validation rows after each epoch (the figure the Neural Network page's ETA sees);
 * - predictNsPerRow: one row through the 64-32-16-1 network (standardised input given);
 * - pipNnNsPerKline_*: the cost a model adds to PIP per kline, streaming (AnalysisEngine.update,
 *   one kline at a time, as a live analysis): PIP in mode nn minus PIP in mode classical over the
 *   same CAC and 200 000 klines. `returns64` is the 64-32-16-1 network on the last 64 log returns
 *   (the feature window, standardisation and network only); `example` is `atm nn create
 *   --example`'s model (19 inputs from MMACDSHORT, MFI and DMIXADX with 4 lags and 4 returns,
 *   16-8-1), whose own three indicators are included; pipNnBatchNsPerKline_* the same in batch.
 */
const ROWS = 50_000;
const KLINES = 200_000;

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function best<T>(runs: number, fn: () => T): { ms: number; cpu: number } {
  let ms = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
    cpu = Math.min(cpu, cpuMs(process.cpuUsage(c0)));
  }
  return { ms, cpu };
}

function klines(n: number): KlineColumns {
  const rng = new Rng(777);
  const k: KlineColumns = { openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n), takerBuyVolume: new Float64Array(n) };
  let price = 30_000;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.round(open * (1 + (rng.next() - 0.5) * 0.002) * 10) / 10;
    k.openTime[i] = 1_600_000_000_000 + i * 60_000;
    k.open[i] = open;
    k.close[i] = close;
    k.high[i] = Math.max(open, close) + 1;
    k.low[i] = Math.min(open, close) - 1;
    k.volume[i] = 1 + rng.next() * 100;
    k.takerBuyVolume[i] = k.volume[i] / 2;
    price = close;
  }
  return k;
}

function randomModel(name: string, input: unknown): NnModelData {
  const config = validateNnConfig(input);
  const net = new Network(networkSpec(config));
  net.init(config.init, 1);
  const n = net.sizes[0];
  return { name, version: 1, config, mean: new Array(n).fill(0), sd: new Array(n).fill(0.001), ySd: 1, params: net.params };
}

function streamNs(cac: Cac, k: KlineColumns): number {
  return best(3, () => {
    const engine = new AnalysisEngine(cac);
    const bar = emptyBar();
    for (let i = 0; i < KLINES; i++) engine.update(readBar(k, i, bar));
  }).cpu;
}

export const section: BenchSection = {
  name: 'nn',
  async run() {
    // ---- training ----
    const spec = { inputs: 64, hidden: [{ size: 32, activation: 'relu' as const }, { size: 16, activation: 'relu' as const }], loss: 'bce' as const };
    const rng = new Rng(1);
    const x = new Float64Array(ROWS * 64);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const y = new Float64Array(ROWS);
    for (let r = 0; r < ROWS; r++) y[r] = x[r * 64] + 0.5 * x[r * 64 + 1] > 0 ? 1 : 0;
    const net = new Network(spec);
    net.init('he', 1);
    const state = newTrainState(net.params.length);
    const o = { ...DEFAULT_TRAIN, batchSize: 64 };
    const loop = best(3, () => {
      for (let s = 0; s < ROWS; s += 64) {
        net.backprop(x, y, undefined, s, Math.min(64, ROWS - s), o.l2);
        optimizerStep(net, state, o);
      }
    });
    const val = { x: x.subarray(0, 10_000 * 64), y: y.subarray(0, 10_000), rows: 10_000, cols: 64 };
    const epochs = best(1, () => {
      const n2 = new Network(spec);
      n2.init('he', 2);
      train(n2, { x, y, rows: ROWS, cols: 64 }, val, { ...o, epochs: 2, patience: 0 }, newTrainState(n2.params.length));
    });
    const rows = best(3, () => {
      let acc = 0;
      for (let r = 0; r < ROWS; r++) acc += net.predictOne(x, r * 64);
      return acc;
    });

    // ---- inside PIP ----
    const k = klines(KLINES);
    const big = randomModel('R64', { name: 'R64', type: 'mlp', features: { indicators: [], lines: [], lags: 0, returns: 64 }, target: { kind: 'sign', horizon: 1 }, hidden: [{ size: 32, activation: 'relu' }, { size: 16, activation: 'relu' }] });
    const example = randomModel('EX', { ...(parse(EXAMPLE_CONFIG) as object), name: 'EX' });
    const pip = (mode: string, model?: NnModelData): Cac => {
      const cac = validateCac({ indicators: ['SMA:n=20'], pip: { mode, ...(model ? { nnModel: model.name } : {}) } });
      return model ? { ...cac, pip: { ...cac.pip!, nn: model } } : cac;
    };
    const plain = streamNs(pip('classical'), k);
    const withBig = streamNs(pip('nn', big), k);
    const withExample = streamNs(pip('nn', example), k);
    const batch = (cac: Cac) => best(3, () => analyzeBatch(cac, k)).cpu;
    const plainBatch = batch(pip('classical'));
    const bigBatch = batch(pip('nn', big));
    const exampleBatch = batch(pip('nn', example));
    const perKline = (ms: number) => Math.round((ms * 1e6) / KLINES);
    return {
      trainSamplesPerSec: Math.round(ROWS / (loop.ms / 1000)),
      trainSamplesPerCpuSec: Math.round(ROWS / (loop.cpu / 1000)),
      trainEpochSamplesPerSec: Math.round((2 * ROWS) / (epochs.ms / 1000)),
      predictNsPerRow: Math.round((rows.cpu * 1e6) / ROWS),
      pipNnNsPerKline_returns64: perKline(withBig - plain),
      pipNnNsPerKline_example: perKline(withExample - plain),
      pipNnBatchNsPerKline_returns64: perKline(bigBatch - plainBatch),
      pipNnBatchNsPerKline_example: perKline(exampleBatch - plainBatch),
      pipClassicalStreamNsPerKline: perKline(plain),
    };
  },
};
