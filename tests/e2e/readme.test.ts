import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

describe('README', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  it('holds the key table generated from the bindings (run `npm run readme:keys` after changing keys)', () => {
    const table = execFileSync(process.execPath, ['bin/atm.js', 'keys', '--markdown'], { encoding: 'utf8' });
    const readme = readFileSync('README.md', 'utf8');
    const inReadme = readme.slice(readme.indexOf('<!-- keys:start -->') + '<!-- keys:start -->'.length + 1, readme.indexOf('<!-- keys:end -->'));
    expect(inReadme).toBe(table);
  });

  it('names the install, start and test commands', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.scripts.start).toBeDefined();
    expect(pkg.scripts.test).toContain('vitest');
  });
});
