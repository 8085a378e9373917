import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/paths.js';
import { runCheck } from '../../../src/core/strategy/check.js';
import { readTemplate } from '../../../src/core/strategy/loader.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import type { LoadedStrategy } from '../../../src/core/strategy/runtime.js';
import type { StrategyError } from '../../../src/core/strategy/types.js';
import { tempHome } from '../../helpers/app.js';

let tmp: ReturnType<typeof tempHome>;
let dir: string;
let registry: StrategyRegistry;
beforeEach(() => {
  tmp = tempHome('atm-strategy-');
  dir = join(tmp.home, 'strategies');
  mkdirSync(dir);
  registry = new StrategyRegistry(dir);
});
afterEach(() => tmp.cleanup());

const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const loaded = (name: string): LoadedStrategy => {
  const r = registry.get(name);
  if (!r.ok) throw r.error;
  return r.value;
};
const loadError = (name: string): StrategyError => {
  const r = registry.get(name);
  if (r.ok) throw new Error(`expected ${name} to fail`);
  return r.error;
};

/** A strategy whose onKline body is `body` (line numbers in the tests count from this header). */
const strategyFile = (body: string, extra = '') => `import { defineStrategy, UNCHANGED } from 'atm/strategy';
${extra}
export default defineStrategy({
  description: 'test',
  params: { level: { kind: 'float', default: 1, min: -1, max: 1 } },
  create: ({ params, klines }) => ({
    onKline(i: number): number | typeof UNCHANGED {
      const c: number = klines.close.at(i);
${body}
    },
  }),
});
`;
// onKline's body starts on line 9 of strategyFile.

