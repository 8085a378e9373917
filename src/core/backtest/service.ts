import type { DeepRepository } from '../market/deep.js';
import { buildTradePaths, type IntrabarPaths } from '../market/tradePath.js';
import { priceReference, type MarketInputs } from './inputs.js';
import { AtmError, UserError } from '../errors.js';
import { importArchives } from '../market/importer.js';
import type { KlineRepository } from '../market/repository.js';
import type { TaskPool } from '../workers/pool.js';
import { attachNnModelPlain, type NnModelLookup } from '../nn/attach.js';
import type { BacktestConfig } from './config.js';
import { BacktestCancelled, type BacktestKlines, type BacktestResult, type EngineInput } from './engine.js';
import type { TradeRecord } from './metrics.js';
import type { SimulationRepository, StoredSimulation, StoredSweep } from './repository.js';
import type { SweepPlan, SweepReport } from './sweep.js';
import type { BacktestTask } from './tasks.js';
import type { LookaheadOptions, LookaheadReport } from './lookahead.js';

/** Trades turned into intrabar paths at most per run (`intrabar: 'trades'`). */
export const MAX_PATH_TRADES = 20_000_000;

export interface BacktestRunOptions {
  /** Open-time range of the 1m klines (inclusive; default: everything stored). */
  from?: number;
  to?: number;
  /** Another kline store to read from. */
  klines?: KlineRepository;
  /**
   * Binance archive files or folders (`--input`): imported into a temporary store that is dropped
   * after the run; nothing is written to the user's database.
   */
  input?: readonly string[];
  /** Bytes of archives imported and in all, while `input` is imported. */
  onImportProgress?(done: number, total: number): void;
  /** Klines done and in all; called about every 100 ms while the worker runs. */
  onProgress?(done: number, total: number): void;
  /** Aborting stops the run (BacktestCancelled); nothing is saved. */
  signal?: AbortSignal;
  /** Run on this thread instead of the simulation pool (tests, the bench). */
  inProcess?: boolean;
  /**
   * The path inside each 1m kline: `ohlc` (default: open, nearer extreme, other extreme, close) or
   * `trades`: along the stored aggTrades of the kline where there are some (app.market.deep).
   */
  intrabar?: 'ohlc' | 'trades';
}

export interface BacktestServiceDeps {
  pool: () => TaskPool;
  klines: KlineRepository;
  market: MarketInputs;
  /** Stored aggTrades, for `intrabar: 'trades'`. */
  deep?: DeepRepository;
  simulations?: SimulationRepository;
  /** Opens an empty temporary kline store (an in-memory SQLite database) for `input`. */
  temporaryKlines?: () => Promise<TemporaryKlines>;
  /** `<data dir>/strategies`. */
  strategiesDir?: string;
  /** Stored neural network models, for a CAC whose PIP names one (attached as plain data). */
  nnModels?: NnModelLookup;
  now: () => number;
}

const PROGRESS_POLL_MS = 100;

/** A kline store that lives for one run. */
export interface TemporaryKlines {
  store: KlineRepository;
  close(): Promise<void>;
}

/**
 * Backtests for every front end (`app.backtest`): loads the klines through the kline store, the
 * rules and funding through MarketInputs, runs the engine whole in a simulation worker, and saves
 * finished runs. Plain data in and out.
 */
export class BacktestService {
  constructor(private readonly deps: BacktestServiceDeps) {}

