import { UserError } from '../errors.js';
import { INTERVAL_MS, type Interval } from '../market/klines.js';
import type { KlineRepository } from '../market/repository.js';
import type { KlineColumns } from '../analysis/indicators/types.js';
import type { TaskPool } from '../workers/pool.js';
import { featureWarmup } from './features.js';
import { modelData, nextNnName, validateNnConfig, type NnConfig, type NnDataRange, type NnModelData, type NnModelInfo, type NnRepository, type NnTestResult, type NnVersion } from './model.js';
import type { EpochRecord } from './train.js';
import { fromNnFailure, NN_CANCEL, NN_DONE, NN_HEADER, NN_PER_EPOCH, nnControl, runNnTestTask, runNnTrainTask, type NnTestTask, type NnTrainTask } from './tasks.js';

export interface NnServiceDeps {
  models: NnRepository;
  klines: KlineRepository;
  pool: () => TaskPool;
  now: () => number;
}

export interface NnTrainOptions {
  symbol?: string;
  interval?: Interval;
  from?: number;
  to?: number;
  /** Continue the latest version, which a stop left unfinished (its range, weights, optimizer state). */
  resume?: boolean;
  /** Each finished epoch, in order (polled from the worker about every 100 ms). */
  onEpoch?(record: EpochRecord, planned: number): void;
  /** Aborting stops training after the current mini-batch; the last full epoch is stored, resumable. */
  signal?: AbortSignal;
  /** Run on this thread instead of the simulation pool (tests, the bench). */
  inProcess?: boolean;
}

export interface NnTrainSummary {
  name: string;
  version: number;
  finished: boolean;
  stoppedEarly: boolean;
  epochs: number;
  bestEpoch: number;
  bestValLoss: number;
  trainRows: number;
  valRows: number;
  range: NnDataRange;
  seconds: number;
}

export interface NnTestOptions {
  from: number;
  to?: number;
  symbol?: string;
  interval?: Interval;
  version?: number;
  inProcess?: boolean;
}

const POLL_MS = 100;

const columns = (k: KlineColumns & { length?: number }): KlineColumns => {
  const n = k.length ?? k.close.length;
  const col = (a: Float64Array) => (a.length === n && a.byteOffset === 0 && a.buffer.byteLength === n * 8 ? a : a.slice(0, n));
  return { length: n, openTime: col(k.openTime), open: col(k.open), high: col(k.high), low: col(k.low), close: col(k.close), volume: col(k.volume), takerBuyVolume: col(k.takerBuyVolume) };
};

/**
 * Neural network models for every front end (`app.nn`): create, list, train in a simulation
 * worker (progress per epoch, stop and resume), the out-of-sample test, remove. Plain data in and out.
 */
export class NnService {
  constructor(private readonly deps: NnServiceDeps) {}

  list(): NnModelInfo[] {
    return this.deps.models.list();
  }

  get(name: string): NnModelInfo | undefined {
    return this.deps.models.get(name);
  }

  private need(name: string): NnModelInfo {
    const m = this.deps.models.get(name);
    if (!m) throw new UserError(`no model named ${name} (atm nn list shows them)`);
    return m;
  }

  /** Validates and stores a new model (a blank name becomes NN_<n>). */
  create(input: unknown, where = 'model'): NnModelInfo {
    const config = validateNnConfig(input, where);
    const named: NnConfig = { ...config, name: config.name || nextNnName(this.deps.models.list().map((m) => m.name)) };
    return this.deps.models.create(named);
  }

  remove(name: string): boolean {
    return this.deps.models.remove(name);
  }

  version(name: string, version?: number): NnVersion | undefined {
    return this.deps.models.loadVersion(name, version);
  }

  /** A version as plain data for inference (PIP, workers); undefined when missing. */
  modelData(name: string, version?: number): NnModelData | undefined {
    const v = this.deps.models.loadVersion(name, version);
    return v ? modelData(v) : undefined;
  }

  private load(symbol: string, interval: Interval, from?: number, to?: number): KlineColumns {
    const k = this.deps.klines.loadRange(symbol, interval, from, to);
    if (k.length === 0) {
      const range = from !== undefined || to !== undefined ? ' in the range' : '';
      throw new UserError(`no ${interval} klines of ${symbol}${range}: import or download them first (atm data import / atm data download)`);
    }
    return columns(k);
  }

