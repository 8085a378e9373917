import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';
import { randomWalk } from './helpers.js';

// `atm sweep` and `atm sim sweeps|from-sweep` as real processes over generated archive files.
const tmp = tempHome('atm-sweep-cli-');
const arch = join(tmp.home, 'archives');
const cfgFile = join(tmp.home, 'sweep.yaml');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 180_000, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lastJson = (text: string) => JSON.parse(text.trimEnd().split('\n').pop()!);

const config = (fast: number, slow: number) => `account:
  initialBalance: "10000"
positions:
  - symbol: BTCUSDT
    interval: 5m
    leverage: 2
    strategy:
      name: sma-cross
      params: { fast: ${fast}, slow: ${slow} }
`;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  mkdirSync(arch, { recursive: true });
  const k = randomWalk(8000, 53, 20_000);
  const rows: string[] = [];
  for (let j = 0; j < k.length; j++) {
    const t = k.openTime[j];
    rows.push([t, k.open[j].toFixed(1), k.high[j].toFixed(1), k.low[j].toFixed(1), k.close[j].toFixed(1), '1.5', t + 59_999, '30000', 10, '0.7', '14000', 0].join(','));
  }
  writeFileSync(join(arch, 'BTCUSDT-1m-2024-01.csv'), rows.join('\n') + '\n');
  writeFileSync(cfgFile, config(3, 8));
}, 180_000);
afterAll(() => tmp.cleanup());

const SWEEP = ['sweep', '--config', cfgFile, '--param', 'fast=2..8:2', '--param', 'slow=6..24:6', '--constraint', 'fast < slow', '--objective', 'returnPct'];

describe('atm sweep', () => {
  it('ranks a grid; the best row equals atm backtest of its parameters; the sweep is stored', () => {
    const r = atm(...SWEEP, '--input', arch, '--json');
    expect(r.err).not.toMatch(/atm:/);
    expect(r.code).toBe(0);
    const report = lastJson(r.out);
    expect(report.method).toBe('grid');
    expect(report.trials).toBe(14);
    expect(report.rows.length).toBe(10);
    expect(report.deflatedSharpe.trials).toBe(14);
    const best = report.rows[0];
    writeFileSync(join(tmp.home, 'best.yaml'), config(best.params.fast, best.params.slow));
    const direct = lastJson(atm('backtest', '--config', join(tmp.home, 'best.yaml'), '--input', arch, '--json').out);
    expect(direct.tradeListHash).toBe(best.summary.tradeListHash);
    expect(direct.returnPct).toBe(best.summary.returnPct);
    const sweeps = JSON.parse(atm('sim', 'sweeps', '--json').out);
    expect(sweeps.map((s: { id: number }) => s.id)).toContain(report.sweepId);
  });

  it('the table shows the ranking, the number of trials beside the best and the deflated Sharpe ratio', () => {
    const r = atm(...SWEEP, '--input', arch, '--top', '3');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/14 trials \(grid\), objective returnPct/);
    expect(r.out).toMatch(/best: fast=\d+ slow=\d+ .*\(the best of 14 trials\)/);
    expect(r.out).toMatch(/deflated Sharpe ratio/);
    expect(r.out).toMatch(/stored as sweep \d+/);
  });

  it('--save-best stores the best row as a full simulation with the same trade list', () => {
    const r = atm(...SWEEP, '--input', arch, '--json', '--save-best', 'best-of-sweep');
    expect(r.code).toBe(0);
    const report = lastJson(r.out);
    const sim = JSON.parse(atm('sim', 'show', 'best-of-sweep', '--json').out);
    expect(sim.id).toBe(report.savedId);
    expect(sim.summary.tradeListHash).toBe(report.rows[0].summary.tradeListHash);
  });

  it('random with a seed draws the same trials again', () => {
    const a = lastJson(atm(...SWEEP, '--input', arch, '--json', '--method', 'random', '--trials', '5', '--seed', '9', '--top', '5').out);
    const b = lastJson(atm(...SWEEP, '--input', arch, '--json', '--method', 'random', '--trials', '5', '--seed', '9', '--top', '5').out);
    expect(a.trials).toBe(5);
    expect(a.rows.map((x: { params: unknown }) => x.params)).toEqual(b.rows.map((x: { params: unknown }) => x.params));
  });

  it('--method tpe runs the asked number of trials, the same ones again for a seed', () => {
    const a = lastJson(atm(...SWEEP, '--input', arch, '--json', '--method', 'tpe', '--trials', '12', '--seed', '4', '--top', '12').out);
    const b = lastJson(atm(...SWEEP, '--input', arch, '--json', '--method', 'tpe', '--trials', '12', '--seed', '4', '--top', '12').out);
    expect(a.method).toBe('tpe');
    expect(a.trials).toBe(12);
    expect(a.rows.map((x: { params: unknown }) => x.params)).toEqual(b.rows.map((x: { params: unknown }) => x.params));
  });

  it('--walk-forward reports each fold and the out-of-sample/in-sample ratio', () => {
    const r = atm(...SWEEP, '--input', arch, '--json', '--walk-forward', '3');
    expect(r.code).toBe(0);
    const wf = lastJson(r.out).walkForward;
    expect(wf.folds).toHaveLength(3);
    for (const f of wf.folds) expect(f.inSample.lastOpenTime).toBeLessThan(f.outOfSampleWindow.from);
    const table = atm(...SWEEP, '--input', arch, '--walk-forward', '3');
    expect(table.out).toMatch(/out\/in ratio/);
  });

  it('user mistakes are one line naming the option, no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['--constraint', 'fast < medium'], /--constraint "fast < medium": unknown parameter 'medium'/],
      [['--method', 'bayes'], /--method "bayes": allowed values are grid, random, tpe/],
      [['--param', 'fast=2..8:2', '--param', 'slow=4..8:2'], /trial fast=4 slow=4: fast \(4\) must be less than slow \(4\); leave such combinations out with --constraint/],
      [['--objective', 'luck'], /--objective "luck": allowed values are/],
      [['--param', 'fast=0..2', '--param', 'slow=6'], /--param fast=0: /],
      [['--param', 'slow=6', '--param', 'slow=7'], /--param slow is given twice/],
    ];
    for (const [extra, re] of cases) {
      const base = extra[0] === '--param' ? ['sweep', '--config', cfgFile] : SWEEP;
      const r = atm(...base, '--input', arch, ...extra);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(re);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('atm sim from-sweep re-runs a stored row on the stored klines', () => {
    expect(atm('data', 'import', arch).code).toBe(0);
    const report = lastJson(atm(...SWEEP, '--json').out);
    const r = atm('sim', 'from-sweep', String(report.sweepId), '2', '--json', '--name', 'second-row');
    expect(r.err).not.toMatch(/atm:/);
    expect(r.code).toBe(0);
    expect(lastJson(r.out).tradeListHash).toBe(report.rows[1].summary.tradeListHash);
    expect(JSON.parse(atm('sim', 'show', 'second-row', '--json').out).config.positions[0].strategy.params).toEqual(report.rows[1].params);
    expect(atm('sim', 'from-sweep', String(report.sweepId), '99').err).toMatch(/no row 99 in sweep/);
  });
});
