import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import {
  ConstraintError, applyTrial, deflatedSharpe, gridTrials, normalCdf, normalInv, openSweepRunner, parseConstraint, parseParamRange, planTrials, randomTrials,
  runSweep, tpePropose, walkForwardWindows, type SweepRunner, type SweepPlan,
} from '../../../src/core/backtest/sweep.js';
import { Rng } from '../../../src/core/random.js';
import { WorkerPool } from '../../../src/workers/pool.js';
import { builtins, config, engineInput, randomWalk } from './helpers.js';

// Sweeps on real simulation worker threads over generated klines.
const cfg = config({
  account: { initialBalance: '10000' },
  positions: [{ symbol: 'BTCUSDT', interval: '5m', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 3, slow: 8 } } }],
});
const klines = randomWalk(12_000, 77, 20_000);
let pool: WorkerPool;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  pool = new WorkerPool({ name: 'simulation', size: 2, idleTimeoutMs: 1000 });
}, 180_000);
afterAll(() => pool.destroy());

describe('parameter ranges', () => {
  it('reads from..to:step, lists and single values', () => {
    expect(parseParamRange('fast=5..20:5', 1).values).toEqual([5, 10, 15, 20]);
    expect(parseParamRange('x=0.1..0.3:0.1', 1).values).toEqual([0.1, 0.2, 0.3]);
    expect(parseParamRange('slow=3,5,8', 1).values).toEqual([3, 5, 8]);
    expect(parseParamRange('positions.1.slow=10..12', 2)).toMatchObject({ position: 1, name: 'slow', key: 'positions.1.slow', values: [10, 11, 12] });
  });
  it('refuses what it cannot read, naming the parameter', () => {
    expect(() => parseParamRange('fast', 1)).toThrow(/--param "fast": expected name=from..to:step/);
    expect(() => parseParamRange('fast=10..5', 1)).toThrow(/'to' \(5\) is below 'from' \(10\)/);
    expect(() => parseParamRange('fast=1..5:0', 1)).toThrow(/step must be greater than 0/);
    expect(() => parseParamRange('fast=a..5', 1)).toThrow(/from 'a' is not a number/);
    expect(() => parseParamRange('fast=1..5', 2)).toThrow(/name the parameter positions.N.fast/);
    expect(() => parseParamRange('positions.2.fast=1..5', 2)).toThrow(/has 2 position/);
  });
});

describe('constraint parser', () => {
  const names = ['fast', 'slow', 'positions.0.fast'];
  it('evaluates comparisons, arithmetic, && || ! and parentheses', () => {
    const c = parseConstraint('fast < slow', names);
    expect(c.test({ fast: 3, slow: 8 })).toBe(true);
    expect(c.test({ fast: 8, slow: 8 })).toBe(false);
    const d = parseConstraint('fast*2 <= slow && !(slow - fast > 20) || positions.0.fast == 99', names);
    expect(d.test({ fast: 4, slow: 8, 'positions.0.fast': 4 })).toBe(true);
    expect(d.test({ fast: 4, slow: 30, 'positions.0.fast': 4 })).toBe(false);
    expect(d.test({ fast: 99, slow: 1, 'positions.0.fast': 99 })).toBe(true);
    expect(parseConstraint('-fast + 10 % 4 >= -1', names).test({ fast: 3, slow: 0 })).toBe(true);
    expect(d.names.sort()).toEqual(['fast', 'positions.0.fast', 'slow']);
  });
  it('refuses bad input with the reason and the column; never evaluates code', () => {
    const refuse = (text: string, re: RegExp) => {
      let error: unknown;
      try {
        parseConstraint(text, names);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConstraintError);
      expect((error as Error).message).toMatch(re);
    };
    refuse('fast < medium', /unknown parameter 'medium' \(known: fast, slow, positions.0.fast\) at column 8/);
    refuse('fast < ', /ends too early/);
    refuse('fast < slow)', /unexpected '\)' at column 12/);
    refuse('(fast < slow', /expected '\)'/);
    refuse('1 < fast < slow', /chained comparisons/);
    refuse('fast; process.exit(1)', /unexpected ';' at column 5/);
    refuse('fast = slow', /unexpected '='/);
    refuse('', /empty/);
  });
});

