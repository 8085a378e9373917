import vm from 'node:vm';
import { AnalysisParamError, parseIndicatorArg, validateIndicator, type Cac, type CacIndicator } from '../analysis/cac.js';
import { AnalysisEngine, analyzeBatch, outputColumns } from '../analysis/engine.js';
import { columnsLength, INDICATORS, type KlineColumns } from '../analysis/indicators/index.js';
import { locateError, locateFunction } from './locate.js';
import {
  LookaheadError,
  StrategyError,
  UNCHANGED,
  fail,
  ok,
  type IndicatorView,
  type KlineView,
  type ParamValues,
  type PositionView,
  type Result,
  type Series,
  type StrategyContext,
  type StrategyErrorKind,
  type StrategyInstance,
  type StrategySpec,
} from './types.js';

/** A strategy ready to run: its validated spec and where it came from. */
export interface LoadedStrategy {
  name: string;
  spec: StrategySpec;
  /** 'builtin', or the user's file. */
  source: 'builtin' | string;
}

/** The kline the views are at; shared by every Series of one run. */
export class Cursor {
  index = -1;
}

function lookahead(j: number, i: number): never {
  throw new LookaheadError(j, i);
}

/** A column seen through the cursor (see Series). `data` may be rebound when a live host grows it. */
export class ColumnSeries implements Series {
  constructor(
    public data: Float64Array,
    private readonly cursor: Cursor,
  ) {}

  at(j: number): number {
    const i = this.cursor.index;
    if (j > i) lookahead(j, i);
    return j >= 0 ? this.data[j] : NaN;
  }

  ago(n: number): number {
    return this.at(this.cursor.index - n);
  }

  get length(): number {
    return this.cursor.index + 1;
  }
}

/** The engine-maintained position record behind `ctx.position`. */
export class PositionState implements PositionView {
  target = 0;
  entryPrice = NaN;
  stopLoss = NaN;
  takeProfit = NaN;
}

export interface RunOptions {
  symbol?: string;
  interval?: string;
  /** The position's CAC, for a spec with `usesCac` (ignored otherwise). */
  cac?: Cac;
  /** When given, the runner writes the current kline index to [0] before each call (a watchdog reads it). */
  progress?: Int32Array;
}

function where(strategy: LoadedStrategy, error: unknown, fnForLine?: unknown) {
  const fallback = strategy.source === 'builtin' ? undefined : strategy.source;
  const pos = locateError(error) ?? (fnForLine ? locateFunction(fnForLine) : undefined);
  return pos ? { file: pos.file, line: pos.line, column: pos.column } : { file: fallback };
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined (no return value)';
  try {
    const text = JSON.stringify(value);
    return text === undefined ? typeof value : text.length > 80 ? text.slice(0, 77) + '...' : text;
  } catch {
    return typeof value;
  }
}

