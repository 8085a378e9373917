// Rebuilds dist/ with tsc when any file under src/ is newer than the last build.
// Used by `npm start`, `npm test` and `npm run bench` so a fresh checkout just works.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.tsbuildinfo');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const m = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (m > newest) newest = m;
  }
  return newest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const sources = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (sources > built) {
  process.stderr.write('atm: building (tsc)...\n');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  } catch {
    process.stderr.write('atm: the build failed; see the compiler errors above.\n');
    process.exit(1);
  }
  // tsc leaves the build info untouched when nothing it tracks changed; mark the build as current.
  if (existsSync(stamp)) utimesSync(stamp, new Date(), new Date());
}