  /** Trains a model (or resumes its stopped latest version) and stores the result as a new version. */
  async train(name: string, options: NnTrainOptions = {}): Promise<NnTrainSummary> {
    const model = this.need(name);
    let resume: NnVersion | null = null;
    let range: NnDataRange;
    let config = model.config;
    if (options.resume) {
      resume = this.deps.models.loadVersion(name) ?? null;
      if (!resume || resume.record.finished || !resume.optimizer) throw new UserError(`model ${name} has no stopped training to resume; train it without --resume`);
      range = resume.record.range;
      config = resume.config;
    } else {
      if (!options.symbol) throw new UserError('--symbol is required (the stored klines to train on)');
      const interval = options.interval ?? '1m';
      const first = this.deps.klines.firstOpenTime(options.symbol, interval);
      const last = this.deps.klines.lastOpenTime(options.symbol, interval);
      range = { symbol: options.symbol, interval, from: options.from ?? first ?? 0, to: options.to ?? last ?? 0 };
    }
    const klines = this.load(range.symbol, range.interval as Interval, range.from, range.to);
    range = { ...range, from: klines.openTime[0], to: klines.openTime[klines.openTime.length - 1] };
    const epochs = config.training.epochs;
    const control = nnControl(epochs);
    const head = new Int32Array(control, 0, NN_HEADER);
    const values = new Float64Array(control, NN_HEADER * 4);
    const task: NnTrainTask = { kind: 'nn.train', name, config, klines, range, resume, control };
    const abort = () => Atomics.store(head, NN_CANCEL, 1);
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) abort();
    let seen = resume ? resume.optimizer!.epoch : 0;
    const drain = () => {
      const done = Atomics.load(head, NN_DONE);
      for (; seen < done; seen++) {
        const b = seen * NN_PER_EPOCH;
        options.onEpoch?.({ epoch: seen + 1, loss: values[b], valLoss: values[b + 1], accuracy: values[b + 2], valAccuracy: values[b + 3] }, epochs);
      }
    };
    const timer = options.onEpoch && !options.inProcess ? setInterval(drain, POLL_MS) : undefined;
    try {
      const transfer = [klines.openTime, klines.open, klines.high, klines.low, klines.close, klines.volume, klines.takerBuyVolume].map((a) => a.buffer as ArrayBuffer);
      const out = options.inProcess ? runNnTrainTask(task, drain) : await this.deps.pool().run(task, { transfer });
      if (!out.ok) throw fromNnFailure(out.error);
      drain();
      const v = out.version;
      const version = this.deps.models.saveVersion(v);
      const r = v.record;
      return {
        name, version, finished: r.finished, stoppedEarly: r.stoppedEarly, epochs: r.history.length, bestEpoch: r.bestEpoch,
        bestValLoss: r.bestValLoss, trainRows: r.trainRows, valRows: r.valRows, range: r.range, seconds: r.seconds,
      };
    } finally {
      if (timer) clearInterval(timer);
      options.signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * The out-of-sample test of a version over [from, to] of its training symbol and interval (or
   * others given): the range must start after every kline the version was trained or validated
   * on. The klines before `from` that the inputs need (warm-up, lags) are loaded too, as inputs only.
   */
  async test(name: string, options: NnTestOptions): Promise<NnTestResult> {
    this.need(name);
    const v = this.deps.models.loadVersion(name, options.version);
    if (!v) throw new UserError(`model ${name} has no trained version${options.version ? ` ${options.version}` : ''}; train it first (atm nn train ${name})`);
    const symbol = options.symbol ?? v.record.range.symbol;
    const interval = (options.interval ?? v.record.range.interval) as Interval;
    if (symbol === v.record.range.symbol && options.from <= v.record.range.to) {
      throw new UserError(`--from must be after the training data (version ${v.version} was trained on ${symbol} up to ${new Date(v.record.range.to).toISOString()})`);
    }
    const warm = featureWarmup(v.config.features) + 1;
    const step = INTERVAL_MS[interval];
    const klines = this.load(symbol, interval, options.from - warm * step, options.to);
    let first = 0;
    while (first < klines.openTime.length && klines.openTime[first] < options.from) first++;
    if (first >= klines.openTime.length) throw new UserError(`no ${interval} klines of ${symbol} from ${new Date(options.from).toISOString()}`);
    const range: NnDataRange = { symbol, interval, from: klines.openTime[first], to: klines.openTime[klines.openTime.length - 1] };
    const task: NnTestTask = { kind: 'nn.test', model: modelData(v), klines, warmup: first, range };
    const out = options.inProcess ? runNnTestTask(task) : await this.deps.pool().run(task);
    if (!out.ok) throw fromNnFailure(out.error);
    this.deps.models.setTest(name, v.version, out.test);
    return out.test;
  }
}
