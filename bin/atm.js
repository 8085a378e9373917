#!/usr/bin/env node
// Entry point of the `atm` command. The TypeScript sources are compiled to dist/ by `npm run build`
// (npm start and npm test build when needed).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('atm: the program is not built yet. Run `npm run build` (or `npm start`) first.\n');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
