import { describe, expect, it } from 'vitest';
import { defaultCac } from '../../../src/core/analysis/cac.js';
import { generateKlines, runCheck } from '../../../src/core/strategy/check.js';
import { klinesOf, registry, runBars, runnerFor, steps, type Bar } from './pip-fixture.js';

const close = (...cs: number[]): Bar[] => cs.map((c) => ({ c }));
/** Closes from `from` to `to` in steps of `by` (exclusive of `from`), rounded to cents. */
function walk(from: number, to: number, by: number): Bar[] {
  const out: Bar[] = [];
  const n = Math.round((to - from) / by);
  for (let j = 1; j <= n; j++) out.push({ c: Math.round((from + j * by) * 100) / 100 });
  return out;
}

// The fixture's PIP (pip-fixture.ts): a close 1 % from the previous one gives an impulse. A move of
// 0.5 on about 200 (or 0.2–0.3 on about 100) gives |cs| ≈ 0.05–0.125: below AT1, so never an impulse;
// an active direction whose sign it does not share (or, at |cs| < AT2, any) is released to 0.

describe('ts (trade scenario)', () => {
  it('the worked example: entry, averaging in at −1 %, out at +2 % (QD 0)', () => {
    // 202 202 202 200: k3 cs = 100·(−2)/402 = −0.4975 → impulse −1: short, E = 200, target −qd1 = −0.5.
    // Then +0.5 per kline (cs +0.125: the short is released, direction 0; eoi 1 keeps the position):
    // k7 close 202: p = −(202/200 − 1) = −0.01 ≤ pd2 → step 2: −1. Then −0.5 per kline (cs −0.125,
    // direction stays 0, no impulse) down to k19 close 196: p = 0.02 ≥ pd3 → step 3, QD 0 → 0.
    const bars = [...close(202, 202, 202, 200), ...walk(200, 202, 0.5), ...walk(202, 196, -0.5)];
    const params = { steps: 3, qd1: 0.5, pd2: -0.01, qd2: 1, pd3: 0.02, qd3: 0, fslClose: 0.03, eoi: 1 };
    const { targets, impulse } = runBars('ts', bars, params);
    expect(impulse.slice(4).every((m) => m === 0)).toBe(true);
    expect(bars[7].c).toBe(202);
    expect(bars[19].c).toBe(196);
    expect(targets).toEqual([0, 0, 0, -0.5, -0.5, -0.5, -0.5, ...Array(12).fill(-1), 0]);
    // Only the klines that change something return a decision (the rest 'unchanged').
    const r0 = runnerFor('ts', klinesOf(bars), params);
    const decided = bars.flatMap((_, i) => (r0.step(i) ? [i] : []));
    expect(decided).toEqual([3, 7, 19]);
    // Had the price kept rising: k15 close 206, p = −0.03 ≤ −fslClose → FSL on close → 0.
    const up = [...close(202, 202, 202, 200), ...walk(200, 207, 0.5)];
    const r = runBars('ts', up, params).targets;
    expect(up[15].c).toBe(206);
    expect(r.slice(7, 15).every((t) => t === -1)).toBe(true);
    expect(r.slice(15)).toEqual([0, 0, 0]);
  });

  it('the signal exit: PIP going flat ends the cycle, unless a gate holds it (EOP, EOI)', () => {
    // Long from k3 (E = 101). k4 close 101: cs 0 → direction 0 → exit (no gates).
    expect(runBars('ts', close(100, 100, 100, 101, 101)).targets).toEqual([0, 0, 0, 1, 0]);
    // eop 0.005: k4 p 0 blocked; k5 101.2 (cs = 100·0.2/202.2 = 0.099, direction 0) p = 0.00198 blocked;
    // k6 101.6 (cs = 100·0.4/202.8 = 0.197 < AT1: direction stays 0) p = 0.00594 ≥ 0.005 → exit.
    const bars = close(100, 100, 100, 101, 101, 101.2, 101.6);
    const eop = runBars('ts', bars, { eop: 0.005 });
    expect(eop.direction.slice(3)).toEqual([1, 0, 0, 0]);
    expect(eop.targets).toEqual([0, 0, 0, 1, 1, 1, 0]);
    // eoi 0.1: the long exits only where cs ≤ −0.1: k4..k6 have cs ≥ 0 → held; k7 100.8 (cs = 100·(−0.8)/202.4 = −0.395
    // → direction −1, an impulse against the long) ends it anyway: impulses are not gated.
    const eoi = runBars('ts', [...bars, { c: 100.8 }], { eoi: 0.1 });
    expect(eoi.targets).toEqual([0, 0, 0, 1, 1, 1, 1, -1]);
  });

  it('FSL immediate ends on a wick inside the kline; FSL on close only on a close past the level', () => {
    // Long E = 101, 1 %: level 99.99. k4 wicks to 99.9, closes 101. eoi 1 keeps the cycle through flat PIP.
    const bars: Bar[] = [...close(100, 100, 100, 101), { c: 101, l: 99.9 }, { c: 101 }];
    const immediate = runBars('ts', bars, { fslImmediate: 0.01, eoi: 1 });
    expect(immediate.targets).toEqual([0, 0, 0, 1, 0, 0]);
    expect(immediate.stops[3]).toBeCloseTo(99.99, 10);
    const onClose = runBars('ts', bars, { fslClose: 0.01, eoi: 1 });
    expect(onClose.targets).toEqual([0, 0, 0, 1, 1, 1]);
    expect(onClose.stops.every((s) => Number.isNaN(s))).toBe(true);
    // Closes falling by 0.2 (cs −0.05: no signal): 100.8 … 100, 99.8: p = 99.8/101 − 1 = −0.01188 ≤ −0.01 → 0 there.
    const fall = [...close(100, 100, 100, 101), ...walk(101, 99.6, -0.2)];
    const r = runBars('ts', fall, { fslClose: 0.01, eoi: 1 }).targets;
    const k = fall.findIndex((b) => b.c === 99.8);
    expect(r.slice(3, k)).toEqual(Array(k - 3).fill(1));
    expect(r[k]).toBe(0);
  });

  it('RAF: armed by a reach, then closes by the close or by its stop inside a later kline', () => {
    // Long E = 101; rafReach 0.02 → 103.02, rafFall 0.005 → R = 101.505; fslImmediate 0.01 → S = 99.99.
    // k4 high 103.1 arms it; close 101.7 (p 0.00693 > 0.005) holds; the stop becomes max(S, R) = 101.505.
    // k5 low 101.5 ≤ 101.505: the stop fired inside k5 → 0.
    const params = { rafReach: 0.02, rafFall: 0.005, fslImmediate: 0.01, eoi: 1 };
    const a = runBars('ts', [...close(100, 100, 100, 101), { c: 101.7, h: 103.1 }, { c: 101.8, l: 101.5 }], params);
    expect(a.targets).toEqual([0, 0, 0, 1, 1, 0]);
    expect(a.stops[3]).toBeCloseTo(99.99, 10);
    expect(a.stops[4]).toBeCloseTo(101.505, 10);
    // k5 low 101.55 stays above R; k6 closes 101.5 (p = 0.00495 ≤ 0.005): RAF on the close → 0.
    const b = runBars('ts', [...close(100, 100, 100, 101), { c: 101.7, h: 103.1 }, { c: 101.55, l: 101.55 }, { c: 101.5, l: 101.5 }], { ...params, fslImmediate: 0 });
    expect(b.targets).toEqual([0, 0, 0, 1, 1, 1, 0]);
    expect(b.stops[5]).toBeCloseTo(101.505, 10);
    // Not reached (high 103): never armed, no RAF stop.
    const c = runBars('ts', [...close(100, 100, 100, 101), { c: 101.7, h: 103 }, { c: 101.5, l: 101.4 }], { ...params, fslImmediate: 0 });
    expect(c.targets).toEqual([0, 0, 0, 1, 1, 1]);
    expect(c.stops.every((s) => Number.isNaN(s))).toBe(true);
  });

  it('WR caps the quantity once its price is reached, also for later steps', () => {
    // Long E = 101, qd1 1; wrReach 0.01 → 102.01, wrTo 0.4; step 2 at +1.5 % (close ≥ 102.515) → 0.8.
    // k4 close 101.2, high 102.1: WR → min(1, 0.4) = 0.4. Then closes +0.3 per kline (cs ≈ 0.07, no signal):
    // 101.5, 101.8, 102.1, 102.4, 102.7 (p 0.01683 ≥ 0.015: step 2) → min(0.8, 0.4) = 0.4.
    const bars = [...close(100, 100, 100, 101), { c: 101.2, h: 102.1 }, ...walk(101.2, 102.7, 0.3)];
    const { targets } = runBars('ts', bars, { steps: 2, pd2: 0.015, qd2: 0.8, wrReach: 0.01, wrTo: 0.4, eoi: 1 });
    expect(targets).toEqual([0, 0, 0, 1, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]);
    // Without WR the step shows: 0.8 from k9.
    const plain = runBars('ts', bars, { steps: 2, pd2: 0.015, qd2: 0.8, eoi: 1 }).targets;
    expect(plain).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 0.8]);
  });

  it('side short: a long impulse opens nothing; a short one does; a flip closes and reopens', () => {
    const bars = close(100, 100, 100, 101, 101, 100, 100, 101);
    // k3 +1 (not allowed), k5 −1 → short (E 100), k6 flat PIP → exit, k7 +1 → nothing.
    expect(runBars('ts', bars, { side: 'short' }).targets).toEqual([0, 0, 0, 0, 0, -1, 0, 0]);
    // Both sides with eoi 1: k3 long, k5 −1 against it → ends and opens short, k7 +1 → ends and opens long.
    expect(runBars('ts', bars, { eoi: 1 }).targets).toEqual([0, 0, 0, 1, 1, -1, -1, 1]);
  });

  it('parameter and CAC errors name what is wrong', () => {
    const raf = registry.validateParams('ts', { rafReach: 0.01, rafFall: 0.02 });
    expect(!raf.ok && raf.error.message).toBe('ts: rafFall (0.02) must be less than rafReach (0.01)');
    const n = registry.validateParams('ts', { steps: 6 });
    expect(!n.ok && n.error.message).toContain('ts.steps: 6 is out of range; allowed: an integer from 1 to 5');
    const side = registry.validateParams('ts', { side: 'up' });
    expect(!side.ok && side.error.message).toContain('ts.side');
    expect(() => runnerFor('ts', klinesOf(close(1, 2, 3)), {}, { name: 'no-pip', indicators: [], pip: null })).toThrow(/CAC has no PIP/);
  });

  it('a liquidation event ends the cycle', () => {
    const r = runnerFor('ts', klinesOf(close(100, 100, 100, 101, 101.5, 102)), { eoi: 1 });
    for (let i = 0; i < 4; i++) r.step(i);
    expect(r.target).toBe(1);
    r.instance.onEvent?.({ kind: 'liquidation', index: 4, price: 50 });
    r.step(4);
    expect(r.target).toBe(0);
  });

  it('streaming equals batch: a prefix run gives the same targets and stops as the whole run', () => {
    const k = generateKlines(6000, 11);
    const params = { steps: 3, qd1: 0.5, pd2: -0.002, qd2: 1, pd3: 0.004, qd3: 0.3, fslImmediate: 0.006, fslClose: 0.004, rafReach: 0.005, rafFall: 0.001, wrReach: 0.003, wrTo: 0.6, eoi: 0.05 };
    const whole = steps(runnerFor('ts', k, params, defaultCac()), 6000);
    const cut = 4111;
    const prefix = { length: cut, openTime: k.openTime.slice(0, cut), open: k.open.slice(0, cut), high: k.high.slice(0, cut), low: k.low.slice(0, cut), close: k.close.slice(0, cut), volume: k.volume.slice(0, cut), takerBuyVolume: k.takerBuyVolume.slice(0, cut) };
    const part = steps(runnerFor('ts', prefix, params, defaultCac()), cut);
    expect(part.targets).toEqual(whole.targets.slice(0, cut));
    expect(part.stops).toEqual(whole.stops.slice(0, cut));
    const seen = new Set(whole.targets);
    expect([...seen].some((t) => t > 0) && [...seen].some((t) => t < 0)).toBe(true);
    expect(seen.size).toBeGreaterThan(3); // several step / WR quantities, not only ±1 and 0
  });

  it('atm strategy check runs it with the default CAC', () => {
    const s = registry.get('ts');
    if (!s.ok) throw s.error;
    const report = runCheck(s.value, { klines: 3000 });
    expect(report.ok).toBe(true);
    expect(report.long + report.short).toBeGreaterThan(0);
  });
});
