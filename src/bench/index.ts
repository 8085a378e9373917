/**
 * `npm run bench`: runs every bench section and prints one JSON object of figures.
 * `npm run bench -- --only tui,exchange` runs a subset. Speed and memory targets live here,
 * never in timed unit tests. Each section exports `{ name, run }`; add yours to SECTIONS.
 */
export interface BenchSection {
  name: string;
  /** Figures, each a number (with the unit in its key, e.g. `firstFrameMs`) or a short string. */
  run(): Promise<Record<string, unknown>>;
}

const SECTIONS: (() => Promise<BenchSection>)[] = [
  async () => (await import('./tui.js')).section,
  async () => (await import('./exchange.js')).section,
  async () => (await import('./market.js')).section,
  async () => (await import('./analysis.js')).section,
  async () => (await import('./account.js')).section,
  async () => (await import('./backtest.js')).section,
  async () => (await import('./sweep.js')).section,
];

async function main(): Promise<void> {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set(process.argv[onlyIndex + 1].split(',')) : undefined;
  const results: Record<string, unknown> = {};
  for (const load of SECTIONS) {
    const section = await load();
    if (only && !only.has(section.name)) continue;
    process.stderr.write(`bench: ${section.name}...\n`);
    try {
      results[section.name] = await section.run();
    } catch (error) {
      results[section.name] = { error: (error as Error).message };
    }
  }
  process.stdout.write(JSON.stringify({ machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version }, ...results }, null, 2) + '\n');
}

await main();
