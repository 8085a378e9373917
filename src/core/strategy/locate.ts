import { SourceMap } from 'node:module';
import { resolve } from 'node:path';

/**
 * Maps positions in compiled strategy code back to the user's file. The loader registers each
 * compiled script under a unique script name; stack frames naming it are translated through its
 * source map (esbuild's), so an error says `strategies/foo.ts:12:5`, not a compiled position.
 */
interface Compiled {
  /** The strategy's own file (the entry point). */
  file: string;
  /** Folder the source map's relative sources are resolved from. */
  dir: string;
  map: SourceMap;
  code: string;
  /** Lines added before the compiled code by the loader's wrapper. */
  lineOffset: number;
}

const compiled = new Map<string, Compiled>();

export function registerCompiled(scriptName: string, entry: Compiled): void {
  compiled.set(scriptName, entry);
}

export function unregisterCompiled(scriptName: string): void {
  compiled.delete(scriptName);
}

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

function mapPosition(c: Compiled, line1: number, column1: number): SourcePosition {
  const entry = c.map.findEntry(line1 - 1 - c.lineOffset, column1 - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (!entry || entry.originalSource === undefined || entry.originalLine === undefined) return { file: c.file, line: line1 - c.lineOffset, column: column1 };
  return { file: resolve(c.dir, entry.originalSource), line: entry.originalLine + 1, column: (entry.originalColumn ?? 0) + 1 };
}

/**
 * The first stack frame of `error` inside a compiled strategy (or, when `fallbackFile` is given, in
 * that file, e.g. a built-in's module), as a position in the user's source. Undefined if none.
 */
export function locateError(error: unknown, fallbackFile?: string): SourcePosition | undefined {
  const stack = typeof (error as Error)?.stack === 'string' ? (error as Error).stack! : '';
  for (const frame of stack.split('\n').slice(1)) {
    for (const [name, c] of compiled) {
      const at = frame.indexOf(name + ':');
      if (at < 0) continue;
      const m = /^(\d+):(\d+)/.exec(frame.slice(at + name.length + 1));
      if (m) return mapPosition(c, Number(m[1]), Number(m[2]));
    }
    if (fallbackFile) {
      const at = frame.indexOf(fallbackFile + ':');
      const m = at >= 0 ? /^(\d+):(\d+)/.exec(frame.slice(at + fallbackFile.length + 1)) : null;
      if (m) return { file: fallbackFile, line: Number(m[1]), column: Number(m[2]) };
    }
  }
  return undefined;
}

/**
 * Maps a position (1-based) in a compiled script, named as the inspector or a stack names it (the
 * script name, or a file: URL of it), to the user's source.
 */
export function locateCompiled(scriptNameOrUrl: string, line1: number, column1: number): SourcePosition | undefined {
  let name = scriptNameOrUrl;
  if (name.startsWith('file://')) {
    try {
      name = decodeURIComponent(name.slice('file://'.length));
    } catch {
      /* keep it */
    }
  }
  const c = compiled.get(name) ?? compiled.get(scriptNameOrUrl);
  return c ? mapPosition(c, line1, column1) : undefined;
}

/**
 * Where a function was written, found from its source text in the compiled code (for errors that
 * have no stack, e.g. a returned NaN: the error names the onKline that returned it).
 */
export function locateFunction(fn: unknown): SourcePosition | undefined {
  if (typeof fn !== 'function') return undefined;
  const text = Function.prototype.toString.call(fn);
  for (const c of compiled.values()) {
    const at = c.code.indexOf(text);
    if (at < 0) continue;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++) {
      if (c.code.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return mapPosition(c, line + c.lineOffset, at - lineStart + 1);
  }
  return undefined;
}

/** A SourceMap from esbuild's JSON text. */
export function sourceMapFrom(json: string): SourceMap {
  return new SourceMap(JSON.parse(json));
}
