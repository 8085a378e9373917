import { StrategyError, fail, ok, type ParamDef, type ParamValues, type Result, type StrategySpec } from './types.js';

/** Strategy names: lower-case letters, digits and '-', starting with a letter, at most 64. */
export const STRATEGY_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** The allowed values of a parameter, in words: "an integer from 2 to 1000". */
export function describeParam(def: ParamDef): string {
  if (def.kind === 'choice') return `one of ${def.choices.join(', ')}`;
  return `${def.kind === 'integer' ? 'an integer' : 'a number'} from ${def.min} to ${def.max}`;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks one parameter definition (the schema, not a value); returns the problem or undefined. */
function checkDef(name: string, def: unknown): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `parameter name ${JSON.stringify(name)}: use letters, digits and _`;
  if (typeof def !== 'object' || def === null) return `${name}: expected { kind, default, ... }`;
  const d = def as Record<string, unknown>;
  if (d.description !== undefined && typeof d.description !== 'string') return `${name}.description: expected text`;
  if (d.kind === 'choice') {
    if (!Array.isArray(d.choices) || d.choices.length === 0 || !d.choices.every((c) => typeof c === 'string' && c !== '')) return `${name}.choices: expected a non-empty list of texts`;
    if (!d.choices.includes(d.default)) return `${name}.default: ${JSON.stringify(d.default)} is not one of the choices (${d.choices.join(', ')})`;
    return undefined;
  }
  if (d.kind !== 'integer' && d.kind !== 'float') return `${name}.kind: ${JSON.stringify(d.kind)} is not a kind; allowed: integer, float, choice`;
  for (const key of ['min', 'max', 'default'] as const) if (!isNum(d[key])) return `${name}.${key}: expected a finite number, got ${JSON.stringify(d[key])}`;
  const min = d.min as number;
  const max = d.max as number;
  const def0 = d.default as number;
  if (d.kind === 'integer') for (const key of ['min', 'max', 'default'] as const) if (!Number.isInteger(d[key])) return `${name}.${key}: ${d[key]} is not an integer`;
  if (min > max) return `${name}: min ${min} is greater than max ${max}`;
  if (def0 < min || def0 > max) return `${name}.default: ${def0} is outside ${min}..${max}`;
  if (d.step !== undefined) {
    if (!isNum(d.step) || d.step <= 0) return `${name}.step: expected a number greater than 0, got ${JSON.stringify(d.step)}`;
    if (d.kind === 'integer' && !Number.isInteger(d.step)) return `${name}.step: ${d.step} is not an integer`;
  }
  return undefined;
}

/**
 * Checks a spec's shape (what a user file exports). `name` is the expected name (the file's);
 * `file` goes into the error.
 */
export function validateSpec(value: unknown, name: string, file?: string): Result<StrategySpec> {
  const err = (reason: string, kind: 'export' | 'spec' = 'spec') => fail<StrategySpec>(new StrategyError({ kind, strategy: name, reason, file }));
  if (typeof value !== 'object' || value === null) return err('the file must `export default defineStrategy({ ... })`; it exports no strategy', 'export');
  const s = value as Record<string, unknown>;
  if (s.name !== undefined && s.name !== name) return err(`name ${JSON.stringify(s.name)} does not match the file name ${JSON.stringify(name)}; remove name or rename the file`);
  if (typeof s.description !== 'string') return err('description: expected text');
  if (typeof s.create !== 'function') return err('create: expected a function (ctx) => ({ onKline(i, k, ind) { ... } })');
  if (s.check !== undefined && typeof s.check !== 'function') return err('check: expected a function (params) => problem or undefined');
  if (s.indicators !== undefined && typeof s.indicators !== 'function') return err('indicators: expected a function (params) => ({ name: "SMA:n=20", ... })');
  if (s.usesCac !== undefined && typeof s.usesCac !== 'boolean') return err('usesCac: expected true or false');
  if (s.cacLines !== undefined && !(Array.isArray(s.cacLines) && s.cacLines.every((l) => typeof l === 'string'))) return err("cacLines: expected a list of CAC column names, e.g. ['PIP.direction']");
  if (typeof s.params !== 'object' || s.params === null || Array.isArray(s.params)) return err('params: expected an object { name: { kind, default, ... } } (may be empty)');
  for (const [key, def] of Object.entries(s.params)) {
    const problem = checkDef(key, def);
    if (problem) return err(`params.${problem}`);
  }
  return ok({ ...(s as unknown as StrategySpec), name });
}

/**
 * Validates parameter values against a spec: unknown names refused, missing ones get their
 * default, numbers given as text accepted (command line, forms), ranges and the spec's `check`
 * applied. Errors name the strategy and the parameter.
 */
export function validateParams(spec: StrategySpec, given: Record<string, unknown> = {}, file?: string): Result<ParamValues> {
  const name = spec.name ?? '?';
  const err = (param: string | undefined, reason: string) => fail<ParamValues>(new StrategyError({ kind: 'params', strategy: name, param, reason, file }));
  const names = Object.keys(spec.params);
  for (const key of Object.keys(given)) {
    if (!names.includes(key)) return err(key, `unknown parameter; ${name} has ${names.length ? names.join(', ') : 'no parameters'}`);
  }
  const out: Record<string, number | string> = {};
  for (const [key, def] of Object.entries(spec.params)) {
    const raw = given[key];
    if (raw === undefined) {
      out[key] = def.default;
      continue;
    }
    const allowed = describeParam(def);
    if (def.kind === 'choice') {
      if (typeof raw !== 'string' || !def.choices.includes(raw)) return err(key, `${JSON.stringify(raw)} is not allowed; allowed: ${allowed}`);
      out[key] = raw;
      continue;
    }
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (!isNum(v)) return err(key, `${JSON.stringify(raw)} is not a number; allowed: ${allowed}`);
    if (def.kind === 'integer' && !Number.isInteger(v)) return err(key, `${v} is not an integer; allowed: ${allowed}`);
    if (v < def.min || v > def.max) return err(key, `${v} is out of range; allowed: ${allowed}`);
    out[key] = v;
  }
  if (spec.check) {
    let problem: string | undefined;
    try {
      problem = spec.check(out);
    } catch (error) {
      return err(undefined, `check() threw: ${(error as Error)?.message ?? String(error)}`);
    }
    if (problem !== undefined && problem !== null && problem !== '') return err(undefined, String(problem));
  }
  return ok(out);
}

/** Parses `k=v` command-line parameter arguments (`--param fast=5`). */
export function parseParamArgs(args: readonly string[]): Result<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const i = arg.indexOf('=');
    if (i <= 0) return fail(new StrategyError({ kind: 'params', strategy: '--param', reason: `expected <name>=<value>, got ${JSON.stringify(arg)}` }));
    out[arg.slice(0, i).trim()] = arg.slice(i + 1).trim();
  }
  return ok(out);
}
