import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import type { BuildFailure, Message, Metafile } from 'esbuild';

/**
 * esbuild, loaded on the first compile of a user file (it costs about 16 MB of memory, which a
 * program that never loads a user strategy should not carry).
 */
let esbuildModule: typeof import('esbuild') | undefined;
const esbuild = (): typeof import('esbuild') => (esbuildModule ??= createRequire(import.meta.url)('esbuild') as typeof import('esbuild'));
import * as api from './api.js';
import { registerCompiled, sourceMapFrom, unregisterCompiled } from './locate.js';
import { STRATEGY_NAME, validateSpec } from './params.js';
import { strategyFailure, withTimeLimit, type LoadedStrategy } from './runtime.js';
import { StrategyError, fail, ok, type Result } from './types.js';

/** The folder of user strategy files in a data directory. */
export function strategiesDir(home: string): string {
  return join(home, 'strategies');
}

/** The import path user files use for the strategy API. */
export const API_IMPORT = 'atm/strategy';

/** Time allowed for a file's top-level code (module evaluation). */
const EVAL_LIMIT_MS = 2000;

interface CacheEntry {
  /** Every file the bundle read. */
  inputs: string[];
  /** Hash of those files' contents when compiled. */
  sourceHash: string;
  /** Hash of the compiled code. */
  hash: string;
  result: Result<LoadedStrategy>;
  scriptName?: string;
}

