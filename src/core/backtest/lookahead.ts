import { validateCac, type Cac } from '../analysis/cac.js';
import { prepareRun, withTimeLimit, type LoadedStrategy } from '../strategy/runtime.js';
import { StrategyError, type ParamValues } from '../strategy/types.js';
import { aggregateForStrategy, CHECK_EVERY, type BacktestKlines, type EngineInput, type StrategyResolver } from './engine.js';

/**
 * The lookahead check (`atm backtest --lookahead-check`, docs/backtesting.md): every position's
 * analysis and strategy run once over the whole range, then again on `checks` prefixes of it that
 * end at evenly spread cut points. A causal strategy gives, at every kline before a cut, the same
 * indicator and CAC columns and the same decisions (target, stop loss, take profit) on the prefix
 * as on the whole range; any value that differs depends on klines after the kline it belongs to.
 *
 * Only the analysis and the strategy run (in process, on the strategy's interval, with no account
 * and no fills): what the engine does with a decision depends on that decision and on the klines
 * up to that minute only, so the decisions are what can carry the future. `ctx.position` stays flat
 * (target 0, no entry price) in every run, so a strategy is compared with itself, never with fills.
 * Plain data in and out.
 */

export interface LookaheadOptions {
  /** Truncated re-runs per position (default 5). */
  checks?: number;
  /** Differences listed (the count covers all); default 50. */
  maxDifferences?: number;
  /** Wall-time limit of a chunk of CHECK_EVERY klines for user-file strategies (default 10 s). */
  chunkTimeLimitMs?: number;
}

/** One value that is not the same on a prefix as on the whole range. */
export interface LookaheadDifference {
  position: number;
  symbol: string;
  /** An indicator or CAC column (`<name>.<line>` or the CAC's column), or 'target', 'stopLoss', 'takeProfit'. */
  column: string;
  /** The kline (on the strategy's interval) and its open time. */
  index: number;
  time: number;
  /** Klines in the truncated run. */
  cut: number;
  full: number;
  truncated: number;
}

/** A strategy that failed in a run (a LookaheadError is kind 'lookahead', with file and line). */
export interface LookaheadFailure {
  position: number;
  symbol: string;
  strategy: string;
  kind: string;
  message: string;
  file?: string;
  line?: number;
  kline?: number;
  /** Klines in the run that failed (the whole range when it is the full run). */
  cut: number;
}

export interface LookaheadReport {
  checks: number;
  /** Klines on the strategies' intervals, summed over the positions. */
  klines: number;
  /** Per position: its symbol, interval, klines, the cut points used and the columns compared. */
  positions: { symbol: string; interval: string; klines: number; cuts: number[]; columns: string[] }[];
  /** The first difference of each (position, column), earliest kline first, up to maxDifferences. */
  differences: LookaheadDifference[];
  /** Every differing value, over all cuts. */
  differenceCount: number;
  failures: LookaheadFailure[];
  /** True when nothing differs and nothing failed. */
  clean: boolean;
}

const DECISIONS = ['target', 'stopLoss', 'takeProfit'] as const;

interface Recorded {
  columns: Record<string, Float64Array>;
  decisions: Record<(typeof DECISIONS)[number], Float64Array>;
}

const same = (a: number, b: number) => a === b || (a !== a && b !== b);

/** Cut points: `checks` prefix lengths spread evenly over 1..n−1 (fewer when n is small). */
export function cutPoints(n: number, checks: number): number[] {
  const cuts = new Set<number>();
  for (let c = 1; c <= checks; c++) {
    const cut = Math.floor((n * c) / (checks + 1));
    if (cut >= 1 && cut < n) cuts.add(cut);
  }
  return [...cuts];
}

function prefix(k: BacktestKlines, n: number): BacktestKlines {
  return {
    length: n, openTime: k.openTime.subarray(0, n), open: k.open.subarray(0, n), high: k.high.subarray(0, n), low: k.low.subarray(0, n),
    close: k.close.subarray(0, n), volume: k.volume.subarray(0, n), takerBuyVolume: k.takerBuyVolume.subarray(0, n),
  };
}