describe('user strategy files', () => {
  it('loads a TypeScript file, runs it, and reloads it when it changes on disk', () => {
    const file = write('mine.ts', strategyFile('      return c > 0 ? params.level : 0;'));
    const first = loaded('mine');
    expect(first.source).toBe(file);
    expect(runCheck(first, { klines: 50 })).toMatchObject({ ok: true, long: 50 });
    expect(runCheck(first, { klines: 50, params: { level: -0.5 } })).toMatchObject({ ok: true, short: 50 });
    const compilations = registry.loader.compilations;
    expect(loaded('mine')).toBe(first); // unchanged file: cached
    expect(registry.loader.compilations).toBe(compilations);
    // Same size, rewritten at once: the content hash still sees the change.
    writeFileSync(file, readFileSync(file, 'utf8').replace('c > 0 ? params.level : 0', 'c > 0 ? 0 : params.level'));
    const second = loaded('mine');
    expect(second).not.toBe(first);
    expect(runCheck(second, { klines: 50 })).toMatchObject({ ok: true, flat: 50 });
  });

  it('loads JavaScript and bundles relative helper files, reloading when a helper changes', () => {
    mkdirSync(join(dir, 'lib'));
    write('lib/level.js', 'export const LEVEL = 1;\n');
    write('js-one.js', `import { defineStrategy } from 'atm/strategy';\nimport { LEVEL } from './lib/level.js';\nexport default defineStrategy({ description: 'js', params: {}, create: () => ({ onKline: () => LEVEL }) });\n`);
    expect(runCheck(loaded('js-one'), { klines: 10 })).toMatchObject({ ok: true, long: 10 });
    write('lib/level.js', 'export const LEVEL = -1;\n');
    expect(runCheck(loaded('js-one'), { klines: 10 })).toMatchObject({ ok: true, short: 10 });
    expect(registry.list().map((e) => e.name)).toEqual(['buy-and-hold', 'sma-cross', 'rqpm', 'ts', 'js-one']);
  });

  it('reports a syntax error with the file and line, and carries on', () => {
    const file = write('broken.ts', strategyFile('      return c > 0 ? 1 : ;'));
    const e = loadError('broken');
    expect(e.kind).toBe('compile');
    expect(e.file).toBe(file);
    expect(e.line).toBe(9);
    expect(e.message).toMatch(new RegExp(`^${file}:9:\\d+: broken: `));
    // The registry still lists everything else.
    const list = registry.list();
    expect(list.find((x) => x.name === 'sma-cross')?.strategy).toBeDefined();
    expect(list.find((x) => x.name === 'broken')?.error?.line).toBe(9);
  });

  it('reports a throw at kline N with the file and line of the throw', () => {
    const file = write('thrower.ts', strategyFile(`      if (i === 37) {\n        throw new Error('boom at ' + i);\n      }\n      return 1;`));
    const report = runCheck(loaded('thrower'), { klines: 100 });
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ kind: 'throw', file, line: 10, kline: 37 });
    expect(report.error!.message).toBe(`${file}:10:15: thrower: onKline threw: boom at 37 (at kline 37)`);
  });

  it('reports NaN, an out-of-range target and a wrong type, naming the file and onKline', () => {
    const file = write('nan.ts', strategyFile('      return i < 5 ? 1 : c * NaN;'));
    const r1 = runCheck(loaded('nan'), { klines: 20 });
    expect(r1.error).toMatchObject({ kind: 'garbage', file, line: 7, kline: 5 });
    expect(r1.error!.message).toMatch(/onKline returned NaN; expected a number from -1 to 1/);
    write('big.ts', strategyFile('      return 2;'));
    expect(runCheck(loaded('big'), { klines: 5 }).error).toMatchObject({ kind: 'garbage', line: 7, kline: 0 });
    write('text.ts', strategyFile('      return "long" as unknown as number;'));
    expect(runCheck(loaded('text'), { klines: 5 }).error?.reason).toMatch(/^onKline returned "long"/);
    write('stops.ts', strategyFile('      return { target: 1, stopLoss: -3 } as unknown as number;'));
    expect(runCheck(loaded('stops'), { klines: 5 }).error?.reason).toMatch(/onKline returned \{"target":1,"stopLoss":-3\}/);
  });

  it('reports a read past the current kline (lookahead) at the line of the read', () => {
    const file = write('peek.ts', strategyFile(`      const next = klines.close.at(i + 1);\n      return next > c ? 1 : 0;`));
    const report = runCheck(loaded('peek'), { klines: 10 });
    expect(report.error).toMatchObject({ kind: 'lookahead', file, line: 9, kline: 0 });
    expect(report.error!.reason).toBe('read kline 1 while at kline 0: a strategy sees closed klines only (0..0)');
  });

  it('bounds an endless loop with a time limit and names the kline and the file', () => {
    const file = write('spin.ts', strategyFile(`      if (i === 12) {\n        for (;;) {}\n      }\n      return 0;`));
    const report = runCheck(loaded('spin'), { klines: 50, timeLimitMs: 300 });
    expect(report.error).toMatchObject({ kind: 'timeout', file, kline: 12 });
    expect(report.error!.line).toBe(7);
    // The process carries on: another strategy still runs.
    expect(runCheck(loaded('sma-cross'), { klines: 50 }).ok).toBe(true);
  });

  it('refuses files that export no strategy, import packages, throw at the top level or clash by name', () => {
    write('empty.ts', 'export const x = 1;\n');
    expect(loadError('empty')).toMatchObject({ kind: 'export', reason: expect.stringMatching(/export default defineStrategy/) });
    write('fsuser.ts', `import { readFileSync } from 'node:fs';\nimport { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: String(readFileSync), params: {}, create: () => ({ onKline: () => 0 }) });\n`);
    expect(loadError('fsuser').reason).toMatch(/imports "node:fs"; a strategy may import only 'atm\/strategy'/);
    write('toplevel.ts', `const n: number = 1;\nif (n > 0) throw new Error('no');\nexport default {};\n`);
    expect(loadError('toplevel')).toMatchObject({ kind: 'export', line: 2 });
    write('badname.ts', strategyFile('      return 0;').replace("description: 'test'", "name: 'other', description: 'test'"));
    expect(loadError('badname').reason).toMatch(/name "other" does not match the file name "badname"/);
    write('sma-cross.ts', strategyFile('      return 0;'));
    expect(registry.list().find((e) => e.source.endsWith('sma-cross.ts'))?.error?.reason).toMatch(/a built-in strategy is called sma-cross/);
  });

  it('reports bad indicator requests and a create() that throws, before the first kline', () => {
    const file = write('badind.ts', `import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'x', params: {}, indicators: () => ({ avg: 'SMA:n=1' }), create: () => ({ onKline: () => 0 }) });\n`);
    expect(runCheck(loaded('badind')).error).toMatchObject({ kind: 'indicators', file, reason: 'indicators().avg: SMA.n: 1 is out of range; allowed: an integer from 2 to 100000' });
    write('badcreate.ts', `import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'x', params: {},\n  create: () => {\n    throw new Error('no state');\n  } });\n`);
    expect(runCheck(loaded('badcreate')).error).toMatchObject({ kind: 'create', line: 4, reason: 'no state' });
  });

  it('the template compiles and runs as it is', () => {
    write('from-template.ts', readTemplate(packageRoot()));
    const s = loaded('from-template');
    expect(Object.keys(s.spec.params)).toEqual(['fast', 'slow', 'stopPct', 'side']);
    const report = runCheck(s, { klines: 3000 });
    expect(report.ok).toBe(true);
    expect(report.long).toBeGreaterThan(0);
    expect(report.short).toBeGreaterThan(0);
    expect(report.withStops).toBeGreaterThan(0);
    expect(runCheck(s, { klines: 3000, params: { side: 'long' } })).toMatchObject({ ok: true, short: 0 });
  });
});

