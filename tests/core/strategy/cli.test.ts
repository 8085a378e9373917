import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';

// `atm strategy list/new/check` as real processes (dist/ is built first).
const tmp = tempHome('atm-strategy-cli-');
const dir = join(tmp.home, 'strategies');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  try {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
    } catch {
      /* emitted anyway */
    }
  }
}, 180_000);
afterAll(() => tmp.cleanup());

describe('atm strategy', () => {
  it('new writes the template, refuses to overwrite, and check runs it', () => {
    const created = atm('strategy', 'new', 'trend');
    expect(created.code).toBe(0);
    const file = join(dir, 'trend.ts');
    expect(created.out).toContain(file);
    expect(readFileSync(file, 'utf8')).toContain("from 'atm/strategy'");
    writeFileSync(file, readFileSync(file, 'utf8') + '// edited\n');
    const again = atm('strategy', 'new', 'trend');
    expect(again.code).toBe(2);
    expect(again.err).toBe(`atm: ${file} exists already; choose another name or edit that file\n`);
    expect(readFileSync(file, 'utf8')).toContain('// edited');
    expect(atm('strategy', 'new', 'sma-cross').err).toMatch(/sma-cross is a built-in strategy/);
    expect(atm('strategy', 'new', 'Bad_Name').code).toBe(2);

    const check = atm('strategy', 'check', 'trend', '--json');
    expect(check.code).toBe(0);
    const report = JSON.parse(check.out.trim().split('\n').pop()!);
    expect(report).toMatchObject({ ok: true, strategy: 'trend', source: file, klines: 2000, params: { fast: 12, slow: 26, stopPct: 2, side: 'both' } });
    expect(report.long + report.short + report.flat).toBe(2000);
  }, 120_000);

  it('list shows built-ins, user files and a broken file with its error', () => {
    writeFileSync(join(dir, 'broken.ts'), "import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({\n  description: 'x',\n  params: {},\n  create: () => ({ onKline: () => 1 +, }),\n});\n");
    const text = atm('strategy', 'list');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^sma-cross\s+built-in\s+fast=10 slow=30\s/m);
    expect(text.out).toMatch(/^trend\s+trend\.ts\s+fast=12 slow=26 stopPct=2 side=both\s/m);
    expect(text.out).toContain(`error: ${join(dir, 'broken.ts')}:5:`);
    const json = JSON.parse(atm('strategy', 'list', '--json').out);
    expect(json.map((e: { name: string }) => e.name)).toEqual(['buy-and-hold', 'sma-cross', 'rqpm', 'ts', 'broken', 'trend']);
    expect(json[1].params.map((p: { name: string; default: number }) => [p.name, p.default])).toEqual([['fast', 10], ['slow', 30]]);
    expect(json[4].error).toMatchObject({ kind: 'compile', line: 5 });
  }, 120_000);

  it('check exits 2 with file and line: a throw, a bad parameter, an endless loop', () => {
    writeFileSync(
      join(dir, 'boom.ts'),
      "import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({\n  description: 'x',\n  params: {},\n  create: () => ({\n    onKline(i: number) {\n      if (i === 99) throw new RangeError('bad kline');\n      return 0;\n    },\n  }),\n});\n",
    );
    const boom = atm('strategy', 'check', 'boom');
    expect(boom.code).toBe(2);
    expect(boom.err).toBe(`atm: ${join(dir, 'boom.ts')}:7:27: boom: onKline threw: bad kline (at kline 99)\n`);

    const bad = atm('strategy', 'check', 'sma-cross', '--param', 'fast=0');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('atm: sma-cross.fast: 0 is out of range; allowed: an integer from 2 to 100000\n');

    const loop = join(tmp.home, 'spin.ts'); // a file outside the strategies folder, by path
    writeFileSync(loop, "import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({\n  description: 'x',\n  params: {},\n  create: () => ({\n    onKline(i: number) {\n      let n = 0;\n      while (i >= 500) n++;\n      return n;\n    },\n  }),\n});\n");
    const spin = atm('strategy', 'check', loop, '--time-limit', '300', '--json');
    expect(spin.code).toBe(2);
    expect(JSON.parse(spin.out.trim()).error).toMatchObject({ kind: 'timeout', file: loop, line: 8, kline: 500 });
    expect(spin.err).toMatch(new RegExp(`^atm: ${loop}:8:\\d+: spin: did not finish 2000 klines within 300 ms`));
    writeFileSync(join(dir, 'quits.ts'), "import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'x', params: {}, create: () => ({ onKline: (i: number) => (i === 5 ? process.exit(7) : 0) }) });\n");
    const quits = atm('strategy', 'check', 'quits');
    expect(quits.code).toBe(2);
    expect(quits.err).toBe(`atm: ${join(dir, 'quits.ts')}: quits: stopped the worker thread (exit code 7) before finishing (at kline 5)\n`);
    expect(atm('strategy', 'check', 'nope').err).toMatch(/^atm: nope: no such strategy; known: buy-and-hold, sma-cross, /);
  }, 120_000);
});
