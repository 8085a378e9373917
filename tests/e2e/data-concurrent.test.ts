import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { tempHome } from '../helpers/app.js';
import { makeRows, toCsv, writeZip } from '../core/market/fixtures.js';
import { finish, startAtm } from './processes.js';

/**
 * Defect 3 of issue 8: two processes writing one data directory. SQLite's busy_timeout makes a
 * writer wait for another's lock, but a transaction that reads first and then writes cannot
 * wait (the lock upgrade fails at once with "database is locked"). Real processes on one
 * database file, as a user gets them running two imports, or the TUI storing live klines while a
 * command imports.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 1);
const DAYS = 12;

interface ImportJson {
  rows: number;
  inserted: number;
  duplicates: number;
  failed: number;
}

/** stderr lines other than the progress bar's. */
function problems(stderr: string): string[] {
  return stderr.split(/[\r\n]+/).filter((line) => line.trim() !== '' && !/^(\x1b\[2K)?importing /.test(line));
}

function storedCounts(home: string): Record<string, number> {
  const db = openDatabase(join(home, 'atm.sqlite'), { readonly: true });
  try {
    return Object.fromEntries(new KlineStore(db).series().map((s) => [`${s.symbol} ${s.interval}`, s.rows]));
  } finally {
    void db.close();
  }
}

describe('two atm processes writing one data directory', () => {
  const tmp = tempHome('atm-e2e-concurrent-');
  const archive = join(tmp.home, 'archive');
  let total = 0;

  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    mkdirSync(archive);
    // daily files of two symbols: both imports walk them in the same order, so they meet on every chunk
    for (const [symbol, seed] of [['ADAUSDT', 3], ['DOTUSDT', 4]] as const) {
      const rows = makeRows(T0, DAYS * 1440, '1m', seed);
      for (let d = 0; d < DAYS; d++) {
        const day = new Date(T0 + d * DAY).toISOString().slice(0, 10);
        writeZip(archive, `${symbol}-1m-${day}`, toCsv(rows.slice(d * 1440, (d + 1) * 1440), '1m', d % 2 === 0));
      }
      total += rows.length;
    }
  });
  afterAll(() => tmp.cleanup());

  async function twoImports(home: string): Promise<void> {
    const a = startAtm(['--home', home, 'data', 'import', archive, '--json']);
    const b = startAtm(['--home', home, 'data', 'import', archive, '--json']);
    const [ra, rb] = await Promise.all([finish(a, 120_000, 'import A'), finish(b, 120_000, 'import B')]);
    for (const r of [ra, rb]) expect({ code: r.code, problems: problems(r.stderr) }).toEqual({ code: 0, problems: [] });
    const sa = JSON.parse(ra.stdout) as ImportJson;
    const sb = JSON.parse(rb.stdout) as ImportJson;
    expect([sa.failed, sb.failed]).toEqual([0, 0]);
    expect([sa.rows, sb.rows]).toEqual([total, total]);
    // every row stored exactly once: what one inserted, the other found stored
    expect(sa.inserted + sb.inserted).toBe(total);
    expect(sa.duplicates + sb.duplicates).toBe(total);
    expect(storedCounts(home)).toEqual({ 'ADAUSDT 1m': DAYS * 1440, 'DOTUSDT 1m': DAYS * 1440 });
  }

  it('two imports of the same folder at once both finish with every row stored (existing data directory)', async () => {
    const home = join(tmp.home, 'existing');
    const created = spawnSync(process.execPath, ['bin/atm.js', '--home', home, 'data', 'status'], { encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    for (let round = 0; round < 3; round++) {
      const h = join(home, `r${round}`);
      expect(spawnSync(process.execPath, ['bin/atm.js', '--home', h, 'data', 'status'], { encoding: 'utf8' }).status).toBe(0);
      await twoImports(h);
    }
  }, 300_000);

  it('two imports started at once on a new data directory both create it and finish', async () => {
    for (let round = 0; round < 2; round++) await twoImports(join(tmp.home, `fresh${round}`));
  }, 300_000);

  it('an import beside a process storing live klines one by one: neither meets "database is locked"', async () => {
    const home = join(tmp.home, 'live');
    expect(spawnSync(process.execPath, ['bin/atm.js', '--home', home, 'data', 'status'], { encoding: 'utf8' }).status).toBe(0);
    // The live writer: the kline store as the market data service uses it (one closed kline per
    // insert, read-then-write), in its own process, until told to stop (bounded in count).
    const script = join(tmp.home, 'live-writer.mjs');
    const dist = (p: string) => JSON.stringify(pathToFileURL(resolve('dist', p)).href);
    writeFileSync(
      script,
      `import { openDatabase } from ${dist('db/database.js')};
import { KlineStore } from ${dist('db/klineStore.js')};
import { klinesFromRows } from ${dist('core/market/klines.js')};
const db = openDatabase(process.argv[2]);
const store = new KlineStore(db);
const start = ${Date.UTC(2025, 0, 1)};
let n = 0;
let stop = false;
process.stdin.on('data', () => (stop = true));
process.stdout.write('ready\\n');
while (!stop && n < 200000) {
  const t = start + n * 60000;
  store.insert('LIVEUSDT', '1m', klinesFromRows([{ openTime: t, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15, trades: 3, takerBuyVolume: 4, takerBuyQuoteVolume: 6 }]));
  n++;
  if (n % 50 === 0) await new Promise((r) => setImmediate(r));
}
process.stdout.write('stored ' + n + '\\n');
await db.close();
`,
    );
    const { spawn } = await import('node:child_process');
    const writer = spawn(process.execPath, [script, join(home, 'atm.sqlite')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    writer.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    writer.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const writerDone = new Promise<number>((resolve) => writer.on('close', (code) => resolve(code ?? -1)));
    const { waitFor } = await import('../helpers/wait.js');
    await waitFor(() => out.includes('ready') || writer.exitCode !== null, 20_000, 'the live writer to start');
    const imported = await finish(startAtm(['--home', home, 'data', 'import', archive, '--json']), 120_000, 'import beside the live writer');
    writer.stdin.end('stop\n');
    const code = await writerDone;
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect({ code: imported.code, problems: problems(imported.stderr) }).toEqual({ code: 0, problems: [] });
    expect((JSON.parse(imported.stdout) as ImportJson).inserted).toBe(total);
    const n = Number(/stored (\d+)/.exec(out)?.[1]);
    expect(n).toBeGreaterThan(0);
    expect(storedCounts(home)).toEqual({ 'ADAUSDT 1m': DAYS * 1440, 'DOTUSDT 1m': DAYS * 1440, 'LIVEUSDT 1m': n });
  }, 300_000);
});