describe('a strategy that reads the position CAC', () => {
  it('sees the CAC columns by <TYPE>.<line>, equal to the analysis batch output', async () => {
    const { analyzeBatch } = await import('../../../src/core/analysis/engine.js');
    const { defaultCac } = await import('../../../src/core/analysis/cac.js');
    const { generateKlines } = await import('../../../src/core/strategy/check.js');
    const { prepareRun } = await import('../../../src/core/strategy/runtime.js');
    write('follow-pip.ts', `import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'PIP direction', params: {}, usesCac: true,\n  create: ({ ind }) => { const d = ind['PIP.direction']; return { onKline: (i: number) => (d.at(i) === d.at(i) ? d.at(i) : 0) }; } });\n`);
    const s = loaded('follow-pip');
    const k = generateKlines(3000, 9);
    expect(prepareRun(s, {}, k).ok).toBe(false); // no CAC given
    const cac = defaultCac('t');
    const r = prepareRun(s, {}, k, { cac });
    if (!r.ok) throw r.error;
    const expected = analyzeBatch(cac, k);
    const direction = expected.values[expected.columns.indexOf('PIP.direction')];
    let nonZero = 0;
    for (let i = 0; i < 3000; i++) {
      r.value.step(i);
      const want = direction[i] === direction[i] ? direction[i] : 0;
      expect(r.value.target).toBe(want);
      if (want !== 0) nonZero++;
    }
    expect(nonZero).toBeGreaterThan(0);
    expect(runCheck(s, { klines: 500 }).ok).toBe(true);
  });

  it('with cacLines keeps only those columns, computed block by block, equal to the batch output', async () => {
    const { analyzeBatch } = await import('../../../src/core/analysis/engine.js');
    const { defaultCac } = await import('../../../src/core/analysis/cac.js');
    const { generateKlines } = await import('../../../src/core/strategy/check.js');
    const { prepareRun } = await import('../../../src/core/strategy/runtime.js');
    write('pip-lines.ts', `import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'PIP cs sign', params: {}, usesCac: true, cacLines: ['PIP.cs', 'PIP.direction'],\n  create: ({ ind }) => { const cs = ind['PIP.cs']; const sma = ind['SMA.value']; if (sma) throw new Error('SMA kept'); return { onKline: (i: number) => (cs.at(i) === cs.at(i) ? Math.max(-1, Math.min(1, cs.at(i))) : 0) }; } });\n`);
    const s = loaded('pip-lines');
    const k = generateKlines(9000, 4); // more than one analysis block
    const cac = defaultCac('t');
    const r = prepareRun(s, {}, k, { cac });
    if (!r.ok) throw r.error;
    const expected = analyzeBatch(cac, k);
    const cs = expected.values[expected.columns.indexOf('PIP.cs')];
    for (let i = 0; i < 9000; i++) {
      r.value.step(i);
      expect(r.value.target).toBe(cs[i] === cs[i] ? Math.max(-1, Math.min(1, cs[i])) : 0);
    }
  });
});
