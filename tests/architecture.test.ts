import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The direction of every import, read from the source: the core declares ports and never imports
 * the parts that implement them; screens reach the core only through the App facade; only the
 * composition root (src/main) wires the real parts together.
 */
const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every module a file imports (static, dynamic, re-exports, type-only), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)).split(sep).join('/'));
}

/** Top-level area of a path under src/ ("core", "db", ...). */
const area = (path: string) => path.split('/')[0];

const FORBIDDEN: Record<string, string[]> = {
  core: ['db', 'adapters', 'workers', 'screens', 'cli', 'main', 'bench'],
  screens: ['db', 'adapters', 'workers', 'cli', 'main', 'bench'],
  workers: ['db', 'adapters', 'screens', 'cli', 'main', 'bench'],
  db: ['adapters', 'workers', 'screens', 'cli', 'main', 'bench'],
  adapters: ['db', 'workers', 'screens', 'cli', 'main', 'bench'],
  cli: ['db', 'adapters', 'workers', 'bench'],
};

/** Files allowed past the rules above, each with the reason. */
const EXCEPTIONS: Record<string, string> = {};

describe('import directions', () => {
  const files = sourceFiles(SRC);

  it('reads the imports it checks (the reader is not blind)', () => {
    const compose = importsOf(join(SRC, 'main', 'compose.ts'));
    expect(compose).toContain('db/database.js');
    expect(compose).toContain('adapters/factory.js'); // a dynamic import
    expect(compose).toContain('workers/pool.js');
    expect(importsOf(join(SRC, 'core', 'app.ts'))).toContain('core/exchange/service.js'); // type-only
  });

  for (const [from, banned] of Object.entries(FORBIDDEN)) {
    it(`src/${from} imports none of ${banned.map((b) => `src/${b}`).join(', ')}`, () => {
      const offences: string[] = [];
      for (const file of files) {
        const rel = relative(SRC, file).split(sep).join('/');
        if (area(rel) !== from || rel in EXCEPTIONS) continue;
        for (const target of importsOf(file)) if (banned.includes(area(target))) offences.push(`${rel} -> ${target}`);
      }
      expect(offences).toEqual([]);
    });
  }

  it('only the composition root builds the App', () => {
    const builders = files
      .filter((f) => /new App\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f).split(sep).join('/'));
    expect(builders).toEqual(['main/compose.ts']);
  });
});
