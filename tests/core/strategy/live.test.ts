import { describe, expect, it } from 'vitest';
import { validateCac } from '../../../src/core/analysis/cac.js';
import { aggregateForStrategy } from '../../../src/core/backtest/engine.js';
import { LiveRun } from '../../../src/core/strategy/live.js';
import { prepareRun } from '../../../src/core/strategy/runtime.js';
import { LookaheadError, StrategyError, defineStrategy, type StrategySpec } from '../../../src/core/strategy/types.js';
import { emptyBar } from '../../../src/core/analysis/indicators/index.js';
import { builtins, randomWalk } from '../backtest/helpers.js';

const CAC = validateCac({ name: 'live', indicators: ['EMA:n=20', 'BOL:n=20', 'MFI:n=14'], pip: { mode: 'classical', swing: 3 } });

function resolve(name: string, params: Record<string, unknown> = {}) {
  const r = builtins.validateParams(name, params);
  if (!r.ok) throw r.error;
  return r.value;
}

describe('LiveRun: growable strategy inputs', () => {
  for (const [name, params, interval] of [
    ['sma-cross', { fast: 5, slow: 21 }, '1m'],
    ['sma-cross', { fast: 3, slow: 8 }, '15m'],
    ['ts', {}, '5m'],
    ['rqpm', {}, '1m'],
  ] as const) {
    it(`${name} on ${interval}: every column and every decision equals the batch run, through several growths`, () => {
      const k1 = randomWalk(5000, 21);
      const { strategy, params: p } = resolve(name, params);
      const agg = interval === '1m' ? undefined : aggregateForStrategy(k1, interval);
      const strategyKlines = agg ? agg.columns : k1;
      const batch = prepareRun(strategy, p, strategyKlines, { cac: CAC, interval });
      if (!batch.ok) throw batch.error;
      const live = LiveRun.create(strategy, p, interval, { cac: CAC });
      if (!live.ok) throw live.error;
      const run = live.value;
      const bar = emptyBar();
      const decisions: number[] = [];
      const batchDecisions: number[] = [];
      for (let j = 0; j < k1.length; j++) {
        bar.openTime = k1.openTime[j];
        bar.open = k1.open[j];
        bar.high = k1.high[j];
        bar.low = k1.low[j];
        bar.close = k1.close[j];
        bar.volume = k1.volume[j];
        bar.takerBuyVolume = k1.takerBuyVolume[j];
        const idx = run.append1m(bar);
        expect(idx).toBe(agg ? agg.closes[j] : j);
        if (idx >= 0) {
          run.runner.step(idx);
          decisions.push(run.runner.target, run.runner.stopLoss);
          batch.value.step(idx);
          batchDecisions.push(batch.value.target, batch.value.stopLoss);
        }
      }
      expect(run.length).toBe(strategyKlines.length);
      expect(run.length).toBeGreaterThan(agg ? 300 : 4000);
      const cols = run.columns();
      for (const f of ['openTime', 'open', 'high', 'low', 'close', 'volume', 'takerBuyVolume'] as const) expect(Array.from(cols[f])).toEqual(Array.from(strategyKlines[f].subarray(0, run.length)));
      const names = Object.keys(batch.value.columns);
      expect(run.valueNames.sort()).toEqual([...names].sort());
      for (const c of names) {
        const a = batch.value.columns[c];
        const b = Array.from({ length: run.length }, (_, i) => run.value(c, i));
        expect(b.map(String)).toEqual(Array.from(a).map(String));
      }
      expect(decisions).toEqual(batchDecisions);
    });
  }

  it('still forbids lookahead after the columns grew', () => {
    const peek: StrategySpec = defineStrategy({
      name: 'peek', description: 'reads the next close', params: {},
      create: () => ({ onKline: (i, k) => (k.close.at(i + 1) > k.close.at(i) ? 1 : 0) }),
    });
    const live = LiveRun.create({ name: 'peek', spec: peek, source: 'builtin' }, {}, '1m');
    if (!live.ok) throw live.error;
    const bar = emptyBar();
    for (let j = 0; j < 1500; j++) {
      bar.openTime = j * 60_000;
      bar.close = bar.open = bar.high = bar.low = 100 + j;
      live.value.append(bar);
    }
    let error: unknown;
    try {
      live.value.runner.step(1499);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StrategyError);
    expect((error as StrategyError).kind).toBe('lookahead');
    expect(LookaheadError).toBeDefined();
  });
});
