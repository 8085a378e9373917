import { defaultCac } from '../analysis/cac.js';
import type { KlineColumns } from '../analysis/indicators/index.js';
import { seededUniform } from '../random.js';
import { validateParams } from './params.js';
import { prepareRun, strategyFailure, withTimeLimit, type LoadedStrategy } from './runtime.js';
import { StrategyError, type StrategyErrorInit } from './types.js';

/**
 * A generated series of 1m klines for checks: a seeded random walk (log-returns with a slowly
 * changing volatility and drift regime, so averages cross both ways), open = previous close,
 * high/low around open and close, positive volumes. Same seed, same series.
 */
export function generateKlines(count: number, seed = 1): KlineColumns & { length: number } {
  const rnd = seededUniform(seed);
  const f = () => new Float64Array(count);
  const k = { length: count, openTime: f(), open: f(), high: f(), low: f(), close: f(), volume: f(), takerBuyVolume: f() };
  let price = 100;
  let drift = 0;
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < count; i++) {
    if (i % 200 === 0) drift = (rnd() - 0.5) * 0.002;
    const open = price;
    const close = open * Math.exp(drift + (rnd() - 0.5) * 0.006);
    const high = Math.max(open, close) * (1 + rnd() * 0.002);
    const low = Math.min(open, close) * (1 - rnd() * 0.002);
    const volume = 1 + rnd() * 100;
    k.openTime[i] = start + i * 60_000;
    k.open[i] = open;
    k.high[i] = high;
    k.low[i] = low;
    k.close[i] = close;
    k.volume[i] = volume;
    k.takerBuyVolume[i] = volume * rnd();
    price = close;
  }
  return k;
}

export interface CheckOptions {
  params?: Record<string, unknown>;
  klines?: number;
  seed?: number;
  /** Wall-time limit for the whole run over the generated series (in-thread, vm watchdog). */
  timeLimitMs?: number;
  progress?: Int32Array;
}

export interface CheckReport {
  ok: boolean;
  strategy: string;
  source: string;
  params?: Record<string, number | string>;
  klines: number;
  /** Klines on which the strategy returned something other than 'unchanged'. */
  decisions: number;
  /** Klines ending long / short / flat (by the target in force). */
  long: number;
  short: number;
  flat: number;
  /** Changes of the target in force. */
  targetChanges: number;
  withStops: number;
  elapsedMs: number;
  error?: StrategyErrorInit & { message: string };
}

/**
 * Validates a strategy's parameters (defaults filled) and runs it over a generated series,
 * in this thread (a strategy that reads a CAC gets the default CAC). A throw, garbage, lookahead or overrun becomes `error` (file, line, kline).
 */
export function runCheck(strategy: LoadedStrategy, options: CheckOptions = {}): CheckReport {
  const count = options.klines ?? 2000;
  const report: CheckReport = {
    ok: false, strategy: strategy.name, source: strategy.source, klines: count, decisions: 0, long: 0, short: 0, flat: 0, targetChanges: 0, withStops: 0, elapsedMs: 0,
  };
  const started = performance.now();
  const done = (error?: StrategyError): CheckReport => {
    report.elapsedMs = Math.round((performance.now() - started) * 10) / 10;
    report.ok = !error;
    if (error) report.error = error.toJSON();
    return report;
  };
  const params = validateParams(strategy.spec, options.params ?? {}, strategy.source === 'builtin' ? undefined : strategy.source);
  if (!params.ok) return done(params.error);
  report.params = { ...params.value } as Record<string, number | string>;
  const klines = generateKlines(count, options.seed ?? 1);
  const prepared = prepareRun(strategy, params.value, klines, {
    symbol: 'CHECKUSDT',
    interval: '1m',
    progress: options.progress,
    cac: strategy.spec.usesCac ? defaultCac('check') : undefined,
  });
  if (!prepared.ok) return done(prepared.error);
  const runner = prepared.value;
  const loop = () => {
    let previous = 0;
    for (let i = 0; i < count; i++) {
      if (runner.step(i)) {
        report.decisions++;
        if (runner.stopLoss === runner.stopLoss || runner.takeProfit === runner.takeProfit) report.withStops++;
      }
      const t = runner.target;
      if (t !== previous) report.targetChanges++;
      previous = t;
      if (t > 0) report.long++;
      else if (t < 0) report.short++;
      else report.flat++;
    }
  };
  try {
    if (options.timeLimitMs) withTimeLimit(options.timeLimitMs, loop);
    else loop();
  } catch (error) {
    return done(strategyFailure(strategy, 'throw', error, runner.index, runner.instance.onKline));
  }
  return done();
}
