import { describe, expect, it } from 'vitest';
import { parseParamArgs, validateParams, validateSpec } from '../../../src/core/strategy/params.js';
import { defineStrategy, type StrategySpec } from '../../../src/core/strategy/types.js';

const spec = defineStrategy({
  name: 'p',
  description: 'params under test',
  params: {
    n: { kind: 'integer', default: 10, min: 2, max: 100 },
    k: { kind: 'float', default: 1.5, min: 0, max: 5, step: 0.5 },
    side: { kind: 'choice', default: 'both', choices: ['both', 'long', 'short'] },
  },
  check: (p) => (p.n > p.k ? undefined : `n (${p.n}) must exceed k (${p.k})`),
  create: () => ({ onKline: () => 0 }),
}) as StrategySpec;

function errorOf(r: ReturnType<typeof validateParams>) {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('strategy parameters', () => {
  it('fills defaults and accepts numbers given as text', () => {
    const r = validateParams(spec, { n: '20' });
    expect(r.ok && r.value).toEqual({ n: 20, k: 1.5, side: 'both' });
  });

  it('names the parameter and what is allowed', () => {
    expect(errorOf(validateParams(spec, { n: 1 })).message).toBe('p.n: 1 is out of range; allowed: an integer from 2 to 100');
    expect(errorOf(validateParams(spec, { n: 2.5 })).message).toBe('p.n: 2.5 is not an integer; allowed: an integer from 2 to 100');
    expect(errorOf(validateParams(spec, { k: 'abc' })).message).toBe('p.k: "abc" is not a number; allowed: a number from 0 to 5');
    expect(errorOf(validateParams(spec, { k: 5.01 })).param).toBe('k');
    expect(errorOf(validateParams(spec, { side: 'up' })).message).toBe('p.side: "up" is not allowed; allowed: one of both, long, short');
    expect(errorOf(validateParams(spec, { m: 1 })).message).toBe('p.m: unknown parameter; p has n, k, side');
    expect(validateParams(spec, { k: 0 }).ok).toBe(true);
    expect(validateParams(spec, { k: 5 }).ok).toBe(true);
  });

  it('applies the cross-parameter rule', () => {
    const e = errorOf(validateParams(spec, { n: 2, k: 3 }));
    expect(e.kind).toBe('params');
    expect(e.message).toBe('p: n (2) must exceed k (3)');
  });

  it('checks a spec schema and names the field', () => {
    const base = { description: 'd', params: {}, create: () => ({ onKline: () => 0 }) };
    const reason = (v: unknown) => {
      const r = validateSpec(v, 'x', '/f/x.ts');
      if (r.ok) throw new Error('expected an error');
      return r.error.reason;
    };
    expect(validateSpec(base, 'x').ok).toBe(true);
    expect(reason(undefined)).toMatch(/export default defineStrategy/);
    expect(reason({ ...base, name: 'y' })).toMatch(/name "y" does not match the file name "x"/);
    expect(reason({ ...base, create: 1 })).toMatch(/^create: expected a function/);
    expect(reason({ ...base, params: { a: { kind: 'integer', default: 1.5, min: 0, max: 3 } } })).toBe('params.a.default: 1.5 is not an integer');
    expect(reason({ ...base, params: { a: { kind: 'float', default: 9, min: 0, max: 3 } } })).toBe('params.a.default: 9 is outside 0..3');
    expect(reason({ ...base, params: { a: { kind: 'float', default: 1, min: 4, max: 3 } } })).toBe('params.a: min 4 is greater than max 3');
    expect(reason({ ...base, params: { a: { kind: 'float', default: 1, min: 0, max: 3, step: 0 } } })).toMatch(/^params.a.step: expected a number greater than 0/);
    expect(reason({ ...base, params: { a: { kind: 'choice', default: 'z', choices: ['x', 'y'] } } })).toBe('params.a.default: "z" is not one of the choices (x, y)');
    expect(reason({ ...base, params: { a: { kind: 'bool', default: 1 } } })).toBe('params.a.kind: "bool" is not a kind; allowed: integer, float, choice');
    expect(validateSpec({ ...base, params: { a: 1 } }, 'x', '/f/x.ts').ok ? '' : (validateSpec({ ...base, params: { a: 1 } }, 'x', '/f/x.ts') as { error: Error }).error.message).toBe('/f/x.ts: x: params.a: expected { kind, default, ... }');
  });

  it('parses --param arguments', () => {
    const r = parseParamArgs(['fast=5', ' slow = 20 ']);
    expect(r.ok && r.value).toEqual({ fast: '5', slow: '20' });
    expect(parseParamArgs(['fast']).ok).toBe(false);
  });
});
