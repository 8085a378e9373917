import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrategyInfo } from '../../../src/core/app.js';
import type { TFunction } from '../../../src/core/i18n.js';
import { SimulationForm } from '../../../src/screens/simulation/model.js';
import { defaultRange, SweepForm } from '../../../src/screens/simulation/sweep-model.js';
import { openTestApp } from '../../helpers/app.js';

describe('Simulation page: the sweep form view model', () => {
  let opened: Awaited<ReturnType<typeof openTestApp>>;
  let strategies: StrategyInfo[];
  let t: TFunction;

  beforeAll(async () => {
    opened = await openTestApp();
    strategies = await opened.app.strategies();
    t = opened.app.t;
  });
  afterAll(() => opened.cleanup());

  /** A valid simulation form with sma-cross on BTCUSDT (and ETHUSDT with `two`), and its configuration. */
  function forms(two = false) {
    const form = new SimulationForm(strategies, [], ['BTCUSDT', 'ETHUSDT']);
    form.set('p0.symbol', 'BTCUSDT');
    form.set('p0.strategy', 'sma-cross');
    if (two) {
      form.addPosition();
      form.set('p1.symbol', 'ETHUSDT');
      form.set('p1.strategy', 'sma-cross');
      form.set('p0.assumedRatio', '0.5');
      form.set('p1.assumedRatio', '0.5');
    }
    const r = form.validate(t, []);
    expect([...r.errors.values()]).toEqual([]);
    return { form, sweep: new SweepForm(form), config: r.config! };
  }

  it('has one range field per numeric parameter, prefilled from the schema within its bounds', () => {
    const { sweep } = forms();
    const ranges = sweep.fields().filter((f) => f.key.startsWith('range.'));
    expect(ranges.map((f) => f.key)).toEqual(['range.p0.fast', 'range.p0.slow']);
    const fast = strategies.find((s) => s.name === 'sma-cross')!.params[0];
    const [from, to] = ranges[0].value.split(/\.\.|:/).map(Number);
    expect(from).toBeGreaterThanOrEqual(fast.min!);
    expect(to).toBeGreaterThan(from);
    expect(defaultRange({ kind: 'integer', default: 3, min: 2, max: 4 })).toBe('2..4:1');
    expect(defaultRange({ kind: 'choice', default: 'a' })).toBe('');
    // trials and seed only for random and tpe
    expect(sweep.fields().some((f) => f.key === 'trials')).toBe(false);
    sweep.cursor = 0;
    sweep.cycle(1);
    expect(sweep.values.method).toBe('random');
    expect(sweep.fields().map((f) => f.key)).toContain('trials');
  });

  it('builds the plan core parses, for one and for several positions', () => {
    const { sweep, config } = forms();
    sweep.set('range.p0.fast', '2..6:2');
    sweep.set('range.p0.slow', '10,20');
    sweep.set('constraint', 'fast < slow');
    sweep.set('walkForward', '3');
    const p = sweep.plan(config, t);
    expect([...p.errors.values()]).toEqual([]);
    expect(p.plan!.ranges.map((r) => [r.key, r.values])).toEqual([['fast', [2, 4, 6]], ['slow', [10, 20]]]);
    expect(p.plan).toMatchObject({ method: 'grid', objective: 'sharpe', constraint: 'fast < slow', walkForward: 3 });
    expect(p.plan!.trials).toBeUndefined();
    const two = forms(true);
    two.sweep.set('range.p0.slow', '');
    two.sweep.set('range.p1.fast', '');
    two.sweep.set('range.p1.slow', '30..40:10');
    two.sweep.set('range.p0.fast', '5');
    const p2 = two.sweep.plan(two.config, t);
    expect(p2.plan!.ranges.map((r) => [r.key, r.values])).toEqual([['positions.0.fast', [5]], ['positions.1.slow', [30, 40]]]);
  });

  it('names each error on its field', () => {
    const { sweep, config } = forms();
    sweep.set('range.p0.fast', '5..x');
    sweep.set('range.p0.slow', '1..3');
    sweep.set('walkForward', '1');
    let p = sweep.plan(config, t);
    expect(p.plan).toBeUndefined();
    expect(p.errors.get('range.p0.fast')).toMatch(/'x' is not a number/);
    expect(p.errors.get('range.p0.fast')).not.toMatch(/^--param/);
    expect(p.errors.get('range.p0.slow')).toBe(t('sweepForm.error.value', { value: 1, allowed: strategies.find((s) => s.name === 'sma-cross')!.params[1].allowed }));
    expect(p.errors.get('walkForward')).toBe(t('sweepForm.error.whole', { min: 2 }));
    sweep.set('range.p0.fast', '5..10');
    sweep.set('range.p0.slow', '20');
    sweep.set('walkForward', '');
    sweep.set('constraint', 'fast > 100');
    p = sweep.plan(config, t);
    expect([...p.errors.keys()]).toEqual(['constraint']);
    expect(p.errors.get('constraint')).toContain('refuses every combination');
    sweep.set('constraint', 'nope < 3');
    expect([...sweep.plan(config, t).errors.keys()]).toEqual(['constraint']);
    sweep.set('constraint', '');
    sweep.set('method', 'random');
    sweep.set('trials', '0');
    expect([...sweep.plan(config, t).errors.keys()]).toEqual(['trials']);
    sweep.set('trials', '5');
    sweep.set('range.p0.fast', '');
    sweep.set('range.p0.slow', '');
    expect(sweep.plan(config, t).errors.get('range.p0.fast')).toBe(t('sweepForm.error.noRange'));
  });
});
