import { StrategyRegistry } from '../strategy/registry.js';
import { StrategyError, type StrategyErrorInit } from '../strategy/types.js';
import { AtmError } from '../errors.js';
import { BacktestCancelled, runBacktest, type BacktestResult, type EngineInput } from './engine.js';

/**
 * The simulation worker's backtest task (handler: src/workers/simulation.ts). Plain data in (the
 * configuration, klines as typed arrays, rules, funding), the result out.
 *
 * Progress and cancellation go through one SharedArrayBuffer (`control`, CONTROL_SLOTS Int32
 * slots), because tinypool gives a task no message channel: the worker writes the klines done and
 * the total into it (Atomics.store, at most every CHECK_EVERY klines and 100 ms); the main thread
 * polls it on a timer and raises the cancel flag with Atomics.store; the engine reads the flag
 * between chunks of CHECK_EVERY klines and stops with nothing returned but `cancelled`.
 */
export const CONTROL_SLOTS = 4;
export const SLOT_CANCEL = 0;
export const SLOT_DONE = 1;
export const SLOT_TOTAL = 2;

export interface BacktestTask {
  kind: 'backtest.run';
  input: EngineInput;
  /** `<data dir>/strategies`, where user strategy files are loaded from (by name). */
  strategiesDir?: string;
  /** A SharedArrayBuffer of CONTROL_SLOTS Int32 slots (see above). */
  control: SharedArrayBuffer;
}

/** A failure as plain data (errors do not cross threads with their class). */
export interface BacktestFailure {
  kind: 'cancelled' | 'strategy' | 'user' | 'internal';
  message: string;
  strategy?: StrategyErrorInit;
  done?: number;
}

export type BacktestTaskResult = { ok: true; result: BacktestResult } | { ok: false; error: BacktestFailure };

declare module '../workers/tasks.js' {
  interface WorkerTasks {
    /** Runs one backtest whole (src/core/backtest/engine.ts). */
    'backtest.run': { task: BacktestTask; result: BacktestTaskResult };
  }
}

/** Turns anything a run threw into plain data. */
export function toFailure(error: unknown): BacktestFailure {
  if (error instanceof BacktestCancelled) return { kind: 'cancelled', message: error.message, done: error.done };
  if (error instanceof StrategyError) return { kind: 'strategy', message: error.message, strategy: error.toJSON() };
  if (error instanceof AtmError && error.kind === 'user') return { kind: 'user', message: error.message };
  const e = error as Error;
  return { kind: 'internal', message: e?.stack ?? String(error) };
}

/** Rebuilds the error a failure stands for, on the main thread. */
export function fromFailure(f: BacktestFailure): Error {
  if (f.kind === 'cancelled') return new BacktestCancelled(f.done ?? 0);
  if (f.kind === 'strategy' && f.strategy) return new AtmError('user', f.message, { strategy: f.strategy.strategy, file: f.strategy.file, line: f.strategy.line });
  if (f.kind === 'user') return new AtmError('user', f.message);
  return new AtmError('internal', `backtest worker failed: ${f.message}`);
}

/** The task's work (the worker handler calls this; tests can call it in process). */
export function runBacktestTask(task: BacktestTask): BacktestTaskResult {
  const control = new Int32Array(task.control);
  try {
    const result = runBacktest(task.input, {
      strategies: new StrategyRegistry(task.strategiesDir),
      shouldStop: () => Atomics.load(control, SLOT_CANCEL) !== 0,
      onProgress: (done, total) => {
        Atomics.store(control, SLOT_TOTAL, total);
        Atomics.store(control, SLOT_DONE, done);
      },
    });
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: toFailure(error) };
  }
}
