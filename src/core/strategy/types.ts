/**
 * The strategy contract: one interface for backtest, paper and live trading (docs/strategies.md).
 *
 * A strategy is a plain object (a spec): a name, a description, typed parameters, the indicators it
 * needs (computed by the analysis layer's batch kernels before the kline loop) and a factory,
 * `create(ctx)`, called once per position and run. The instance it returns gets `onKline(i, k, ind)`
 * on each CLOSED kline i and returns its target position as a signed fraction of the position's
 * allocated balance (−1 … +1; the engine multiplies by the leverage), optionally with stop-loss and
 * take-profit prices, or `'unchanged'`. The views `k` and `ind` read klines and indicator values
 * 0..i only: reading a later index throws, so lookahead cannot be expressed.
 *
 * Built-ins and user files import the same names (`atm/strategy` in a user file; see api.ts).
 */

/** Keep the target and the stops as they are. */
export const UNCHANGED = 'unchanged' as const;
export type Unchanged = typeof UNCHANGED;

export interface IntegerParam {
  kind: 'integer';
  default: number;
  min: number;
  max: number;
  /** Increment for forms and sweeps (default 1); values between steps are accepted. */
  step?: number;
  description?: string;
}

export interface FloatParam {
  kind: 'float';
  default: number;
  min: number;
  max: number;
  /** Increment for forms and sweeps (default (max − min) / 100); values between steps are accepted. */
  step?: number;
  description?: string;
}

export interface ChoiceParam {
  kind: 'choice';
  default: string;
  choices: readonly string[];
  description?: string;
}

export type ParamDef = IntegerParam | FloatParam | ChoiceParam;
/** Parameters by name; the order of the keys is the order in forms and listings. */
export type ParamDefs = Record<string, ParamDef>;
/** Validated parameter values: numbers for integer/float, strings for choice. */
export type ParamValues<D extends ParamDefs = ParamDefs> = {
  readonly [K in keyof D]: D[K] extends ChoiceParam ? string : D[K] extends IntegerParam | FloatParam ? number : number | string;
};

/**
 * One indicator a strategy needs: an analysis-layer type with its parameters (docs/indicators.md),
 * as an object or as the command line's text form `'SMA:n=20'`.
 */
export type IndicatorRequest = string | { type: string; params?: Record<string, number> };

/**
 * A read-only column (a kline field or an indicator line) as of the current kline i.
 * `at(j)` is the value at kline j (0 ≤ j ≤ i; NaN for j < 0 and during an indicator's warm-up);
 * `ago(n)` = `at(i − n)`. Reading j > i throws: a strategy sees closed klines only.
 */
export interface Series {
  at(j: number): number;
  ago(n: number): number;
  /** Klines visible now: i + 1. */
  readonly length: number;
}

/** The closed klines 0..i as columns. `openTime` is in milliseconds (UTC). */
export interface KlineView {
  readonly openTime: Series;
  readonly open: Series;
  readonly high: Series;
  readonly low: Series;
  readonly close: Series;
  readonly volume: Series;
  readonly takerBuyVolume: Series;
}

/**
 * The indicator lines by name: `ind.<name>` is the indicator's first line, `ind['<name>.<line>']`
 * any line (e.g. `ind['bands.upper']` for a BOL named `bands`).
 */
export type IndicatorView = Readonly<Record<string, Series>>;

/** What the engine currently holds for this position (kept up to date by the engine). */
export interface PositionView {
  /** The target in force (0 after a stop, a take-profit or a liquidation closed the position). */
  readonly target: number;
  /** Average entry price; NaN when flat. */
  readonly entryPrice: number;
  /** Stop prices in force; NaN = none. */
  readonly stopLoss: number;
  readonly takeProfit: number;
}

export interface StrategyContext<D extends ParamDefs = ParamDefs> {
  readonly params: ParamValues<D>;
  readonly klines: KlineView;
  readonly ind: IndicatorView;
  readonly position: PositionView;
  /** e.g. 'BTCUSDT' and '1m' ('' when unknown, e.g. `atm strategy check`). */
  readonly symbol: string;
  readonly interval: string;
}

/**
 * A target with stop prices (NaN or absent = none). A stop-loss or take-profit closes the position
 * inside a kline (fill model: docs/futures-accounting.md); the target then becomes 0.
 */
export interface TargetWithStops {
  target: number | Unchanged;
  stopLoss?: number;
  takeProfit?: number;
}

