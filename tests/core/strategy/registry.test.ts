import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrategyRegistry, paramInfo } from '../../../src/core/strategy/registry.js';
import { tempHome } from '../../helpers/app.js';

let tmp: ReturnType<typeof tempHome>;
let dir: string;
beforeEach(() => {
  tmp = tempHome('atm-strategy-registry-');
  dir = join(tmp.home, 'strategies');
});
afterEach(() => tmp.cleanup());

const userFile = (params: string) =>
  `import { defineStrategy } from 'atm/strategy';\nexport default defineStrategy({ description: 'user', params: ${params}, create: () => ({ onKline: () => 0 }) });\n`;

describe('strategy registry', () => {
  it('lists the built-ins without a folder, and with a missing folder', () => {
    for (const r of [new StrategyRegistry(undefined), new StrategyRegistry(dir)]) {
      expect(r.list().map((e) => [e.name, e.source])).toEqual([['buy-and-hold', 'builtin'], ['sma-cross', 'builtin'], ['rqpm', 'builtin'], ['ts', 'builtin']]);
    }
  });

  it('gets by name, validates parameters, and describes them for forms and sweeps', () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'band.ts'), userFile("{ width: { kind: 'float', default: 2, min: 0.5, max: 4, step: 0.5 }, mode: { kind: 'choice', default: 'a', choices: ['a', 'b'] } }"));
    const r = new StrategyRegistry(dir);
    const band = r.get('band');
    expect(band.ok && band.value.source).toBe(join(dir, 'band.ts'));
    expect(paramInfo((band as { value: Parameters<typeof paramInfo>[0] }).value)).toEqual([
      { name: 'width', kind: 'float', default: 2, min: 0.5, max: 4, step: 0.5, description: '', allowed: 'a number from 0.5 to 4' },
      { name: 'mode', kind: 'choice', default: 'a', choices: ['a', 'b'], description: '', allowed: 'one of a, b' },
    ]);
    const v = r.validateParams('band', { width: '3.5', mode: 'b' });
    expect(v.ok && v.value.params).toEqual({ width: 3.5, mode: 'b' });
    const bad = r.validateParams('band', { width: 5 });
    expect(!bad.ok && bad.error.message).toBe(`${join(dir, 'band.ts')}: band.width: 5 is out of range; allowed: a number from 0.5 to 4`);
    const unknown = r.get('nothing');
    expect(!unknown.ok && unknown.error.message).toBe(`nothing: no such strategy; known: buy-and-hold, sma-cross, rqpm, ts, band (user files go in ${dir})`);
  });

  it('refuses two files with one name', () => {
    mkdirSync(dir);
    writeFileSync(join(dir, 'twin.ts'), userFile('{}'));
    writeFileSync(join(dir, 'twin.js'), userFile('{}'));
    const r = new StrategyRegistry(dir);
    expect(r.get('twin').ok).toBe(false);
    const errors = r.list().filter((e) => e.error).map((e) => e.error!.reason);
    expect(errors).toEqual(['twin.js has the same name; keep one of them']);
  });
});