  /** The engine's input for a configuration: 1m klines per position, rules, funding. */
  prepare(config: BacktestConfig, options: Pick<BacktestRunOptions, 'from' | 'to' | 'klines' | 'intrabar'> = {}): EngineInput {
    const store = options.klines ?? this.deps.klines;
    const seen = new Set<string>();
    const klines: BacktestKlines[] = config.positions.map((p) => {
      if (seen.has(p.symbol)) throw new UserError(`positions: ${p.symbol} is configured twice; one position per symbol`);
      seen.add(p.symbol);
      const k = store.loadRange(p.symbol, '1m', options.from, options.to);
      if (k.length === 0) {
        const range = options.from !== undefined || options.to !== undefined ? ' in the range' : '';
        throw new UserError(`no 1m klines of ${p.symbol}${range}: import or download them first (atm data import / atm data download), or give --input`);
      }
      const n = k.length;
      // the store's arrays are fresh: use them as they are (they move to the worker) unless they have spare room
      const col = (a: Float64Array) => (a.length === n && a.byteOffset === 0 && a.buffer.byteLength === n * 8 ? a : a.slice(0, n));
      return {
        length: n, openTime: col(k.openTime), open: col(k.open), high: col(k.high), low: col(k.low),
        close: col(k.close), volume: col(k.volume), takerBuyVolume: col(k.takerBuyVolume),
      };
    });
    const rules = config.positions.map((p, i) => this.deps.market.rules(p.symbol, p.rules, priceReference(klines[i])));
    const funding = config.positions.map((p, i) => this.deps.market.funding(p.symbol, klines[i].openTime[0], klines[i].openTime[klines[i].length - 1] + 60_000));
    const withModels = this.withModels(config);
    if (options.intrabar === 'trades') return { config: withModels, klines, rules, funding, paths: this.tradePaths(config, klines) };
    return { config: withModels, klines, rules, funding };
  }

  /** The configuration with each CAC's neural network model attached (see core/nn/attach.ts). */
  private withModels(config: BacktestConfig): BacktestConfig {
    const lookup = this.deps.nnModels ?? (() => undefined);
    if (!config.positions.some((p) => p.strategy.cac !== undefined)) return config;
    return { ...config, positions: config.positions.map((p) => (p.strategy.cac === undefined ? p : { ...p, strategy: { ...p.strategy, cac: attachNnModelPlain(p.strategy.cac, lookup) as typeof p.strategy.cac } })) };
  }