/** One hash over the contents of files (a missing file counts as different from any content). */
function hashFiles(paths: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of paths) {
    h.update(p).update('\0');
    try {
      h.update(readFileSync(p));
    } catch {
      h.update('\u0001missing');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

const inside = (dir: string, path: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Loads user strategy files: compiles each with esbuild (TypeScript or JavaScript, bundled with
 * the relative files it imports; `atm/strategy` is the only package it may import; no network),
 * evaluates it, validates the exported spec. Results are cached per file and reloaded when any
 * file of its bundle changed (content hash, checked on each `load`).
 * Every failure is a value: a StrategyError naming the file and line.
 */
export class StrategyLoader {
  private readonly cache = new Map<string, CacheEntry>();
  /** Compilations done (for tests and diagnostics). */
  compilations = 0;

  /** Loads (or returns the cached) strategy in `file`; its name is the file's base name. */
  load(file: string): Result<LoadedStrategy> {
    const path = resolve(file);
    const name = basename(path, extname(path));
    const cached = this.cache.get(path);
    // Contents, not mtimes: a rewrite within the file system's timestamp granularity still counts.
    // Strategy files are small; this runs when a run starts, never per kline.
    if (cached && hashFiles(cached.inputs) === cached.sourceHash) return cached.result;
    if (!existsSync(path)) {
      this.drop(path);
      return fail(new StrategyError({ kind: 'compile', strategy: name, reason: 'no such file', file: path }));
    }
    const entry = this.compile(path, name, cached);
    this.cache.set(path, entry);
    return entry.result;
  }

  /** Forgets a file (its compiled code can be collected). */
  drop(file: string): void {
    const path = resolve(file);
    const entry = this.cache.get(path);
    if (entry?.scriptName) unregisterCompiled(entry.scriptName);
    this.cache.delete(path);
  }

  private compile(path: string, name: string, previous: CacheEntry | undefined): CacheEntry {
    const dir = dirname(path);
    const err = (reason: string, extra: { file?: string; line?: number; column?: number; kind?: 'compile' | 'export' } = {}) =>
      fail<LoadedStrategy>(new StrategyError({ kind: extra.kind ?? 'compile', strategy: name, reason, file: extra.file ?? path, line: extra.line, column: extra.column }));
    const inputsOf = (paths: string[]) => [...new Set(paths)];
    if (!STRATEGY_NAME.test(name)) {
      return { inputs: inputsOf([path]), sourceHash: hashFiles([path]), hash: '', result: err(`the file name must be a strategy name: lower-case letters, digits and '-', starting with a letter`) };
    }
    this.compilations++;
    let js: string;
    let mapJson: string;
    let metafile: Metafile;
    try {
      const out = esbuild().buildSync({
        entryPoints: [path],
        bundle: true,
        write: false,
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        sourcemap: 'external',
        sourcesContent: false,
        outfile: join(dir, `${name}.compiled.js`),
        external: [API_IMPORT],
        metafile: true,
        logLevel: 'silent',
        absWorkingDir: dir,
        nodePaths: [],
      });
      js = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
      mapJson = out.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
      metafile = out.metafile!;
    } catch (error) {
      const messages: Message[] = (error as BuildFailure).errors ?? [];
      const first = messages[0];
      const loc = first?.location;
      const inputs = inputsOf([path, ...messages.flatMap((m) => (m.location ? [resolve(dir, m.location.file)] : []))]);
      if (!first) return { inputs, sourceHash: hashFiles(inputs), hash: '', result: err(`cannot compile: ${(error as Error).message}`) };
      const more = messages.length > 1 ? ` (and ${messages.length - 1} more error${messages.length > 2 ? 's' : ''})` : '';
      return {
        inputs,
        sourceHash: hashFiles(inputs),
        hash: '',
        result: err(`${first.text}${more}`, loc ? { file: resolve(dir, loc.file), line: loc.line, column: loc.column + 1 } : {}),
      };
    }
    // What the bundle read: only files under the strategies folder, and only atm/strategy outside it.
    const inputPaths = Object.keys(metafile.inputs).map((p) => resolve(dir, p));
    const inputs = inputsOf(inputPaths);
    const sourceHash = hashFiles(inputs);
    for (const [input, info] of Object.entries(metafile.inputs)) {
      const abs = resolve(dir, input);
      if (!inside(dir, abs)) return { inputs, sourceHash, hash: '', result: err(`imports ${relative(dir, abs)}, outside the strategies folder; import only 'atm/strategy' and files next to the strategy`) };
      for (const imp of info.imports) {
        if (imp.external && imp.path !== API_IMPORT) {
          return { inputs, sourceHash, hash: '', result: err(`imports ${JSON.stringify(imp.path)}; a strategy may import only '${API_IMPORT}' and relative files`, { file: abs }) };
        }
      }
    }
    const hash = createHash('sha256').update(js).digest('hex').slice(0, 16);
    if (previous && previous.hash === hash) return { ...previous, inputs, sourceHash };
    if (previous?.scriptName) unregisterCompiled(previous.scriptName);
    const scriptName = `${path}.atm-${hash}.js`;
    registerCompiled(scriptName, { file: path, dir, map: sourceMapFrom(mapJson), code: js, lineOffset: 1 });
    const strategy: LoadedStrategy = { name, spec: undefined as never, source: path };
    let exported: unknown;
    try {
      const wrapper = new vm.Script(`(function (exports, require, module) {\n${js}\n})`, { filename: scriptName }).runInThisContext() as (
        e: unknown,
        r: (id: string) => unknown,
        m: { exports: unknown },
      ) => void;
      const module = { exports: {} as Record<string, unknown> };
      const require = (id: string) => {
        if (id === API_IMPORT) return api;
        throw new Error(`cannot import ${JSON.stringify(id)}: a strategy may import only '${API_IMPORT}' and relative files`);
      };
      withTimeLimit(EVAL_LIMIT_MS, () => wrapper(module.exports, require, module));
      const m = module.exports as Record<string, unknown>;
      exported = m && typeof m === 'object' && 'default' in m ? m.default : typeof m?.create === 'function' ? m : undefined;
    } catch (error) {
      const failure = strategyFailure(strategy, 'export', error);
      const reason = failure.kind === 'timeout' ? `top-level code did not finish within ${EVAL_LIMIT_MS} ms` : `loading the file threw: ${(error as Error)?.message ?? String(error)}`;
      return { inputs, sourceHash, hash, scriptName, result: fail(new StrategyError({ kind: failure.kind === 'timeout' ? 'timeout' : 'export', strategy: name, reason, file: failure.file ?? path, line: failure.line, column: failure.column })) };
    }
    const spec = validateSpec(exported, name, path);
    if (!spec.ok) return { inputs, sourceHash, hash, scriptName, result: spec };
    return { inputs, sourceHash, hash, scriptName, result: ok({ name, spec: spec.value, source: path }) };
  }
}

/** The strategy files in a folder (`*.ts`, `*.js`; not `*.d.ts`), sorted. */
export function listStrategyFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => (f.endsWith('.ts') || f.endsWith('.js')) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => join(dir, f));
}

/** The template `atm strategy new` writes (config/strategy-template.ts). */
export function readTemplate(root: string): string {
  return readFileSync(join(root, 'config', 'strategy-template.ts'), 'utf8');
}
