import { describe, expect, it } from 'vitest';
import { generateKlines, runCheck } from '../../../src/core/strategy/check.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import { prepareRun, type LoadedStrategy, type StrategyRunner } from '../../../src/core/strategy/runtime.js';
import { StrategyError, defineStrategy, type StrategySpec } from '../../../src/core/strategy/types.js';

/** Columns from closes only (open = close, high = low = close). */
function fromCloses(closes: number[]) {
  const c = Float64Array.from(closes);
  return { length: c.length, openTime: Float64Array.from(closes, (_, i) => i * 60_000), open: c, high: c, low: c, close: c, volume: c.map(() => 1), takerBuyVolume: c.map(() => 0.5) };
}

const registry = new StrategyRegistry(undefined);
function runner(name: string, closes: number[], params: Record<string, unknown> = {}): StrategyRunner {
  const v = registry.validateParams(name, params);
  if (!v.ok) throw v.error;
  const r = prepareRun(v.value.strategy, v.value.params, fromCloses(closes));
  if (!r.ok) throw r.error;
  return r.value;
}

/** Steps over every kline: per kline, the target in force and whether it was a decision. */
function run(r: StrategyRunner, n: number) {
  const targets: number[] = [];
  const changed: boolean[] = [];
  for (let i = 0; i < n; i++) {
    changed.push(r.step(i));
    targets.push(r.target);
  }
  return { targets, changed };
}

describe('built-in strategies', () => {
  it('sma-cross on a constructed series (checked by hand)', () => {
    // fast 2, slow 3. SMA2 from kline 1: 10.5 11.5 11.5 10.5 10 10 11.5; SMA3 from kline 2: 11, 11.33, 11, 10.33, 10, 11.
    const closes = [10, 11, 12, 11, 10, 10, 10, 13];
    const { targets, changed } = run(runner('sma-cross', closes, { fast: 2, slow: 3 }), closes.length);
    // 0 before both exist (klines 0, 1); 11.5 > 11 long; 11.5 > 11.33 long; 10.5 < 11 short; 10 < 10.33 short;
    // 10 = 10 unchanged (stays short); 11.5 > 11 long.
    expect(targets).toEqual([0, 0, 1, 1, -1, -1, -1, 1]);
    expect(changed).toEqual([true, true, true, true, true, true, false, true]);
  });

  it('sma-cross defaults and its fast < slow rule', () => {
    const v = registry.validateParams('sma-cross');
    expect(v.ok && v.value.params).toEqual({ fast: 10, slow: 30 });
    const bad = registry.validateParams('sma-cross', { fast: 30, slow: 30 });
    expect(!bad.ok && bad.error.message).toBe('sma-cross: fast (30) must be less than slow (30)');
  });

  it('sma-cross stays flat until the slow average exists (default 10/30)', () => {
    const k = generateKlines(100, 3);
    const r = runner('sma-cross', Array.from(k.close));
    const { targets } = run(r, 100);
    expect(targets.slice(0, 29).every((t) => t === 0)).toBe(true);
    expect(targets.slice(29).every((t) => t === 1 || t === -1)).toBe(true);
    // The decision follows the averages computed by the analysis kernels.
    for (let i = 29; i < 100; i++) {
      const f = r.columns['fast.value'][i];
      const s = r.columns['slow.value'][i];
      if (f !== s) expect(targets[i]).toBe(f > s ? 1 : -1);
    }
  });

  it('buy-and-hold is +1 from the first kline and never exits', () => {
    const { targets } = run(runner('buy-and-hold', [5, 4, 3, 2, 1, 2]), 6);
    expect(targets).toEqual([1, 1, 1, 1, 1, 1]);
    const report = runCheck(registry.get('buy-and-hold').ok ? (registry.get('buy-and-hold') as { value: LoadedStrategy }).value : (null as never), { klines: 500 });
    expect(report).toMatchObject({ ok: true, long: 500, short: 0, flat: 0, targetChanges: 1 });
  });

  it('a read past the current kline throws a lookahead error', () => {
    const peek = { name: 'peek', spec: defineStrategy({ name: 'peek', description: '', params: {}, create: ({ klines }) => ({ onKline: (i) => (klines.close.at(i + 1) > 0 ? 1 : 0) }) }) as StrategySpec, source: 'builtin' } satisfies LoadedStrategy;
    const r = prepareRun(peek, {}, fromCloses([1, 2, 3]));
    if (!r.ok) throw r.error;
    let error: unknown;
    try {
      r.value.step(0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StrategyError);
    expect((error as StrategyError).kind).toBe('lookahead');
    expect((error as StrategyError).kline).toBe(0);
    expect((error as StrategyError).message).toMatch(/read kline 1 while at kline 0/);
  });
});