describe('trials', () => {
  const ranges = [parseParamRange('fast=2..10:2', 1), parseParamRange('slow=4..20:4', 1)];
  it('grid: every combination the constraint lets through, in order', () => {
    const c = parseConstraint('fast < slow', ['fast', 'slow']);
    const trials = gridTrials(cfg, ranges, c);
    let expected = 0;
    for (const f of ranges[0].values) for (const s of ranges[1].values) if (f < s) expected++;
    expect(trials).toHaveLength(expected);
    expect(trials.every((t) => t.params.fast < t.params.slow)).toBe(true);
    expect(trials[0].params).toEqual({ fast: 2, slow: 4 });
  });
  it('random with a seed is reproducible, distinct, within the ranges; another seed draws others', () => {
    const a = randomTrials(cfg, ranges, 10, 42);
    const b = randomTrials(cfg, ranges, 10, 42);
    const c = randomTrials(cfg, ranges, 10, 43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a.map((t) => `${t.params.fast},${t.params.slow}`)).size).toBe(10);
    for (const t of a) {
      expect(ranges[0].values).toContain(t.params.fast);
      expect(ranges[1].values).toContain(t.params.slow);
    }
    // fewer combinations than asked for: all of them
    expect(randomTrials(cfg, ranges, 1000, 1)).toHaveLength(25);
  });
  it('refuses a constraint that refuses everything, a parameter given twice, no trials', () => {
    expect(() => planTrials(cfg, { ranges, method: 'random', trials: 0, objective: 'sharpe' })).toThrow(/--trials 0: expected a whole number/);
    expect(() => planTrials(cfg, { ranges, method: 'grid', objective: 'sharpe', constraint: 'fast > 100' })).toThrow(/refuses every combination/);
    expect(() => planTrials(cfg, { ranges: [ranges[0], ranges[0]], method: 'grid', objective: 'sharpe' })).toThrow(/given twice/);
  });
});

describe('TPE', () => {
  it('proposes new values near the best observed ones more often than a uniform draw would', () => {
    const r = parseParamRange('x=0..100', 1);
    const rng = new Rng(5);
    const observed = [3, 10, 22, 28, 35, 47, 60, 71, 85, 96].map((x) => ({ params: { x }, score: -((x - 30) ** 2) }));
    const seen = new Set(observed.map((o) => String(o.params.x)));
    const proposals = tpePropose([r], observed, 20, rng, () => true, seen);
    expect(proposals).toHaveLength(20);
    expect(new Set(proposals.map((p) => p.x)).size).toBe(20);
    for (const p of proposals) expect(observed.some((o) => o.params.x === p.x)).toBe(false);
    const meanDistance = proposals.reduce((a, p) => a + Math.abs(p.x - 30), 0) / proposals.length;
    // a uniform draw over 0..100 is 25.5 from 30 on average
    expect(meanDistance).toBeLessThan(15);
    // the acceptance test is honoured
    expect(tpePropose([r], observed, 5, new Rng(5), (p) => p.x % 2 === 1, new Set()).every((p) => p.x % 2 === 1)).toBe(true);
  });
});

describe('deflated Sharpe ratio', () => {
  it('normal distribution and its inverse agree', () => {
    for (const p of [0.001, 0.02, 0.3, 0.5, 0.9, 0.999]) expect(normalCdf(normalInv(p))).toBeCloseTo(p, 6);
    expect(normalInv(0.975)).toBeCloseTo(1.959964, 5);
  });
  it('one trial is the probabilistic Sharpe ratio; more trials deflate the same best', () => {
    const best = { sharpe: 2, days: 365, skew: 0, kurtosis: 3 };
    const one = deflatedSharpe(best, [2]);
    expect(one.sr0).toBe(0);
    const sr = 2 / Math.sqrt(365);
    expect(one.dsr).toBeCloseTo(normalCdf((sr * Math.sqrt(364)) / Math.sqrt(1 + sr * sr / 2)), 12);
    const many = deflatedSharpe(best, [2, 1.5, 0.5, -0.2, 1, 0.1, -1, 0.7]);
    expect(many.sr0).toBeGreaterThan(0);
    expect(many.dsr!).toBeLessThan(one.dsr!);
    expect(deflatedSharpe({ ...best, days: 1 }, [2]).dsr).toBeNull();
  });
});