/** Wraps anything a strategy threw into a StrategyError naming the file and line. */
export function strategyFailure(strategy: LoadedStrategy, kind: StrategyErrorKind, error: unknown, kline?: number, fnForLine?: unknown): StrategyError {
  if (error instanceof StrategyError) return error;
  const timedOut = (error as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
  if (timedOut) {
    return new StrategyError({ kind: 'timeout', strategy: strategy.name, reason: `did not return in time (${(error as Error).message})`, kline, ...where(strategy, undefined, fnForLine) });
  }
  const isLookahead = error instanceof LookaheadError;
  const message = error instanceof Error ? error.message : `threw ${describe(error)}`;
  const reason = isLookahead ? message : kind === 'throw' ? `onKline threw: ${message}` : message;
  return new StrategyError({ kind: isLookahead ? 'lookahead' : kind, strategy: strategy.name, reason, kline, ...where(strategy, error, fnForLine) });
}

/** Resolves the spec's indicator requests into validated CAC indicators, by name. */
export function resolveIndicators(strategy: LoadedStrategy, params: ParamValues): Result<{ names: string[]; indicators: CacIndicator[] }> {
  let requests: Record<string, unknown>;
  try {
    requests = (strategy.spec.indicators?.(params) ?? {}) as Record<string, unknown>;
  } catch (error) {
    return fail(strategyFailure(strategy, 'indicators', error));
  }
  const bad = (reason: string) => fail<{ names: string[]; indicators: CacIndicator[] }>(new StrategyError({ kind: 'indicators', strategy: strategy.name, reason, file: strategy.source === 'builtin' ? undefined : strategy.source }));
  if (typeof requests !== 'object' || requests === null) return bad('indicators() must return an object { name: "SMA:n=20" | { type, params } }');
  const names: string[] = [];
  const indicators: CacIndicator[] = [];
  for (const [name, req] of Object.entries(requests)) {
    try {
      if (typeof req === 'string') {
        const parsed = parseIndicatorArg(req);
        indicators.push(validateIndicator(parsed.type, parsed.params));
      } else if (typeof req === 'object' && req !== null && typeof (req as { type?: unknown }).type === 'string') {
        const r = req as { type: string; params?: Record<string, unknown> };
        indicators.push(validateIndicator(r.type, r.params ?? {}));
      } else return bad(`indicators().${name}: ${describe(req)} is not an indicator ("TYPE:param=value" or { type, params })`);
    } catch (error) {
      if (error instanceof AnalysisParamError) return bad(`indicators().${name}: ${error.message}`);
      throw error;
    }
    names.push(name);
  }
  return ok({ names, indicators });
}

/**
 * Drives one strategy instance over klines. The engine calls `step(i)` once per closed kline, in
 * order; after it `target`, `stopLoss`, `takeProfit` hold the decision (`changed` says whether this
 * kline changed anything). A strategy failure is thrown as a StrategyError naming the file, line and
 * kline; the run should stop there. `step` allocates nothing.
 */
export class StrategyRunner {
  /** The decision in force: target fraction −1…+1 and stop prices (NaN = none). */
  target = 0;
  stopLoss = NaN;
  takeProfit = NaN;
  /** The strategy returned something other than 'unchanged' on the last step. */
  changed = false;

  constructor(
    readonly strategy: LoadedStrategy,
    readonly params: ParamValues,
    readonly instance: StrategyInstance,
    readonly klines: KlineView,
    readonly ind: IndicatorView,
    readonly position: PositionState,
    private readonly cursor: Cursor,
    /** The precomputed indicator columns, by `<name>.<line>`. */
    readonly columns: Readonly<Record<string, Float64Array>>,
    private readonly progress: Int32Array | undefined,
  ) {}

  /** The kline of the last step (−1 before the first). */
  get index(): number {
    return this.cursor.index;
  }

  step(i: number): boolean {
    this.cursor.index = i;
    if (this.progress) this.progress[0] = i;
    let r: unknown;
    try {
      r = this.instance.onKline(i, this.klines, this.ind);
    } catch (error) {
      throw strategyFailure(this.strategy, 'throw', error, i);
    }
    if (typeof r === 'number') {
      if (!(r >= -1 && r <= 1)) this.garbage(r, i);
      this.target = r;
      this.stopLoss = NaN;
      this.takeProfit = NaN;
    } else if (r === UNCHANGED) {
      this.changed = false;
      return false;
    } else if (typeof r === 'object' && r !== null) {
      const o = r as { target?: unknown; stopLoss?: unknown; takeProfit?: unknown };
      const t = o.target;
      if (typeof t === 'number') {
        if (!(t >= -1 && t <= 1)) this.garbage(r, i);
        this.target = t;
      } else if (t !== UNCHANGED) this.garbage(r, i);
      this.stopLoss = this.price(o.stopLoss, r, i);
      this.takeProfit = this.price(o.takeProfit, r, i);
    } else this.garbage(r, i);
    const p = this.position;
    p.target = this.target;
    p.stopLoss = this.stopLoss;
    p.takeProfit = this.takeProfit;
    this.changed = true;
    return true;
  }

  private price(v: unknown, r: unknown, i: number): number {
    if (v === undefined) return NaN;
    if (typeof v === 'number' && (v !== v || (v > 0 && v < Infinity))) return v;
    return this.garbage(r, i);
  }

  private garbage(value: unknown, i: number): never {
    throw new StrategyError({
      kind: 'garbage',
      strategy: this.strategy.name,
      reason: `onKline returned ${describe(value)}; expected a number from -1 to 1, 'unchanged', or { target, stopLoss?, takeProfit? } with prices > 0`,
      kline: i,
      ...where(this.strategy, undefined, this.instance.onKline),
    });
  }
}

export const view = (k: KlineColumns, cursor: Cursor): KlineView => ({
  openTime: new ColumnSeries(k.openTime, cursor),
  open: new ColumnSeries(k.open, cursor),
  high: new ColumnSeries(k.high, cursor),
  low: new ColumnSeries(k.low, cursor),
  close: new ColumnSeries(k.close, cursor),
  volume: new ColumnSeries(k.volume, cursor),
  takerBuyVolume: new ColumnSeries(k.takerBuyVolume, cursor),
});

/**
 * Prepares one run: computes the strategy's indicators over all of `klines` with the analysis
 * layer's batch kernels (vectorised, before the loop; an output at kline t depends on klines 0..t
 * only), builds the bounded views and calls `create`. Errors come back as values.
 */
export function prepareRun(strategy: LoadedStrategy, params: ParamValues, klines: KlineColumns, options: RunOptions = {}): Result<StrategyRunner> {
  const resolved = resolveIndicators(strategy, params);
  if (!resolved.ok) return resolved;
  const { names, indicators } = resolved.value;
  const cursor = new Cursor();
  const columns: Record<string, Float64Array> = {};
  const ind: Record<string, Series> = {};
  if (indicators.length > 0) {
    const cac: Cac = { name: strategy.name, indicators, pip: null };
    const result = analyzeBatch(cac, klines);
    let c = 0;
    names.forEach((name, n) => {
      const lines = INDICATORS[indicators[n].type].lines;
      lines.forEach((line, l) => {
        const data = result.values[c++];
        columns[`${name}.${line}`] = data;
        const series = new ColumnSeries(data, cursor);
        ind[`${name}.${line}`] = series;
        if (l === 0) ind[name] = series;
      });
    });
  }
  if (strategy.spec.usesCac) {
    const cac = options.cac;
    if (!cac) return fail(new StrategyError({ kind: 'indicators', strategy: strategy.name, reason: 'this strategy reads a CAC (usesCac); give the position a CAC', file: strategy.source === 'builtin' ? undefined : strategy.source }));
    const { names, values } = cacColumns(cac, klines, strategy.spec.cacLines);
    for (let c = 0; c < names.length; c++) {
      if (ind[names[c]]) return fail(new StrategyError({ kind: 'indicators', strategy: strategy.name, reason: `indicators(): ${names[c]} is also a CAC column; rename the indicator`, file: strategy.source === 'builtin' ? undefined : strategy.source }));
      columns[names[c]] = values[c];
      ind[names[c]] = new ColumnSeries(values[c], cursor);
    }
  }
  return createRunner(strategy, params, view(klines, cursor), ind, columns, cursor, options);
}

/**
 * Calls the strategy's `create` with frozen views and wraps the instance in a StrategyRunner
 * (prepareRun over batch columns; a LiveRun over growable ones).
 */
export function createRunner(
  strategy: LoadedStrategy, params: ParamValues, klineView: KlineView, ind: Record<string, Series>, columns: Record<string, Float64Array>, cursor: Cursor, options: RunOptions,
): Result<StrategyRunner> {
  Object.freeze(ind);
  const k = Object.freeze(klineView);
  const position = new PositionState();
  const ctx: StrategyContext = Object.freeze({ params: Object.freeze({ ...params }), klines: k, ind, position, symbol: options.symbol ?? '', interval: options.interval ?? '' });
  let instance: StrategyInstance;
  try {
    instance = strategy.spec.create(ctx);
  } catch (error) {
    return fail(strategyFailure(strategy, 'create', error, undefined, strategy.spec.create));
  }
  if (typeof instance !== 'object' || instance === null || typeof instance.onKline !== 'function') {
    return fail(new StrategyError({ kind: 'create', strategy: strategy.name, reason: `create() returned ${describe(instance)}; expected { onKline(i, k, ind) { ... } }`, ...where(strategy, undefined, strategy.spec.create) }));
  }
  return ok(new StrategyRunner(strategy, ctx.params, instance, k, ind, position, cursor, columns, options.progress));
}

/**
 * The CAC's output columns over the klines: all of them (the batch kernels), or only `lines`, the
 * analysis run block by block (streaming equals batch) with the other columns dropped per block.
 */
function cacColumns(cac: Cac, klines: KlineColumns, lines: readonly string[] | undefined): { names: string[]; values: Float64Array[] } {
  if (!lines) {
    const result = analyzeBatch(cac, klines);
    return { names: result.columns, values: result.values };
  }
  const all = outputColumns(cac).columns;
  const kept = all.flatMap((name, i) => (lines.includes(name) ? [i] : []));
  const n = columnsLength(klines);
  const values = kept.map(() => new Float64Array(n));
  new AnalysisEngine(cac).advance(klines, 0, n, (cols, len, start) => {
    for (let j = 0; j < kept.length; j++) values[j].set(cols[kept[j]].subarray(0, len), start);
  });
  return { names: kept.map((i) => all[i]), values };
}

const limitContext = vm.createContext({ run: undefined as unknown });
const limitScript = new vm.Script('run()', { filename: 'atm-strategy-time-limit' });

/**
 * Runs `fn` and interrupts it after `ms` milliseconds of wall time, even inside an endless loop
 * (vm's watchdog). Throws an Error with code ERR_SCRIPT_EXECUTION_TIMEOUT then (strategyFailure
 * turns it into a 'timeout' StrategyError). Costs about 0.1 ms per call: wrap chunks of klines, not
 * single klines. A nested call runs under the outer limit.
 */
let limitActive = false;

export function withTimeLimit<T>(ms: number, fn: () => T): T {
  // Nested: the outer limit already bounds this call.
  if (limitActive) return fn();
  limitActive = true;
  (limitContext as { run: unknown }).run = fn;
  try {
    return limitScript.runInContext(limitContext, { timeout: Math.max(1, Math.round(ms)) }) as T;
  } finally {
    (limitContext as { run: unknown }).run = undefined;
    limitActive = false;
  }
}
