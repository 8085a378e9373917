import { basename, extname } from 'node:path';
import { BUILTINS } from './builtins/index.js';
import { StrategyLoader, listStrategyFiles } from './loader.js';
import { describeParam, validateParams } from './params.js';
import type { LoadedStrategy } from './runtime.js';
import { StrategyError, fail, ok, type ParamDef, type ParamValues, type Result } from './types.js';

/** One row of `list()`: a usable strategy or a broken file, with its error. */
export interface StrategyEntry {
  name: string;
  source: 'builtin' | string;
  strategy?: LoadedStrategy;
  error?: StrategyError;
}

/** The plain form of a spec's parameters (CLI --json, forms, sweeps). */
export interface ParamInfo {
  name: string;
  kind: ParamDef['kind'];
  default: number | string;
  min?: number;
  max?: number;
  step?: number;
  choices?: readonly string[];
  description: string;
  allowed: string;
}

export function paramInfo(strategy: LoadedStrategy): ParamInfo[] {
  return Object.entries(strategy.spec.params).map(([name, d]) => ({
    name,
    kind: d.kind,
    default: d.default,
    ...(d.kind === 'choice' ? { choices: d.choices } : { min: d.min, max: d.max, step: d.step ?? (d.kind === 'integer' ? 1 : (d.max - d.min) / 100) }),
    description: d.description ?? '',
    allowed: describeParam(d),
  }));
}

const BUILTIN: ReadonlyMap<string, LoadedStrategy> = new Map(BUILTINS.map((spec) => [spec.name!, { name: spec.name!, spec, source: 'builtin' as const }]));

/**
 * Every strategy by name: the built-ins, then the user's files in `dir` (`<data dir>/strategies`).
 * Drives `atm strategy`, the forms and the sweeps. User files are (re)loaded on use: a changed file
 * is recompiled the next time it is listed or got.
 */
export class StrategyRegistry {
  readonly loader = new StrategyLoader();

  constructor(readonly dir: string | undefined) {}

  static builtinNames(): string[] {
    return [...BUILTIN.keys()];
  }

  list(): StrategyEntry[] {
    const out: StrategyEntry[] = [...BUILTIN.values()].map((s) => ({ name: s.name, source: 'builtin', strategy: s }));
    const seen = new Map<string, string>();
    for (const file of this.dir ? listStrategyFiles(this.dir) : []) {
      const name = basename(file, extname(file));
      const clash = BUILTIN.has(name)
        ? `a built-in strategy is called ${name}; rename the file`
        : seen.has(name)
          ? `${basename(seen.get(name)!)} has the same name; keep one of them`
          : undefined;
      seen.set(name, file);
      if (clash) {
        out.push({ name, source: file, error: new StrategyError({ kind: 'spec', strategy: name, reason: clash, file }) });
        continue;
      }
      const r = this.loader.load(file);
      out.push(r.ok ? { name, source: file, strategy: r.value } : { name, source: file, error: r.error });
    }
    return out;
  }

  /** A strategy by name (built-in or user file), loaded fresh if its file changed. */
  get(name: string): Result<LoadedStrategy> {
    const builtin = BUILTIN.get(name);
    if (builtin) return ok(builtin);
    const files = (this.dir ? listStrategyFiles(this.dir) : []).filter((f) => basename(f, extname(f)) === name);
    if (files.length === 1) return this.loader.load(files[0]);
    if (files.length > 1) return fail(new StrategyError({ kind: 'spec', strategy: name, reason: `${files.map((f) => basename(f)).join(' and ')} both define it; keep one of them`, file: files[0] }));
    const known = this.list().map((e) => e.name);
    return fail(new StrategyError({ kind: 'unknown', strategy: name, reason: `no such strategy; known: ${known.join(', ')}${this.dir ? ` (user files go in ${this.dir})` : ''}` }));
  }

  /** Loads a strategy from a file path (`atm strategy check <file>`). */
  load(file: string): Result<LoadedStrategy> {
    return this.loader.load(file);
  }

  /** Validates parameters for a strategy by name: defaults filled, ranges and rules checked. */
  validateParams(name: string, given: Record<string, unknown> = {}): Result<{ strategy: LoadedStrategy; params: ParamValues }> {
    const s = this.get(name);
    if (!s.ok) return s;
    const p = validateParams(s.value.spec, given, s.value.source === 'builtin' ? undefined : s.value.source);
    return p.ok ? ok({ strategy: s.value, params: p.value }) : p;
  }
}
