import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/core/app.js';
import { waitFor } from '../helpers/screen.js';
import { ShellHarness } from '../helpers/shell.js';
import { generateKlines, toKlines } from '../core/analysis/data.js';

beforeAll(() => {
  // The temporary analysis runs in the analysis worker pool, from dist/ (tsc emits even if another area has a type error).
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  } catch {
    /* emitted anyway */
  }
}, 120_000);

const T0 = Date.UTC(2024, 0, 1);

/** Reads or changes the app's database file directly, on a second connection (as another process would). */
function sql<T>(app: App, run: (db: Database.Database) => T): T {
  const db = new Database(app.status().databasePath);
  try {
    db.pragma('busy_timeout = 5000');
    return run(db);
  } finally {
    db.close();
  }
}
const PAGE_UP = '\x1b[5~';
const UP = '\x1b[A';

describe('Market page: temporary analysis over the visible range (headless, real worker threads)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  async function start(): Promise<App> {
    h = await new ShellHarness().start({
      height: 48,
      seed: (_app, parts) => {
        const k = generateKlines(3000, 7);
        for (let i = 0; i < k.openTime.length; i++) k.openTime[i] = T0 + i * 60_000;
        parts.klines.insert('BTCUSDT', '1m', toKlines(k));
      },
    });
    h.shell.goTo('market');
    await until('BTCUSDT 1m');
    return h.app;
  }

  const screenText = () => h.text();
  const until = (what: string | RegExp, timeout = 10_000) => h.until(what, timeout);
  /** The chart panel's rows (between the symbol list and the order book). */
  const chartText = () => h.hs.text().map((l) => l.slice(31, 160 - 33)).join('\n');

  it('without stored CACs, the picker says how to create one; Esc closes it', async () => {
    const app = await start();
    h.hs.type('a');
    await until('No CAC is stored yet');
    expect(screenText()).toContain('atm cac save');
    expect(screenText()).toContain('none: clear the temporary analysis');
    h.hs.type('\x1b');
    await waitFor(() => !screenText().includes('No CAC is stored yet'), 3000, 'the picker closed');
    expect(screenText()).toContain('[6 Market]'); // Esc closed the picker, it did not go back a page
    expect(await app.analysis.list()).toEqual([]);
  });

  it('runs a stored CAC over the visible range in the workers and draws overlays, sub-panels and markers; nothing is stored', async () => {
    const app = await start();
    await app.analysis.saveCac({ name: '', indicators: ['EMA:n=10', 'DMIXADX:n=7'], pip: { mode: 'classical', csNSamples: 5, csAt1: 0.2, csAt2: 0.05 } });
    await app.analysis.saveCac({ name: 'MFIONLY', indicators: ['MFI:n=5'], pip: null });
    expect(chartText()).not.toContain('•');
    expect(chartText()).not.toContain('DMIXADX');

    h.hs.type('a');
    let text = await until('CAC_1  EMA DMIXADX +PIP');
    if (process.env.ATM_SHOW) console.log(text);
    expect(text).toContain('MFIONLY  MFI');
    expect(text).toContain('Temporary analysis');
    h.hs.type('\r'); // the cursor starts on the first CAC
    text = await until(/temporary analysis CAC_1: 2024-01-03 \d\d:\d\d → 01:59 · not stored/);
    const chart = chartText();
    if (process.env.ATM_SHOW) console.log(text);
    expect(chart).toContain('DMIXADX norm'); // the normalised signal has its own panel (-1..1)
    expect(chart).toMatch(/DMIXADX\s/); // +DI/-DI/ADX panel (0..100)
    expect(chart).toContain('PIP cs');
    // started earlier by the warm-up: +DI/-DI/ADX have values from the first candle on screen
    const lines = chart.split('\n');
    const at = lines.findIndex((l) => l.startsWith('DMIXADX '));
    expect(lines.slice(at + 1, at + 4).some((l) => /[▀▄]/.test(l[0]))).toBe(true);
    expect(chart).toContain('•'); // the EMA overlay over the candles
    expect(chart).toMatch(/[┃│╽╿╻╹]/);
    expect(chart).not.toContain('Temporary analysis'); // the picker closed

    // temporary: nothing written to the analyses table, the CACs unchanged
    expect(await app.analysis.list()).toEqual([]);
    const rows = await h.parts.db.kysely.selectFrom('analyses').selectAll().execute();
    expect(rows).toEqual([]);
    expect((await app.analysis.listCacs()).map((c) => c.cac.name)).toEqual(['CAC_1', 'MFIONLY']);

    // panning outside the analysed range says so; `a` runs the same CAC over the new view
    h.hs.type(PAGE_UP);
    h.hs.type(PAGE_UP);
    text = await until('the view is outside the range analysed by CAC_1');
    if (process.env.ATM_SHOW) console.log(text);
    h.hs.type('a');
    text = await until(/temporary analysis CAC_1: 2024-01-02 \d\d:\d\d → 2024-01-03 00:\d\d/);
    expect(text).not.toContain('the view is outside');
    expect(chartText()).toContain('DMIXADX norm');

    // another CAC from the picker replaces it; "none" clears it
    h.hs.type('a');
    await until('MFIONLY  MFI');
    h.hs.type('j');
    h.hs.type('\r');
    await until('temporary analysis MFIONLY');
    expect(chartText()).toContain('MFI norm');
    expect(chartText()).not.toContain('DMIXADX');
    h.hs.type('a');
    await until('none: clear the temporary analysis');
    for (let i = 0; i < 3; i++) h.hs.type(UP);
    h.hs.type('\r');
    await waitFor(() => !chartText().includes('MFI'), 3000, 'the analysis cleared');
    expect(chartText()).not.toContain('•');
    expect(await app.analysis.list()).toEqual([]);
  });

  it('speaks Korean in the picker', async () => {
    const app = await start();
    await app.setLanguage('ko');
    h.shell.goTo('market');
    h.hs.type('a');
    await until('저장된 CAC가 없습니다');
    expect(screenText()).toContain('없음: 임시 분석 지우기');
  });

  it('shows a CAC that cannot be read as words, never a crash', async () => {
    const app = await start();
    await app.analysis.saveCac({ name: 'BROKEN', indicators: ['SMA:n=5'], pip: null });
    await h.parts.db.kysely.updateTable('named_configs').set({ params_json: JSON.stringify({ indicators: [{ type: 'SMA', params: { n: 1 } }], pip: null }) }).execute();
    h.hs.type('a');
    await until('could not list the CACs');
    expect(screenText()).toContain('SMA.n: 1 is out of range');
    h.hs.type('\x1b');
    await waitFor(() => !screenText().includes('could not list'), 3000, 'the picker closed');
    expect(screenText()).toContain('BTCUSDT 1m');
  });
});
