import { describe, expect, it } from 'vitest';
import { defaultCac } from '../../../src/core/analysis/cac.js';
import { generateKlines, runCheck } from '../../../src/core/strategy/check.js';
import { registry, runBars, runnerFor, steps, klinesOf, type Bar } from './pip-fixture.js';

const close = (...cs: number[]): Bar[] => cs.map((c) => ({ c }));

describe('rqpm (remaining quantity percentage map)', () => {
  it('the constructed series gives the PIP signal intended (the fixture works)', () => {
    // cs = 100·(c − c₋₁)/(c + c₋₁): k3 +0.4975 → +1 (impulse); k4 0 → 0; k5 +0.4975 → +1 (impulse);
    // k6 −0.4975 → −1 (impulse); no component at k0 (SMA2 starts at k1).
    const { direction, impulse } = runBars('rqpm', close(100, 100, 100, 101, 101, 102.01, 101));
    expect(direction).toEqual([0, 0, 0, 1, 0, 1, -1]);
    expect(impulse).toEqual([0, 0, 0, 1, 0, 1, -1]);
  });

  it('enters on an impulse, follows the map, sends the FSL immediate stop, ends when it is hit, flips', () => {
    // timeUnit 100: x = klines since entry / 100. Defaults θ 0.5 (φ = π: u = −x, v = −y), α = β0 = β1 = 0.5
    // (1/(2·0.25) = 2), γ 1: q = 2x² + 2y², g = e^−q, y = σ·(close/E − 1).
    const bars: Bar[] = [
      { c: 100 }, { c: 100 }, { c: 100 },
      { c: 101 }, //            k3: impulse +1 → long, E = 101, target 1, stop 101·0.98 = 98.98
      { c: 101 }, //            k4: x 0.01, y 0 → q 0.0002, g = 0.99980002
      { c: 102.01 }, //         k5: x 0.02, y 0.01 → q 0.0008 + 0.0002 = 0.001, g = 0.99900050 (impulse +1 again: same side, nothing)
      { c: 102.01, l: 98.9 }, // k6: low 98.9 ≤ stop 98.98 → the engine closed it inside k6 → 0, no stop
      { c: 100.99 }, //         k7: impulse −1 → short, E = 100.99, target −1, stop 100.99·1.02 = 103.0098
      { c: 100.99 }, //         k8: x 0.01, y 0 → −0.99980002
      { c: 102 }, //            k9: impulse +1 against the short → ends it; opens long E = 102, stop 99.96
    ];
    const { targets, stops } = runBars('rqpm', bars, { timeUnit: 100, fslImmediate: 0.02, reduceStep: 0 });
    expect(targets.slice(0, 4)).toEqual([0, 0, 0, 1]);
    expect(targets[4]).toBeCloseTo(0.99980002, 8);
    expect(targets[5]).toBeCloseTo(0.9990005, 7);
    expect(targets[6]).toBe(0);
    expect(targets[7]).toBe(-1);
    expect(targets[8]).toBeCloseTo(-0.99980002, 8);
    expect(targets[9]).toBe(1);
    expect(stops[3]).toBeCloseTo(98.98, 10);
    expect(stops[5]).toBeCloseTo(98.98, 10);
    expect(stops[6]).toBeNaN();
    expect(stops[7]).toBeCloseTo(103.0098, 10);
    expect(stops[9]).toBeCloseTo(99.96, 10);
    expect(stops[0]).toBeNaN();
  });

  it('EOP: reductions only on klines at least eop in profit; the map itself keeps falling', () => {
    // timeUnit 100, α 0.05 (1/(2·0.0025) = 200): q = 200x² + 2y².
    const bars = close(100, 100, 100, 101, 101, 101, 102.1, 101.9, 102.5);
    // k3 entry E = 101 → 1. k4 g = e^−0.02 = 0.980199, y 0 < 0.01: held 1. k5 g = e^−0.08 = 0.923116: held 1.
    // k6 y = 102.1/101 − 1 = 0.010891 ≥ 0.01: held = e^−(0.18 + 2·0.010891²) = 0.835072.
    // k7 y = 0.008911 < 0.01: held stays 0.835072 (the map is at e^−(0.32 + 0.000159) = 0.726034).
    //    (PIP: cs = 100·(−0.2)/204 = −0.098 → direction 0, no impulse.)
    // k8 y = 0.014851: held = e^−(0.5 + 2·0.014851²) = 0.606263.
    const { targets, impulse } = runBars('rqpm', bars, { timeUnit: 100, alpha: 0.05, eop: 0.01 });
    expect(impulse.slice(3)).toEqual([1, 0, 0, 1, 0, 0]);
    expect(targets.slice(0, 6)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(targets[6]).toBeCloseTo(0.835072, 6);
    expect(targets[7]).toBeCloseTo(0.835072, 6);
    expect(targets[8]).toBeCloseTo(0.606263, 6);
    // Without the gate every kline reduces: k4 0.980199, k5 0.923116.
    const free = runBars('rqpm', bars, { timeUnit: 100, alpha: 0.05 }).targets;
    expect(free[4]).toBeCloseTo(0.980199, 6);
    expect(free[5]).toBeCloseTo(0.923116, 6);
    expect(free[7]).toBeCloseTo(0.726034, 6);
  });

  it('EOI: reductions only when the signal points against the cycle by eoi', () => {
    // eoi 0.2: a long reduces only where cs ≤ −0.2. k3 entry (E 101). k4 cs 0 → no. k5 (c 100.5) cs = 100·(−0.5)/201.5 = −0.248
    // → reduce to the map: x 0.02, y = 100.5/101 − 1 = −0.004950 → q = 200·0.0004 + 2·0.0000245 = 0.080049,
    // g = e^−0.080049 = 0.923071. (cs −0.248 from +1: above −AT1, below AT2 → direction 0, no impulse.)
    const bars = close(100, 100, 100, 101, 101, 100.5);
    const { targets, direction } = runBars('rqpm', bars, { timeUnit: 100, alpha: 0.05, eoi: 0.2 });
    expect(direction.slice(3)).toEqual([1, 0, 0]);
    expect(targets.slice(0, 5)).toEqual([0, 0, 0, 1, 1]);
    expect(targets[5]).toBeCloseTo(0.923071, 6);
  });

  it('EOA: reductions only on a kline that moved in the position\'s favour by eoa', () => {
    // eoa 0.005. k4 opens 101, closes 101 (0 %): no. k5 opens 100.4, closes 101 (+0.598 %): reduce to the map,
    // x 0.02, y 0 → e^−0.08 = 0.923116. (PIP: the close is unchanged → cs 0.)
    const bars: Bar[] = [...close(100, 100, 100, 101, 101), { o: 100.4, c: 101 }];
    const { targets } = runBars('rqpm', bars, { timeUnit: 100, alpha: 0.05, eoa: 0.005 });
    expect(targets.slice(0, 5)).toEqual([0, 0, 0, 1, 1]);
    expect(targets[5]).toBeCloseTo(0.923116, 6);
  });

  it('FSL immediate ends on a wick; FSL on close ignores the wick and ends on a close past its level', () => {
    // Long from k3 at E = 101; level 2 %: 98.98. k4 wicks to 98.5 and closes at 101: the immediate stop
    // fired inside k4 (target 0 from k4); FSL on close did not.
    const bars: Bar[] = [...close(100, 100, 100, 101), { c: 101, l: 98.5 }, { c: 101 }];
    const immediate = runBars('rqpm', bars, { fslImmediate: 0.02 });
    expect(immediate.targets.slice(3)).toEqual([1, 0, 0]);
    const onClose = runBars('rqpm', bars, { fslClose: 0.02 });
    expect(onClose.targets[3]).toBe(1);
    expect(onClose.targets[4]).toBeGreaterThan(0.99); // the wick did nothing
    expect(onClose.stops.every((s) => Number.isNaN(s))).toBe(true); // no stop price is sent
    // A slow fall: closes 100.95 (cs −0.02), 100.9, ... each −0.05: direction 0, no impulse; the close
    // reaches 98.95 ≤ 98.98 at the 41st step.
    const fall: Bar[] = [...close(100, 100, 100, 101)];
    for (let c = 100.95; c > 98.9; c -= 0.05) fall.push({ c: Math.round(c * 100) / 100 });
    const r = runBars('rqpm', fall, { fslClose: 0.02, exitBelow: 0 });
    expect(r.impulse.slice(4).every((m) => m === 0)).toBe(true);
    const firstFlat = r.targets.findIndex((t, i) => i > 3 && t === 0);
    expect(fall[firstFlat].c).toBe(98.95);
    expect(fall[firstFlat - 1].c).toBe(99);
  });

  it('side long: a short impulse closes the long and opens nothing', () => {
    const { targets } = runBars('rqpm', close(100, 100, 100, 101, 101, 100, 100, 99), { side: 'long' });
    // k3 long; k5 impulse −1 → ends; k7 impulse −1 again (after 0 at k6) → still nothing.
    expect(targets[3]).toBe(1);
    expect(targets.slice(5)).toEqual([0, 0, 0]);
  });

  it('reduceStep: a reduction waits until the map is that far below the held fraction; quiet klines return unchanged', () => {
    // timeUnit 100, α 0.05, reduceStep 0.1: the map e^−200x² is 0.980199, 0.923116, 0.835270 (x = 0.03: q 0.18),
    // 0.726149 (q 0.32): held stays 1 until 1 − 0.835270 ≥ 0.1 at k6, then 0.835270 until 0.835270 − 0.726149 ≥ 0.1 at k7.
    const bars = close(100, 100, 100, 101, 101, 101, 101, 101);
    const { targets, runner } = runBars('rqpm', bars, { timeUnit: 100, alpha: 0.05, reduceStep: 0.1 });
    expect(targets.slice(3, 6)).toEqual([1, 1, 1]);
    expect(targets[6]).toBeCloseTo(0.835270, 6);
    expect(targets[7]).toBeCloseTo(0.726149, 6);
    // Each kline that changes nothing returns 'unchanged' (the runner's changed flag), so the engine does no work.
    const k = klinesOf(bars);
    const r = runnerFor('rqpm', k, { timeUnit: 100, alpha: 0.05, reduceStep: 0.1 });
    const changed = bars.map((_, i) => r.step(i));
    expect(changed).toEqual([false, false, false, true, false, false, true, true]);
    expect(runner.target).toBeCloseTo(0.726149, 6);
  });

  it('exitBelow ends the cycle when the held fraction falls under it', () => {
    // timeUnit 1, α 0.5: q = 2·(klines since entry)²: k4 e^−2 = 0.1353 ≥ 0.1; k5 e^−8 = 0.000335 < 0.1 → 0.
    const { targets } = runBars('rqpm', close(100, 100, 100, 101, 101, 101, 101), { timeUnit: 1, exitBelow: 0.1 });
    expect(targets[3]).toBe(1);
    expect(targets[4]).toBeCloseTo(Math.exp(-2), 12);
    expect(targets.slice(5)).toEqual([0, 0]);
  });

  it('a liquidation event ends the cycle', () => {
    const k = klinesOf(close(100, 100, 100, 101, 101, 101));
    const r = runnerFor('rqpm', k);
    for (let i = 0; i < 4; i++) r.step(i);
    expect(r.target).toBe(1);
    r.instance.onEvent?.({ kind: 'liquidation', index: 4, price: 50 });
    r.step(4);
    expect(r.target).toBe(0);
  });

  it('parameter and CAC errors name what is wrong', () => {
    const bad = registry.validateParams('rqpm', { gamma: 1.5 });
    expect(!bad.ok && bad.error.message).toContain('rqpm.gamma: 1.5 is not an integer');
    const range = registry.validateParams('rqpm', { eop: 2 });
    expect(!range.ok && range.error.message).toContain('rqpm.eop: 2 is out of range');
    const fn = registry.validateParams('rqpm', { function: 'GAUSS' });
    expect(!fn.ok && fn.error.message).toContain('ROTATIONALGAUSSIAN');
    expect(() => runnerFor('rqpm', klinesOf(close(1, 2, 3)), {}, null)).toThrow(/give the position a CAC/);
    expect(() => runnerFor('rqpm', klinesOf(close(1, 2, 3)), {}, { name: 'no-pip', indicators: [], pip: null })).toThrow(/CAC has no PIP/);
  });

  it('streaming equals batch: a prefix run gives the same targets and stops as the whole run', () => {
    const k = generateKlines(6000, 7);
    const params = { timeUnit: 200, alpha: 0.1, fslImmediate: 0.004, fslClose: 0.006, eop: 0.001 };
    const whole = steps(runnerFor('rqpm', k, params, defaultCac()), 6000);
    const cut = 3333;
    const prefix = { length: cut, openTime: k.openTime.slice(0, cut), open: k.open.slice(0, cut), high: k.high.slice(0, cut), low: k.low.slice(0, cut), close: k.close.slice(0, cut), volume: k.volume.slice(0, cut), takerBuyVolume: k.takerBuyVolume.slice(0, cut) };
    const part = steps(runnerFor('rqpm', prefix, params, defaultCac()), cut);
    expect(part.targets).toEqual(whole.targets.slice(0, cut));
    expect(part.stops).toEqual(whole.stops.slice(0, cut));
    // The run did something: cycles both ways, reductions, exits.
    const t = whole.targets;
    expect(t.some((x) => x > 0)).toBe(true);
    expect(t.some((x) => x < 0)).toBe(true);
    expect(t.some((x) => x !== 0 && Math.abs(x) < 1)).toBe(true);
  });

  it('atm strategy check runs it with the default CAC', () => {
    const s = registry.get('rqpm');
    if (!s.ok) throw s.error;
    const report = runCheck(s.value, { klines: 3000, params: { timeUnit: 100 } });
    expect(report.ok).toBe(true);
    expect(report.long + report.short).toBeGreaterThan(0);
  });
});