/** Runs the strategy over `k`, recording its decisions at every kline. Throws StrategyError. */
function record(strategy: LoadedStrategy, params: ParamValues, k: BacktestKlines, run: { symbol: string; interval: string; cac?: Cac }, limitMs: number): Recorded {
  const prepared = prepareRun(strategy, params, k, run);
  if (!prepared.ok) throw prepared.error;
  const runner = prepared.value;
  const n = k.length;
  const decisions = { target: new Float64Array(n), stopLoss: new Float64Array(n), takeProfit: new Float64Array(n) };
  const chunk = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      runner.step(i);
      decisions.target[i] = runner.target;
      decisions.stopLoss[i] = runner.stopLoss;
      decisions.takeProfit[i] = runner.takeProfit;
    }
  };
  for (let from = 0; from < n; from += CHECK_EVERY) {
    const to = Math.min(n, from + CHECK_EVERY);
    // a user file's endless loop is stopped, as in the engine
    if (strategy.source === 'builtin') chunk(from, to);
    else withTimeLimit(limitMs, () => chunk(from, to));
  }
  return { columns: { ...runner.columns }, decisions };
}

function failureOf(error: unknown, position: number, symbol: string, strategy: string, cut: number): LookaheadFailure {
  if (error instanceof StrategyError) {
    return { position, symbol, strategy, kind: error.kind, message: error.message, file: error.file, line: error.line, kline: error.kline, cut };
  }
  const e = error as Error;
  if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return { position, symbol, strategy, kind: 'timeout', message: `${strategy}: did not return in time`, cut };
  throw error;
}

/** Runs the check over an engine input (the klines of every position, 1m). */
export function runLookaheadCheck(input: EngineInput, strategies: StrategyResolver, options: LookaheadOptions = {}): LookaheadReport {
  const checks = Math.max(1, Math.floor(options.checks ?? 5));
  const maxDifferences = options.maxDifferences ?? 50;
  const limitMs = options.chunkTimeLimitMs ?? 10_000;
  const report: LookaheadReport = { checks, klines: 0, positions: [], differences: [], differenceCount: 0, failures: [], clean: true };
  const firsts: LookaheadDifference[] = [];
  input.config.positions.forEach((p, pos) => {
    const resolved = strategies.validateParams(p.strategy.name, p.strategy.params);
    if (!resolved.ok) throw resolved.error;
    const { strategy, params } = resolved.value;
    const k = p.interval === '1m' ? input.klines[pos] : aggregateForStrategy(input.klines[pos], p.interval).columns;
    const cac = p.strategy.cac !== undefined ? validateCac(p.strategy.cac, `positions[${pos}].strategy.cac`) : undefined;
    const run = { symbol: p.symbol, interval: p.interval, cac };
    const n = k.length;
    const cuts = cutPoints(n, checks);
    report.klines += n;
    const entry = { symbol: p.symbol, interval: p.interval, klines: n, cuts, columns: [] as string[] };
    report.positions.push(entry);
    let full: Recorded;
    try {
      full = record(strategy, params, k, run, limitMs);
    } catch (error) {
      report.failures.push(failureOf(error, pos, p.symbol, strategy.name, n));
      return;
    }
    const names = [...Object.keys(full.columns), ...DECISIONS];
    entry.columns = names;
    const first = new Map<string, LookaheadDifference>();
    for (const cut of cuts) {
      let part: Recorded;
      try {
        part = record(strategy, params, prefix(k, cut), run, limitMs);
      } catch (error) {
        report.failures.push(failureOf(error, pos, p.symbol, strategy.name, cut));
        continue;
      }
      for (const name of names) {
        const a = (full.columns[name] ?? full.decisions[name as (typeof DECISIONS)[number]]) as Float64Array;
        const b = (part.columns[name] ?? part.decisions[name as (typeof DECISIONS)[number]]) as Float64Array | undefined;
        if (!b) continue;
        for (let j = 0; j < cut; j++) {
          if (same(a[j], b[j])) continue;
          report.differenceCount++;
          const seen = first.get(name);
          if (!seen || j < seen.index) first.set(name, { position: pos, symbol: p.symbol, column: name, index: j, time: k.openTime[j], cut, full: a[j], truncated: b[j] });
        }
      }
    }
    firsts.push(...[...first.values()].sort((x, y) => x.index - y.index));
  });
  report.differences = firsts.slice(0, maxDifferences);
  report.clean = report.differenceCount === 0 && report.failures.length === 0;
  return report;
}
