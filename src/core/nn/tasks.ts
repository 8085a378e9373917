import { AtmError } from '../errors.js';
import type { NnDataRange, NnModelData, NnTestResult, NnVersion } from './model.js';
import { runTest, runTraining, type TrainRunOutput } from './run.js';
import type { KlineColumns } from '../analysis/indicators/types.js';
import type { NnConfig } from './model.js';

/**
 * The simulation worker's neural network tasks (handler: src/workers/simulation.ts).
 *
 * `nn.train` reports per epoch through one SharedArrayBuffer (tinypool gives a task no message
 * channel), laid out as HEADER Int32 slots (cancel flag, epochs done, epochs planned, unused)
 * followed by 4 Float64 per planned epoch (loss, validation loss, accuracy, validation accuracy).
 * The worker writes an epoch's four values, then publishes the count with Atomics.store; the main
 * thread polls the count and reads the epochs it has not seen. Raising the cancel flag stops the
 * run between mini-batches; the task then returns the state of the last full epoch (weights,
 * optimizer moments, history) as a version marked unfinished, which `resume` continues.
 */
export const NN_HEADER = 4;
export const NN_CANCEL = 0;
export const NN_DONE = 1;
export const NN_TOTAL = 2;
export const NN_PER_EPOCH = 4;

export function nnControl(epochs: number): SharedArrayBuffer {
  return new SharedArrayBuffer(NN_HEADER * 4 + epochs * NN_PER_EPOCH * 8);
}

export interface NnTrainTask {
  kind: 'nn.train';
  name: string;
  config: NnConfig;
  klines: KlineColumns;
  range: NnDataRange;
  resume: NnVersion | null;
  control: SharedArrayBuffer;
}

export interface NnTestTask {
  kind: 'nn.test';
  model: NnModelData;
  klines: KlineColumns;
  warmup: number;
  range: NnDataRange;
}

export interface NnFailure {
  kind: 'user' | 'internal';
  message: string;
}

declare module '../workers/tasks.js' {
  interface WorkerTasks {
    /** Trains or resumes one model (src/core/nn/run.ts). */
    'nn.train': { task: NnTrainTask; result: { ok: true; version: TrainRunOutput } | { ok: false; error: NnFailure } };
    /** The out-of-sample test of one model version. */
    'nn.test': { task: NnTestTask; result: { ok: true; test: NnTestResult } | { ok: false; error: NnFailure } };
  }
}

function failure(error: unknown): NnFailure {
  if (error instanceof AtmError && error.kind === 'user') return { kind: 'user', message: error.message };
  const e = error as Error;
  return { kind: 'internal', message: e?.stack ?? String(error) };
}

export function fromNnFailure(f: NnFailure): Error {
  return f.kind === 'user' ? new AtmError('user', f.message) : new AtmError('internal', `training worker failed: ${f.message}`);
}

/** `afterEpoch`: called after each epoch is published (in-process runs read progress there). */
export function runNnTrainTask(task: NnTrainTask, afterEpoch?: () => void): { ok: true; version: TrainRunOutput } | { ok: false; error: NnFailure } {
  const head = new Int32Array(task.control, 0, NN_HEADER);
  const epochs = new Float64Array(task.control, NN_HEADER * 4);
  const capacity = epochs.length / NN_PER_EPOCH;
  Atomics.store(head, NN_TOTAL, task.config.training.epochs);
  try {
    const version = runTraining(
      { name: task.name, config: task.config, klines: task.klines, range: task.range, resume: task.resume },
      {
        shouldStop: () => Atomics.load(head, NN_CANCEL) !== 0,
        onEpoch: (r) => {
          const i = r.epoch - 1;
          if (i < 0 || i >= capacity) return;
          epochs[i * NN_PER_EPOCH] = r.loss;
          epochs[i * NN_PER_EPOCH + 1] = r.valLoss;
          epochs[i * NN_PER_EPOCH + 2] = r.accuracy;
          epochs[i * NN_PER_EPOCH + 3] = r.valAccuracy;
          Atomics.store(head, NN_DONE, r.epoch);
          afterEpoch?.();
        },
      },
    );
    return { ok: true, version };
  } catch (error) {
    return { ok: false, error: failure(error) };
  }
}

export function runNnTestTask(task: NnTestTask): { ok: true; test: NnTestResult } | { ok: false; error: NnFailure } {
  try {
    return { ok: true, test: runTest(task.model, task.klines, task.warmup, task.range) };
  } catch (error) {
    return { ok: false, error: failure(error) };
  }
}