/**
 * What `onKline` returns: a number from −1 to +1 (the target; any stops are cancelled),
 * `'unchanged'` (target and stops stay), or a `TargetWithStops` (reuse one object: the per-kline
 * call should not allocate).
 */
export type Target = number | Unchanged | TargetWithStops;

/** Told to the strategy by the engine (not on every kline). */
export interface StrategyEvent {
  kind: 'fill' | 'stopLoss' | 'takeProfit' | 'liquidation' | 'rejected';
  /** The kline during which it happened. */
  index: number;
  price: number;
  /** Binance's error code and message, for 'rejected'. */
  code?: number;
  message?: string;
}

export interface StrategyInstance {
  onKline(i: number, k: KlineView, ind: IndicatorView): Target;
  onEvent?(event: StrategyEvent): void;
}

export interface StrategySpec<D extends ParamDefs = ParamDefs> {
  /**
   * Lower-case letters, digits and '-', starting with a letter. Optional in a user file (the file
   * name is the strategy's name); when given there it must equal the file name.
   */
  name?: string;
  description: string;
  params: D;
  /** A rule across parameters: returns the problem in words, or undefined. */
  check?(p: ParamValues<D>): string | undefined;
  /** The indicators to compute before the loop, by the name `ind` will have. */
  indicators?(p: ParamValues<D>): Record<string, IndicatorRequest>;
  /**
   * The strategy reads the position's CAC (the configured indicators and PIP, docs/indicators.md):
   * the engine computes it too, and its columns appear in `ind` under their `<TYPE>.<line>` names
   * (`ind['PIP.direction']`). The PIP-based trade controls use this.
   */
  usesCac?: boolean;
  /**
   * With `usesCac`: the CAC columns the strategy reads (`['PIP.direction', ...]`). Only these are
   * kept over a run (the CAC is computed in blocks and the rest dropped), so five years of 1m
   * klines hold a few columns, not every indicator line. Default: every column.
   */
  cacLines?: readonly string[];
  /** A fresh instance per position and run. */
  create(ctx: StrategyContext<D>): StrategyInstance;
}

/** Identity function that gives a spec its types (`export default defineStrategy({...})`). */
export function defineStrategy<const D extends ParamDefs>(spec: StrategySpec<D>): StrategySpec<D> {
  return spec;
}

export type StrategyErrorKind = 'compile' | 'export' | 'spec' | 'params' | 'indicators' | 'create' | 'throw' | 'garbage' | 'lookahead' | 'timeout' | 'unknown';

export interface StrategyErrorInit {
  kind: StrategyErrorKind;
  strategy: string;
  reason: string;
  file?: string;
  line?: number;
  column?: number;
  /** The kline index being processed, for run-time errors. */
  kline?: number;
  param?: string;
}

/**
 * A strategy problem as a value: what, which strategy, the user file and line where known, the
 * kline for run-time errors. Its message is one line: `file:line:col: strategy: reason`.
 */
export class StrategyError extends Error {
  readonly kind: StrategyErrorKind;
  readonly strategy: string;
  readonly reason: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly kline?: number;
  readonly param?: string;

  constructor(init: StrategyErrorInit) {
    const where = init.file ? `${init.file}${init.line ? `:${init.line}${init.column ? `:${init.column}` : ''}` : ''}: ` : '';
    const at = init.kline !== undefined ? ` (at kline ${init.kline})` : '';
    super(`${where}${init.strategy}${init.param ? `.${init.param}` : ''}: ${init.reason}${at}`);
    this.name = 'StrategyError';
    this.kind = init.kind;
    this.strategy = init.strategy;
    this.reason = init.reason;
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.kline = init.kline;
    this.param = init.param;
  }

  toJSON(): StrategyErrorInit & { message: string } {
    return { message: this.message, kind: this.kind, strategy: this.strategy, reason: this.reason, file: this.file, line: this.line, column: this.column, kline: this.kline, param: this.param };
  }
}

/** Errors as values. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: StrategyError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(error: StrategyError): Result<T> => ({ ok: false, error });

/** Thrown by a Series read past the current kline. */
export class LookaheadError extends Error {
  constructor(readonly index: number, readonly current: number) {
    super(`read kline ${index} while at kline ${current}: a strategy sees closed klines only (0..${current})`);
    this.name = 'LookaheadError';
  }
}
