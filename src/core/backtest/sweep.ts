import type { Metrics } from './metrics.js';
import { UserError } from '../errors.js';
import { Rng } from '../random.js';
import { StrategyRegistry } from '../strategy/registry.js';
import type { TaskPool } from '../workers/pool.js';
import type { BacktestConfig } from './config.js';
import { runBacktest, type BacktestKlines, type BacktestResult, type BacktestSummary, type EngineInput } from './engine.js';
import { toFailure, type BacktestFailure } from './tasks.js';

/**
 * Parameter sweeps (`atm sweep`, `app.backtest.sweep`): many backtests of one configuration whose
 * strategy parameters vary over ranges, ranked by an objective; walk-forward folds on top.
 *
 * Planning (ranges, the constraint, grid and random trials, ranking, the deflated Sharpe ratio)
 * is pure and runs on the calling thread. Trials run on every slot of the simulation pool: each
 * slot's thread first gets the klines once (`sweep.load`, the columns in SharedArrayBuffers, so
 * every thread reads the same memory and nothing is copied per trial), then one `sweep.trial` per
 * trial (a configuration's parameters and an optional time window → a summary; no fills, no
 * balance history crosses back), then `sweep.drop`. A trial is plain data, so the same trials can
 * later go to another engine.
 */

// ───────────────────────────── parameter ranges ─────────────────────────────

/** One swept parameter: a position's strategy parameter and the values it takes. */
export interface ParamRange {
  position: number;
  name: string;
  /** The key in trial parameters: `name`, or `positions.N.name` with several positions. */
  key: string;
  values: number[];
}

/** Most values one parameter may take, and most trials a grid may have. */
export const MAX_VALUES = 100_000;
export const MAX_GRID = 1_000_000;

const NUMBER_RE = /^-?(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/i;

const round12 = (x: number) => Number(x.toPrecision(12));

/**
 * Parses `name=from..to:step` (step 1 when left out), `name=a,b,c` or `name=v`. With several
 * positions the name is `positions.N.name`; with one, both forms are taken.
 */
export function parseParamRange(text: string, positions: number): ParamRange {
  const where = `--param ${JSON.stringify(text)}`;
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`${where}: expected name=from..to:step (for example fast=5..50:5)`);
  const rawName = text.slice(0, eq).trim();
  const spec = text.slice(eq + 1).trim();
  let position = 0;
  let name = rawName;
  const m = /^positions\.(\d+)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(rawName);
  if (m) {
    position = Number(m[1]);
    name = m[2];
    if (position >= positions) throw new UserError(`${where}: the configuration has ${positions} position(s) (positions.0 .. positions.${positions - 1})`);
  } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rawName)) {
    throw new UserError(`${where}: '${rawName}' is not a parameter name`);
  } else if (positions > 1) {
    throw new UserError(`${where}: the configuration has ${positions} positions: name the parameter positions.N.${rawName}`);
  }
  const num = (s: string, what: string) => {
    const t = s.trim();
    if (!NUMBER_RE.test(t)) throw new UserError(`${where}: ${what} '${t}' is not a number`);
    return Number(t);
  };
  let values: number[];
  const range = /^(.+?)\.\.(.+?)(?::(.+))?$/.exec(spec);
  if (range) {
    const from = num(range[1], 'from');
    const to = num(range[2], 'to');
    const step = range[3] === undefined ? 1 : num(range[3], 'step');
    if (!(step > 0)) throw new UserError(`${where}: the step must be greater than 0`);
    if (to < from) throw new UserError(`${where}: 'to' (${to}) is below 'from' (${from})`);
    const count = Math.floor((to - from) / step + 1e-9) + 1;
    if (count > MAX_VALUES) throw new UserError(`${where}: ${count} values; at most ${MAX_VALUES}`);
    values = Array.from({ length: count }, (_, i) => round12(from + i * step));
  } else {
    values = spec.split(',').map((s) => num(s, 'value'));
  }
  if (values.length === 0) throw new UserError(`${where}: no values`);
  return { position, name, key: positions > 1 ? `positions.${position}.${name}` : name, values: [...new Set(values)] };
}

// ───────────────────────────── constraints ─────────────────────────────

/** A constraint that did not parse or names an unknown parameter (the text and the column). */
export class ConstraintError extends UserError {
  constructor(text: string, at: number, reason: string) {
    super(`--constraint ${JSON.stringify(text)}: ${reason}${at >= 0 ? ` at column ${at + 1}` : ''}`);
  }
}

type Node =
  | { t: 'num'; v: number }
  | { t: 'id'; name: string; at: number }
  | { t: 'un'; op: '-' | '!'; a: Node }
  | { t: 'bin'; op: string; a: Node; b: Node };

interface Token {
  kind: 'num' | 'id' | 'op' | 'end';
  text: string;
  at: number;
}

