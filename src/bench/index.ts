/**
 * `npm run bench`: runs every bench section and prints one JSON object of figures.
 * `npm run bench -- --only tui,exchange` runs a subset. Speed and memory targets live here,
 * never in timed unit tests. Each section exports `{ name, run }`; add yours to SECTIONS. Each
 * section runs in its own process (its peak memory is its own).
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
  async () => (await import('./nn.js')).section,
  async () => (await import('./deep.js')).section,
  async () => (await import('./trade.js')).section,
  async () => (await import('./collect.js')).section,
];

/**
 * Each section runs in a process of its own, so its memory figures (peak RSS) are its own and not
 * what an earlier section left behind; the parent only collects the JSON they print.
 */
async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) return runChild(process.argv[childIndex + 1]);
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? new Set(process.argv[onlyIndex + 1].split(',')) : undefined;
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const results: Record<string, unknown> = {};
  for (const load of SECTIONS) {
    const { name } = await load();
    if (only && !only.has(name)) continue;
    process.stderr.write(`bench: ${name}...\n`);
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
      timeout: 20 * 60_000,
    });
    try {
      results[name] = JSON.parse(child.stdout);
    } catch {
      results[name] = { error: `the section's process ended with status ${child.status}${child.signal ? ` (${child.signal})` : ''} and no figures` };
    }
  }
  process.stdout.write(JSON.stringify({ machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version }, ...results }, null, 2) + '\n');
}

/** In a child process: runs one section and prints its figures as JSON. */
async function runChild(name: string): Promise<void> {
  for (const load of SECTIONS) {
    const section = await load();
    if (section.name !== name) continue;
    let figures: Record<string, unknown>;
    try {
      figures = await section.run();
    } catch (error) {
      figures = { error: (error as Error).message };
    }
    process.stdout.write(JSON.stringify(figures) + '\n');
    return;
  }
  process.stdout.write(JSON.stringify({ error: `no bench section ${name}` }) + '\n');
}

await main();