  /** Each position's intrabar paths from its stored aggTrades (bounded; a user error when there are none). */
  private tradePaths(config: BacktestConfig, klines: BacktestKlines[]): (IntrabarPaths | undefined)[] {
    const deep = this.deps.deep;
    if (!deep) throw new UserError('--intrabar trades: no deep data store is open');
    const ranges = config.positions.map((p, i) => ({ symbol: p.symbol, from: klines[i].openTime[0], to: klines[i].openTime[klines[i].length - 1] + 60_000 - 1 }));
    const counts = ranges.map((r) => deep.countTrades(r.symbol, r.from, r.to));
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) {
      throw new UserError(`--intrabar trades: no aggTrades of ${ranges.map((r) => r.symbol).join(', ')} are stored in the range; record them (market.collect.deep) or import SYMBOL-aggTrades files (atm data import)`);
    }
    if (total > MAX_PATH_TRADES) {
      throw new UserError(`--intrabar trades: ${total} stored aggTrades in the range, more than ${MAX_PATH_TRADES} at once; shorten the range (--from, --to)`);
    }
    return ranges.map((r, i) => (counts[i] === 0 ? undefined : buildTradePaths(klines[i], deep.loadTrades(r.symbol, r.from, r.to))));
  }

  /**
   * `--input`: imports archive files into a temporary in-memory kline store, runs `fn` over it and
   * closes it (nothing reaches the user's database). A refused file or no archive file is a user error.
   */
  private async withArchives<T>(paths: readonly string[], onProgress: BacktestRunOptions['onImportProgress'], fn: (klines: KlineRepository) => Promise<T>): Promise<T> {
    if (!this.deps.temporaryKlines) throw new AtmError('internal', 'no temporary kline store was given to the backtest service');
    const tmp = await this.deps.temporaryKlines();
    try {
      const report = importArchives(tmp.store, paths, { onProgress });
      const bad = report.files.find((f) => f.error);
      if (bad) throw new UserError(`--input ${bad.file}${bad.entry ? ` (${bad.entry})` : ''}: ${bad.error}`);
      if (report.files.length === 0) throw new UserError(`--input ${paths.join(' ')}: no archive files (.zip or .csv) found`);
      return await fn(tmp.store);
    } finally {
      await tmp.close();
    }
  }

  /** Runs a backtest; rejects with BacktestCancelled when aborted, an AtmError otherwise. */
  async run(config: BacktestConfig, options: BacktestRunOptions = {}): Promise<BacktestResult> {
    if (options.signal?.aborted) throw new BacktestCancelled(0);
    if (options.input) {
      return this.withArchives(options.input, options.onImportProgress, (klines) => this.run(config, { ...options, input: undefined, klines }));
    }
    const input = this.prepare(config, options);
    // loaded on first use: the task module pulls in the strategy loader (esbuild)
    const { CONTROL_SLOTS, SLOT_CANCEL, SLOT_DONE, SLOT_TOTAL, fromFailure, runBacktestTask } = await import('./tasks.js');
    const control = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    const slots = new Int32Array(control);
    const task: BacktestTask = { kind: 'backtest.run', input, strategiesDir: this.deps.strategiesDir, control };
    const abort = () => Atomics.store(slots, SLOT_CANCEL, 1);
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) abort();
    let timer: NodeJS.Timeout | undefined;
    if (options.onProgress) {
      const report = options.onProgress;
      timer = setInterval(() => {
        const total = Atomics.load(slots, SLOT_TOTAL);
        if (total > 0) report(Atomics.load(slots, SLOT_DONE), total);
      }, PROGRESS_POLL_MS);
    }
    try {
      const transfer = input.klines.flatMap((k) => [k.openTime, k.open, k.high, k.low, k.close, k.volume, k.takerBuyVolume].map((a) => a.buffer as ArrayBuffer));
      for (const p of input.paths ?? []) if (p) transfer.push(p.offsets.buffer as ArrayBuffer, p.points.buffer as ArrayBuffer);
      const out = options.inProcess ? runBacktestTask(task) : await this.deps.pool().run(task, { transfer });
      if (!out.ok) throw fromFailure(out.error);
      options.onProgress?.(out.result.summary.klines, out.result.summary.klines);
      return out.result;
    } finally {
      if (timer) clearInterval(timer);
      options.signal?.removeEventListener('abort', abort);
    }
  }

  /**
   * The lookahead check (src/core/backtest/lookahead.ts): each position's analysis and strategy run
   * on the whole range, then on `checks` prefixes of it; every value that differs is reported. Runs
   * on this thread (no account, no fills; N+1 strategy runs per position).
   */
  async lookaheadCheck(config: BacktestConfig, options: Pick<BacktestRunOptions, 'from' | 'to' | 'klines' | 'input' | 'onImportProgress'> & LookaheadOptions = {}): Promise<LookaheadReport> {
    if (options.input) {
      return this.withArchives(options.input, options.onImportProgress, (klines) => this.lookaheadCheck(config, { ...options, input: undefined, klines }));
    }
    const input = this.prepare(config, options);
    const [{ runLookaheadCheck }, { StrategyRegistry }] = await Promise.all([import('./lookahead.js'), import('../strategy/registry.js')]);
    return runLookaheadCheck(input, new StrategyRegistry(this.deps.strategiesDir), options);
  }

  /** Stores a finished run (summary, balance history, fills, round trips, configuration); returns its id. */
  save(result: BacktestResult, config: BacktestConfig, name: string): number {
    if (!this.deps.simulations) throw new AtmError('internal', 'no simulation store was given to the backtest service');
    const finishedAt = this.deps.now();
    return this.deps.simulations.save({ name, config, result, startedAt: finishedAt - result.summary.elapsedMs, finishedAt });
  }

  /** The saved simulations. */
  saved(): StoredSimulation[] {
    return this.deps.simulations?.list() ?? [];
  }

  /** One saved simulation's summary and counts. */
  savedOne(id: number): ReturnType<SimulationRepository['get']> {
    return this.deps.simulations?.get(id);
  }

  /**
   * A saved simulation by id (digits) or by name; a user error names what was not found or
   * which ids share the name.
   */
  find(ref: string | number): StoredSimulation {
    const all = this.saved();
    const text = String(ref).trim();
    if (/^\d+$/.test(text)) {
      const byId = all.find((s) => s.id === Number(text));
      if (byId) return byId;
    }
    const named = all.filter((s) => s.name === text);
    if (named.length === 1) return named[0];
    if (named.length > 1) throw new UserError(`simulation name '${text}' is shared by ids ${named.map((s) => s.id).join(', ')}: give the id`);
    throw new UserError(`no saved simulation '${text}' (atm sim list shows them)`);
  }

  /** Deletes a saved simulation (its balance history and fills too); false when there was none. */
  remove(id: number): boolean {
    return this.deps.simulations?.remove(id) ?? false;
  }

  /**
   * The balance (equity) history of a saved simulation as plain data, with the drawdown from the
   * running peak in percent at each point (0 at a new peak).
   */
  history(id: number): { time: number[]; equity: number[]; drawdownPct: number[] } | undefined {
    const b = this.deps.simulations?.balance(id);
    if (!b) return undefined;
    let peak = -Infinity;
    const drawdownPct = b.equity.map((e) => {
      if (e > peak) peak = e;
      return peak > 0 ? ((peak - e) / peak) * 100 : 0;
    });
    return { time: b.time, equity: b.equity, drawdownPct };
  }

  /** The round trips of a saved simulation (symbol, side, entry/exit time and price, pnl, fees). */
  trades(id: number): TradeRecord[] | undefined {
    return this.deps.simulations?.trades(id);
  }

  /**
   * Runs a parameter sweep (src/core/backtest/sweep.ts): the klines are loaded once here and once
   * into every simulation worker (shared memory), then every trial runs against them; the report
   * ranks the trials (or gives the walk-forward folds). `onProgress` counts trials.
   */
  async sweep(config: BacktestConfig, plan: SweepPlan, options: Omit<BacktestRunOptions, 'onImportProgress'> & { onImportProgress?(done: number, total: number): void } = {}): Promise<SweepReport> {
    const { openSweepRunner, planTrials, runSweep } = await import('./sweep.js');
    planTrials(config, plan); // plan errors before any klines are read
    if (options.input) {
      return this.withArchives(options.input, options.onImportProgress, (klines) => this.sweep(config, plan, { ...options, input: undefined, klines }));
    }
    const input = this.prepare(config, options);
    const runner = await openSweepRunner(options.inProcess ? undefined : this.deps.pool(), input, { strategiesDir: this.deps.strategiesDir, signal: options.signal });
    try {
      return await runSweep(config, plan, runner, input, { onProgress: options.onProgress, signal: options.signal });
    } finally {
      await runner.close();
    }
  }

  /** Stores a sweep's ranked rows; returns its id. */
  saveSweep(report: SweepReport, config: BacktestConfig, plan: SweepPlan, name: string): number {
    if (!this.deps.simulations) throw new AtmError('internal', 'no simulation store was given to the backtest service');
    return this.deps.simulations.saveSweep({ name, config, plan, report });
  }

  /** The stored sweeps. */
  sweeps(): StoredSweep[] {
    return this.deps.simulations?.listSweeps() ?? [];
  }

  /**
   * The full configuration of a stored sweep's row (its parameters set), to run as a simulation;
   * a user error names a missing sweep or rank.
   */
  sweepRowConfig(sweepId: number, rank: number): { config: BacktestConfig; params: Record<string, number>; sweep: StoredSweep } {
    const found = this.deps.simulations?.sweepRow(sweepId, rank);
    if (!found) throw new UserError(`no row ${rank} in sweep ${sweepId} (atm sweep list shows the stored sweeps)`);
    const config = structuredClone(found.config);
    for (const r of found.plan.ranges) {
      if (found.row.params[r.key] !== undefined) config.positions[r.position].strategy.params[r.name] = found.row.params[r.key];
    }
    return { config, params: found.row.params, sweep: found.sweep };
  }
}
