import { validateCac, type Cac } from '../../../src/core/analysis/cac.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import { prepareRun, type StrategyRunner } from '../../../src/core/strategy/runtime.js';
import type { KlineColumns } from '../../../src/core/analysis/indicators/index.js';

/**
 * Constructed series for the PIP trade controls. The CAC is one SMA(2) of the close and PIP with
 * csAlpha 1 and csNSamples 1, so the filtered classical signal is the raw component of that kline:
 * cs(i) = clip(100·(c(i) − SMA2(i))/SMA2(i)) = clip(100·(c(i) − c(i−1))/(c(i) + c(i−1))) — about 50×
 * the kline's change. With AT1 0.3 and AT2 0.1: a close 1 % above the previous one gives cs ≈ +0.5
 * (direction +1), an unchanged close cs = 0 (direction 0 from either side), 1 % below cs ≈ −0.5
 * (direction −1). So the PIP signal is set by the closes; highs and lows (wicks) do not touch it.
 */
export const TEST_CAC: Cac = validateCac({ name: 'test', indicators: ['SMA:n=2'], pip: { csAlpha: 1, csNSamples: 1, csAt1: 0.3, csAt2: 0.1, swing: 1 } });

/** One kline: close, and optionally open (default: the previous close), high, low (default: the body's ends). */
export interface Bar {
  c: number;
  o?: number;
  h?: number;
  l?: number;
}

export function klinesOf(bars: Bar[]): KlineColumns & { length: number } {
  const n = bars.length;
  const f = () => new Float64Array(n);
  const k = { length: n, openTime: f(), open: f(), high: f(), low: f(), close: f(), volume: f(), takerBuyVolume: f() };
  bars.forEach((b, i) => {
    const o = b.o ?? (i > 0 ? bars[i - 1].c : b.c);
    k.openTime[i] = i * 60_000;
    k.open[i] = o;
    k.close[i] = b.c;
    k.high[i] = b.h ?? Math.max(o, b.c);
    k.low[i] = b.l ?? Math.min(o, b.c);
    k.volume[i] = 1;
    k.takerBuyVolume[i] = 0.5;
  });
  return k;
}

const registry = new StrategyRegistry(undefined);

export function runnerFor(name: string, k: KlineColumns, params: Record<string, unknown> = {}, cac: Cac | null = TEST_CAC): StrategyRunner {
  const v = registry.validateParams(name, params);
  if (!v.ok) throw v.error;
  const r = prepareRun(v.value.strategy, v.value.params, k, { cac: cac ?? undefined });
  if (!r.ok) throw r.error;
  return r.value;
}

/** Steps over klines 0..n−1: the target and stop-loss in force after each. */
export function steps(r: StrategyRunner, n: number): { targets: number[]; stops: number[] } {
  const targets: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < n; i++) {
    r.step(i);
    targets.push(r.target);
    stops.push(r.stopLoss);
  }
  return { targets, stops };
}

/** Runs a strategy over bars: targets and stops per kline, and PIP's direction and impulse. */
export function runBars(name: string, bars: Bar[], params: Record<string, unknown> = {}) {
  const k = klinesOf(bars);
  const r = runnerFor(name, k, params);
  const out = steps(r, bars.length);
  return { ...out, direction: Array.from(r.columns['PIP.direction']), impulse: Array.from(r.columns['PIP.impulse']), runner: r };
}

export { registry };
