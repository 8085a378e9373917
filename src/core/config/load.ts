import { existsSync, readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { AtmError } from '../errors.js';
import { packageRoot } from '../paths.js';

/** A user-facing configuration error: names the file, the key, the bad value and what is allowed. */
export class ConfigError extends AtmError {
  constructor(
    readonly file: string,
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly line?: number,
  ) {
    super(
      'user',
      `${file}${line ? `:${line}` : ''}: ${key ? `'${key}'` : 'the file'}` +
        (value === undefined ? '' : ` = ${formatValue(value)}`) +
        ` is not valid: ${allowed}`,
      { file, key, line },
    );
    this.name = 'ConfigError';
  }
}

/**
 * A value as the error line quotes it: JSON (control characters such as NUL escaped), cut to 80
 * characters with the full length said, so a large or binary file never floods the terminal.
 */
export function formatValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= 80) return text;
  const size = typeof value === 'string' ? `${value.length} characters` : `${text.length} characters as JSON`;
  return `${text.slice(0, 60)}... (${size})`;
}

export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.yaml');
}

interface ParsedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  data: Record<string, unknown>;
}

/**
 * Parses YAML text (JSON is YAML too) keeping line positions for error messages; a syntax error is
 * a ConfigError naming the file and the line. The one YAML reader of configuration files.
 */
export function parseYamlText(text: string, file: string): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw new ConfigError(file, '', undefined, `YAML syntax error: ${first.message.split('\n')[0]}`, line);
  }
  return { doc, lines };
}

function parseFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, '', undefined, `cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const { doc, lines } = parseYamlText(text, file);
  const data = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, '', data, 'the top level must be a mapping of keys to values');
  }
  return { file, doc, lines, data };
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' && !Array.isArray(prev)) {
      out[key] = deepMerge(prev as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The value at a key path of parsed data, or undefined. */
export function getPath(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/**
 * The line of `path` in a parsed YAML document: the node's own line, else (an unknown key) the
 * line of the key itself, else the nearest enclosing key's line.
 */
export function lineOfPath(doc: Document.Parsed, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const sub = path.slice(0, n);
    const node = doc.getIn(sub as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
    const parent = n > 1 ? doc.getIn(sub.slice(0, -1) as unknown[], true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === sub[sub.length - 1]);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    }
  }
  return undefined;
}

function lineOf(parsed: ParsedFile, path: PropertyKey[]): number | undefined {
  return lineOfPath(parsed.doc, parsed.lines, path);
}

/**
 * A zod issue in words for a config error line; `reference` is where the allowed keys and forms
 * are documented (config/default.yaml, or `atm backtest --example`).
 */
export function describeIssue(issue: z.core.$ZodIssue, reference = 'config/default.yaml'): string {
  switch (issue.code) {
    case 'invalid_value':
      return `allowed values are ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `unknown key (check the spelling against ${reference})`;
    case 'invalid_union':
      return issue.message.startsWith('Invalid input') ? `expected one of the documented forms (see ${reference})` : issue.message;
    default:
      return issue.message.startsWith('Invalid input') ? 'expected ' + issue.message.slice(14) : issue.message;
  }
}

export interface LoadedConfig {
  config: Config;
  /** The user file in effect (it may not exist yet; the Settings page creates it). */
  userFile: string;
  defaultFile: string;
}

/**
 * Loads `config/default.yaml`, merges the user file over it and validates the result.
 * Throws ConfigError naming the file (the user's when the bad key is there), key, value, allowed.
 */
export function loadConfig(userFile: string, options: { requireUserFile?: boolean; defaultFile?: string } = {}): LoadedConfig {
  const defaultFile = options.defaultFile ?? defaultConfigPath();
  const defaults = parseFile(defaultFile);
  let user: ParsedFile | undefined;
  if (existsSync(userFile)) user = parseFile(userFile);
  else if (options.requireUserFile) throw new ConfigError(userFile, '', undefined, 'the file does not exist');

  const merged = user ? deepMerge(defaults.data, user.data) : defaults.data;
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    let path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') path = [...path, issue.keys[0]];
    const key = path.map(String).join('.');
    const inUser = user !== undefined && getPath(user.data, path) !== undefined;
    const source = inUser ? user! : defaults;
    throw new ConfigError(source.file, key, issue.code === 'unrecognized_keys' ? undefined : getPath(merged, path), describeIssue(issue), lineOf(source, path));
  }
  return { config: result.data, userFile, defaultFile };
}

/**
 * Writes one key into the user configuration file, keeping its comments and layout, after
 * checking that the resulting configuration is valid. Used by the Settings page.
 */
export function saveUserSetting(loaded: LoadedConfig, path: string[], value: unknown): Config {
  const file = loaded.userFile;
  const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : parseDocument('# atm user configuration: overrides config/default.yaml\n');
  if (doc.contents === null) doc.contents = doc.createNode({}) as any;
  doc.setIn(path, value);
  const candidate = deepMerge(parseFile(loaded.defaultFile).data, (doc.toJS() ?? {}) as Record<string, unknown>);
  const result = configSchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(file, issue.path.map(String).join('.'), value, describeIssue(issue));
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = file + '.tmp';
  writeFileSync(tmp, doc.toString());
  renameSync(tmp, file);
  loaded.config = result.data;
  return result.data;
}