describe('sweeps on worker threads', () => {
  const plan: SweepPlan = { ranges: [parseParamRange('fast=2..6:2', 1), parseParamRange('slow=8..20:6', 1)], method: 'grid', objective: 'returnPct', constraint: 'fast < slow' };

  it('the best row of a grid sweep equals a direct backtest of its parameters (same tradeListHash)', async () => {
    const input = engineInput(cfg, [klines]);
    const runner = await openSweepRunner(pool, input, {});
    let progress = 0;
    const report = await runSweep(cfg, plan, runner, input, { onProgress: (d) => (progress = d) }).finally(() => runner.close());
    expect(report.trials).toBe(9);
    expect(progress).toBe(9);
    expect(report.failed).toBe(0);
    expect(report.rows).toHaveLength(9);
    for (let i = 1; i < report.rows.length; i++) expect(report.rows[i - 1].summary.returnPct).toBeGreaterThanOrEqual(report.rows[i].summary.returnPct);
    // distinct parameters give distinct trade lists here, so a mix-up between trials would show
    expect(new Set(report.rows.map((r) => r.summary.tradeListHash)).size).toBeGreaterThan(1);
    for (const row of [report.rows[0], report.rows[report.rows.length - 1]]) {
      const direct = runBacktest(engineInput(applyTrial(cfg, plan.ranges, row.params), [klines]), { strategies: builtins });
      expect(row.summary.tradeListHash).toBe(direct.summary.tradeListHash);
      expect(row.summary.returnPct).toBe(direct.summary.returnPct);
    }
    expect(report.deflatedSharpe?.trials).toBe(9);
    // the same sweep in process ranks the same way
    const local = await openSweepRunner(undefined, input, {});
    const again = await runSweep(cfg, plan, local, input).finally(() => local.close());
    expect(again.rows.map((r) => r.summary.tradeListHash)).toEqual(report.rows.map((r) => r.summary.tradeListHash));
  }, 120_000);

  it('tpe: the asked number of distinct trials within the constraint, the same again for the same seed', async () => {
    const input = engineInput(cfg, [klines]);
    const tpe: SweepPlan = { ranges: [parseParamRange('fast=2..12', 1), parseParamRange('slow=8..40:2', 1)], method: 'tpe', trials: 16, seed: 3, objective: 'sharpe', constraint: 'fast < slow' };
    const runOnce = async () => {
      const runner = await openSweepRunner(pool, input, {});
      return runSweep(cfg, tpe, runner, input).finally(() => runner.close());
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a.trials).toBe(16);
    expect(a.rows).toHaveLength(16);
    expect(new Set(a.rows.map((r) => `${r.params.fast},${r.params.slow}`)).size).toBe(16);
    expect(a.rows.every((r) => r.params.fast < r.params.slow)).toBe(true);
    expect(b.rows.map((r) => r.params)).toEqual(a.rows.map((r) => r.params));
  }, 120_000);

  it('walk-forward: folds disjoint in time, and no in-sample trial is given an out-of-sample kline', async () => {
    const input = engineInput(cfg, [klines]);
    const real = await openSweepRunner(pool, input, {});
    const seen: { window?: { from: number; to: number }; first: number; last: number }[] = [];
    const recording: SweepRunner = {
      parallel: real.parallel,
      async run(jobs, onDone) {
        const out = await real.run(jobs, onDone);
        jobs.forEach((j, i) => {
          const r = out[i];
          if (r.ok) seen.push({ window: j.window, first: r.summary.firstOpenTime, last: r.summary.lastOpenTime });
        });
        return out;
      },
      close: () => real.close(),
    };
    const report = await runSweep(cfg, { ...plan, walkForward: 3 }, recording, input).finally(() => recording.close());
    const wf = report.walkForward!;
    expect(wf.folds).toHaveLength(3);
    for (const f of wf.folds) {
      expect(f.inSampleWindow.to).toBeLessThanOrEqual(f.outOfSampleWindow.from);
      expect(f.inSample.lastOpenTime).toBeLessThan(f.outOfSampleWindow.from);
      expect(f.outOfSample.firstOpenTime).toBeGreaterThanOrEqual(f.outOfSampleWindow.from);
    }
    for (let i = 1; i < wf.folds.length; i++) expect(wf.folds[i].outOfSampleWindow.from).toBeGreaterThanOrEqual(wf.folds[i - 1].outOfSampleWindow.to);
    // every trial ran inside its window: in-sample ones never reach their fold's out-of-sample part
    expect(seen).toHaveLength(3 * (9 + 1));
    for (const s of seen) {
      expect(s.first).toBeGreaterThanOrEqual(s.window!.from);
      expect(s.last).toBeLessThan(s.window!.to);
    }
    const windows = walkForwardWindows(klines.openTime[0], klines.openTime[klines.length - 1], 3);
    expect(windows.map((w) => w.inSample.from)).toEqual(wf.folds.map((f) => f.inSampleWindow.from));
    expect(wf.ratio).toBeCloseTo(wf.meanOutOfSample / wf.meanInSample, 12);
  }, 120_000);
});