const OPS = ['<=', '>=', '==', '!=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')'];

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)(e-?\d+)?/i.exec(text.slice(i));
    if (num) {
      out.push({ kind: 'num', text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*/.exec(text.slice(i));
    if (id) {
      out.push({ kind: 'id', text: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new ConstraintError(text, i, `unexpected '${c}'`);
    out.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', at: text.length });
  return out;
}

/** A parsed constraint: true when a trial's parameters satisfy it. */
export interface Constraint {
  text: string;
  /** The parameter names it reads. */
  names: string[];
  test(values: Readonly<Record<string, number>>): boolean;
}

/**
 * Parses a constraint such as `fast < slow`, `fast*2 <= slow && slow - fast >= 10`: numbers,
 * parameter names (`fast`, `positions.1.slow`), + - * / %, comparisons (< <= > >= == !=),
 * && || !, parentheses. No eval: a recursive-descent parser builds a tree that is walked per
 * trial. `known` are the names a trial has; any other name is refused here, not per trial.
 */
export function parseConstraint(text: string, known: readonly string[]): Constraint {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const eat = (op: string) => {
    if (peek().kind === 'op' && peek().text === op) {
      p++;
      return true;
    }
    return false;
  };
  const binary = (next: () => Node, ops: string[]) => (): Node => {
    let a = next();
    for (;;) {
      const tok = peek();
      if (tok.kind !== 'op' || !ops.includes(tok.text)) return a;
      p++;
      a = { t: 'bin', op: tok.text, a, b: next() };
    }
  };
  const primary = (): Node => {
    const tok = peek();
    if (tok.kind === 'num') {
      p++;
      return { t: 'num', v: Number(tok.text) };
    }
    if (tok.kind === 'id') {
      p++;
      if (!known.includes(tok.text)) throw new ConstraintError(text, tok.at, `unknown parameter '${tok.text}' (known: ${known.join(', ') || 'none'})`);
      return { t: 'id', name: tok.text, at: tok.at };
    }
    if (eat('(')) {
      const inner = or();
      if (!eat(')')) throw new ConstraintError(text, peek().at, `expected ')'`);
      return inner;
    }
    throw new ConstraintError(text, tok.at, tok.kind === 'end' ? 'the expression ends too early' : `unexpected '${tok.text}'`);
  };
  const unary = (): Node => {
    if (eat('-')) return { t: 'un', op: '-', a: unary() };
    if (eat('!')) return { t: 'un', op: '!', a: unary() };
    return primary();
  };
  const product = binary(unary, ['*', '/', '%']);
  const sum = binary(product, ['+', '-']);
  const compare = (): Node => {
    const a = sum();
    const tok = peek();
    if (tok.kind === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(tok.text)) {
      p++;
      const node: Node = { t: 'bin', op: tok.text, a, b: sum() };
      const after = peek();
      if (after.kind === 'op' && ['<', '<=', '>', '>=', '==', '!='].includes(after.text)) throw new ConstraintError(text, after.at, 'chained comparisons are ambiguous: join them with &&');
      return node;
    }
    return a;
  };
  const and = binary(compare, ['&&']);
  const or = binary(and, ['||']);
  if (text.trim() === '') throw new ConstraintError(text, -1, 'empty');
  const tree = or();
  if (peek().kind !== 'end') throw new ConstraintError(text, peek().at, `unexpected '${peek().text}'`);
  const names = new Set<string>();
  const collect = (n: Node) => {
    if (n.t === 'id') names.add(n.name);
    else if (n.t === 'un') collect(n.a);
    else if (n.t === 'bin') {
      collect(n.a);
      collect(n.b);
    }
  };
  collect(tree);
  const evaluate = (n: Node, v: Readonly<Record<string, number>>): number => {
    switch (n.t) {
      case 'num':
        return n.v;
      case 'id':
        return v[n.name];
      case 'un':
        return n.op === '-' ? -evaluate(n.a, v) : evaluate(n.a, v) ? 0 : 1;
      case 'bin': {
        if (n.op === '&&') return evaluate(n.a, v) && evaluate(n.b, v) ? 1 : 0;
        if (n.op === '||') return evaluate(n.a, v) || evaluate(n.b, v) ? 1 : 0;
        const a = evaluate(n.a, v);
        const b = evaluate(n.b, v);
        switch (n.op) {
          case '+': return a + b;
          case '-': return a - b;
          case '*': return a * b;
          case '/': return a / b;
          case '%': return a % b;
          case '<': return a < b ? 1 : 0;
          case '<=': return a <= b ? 1 : 0;
          case '>': return a > b ? 1 : 0;
          case '>=': return a >= b ? 1 : 0;
          case '==': return a === b ? 1 : 0;
          default: return a !== b ? 1 : 0;
        }
      }
    }
  };
  return { text, names: [...names], test: (v) => { const r = evaluate(tree, v); return Number.isFinite(r) && r !== 0; } };
}

/** The names a constraint may read: the swept keys and every numeric parameter of the configuration. */
export function constraintNames(config: BacktestConfig, ranges: readonly ParamRange[]): Record<string, number> {
  const out: Record<string, number> = {};
  const single = config.positions.length === 1;
  config.positions.forEach((p, i) => {
    for (const [k, v] of Object.entries(p.strategy.params)) {
      if (typeof v !== 'number') continue;
      out[`positions.${i}.${k}`] = v;
      if (single) out[k] = v;
    }
  });
  for (const r of ranges) {
    out[`positions.${r.position}.${r.name}`] = r.values[0];
    out[r.key] = r.values[0];
  }
  return out;
}

// ───────────────────────────── trials ─────────────────────────────

export type SweepMethod = 'grid' | 'random' | 'tpe';

/** One trial: an id (its order in the plan) and the swept parameters by key. */
export interface Trial {
  id: number;
  params: Record<string, number>;
}

function withDefaults(config: BacktestConfig, ranges: readonly ParamRange[], params: Record<string, number>): Record<string, number> {
  const all = constraintNames(config, ranges);
  for (const r of ranges) {
    all[r.key] = params[r.key];
    all[`positions.${r.position}.${r.name}`] = params[r.key];
  }
  return all;
}

/** Every combination of the ranges (in order: the last parameter varies fastest) that passes the constraint. */
export function gridTrials(config: BacktestConfig, ranges: readonly ParamRange[], constraint?: Constraint): Trial[] {
  const total = ranges.reduce((n, r) => n * r.values.length, 1);
  if (total > MAX_GRID) throw new UserError(`the grid has ${total} combinations; at most ${MAX_GRID} (narrow the ranges or use --method random --trials N)`);
  const out: Trial[] = [];
  const idx = new Array<number>(ranges.length).fill(0);
  for (let n = 0; n < total; n++) {
    const params: Record<string, number> = {};
    ranges.forEach((r, i) => (params[r.key] = r.values[idx[i]]));
    if (!constraint || constraint.test(withDefaults(config, ranges, params))) out.push({ id: out.length, params });
    for (let i = ranges.length - 1; i >= 0; i--) {
      if (++idx[i] < ranges[i].values.length) break;
      idx[i] = 0;
    }
  }
  return out;
}

/**
 * `count` distinct combinations drawn uniformly from the grid (the seeded generator: the same seed
 * gives the same trials), skipping those the constraint refuses. Fewer when the grid has fewer;
 * at most 50 draws per trial asked for.
 */
export function randomTrials(config: BacktestConfig, ranges: readonly ParamRange[], count: number, seed: number, constraint?: Constraint): Trial[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: Trial[] = [];
  const draws = count * 50;
  for (let d = 0; d < draws && out.length < count; d++) {
    const params: Record<string, number> = {};
    for (const r of ranges) params[r.key] = r.values[Math.min(r.values.length - 1, Math.floor(rng.next() * r.values.length))];
    const key = ranges.map((r) => params[r.key]).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    if (constraint && !constraint.test(withDefaults(config, ranges, params))) continue;
    out.push({ id: out.length, params });
  }
  return out;
}

/** The configuration with a trial's parameters set (a copy). */
export function applyTrial(config: BacktestConfig, ranges: readonly ParamRange[], params: Readonly<Record<string, number>>): BacktestConfig {
  const out = structuredClone(config);
  for (const r of ranges) {
    if (params[r.key] !== undefined) out.positions[r.position].strategy.params[r.name] = params[r.key];
  }
  return out;
}

// ───────────────────────────── objectives and ranking ─────────────────────────────

export const OBJECTIVES = ['returnPct', 'cagrPct', 'sharpe', 'sortino', 'calmar', 'profitFactor', 'winRatePct', 'maxDrawdownPct'] as const;
export type Objective = (typeof OBJECTIVES)[number];

/** What a trial sends back: the summary's figures, no fills and no balance history. */
export interface TrialSummary extends Metrics {
  trades: number;
  finalBalance: string;
  tradeListHash: string;
  klines: number;
  /** Open time of the first and the last 1m kline the trial's engine was given. */
  firstOpenTime: number;
  lastOpenTime: number;
  /** Daily returns: count, skewness, kurtosis (not excess; 3 for a normal distribution). */
  days: number;
  skew: number;
  kurtosis: number;
}

export interface TrialOutcome {
  trial: Trial;
  summary?: TrialSummary;
  error?: string;
}

/** The objective's value of a summary, larger is better (drawdown is negated). */
export function score(s: TrialSummary, objective: Objective): number {
  if (objective === 'maxDrawdownPct') return -s.maxDrawdownPct;
  if (objective === 'profitFactor') return s.profitFactor === null ? (s.trades > 0 ? Infinity : -Infinity) : s.profitFactor;
  return s[objective];
}

/** Outcomes with a summary, best first (ties: the earlier trial). */
export function rank(outcomes: readonly TrialOutcome[], objective: Objective): (TrialOutcome & { summary: TrialSummary })[] {
  return outcomes
    .filter((o): o is TrialOutcome & { summary: TrialSummary } => o.summary !== undefined)
    .sort((a, b) => score(b.summary, objective) - score(a.summary, objective) || a.trial.id - b.trial.id);
}

// ───────────────────────────── deflated Sharpe ratio ─────────────────────────────

/** The standard normal distribution function (Abramowitz–Stegun 7.1.26 via erf; error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Its inverse (Acklam's rational approximation; relative error < 1.2e-9). */
export function normalInv(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalInv(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * The deflated Sharpe ratio of the best of N trials (Bailey & López de Prado, 2014): the
 * probability that its true Sharpe ratio is above what the best of N unskilled trials would show.
 * Per-period (daily, not annualised) Sharpe ratios SR:
 *
 *   SR0 = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))      (γ: Euler–Mascheroni)
 *   DSR = Φ( (SR* − SR0) √(T − 1) / √(1 − γ3 SR* + (γ4 − 1)/4 SR*²) )
 *
 * V: the variance of the trials' SR; SR*: the best trial's; T: its number of daily returns;
 * γ3, γ4: their skewness and (non-excess) kurtosis. With one trial SR0 = 0 (the probabilistic
 * Sharpe ratio). Undefined (null) with fewer than 2 daily returns.
 */
export function deflatedSharpe(best: { sharpe: number; days: number; skew: number; kurtosis: number }, allSharpes: readonly number[]): { dsr: number | null; sr0: number; trials: number } {
  const n = allSharpes.length;
  const per = (s: number) => s / Math.sqrt(365);
  let sr0 = 0;
  if (n > 1) {
    const srs = allSharpes.map(per);
    const mean = srs.reduce((a, b) => a + b, 0) / n;
    const variance = srs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
    sr0 = Math.sqrt(variance) * ((1 - EULER_GAMMA) * normalInv(1 - 1 / n) + EULER_GAMMA * normalInv(1 - 1 / (n * Math.E)));
  }
  if (best.days < 2) return { dsr: null, sr0, trials: n };
  const sr = per(best.sharpe);
  const denom = 1 - best.skew * sr + ((best.kurtosis - 1) / 4) * sr * sr;
  if (!(denom > 0)) return { dsr: null, sr0, trials: n };
  return { dsr: normalCdf(((sr - sr0) * Math.sqrt(best.days - 1)) / Math.sqrt(denom)), sr0, trials: n };
}

/** Daily returns of a balance history (the last equity of each UTC day, the initial balance first): count, skewness, kurtosis. */
export function dailyMoments(initial: number, time: ArrayLike<number>, equity: ArrayLike<number>): { days: number; skew: number; kurtosis: number } {
  const daily: number[] = [initial];
  let day = -1;
  for (let i = 0; i < time.length; i++) {
    const d = Math.floor((time[i] - 1) / 86_400_000);
    if (d !== day) {
      daily.push(equity[i]);
      day = d;
    } else daily[daily.length - 1] = equity[i];
  }
  const r: number[] = [];
  for (let i = 1; i < daily.length; i++) if (daily[i - 1] > 0) r.push(daily[i] / daily[i - 1] - 1);
  const n = r.length;
  if (n < 3) return { days: n, skew: 0, kurtosis: 3 };
  const mean = r.reduce((a, b) => a + b, 0) / n;
  const m2 = r.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
  if (m2 === 0) return { days: n, skew: 0, kurtosis: 3 };
  const m3 = r.reduce((a, x) => a + (x - mean) ** 3, 0) / n;
  const m4 = r.reduce((a, x) => a + (x - mean) ** 4, 0) / n;
  return { days: n, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

// ───────────────────────────── worker tasks ─────────────────────────────

/** Klines of a sweep for the workers: columns in SharedArrayBuffers (one copy for every thread). */
export interface SweepLoadTask {
  kind: 'sweep.load';
  key: string;
  input: EngineInput;
  strategiesDir?: string;
}

export interface SweepTrialTask {
  kind: 'sweep.trial';
  key: string;
  /** The configuration with the trial's parameters set. */
  config: BacktestConfig;
  /** Open-time window [from, to) of the 1m klines the trial sees (walk-forward folds); all when absent. */
  window?: { from: number; to: number };
}

export type SweepTrialResult = { ok: true; summary: TrialSummary } | { ok: false; error: BacktestFailure };

declare module '../workers/tasks.js' {
  interface WorkerTasks {
    /** Keeps a sweep's klines in the worker under a key (shared memory: nothing is copied). */
    'sweep.load': { task: SweepLoadTask; result: { loaded: boolean } };
    /** Runs one trial against the loaded klines; a summary back. */
    'sweep.trial': { task: SweepTrialTask; result: SweepTrialResult };
    /** Forgets the klines of a key. */
    'sweep.drop': { task: { kind: 'sweep.drop'; key: string }; result: { dropped: boolean } };
  }
}

/** What a worker thread keeps between the tasks of a sweep. */
const loaded = new Map<string, { input: EngineInput; strategies: StrategyRegistry }>();

export function sweepLoad(task: SweepLoadTask): { loaded: boolean } {
  loaded.set(task.key, { input: task.input, strategies: new StrategyRegistry(task.strategiesDir) });
  return { loaded: true };
}

export function sweepDrop(task: { key: string }): { dropped: boolean } {
  return { dropped: loaded.delete(task.key) };
}

/** First index with openTime >= t (binary search). */
function lowerBound(a: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A window of klines as views (no copy). */
export function sliceKlines(k: BacktestKlines, from: number, to: number): BacktestKlines {
  const a = lowerBound(k.openTime, k.length, from);
  const b = lowerBound(k.openTime, k.length, to);
  const v = (x: Float64Array) => x.subarray(a, b);
  return { length: b - a, openTime: v(k.openTime), open: v(k.open), high: v(k.high), low: v(k.low), close: v(k.close), volume: v(k.volume), takerBuyVolume: v(k.takerBuyVolume) };
}

export function trialSummary(result: BacktestResult, klines: readonly BacktestKlines[]): TrialSummary {
  const s: BacktestSummary = result.summary;
  const m = dailyMoments(Number(s.initialBalance), result.balance.time, result.balance.equity);
  let first = Infinity;
  let last = -Infinity;
  for (const k of klines) {
    if (k.length === 0) continue;
    first = Math.min(first, k.openTime[0]);
    last = Math.max(last, k.openTime[k.length - 1]);
  }
  return {
    returnPct: s.returnPct, cagrPct: s.cagrPct, maxDrawdownPct: s.maxDrawdownPct, sharpe: s.sharpe, sortino: s.sortino, calmar: s.calmar,
    profitFactor: s.profitFactor, winRatePct: s.winRatePct, trades: s.trades, finalBalance: s.finalBalance, tradeListHash: s.tradeListHash,
    klines: s.klines, firstOpenTime: first, lastOpenTime: last, ...m,
  };
}

export function sweepTrial(task: SweepTrialTask): SweepTrialResult {
  const held = loaded.get(task.key);
  if (!held) return { ok: false, error: { kind: 'internal', message: `sweep ${task.key} is not loaded in this worker` } };
  try {
    let klines = held.input.klines;
    if (task.window) {
      const w = task.window;
      klines = klines.map((k) => sliceKlines(k, w.from, w.to));
      const empty = klines.findIndex((k) => k.length === 0);
      if (empty >= 0) throw new UserError(`no 1m klines of ${task.config.positions[empty].symbol} in the window ${new Date(w.from).toISOString()} .. ${new Date(w.to).toISOString()}`);
    }
    const result = runBacktest({ ...held.input, config: task.config, klines }, { strategies: held.strategies, balancePoints: 4000 });
    return { ok: true, summary: trialSummary(result, klines) };
  } catch (error) {
    return { ok: false, error: toFailure(error) };
  }
}

// ───────────────────────────── running on the pool ─────────────────────────────

/** Copies the klines' columns into SharedArrayBuffers, so every worker reads one copy. */
export function shareKlines(input: EngineInput): EngineInput {
  const share = (a: Float64Array) => {
    const out = new Float64Array(new SharedArrayBuffer(a.length * 8));
    out.set(a);
    return out;
  };
  const klines = input.klines.map((k) => ({
    length: k.length, openTime: share(k.openTime), open: share(k.open), high: share(k.high), low: share(k.low), close: share(k.close), volume: share(k.volume), takerBuyVolume: share(k.takerBuyVolume),
  }));
  return { ...input, klines };
}

let sweeps = 0;

/** A batch of trial jobs run on every slot of the pool against klines loaded once per slot. */
export interface SweepRunner {
  /** How many trials run at once (the pool's slots; 1 in process). */
  readonly parallel: number;
  run(jobs: { config: BacktestConfig; window?: { from: number; to: number } }[], onDone?: () => void): Promise<SweepTrialResult[]>;
  close(): Promise<void>;
}

/**
 * Loads the (shared) klines into every slot of the pool and keeps them there (the slots are held)
 * until `close`. `inProcess` runs the same tasks on this thread (tests, the bench's baseline).
 */
export async function openSweepRunner(pool: TaskPool | undefined, input: EngineInput, options: { strategiesDir?: string; signal?: AbortSignal }): Promise<SweepRunner> {
  const key = `sweep-${process.pid}-${++sweeps}`;
  const shared = pool ? shareKlines(input) : input;
  if (!pool) {
    sweepLoad({ kind: 'sweep.load', key, input: shared, strategiesDir: options.strategiesDir });
    return {
      parallel: 1,
      run: async (jobs, onDone) => jobs.map((j) => {
        if (options.signal?.aborted) return { ok: false, error: { kind: 'cancelled', message: 'sweep cancelled' } } as SweepTrialResult;
        const r = sweepTrial({ kind: 'sweep.trial', key, ...j });
        onDone?.();
        return r;
      }),
      close: async () => void sweepDrop({ key }),
    };
  }
  const slots = Array.from({ length: pool.size }, (_, i) => i);
  for (const s of slots) pool.hold(s);
  const load = (s: number) => pool.runOn(s, { kind: 'sweep.load', key, input: shared, strategiesDir: options.strategiesDir });
  try {
    await Promise.all(slots.map(load));
  } catch (error) {
    for (const s of slots) pool.release(s);
    throw error;
  }
  return {
    parallel: slots.length,
    async run(jobs, onDone) {
      const out = new Array<SweepTrialResult>(jobs.length);
      let next = 0;
      await Promise.all(
        slots.map(async (s) => {
          while (next < jobs.length) {
            const i = next++;
            if (options.signal?.aborted) {
              out[i] = { ok: false, error: { kind: 'cancelled', message: 'sweep cancelled' } };
              continue;
            }
            const task: SweepTrialTask = { kind: 'sweep.trial', key, ...jobs[i] };
            try {
              out[i] = await pool.runOn(s, task);
            } catch {
              // the worker died: a fresh thread, the klines again, the trial once more
              await pool.restart(s);
              await load(s);
              out[i] = await pool.runOn(s, task);
            }
            onDone?.();
          }
        }),
      );
      return out;
    },
    async close() {
      await Promise.all(slots.map((s) => pool.runOn(s, { kind: 'sweep.drop', key }).catch(() => undefined)));
      for (const s of slots) pool.release(s);
    },
  };
}

// ───────────────────────────── the sweep ─────────────────────────────

export interface SweepPlan {
  ranges: ParamRange[];
  method: SweepMethod;
  /** Random: how many trials. */
  trials?: number;
  seed?: number;
  objective: Objective;
  constraint?: string;
  /** Walk-forward: this many folds (≥ 2), else one sweep over the whole range. */
  walkForward?: number;
}

export interface SweepRow {
  rank: number;
  trial: number;
  params: Record<string, number>;
  score: number;
  summary: TrialSummary;
}

export interface WalkForwardFold {
  fold: number;
  inSampleWindow: { from: number; to: number };
  outOfSampleWindow: { from: number; to: number };
  trials: number;
  params: Record<string, number>;
  inSampleScore: number;
  outOfSampleScore: number;
  inSample: TrialSummary;
  outOfSample: TrialSummary;
}

export interface SweepReport {
  method: SweepMethod;
  objective: Objective;
  trials: number;
  failed: number;
  /** The first failure's message, when any trial failed. */
  firstError?: string;
  /** Ranked rows of the whole range (without walk-forward). */
  rows: SweepRow[];
  deflatedSharpe: { dsr: number | null; sr0: number; trials: number } | null;
  walkForward?: {
    folds: WalkForwardFold[];
    /** Mean in-sample and out-of-sample objective, and their ratio (out / in). */
    meanInSample: number;
    meanOutOfSample: number;
    ratio: number | null;
    /** The out-of-sample returns compounded over the folds. */
    outOfSampleReturnPct: number;
  };
  elapsedMs: number;
  klines: number;
}

/** How many trials of a TPE sweep are drawn at random before the model proposes (at most). */
export const TPE_STARTUP = 10;

function checkPlan(config: BacktestConfig, plan: SweepPlan): Constraint | undefined {
  if (plan.ranges.length === 0) throw new UserError('a sweep needs at least one --param name=from..to:step');
  const keys = new Set<string>();
  for (const r of plan.ranges) {
    if (keys.has(r.key)) throw new UserError(`--param ${r.key} is given twice`);
    keys.add(r.key);
  }
  if (plan.method !== 'grid') {
    const n = plan.trials ?? 100;
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--trials ${n}: expected a whole number of at least 1`);
  }
  return plan.constraint === undefined ? undefined : parseConstraint(plan.constraint, Object.keys(constraintNames(config, plan.ranges)));
}

/**
 * The trials of a plan (validated: method, ranges, constraint). Grid and random: all of them;
 * TPE: the random trials it starts from (the rest depend on their results).
 */
export function planTrials(config: BacktestConfig, plan: SweepPlan): Trial[] {
  const constraint = checkPlan(config, plan);
  let trials: Trial[];
  if (plan.method === 'grid') trials = gridTrials(config, plan.ranges, constraint);
  else if (plan.method === 'random') trials = randomTrials(config, plan.ranges, plan.trials ?? 100, plan.seed ?? 1, constraint);
  else if (plan.method === 'tpe') trials = randomTrials(config, plan.ranges, Math.min(plan.trials ?? 100, TPE_STARTUP), plan.seed ?? 1, constraint);
  else throw new UserError(`--method ${String(plan.method)}: allowed values are grid, random, tpe`);
  if (trials.length === 0) throw new UserError(constraint ? `--constraint ${JSON.stringify(constraint.text)} refuses every combination of the ranges` : 'no trials');
  return trials;
}

/**
 * The Tree-structured Parzen Estimator (Bergstra et al., 2011) over the grid's values, one
 * dimension at a time: the observed trials are split into the best quarter (`good`, at least one)
 * and the rest; for each parameter, l(x) and g(x) are Parzen densities over its value indices
 * (a Gaussian kernel of width max(1, values/10) around each observed value, plus a uniform prior of
 * weight 1); 24 candidates are drawn from l and the one with the largest Σ log l(x) − log g(x)
 * that is new and passes the constraint is proposed (else a uniform draw). `count` proposals at a
 * time (one per worker), all from the same observations. Deterministic for a seed.
 */
export function tpePropose(ranges: readonly ParamRange[], observed: readonly { params: Record<string, number>; score: number }[], count: number, rng: Rng, accept: (params: Record<string, number>) => boolean, seen: Set<string>): Record<string, number>[] {
  const sorted = [...observed].sort((a, b) => b.score - a.score);
  const nGood = Math.max(1, Math.ceil(sorted.length * 0.25));
  const good = sorted.slice(0, nGood);
  const bad = sorted.slice(nGood);
  const density = (r: ParamRange, obs: readonly { params: Record<string, number> }[]) => {
    const m = r.values.length;
    const h = Math.max(1, m / 10);
    const index = new Map(r.values.map((v, i) => [v, i]));
    const w = new Float64Array(m).fill(1 / m);
    for (const o of obs) {
      const c = index.get(o.params[r.key]);
      if (c === undefined) continue;
      const span = Math.ceil(4 * h);
      for (let j = Math.max(0, c - span); j <= Math.min(m - 1, c + span); j++) w[j] += Math.exp(-0.5 * ((j - c) / h) ** 2);
    }
    let sum = 0;
    for (let j = 0; j < m; j++) sum += w[j];
    const cum = new Float64Array(m);
    let acc = 0;
    for (let j = 0; j < m; j++) {
      w[j] /= sum;
      acc += w[j];
      cum[j] = acc;
    }
    return { p: w, cum };
  };
  const l = ranges.map((r) => density(r, good));
  const g = ranges.map((r) => density(r, bad));
  const draw = (cum: Float64Array) => {
    const u = rng.next() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const keyOf = (p: Record<string, number>) => ranges.map((r) => p[r.key]).join(',');
  const out: Record<string, number>[] = [];
  for (let n = 0; n < count; n++) {
    let best: Record<string, number> | undefined;
    let bestScore = -Infinity;
    for (let c = 0; c < 24; c++) {
      const idx = ranges.map((_, d) => draw(l[d].cum));
      const params: Record<string, number> = {};
      ranges.forEach((r, d) => (params[r.key] = r.values[idx[d]]));
      if (seen.has(keyOf(params)) || !accept(params)) continue;
      let sc = 0;
      idx.forEach((j, d) => (sc += Math.log(l[d].p[j]) - Math.log(g[d].p[j])));
      if (sc > bestScore) {
        bestScore = sc;
        best = params;
      }
    }
    for (let tries = 0; !best && tries < 50; tries++) {
      const params: Record<string, number> = {};
      for (const r of ranges) params[r.key] = r.values[Math.min(r.values.length - 1, Math.floor(rng.next() * r.values.length))];
      if (!seen.has(keyOf(params)) && accept(params)) best = params;
    }
    if (!best) break;
    seen.add(keyOf(best));
    out.push(best);
  }
  return out;
}

/** Splits [first, last] open times into K + 1 equal parts: fold i optimises on part i and tests on part i + 1. */
export function walkForwardWindows(first: number, last: number, folds: number): { inSample: { from: number; to: number }; outOfSample: { from: number; to: number } }[] {
  const MIN = 60_000;
  const end = last + MIN;
  const span = (end - first) / (folds + 1);
  const at = (i: number) => (i === folds + 1 ? end : first + Math.floor((span * i) / MIN) * MIN);
  return Array.from({ length: folds }, (_, i) => ({ inSample: { from: at(i), to: at(i + 1) }, outOfSample: { from: at(i + 1), to: at(i + 2) } }));
}

function rowsOf(trials: readonly Trial[], results: readonly SweepTrialResult[], objective: Objective): { rows: SweepRow[]; failed: number; firstError?: string } {
  const outcomes: TrialOutcome[] = trials.map((trial, i) => {
    const r = results[i];
    return r.ok ? { trial, summary: r.summary } : { trial, error: r.error.message };
  });
  const failed = outcomes.filter((o) => o.error !== undefined);
  const rows = rank(outcomes, objective).map((o, i) => ({ rank: i + 1, trial: o.trial.id, params: o.trial.params, score: score(o.summary, objective), summary: o.summary }));
  return { rows, failed: failed.length, firstError: failed[0]?.error };
}

/** Runs a sweep (and its walk-forward folds) through a runner; `onProgress(done, total)` per trial. */
export async function runSweep(config: BacktestConfig, plan: SweepPlan, runner: SweepRunner, input: EngineInput, options: { onProgress?(done: number, total: number): void; signal?: AbortSignal } = {}): Promise<SweepReport> {
  const started = performance.now();
  const planned = planTrials(config, plan);
  const constraint = checkPlan(config, plan);
  const perSweep = plan.method === 'tpe' ? (plan.trials ?? 100) : planned.length;
  const jobsFor = (trials: readonly Trial[], window?: { from: number; to: number }) => trials.map((t) => ({ config: applyTrial(config, plan.ranges, t.params), ...(window ? { window } : {}) }));
  const klines = input.klines.reduce((n, k) => n + k.length, 0);
  const cancelledCheck = (results: SweepTrialResult[]) => {
    const c = results.find((r) => !r.ok && r.error.kind === 'cancelled');
    if (c || options.signal?.aborted) throw new UserError('sweep cancelled');
  };
  /** All trials of one optimisation (over a window): the planned ones, or TPE's rounds. */
  const optimise = async (tick: () => void, window?: { from: number; to: number }): Promise<{ trials: Trial[]; results: SweepTrialResult[] }> => {
    const results = await runner.run(jobsFor(planned, window), tick);
    cancelledCheck(results);
    if (plan.method !== 'tpe') return { trials: planned, results };
    const trials = [...planned];
    const rng = new Rng((plan.seed ?? 1) ^ 0x5f3759df);
    const seen = new Set(trials.map((t) => plan.ranges.map((r) => t.params[r.key]).join(',')));
    const accept = (params: Record<string, number>) => !constraint || constraint.test(withDefaults(config, plan.ranges, params));
    while (trials.length < perSweep) {
      const observed = trials.map((t, i) => ({ params: t.params, score: results[i].ok ? score((results[i] as { summary: TrialSummary }).summary, plan.objective) : -Infinity }));
      const proposals = tpePropose(plan.ranges, observed, Math.min(runner.parallel, perSweep - trials.length), rng, accept, seen);
      if (proposals.length === 0) break;
      const batch = proposals.map((params) => ({ id: trials.length, params }));
      batch.forEach((t, i) => (t.id = trials.length + i));
      const more = await runner.run(jobsFor(batch, window), tick);
      cancelledCheck(more);
      trials.push(...batch);
      results.push(...more);
    }
    return { trials, results };
  };
  if (!plan.walkForward) {
    let done = 0;
    const { trials, results } = await optimise(() => options.onProgress?.(++done, perSweep));
    const { rows, failed, firstError } = rowsOf(trials, results, plan.objective);
    if (rows.length === 0) throw new UserError(`every trial failed: ${firstError}`);
    const dsr = deflatedSharpe(rows[0].summary, rows.map((r) => r.summary.sharpe));
    return { method: plan.method, objective: plan.objective, trials: trials.length, failed, firstError, rows, deflatedSharpe: dsr, elapsedMs: Math.round(performance.now() - started), klines };
  }
  const K = plan.walkForward;
  if (!Number.isInteger(K) || K < 2) throw new UserError(`--walk-forward ${K}: expected a whole number of folds, at least 2`);
  let first = Infinity;
  let last = -Infinity;
  for (const k of input.klines) {
    first = Math.min(first, k.openTime[0]);
    last = Math.max(last, k.openTime[k.length - 1]);
  }
  const windows = walkForwardWindows(first, last, K);
  const total = K * (perSweep + 1);
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);
  const folds: WalkForwardFold[] = [];
  let failedAll = 0;
  let trialsAll = 0;
  let firstErrorAll: string | undefined;
  for (let f = 0; f < K; f++) {
    const w = windows[f];
    const { trials, results } = await optimise(tick, w.inSample);
    trialsAll += trials.length;
    const { rows, failed, firstError } = rowsOf(trials, results, plan.objective);
    failedAll += failed;
    firstErrorAll ??= firstError;
    if (rows.length === 0) throw new UserError(`fold ${f + 1}: every in-sample trial failed: ${firstError}`);
    const best = rows[0];
    const [oos] = await runner.run([{ config: applyTrial(config, plan.ranges, best.params), window: w.outOfSample }], tick);
    cancelledCheck([oos]);
    if (!oos.ok) throw new UserError(`fold ${f + 1}: the out-of-sample run failed: ${oos.error.message}`);
    folds.push({ fold: f + 1, inSampleWindow: w.inSample, outOfSampleWindow: w.outOfSample, trials: trials.length, params: best.params, inSampleScore: best.score, outOfSampleScore: score(oos.summary, plan.objective), inSample: best.summary, outOfSample: oos.summary });
  }
  const finiteMean = (xs: number[]) => {
    const f = xs.filter(Number.isFinite);
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : 0;
  };
  const meanInSample = finiteMean(folds.map((f) => f.inSampleScore));
  const meanOutOfSample = finiteMean(folds.map((f) => f.outOfSampleScore));
  const compounded = folds.reduce((acc, f) => acc * (1 + f.outOfSample.returnPct / 100), 1);
  return {
    method: plan.method, objective: plan.objective, trials: trialsAll, failed: failedAll, firstError: firstErrorAll, rows: [], deflatedSharpe: null,
    walkForward: { folds, meanInSample, meanOutOfSample, ratio: meanInSample !== 0 ? meanOutOfSample / meanInSample : null, outOfSampleReturnPct: (compounded - 1) * 100 },
    elapsedMs: Math.round(performance.now() - started), klines,
  };
}
