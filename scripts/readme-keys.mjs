// Regenerates the key table in README.md from the key bindings (`atm keys --markdown`).
// Usage: npm run readme:keys    (tests/e2e/readme.test.ts checks the README is current)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const table = execFileSync(process.execPath, ['bin/atm.js', 'keys', '--markdown'], { encoding: 'utf8' });
const readme = readFileSync('README.md', 'utf8');
const start = '<!-- keys:start -->';
const end = '<!-- keys:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < 0) throw new Error('README.md has no key table markers');
writeFileSync('README.md', readme.slice(0, a + start.length) + '\n' + table + readme.slice(b));
