import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Shell } from '../../src/screens/shell.js';
import type { App } from '../../src/core/app.js';
import { headlessScreen, waitFor, type HeadlessScreen } from '../helpers/screen.js';
import { openTestApp } from '../helpers/app.js';
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
const PAGE_UP = '\x1b[5~';
const UP = '\x1b[A';

describe('Market page: temporary analysis over the visible range (headless, real worker threads)', () => {
  let hs: HeadlessScreen | undefined;
  let shell: Shell | undefined;
  let done: (() => Promise<void>) | undefined;
  afterEach(async () => {
    shell?.dispose();
    hs?.destroy();
    await done?.();
    hs = shell = done = undefined;
  });

  async function start(): Promise<App> {
    const opened = await openTestApp();
    done = opened.cleanup;
    const k = generateKlines(3000, 7);
    for (let i = 0; i < k.openTime.length; i++) k.openTime[i] = T0 + i * 60_000;
    opened.app.market.store.insert('BTCUSDT', '1m', toKlines(k));
    hs = headlessScreen(160, 48);
    shell = new Shell(opened.app, hs.screen);
    shell.goTo('market');
    await until('BTCUSDT 1m');
    return opened.app;
  }

  const screenText = () => {
    shell!.renderNow();
    return hs!.text().join('\n');
  };
  async function until(what: string | RegExp, timeout = 10_000): Promise<string> {
    let text = '';
    await waitFor(() => {
      text = screenText();
      return typeof what === 'string' ? text.includes(what) : what.test(text);
    }, timeout, `the screen to show ${what}`);
    return text;
  }
  /** The chart panel's rows (between the symbol list and the order book). */
  const chartText = () => hs!.text().map((l) => l.slice(31, 160 - 33)).join('\n');

  it('without stored CACs, the picker says how to create one; Esc closes it', async () => {
    const app = await start();
    hs!.type('a');
    await until('No CAC is stored yet');
    expect(screenText()).toContain('atm cac save');
    expect(screenText()).toContain('none: clear the temporary analysis');
    hs!.type('\x1b');
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

    hs!.type('a');
    let text = await until('CAC_1  EMA DMIXADX +PIP');
    if (process.env.ATM_SHOW) console.log(text);
    expect(text).toContain('MFIONLY  MFI');
    expect(text).toContain('Temporary analysis');
    hs!.type('\r'); // the cursor starts on the first CAC
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
    const rows = await app.db.kysely.selectFrom('analyses').selectAll().execute();
    expect(rows).toEqual([]);
    expect((await app.analysis.listCacs()).map((c) => c.cac.name)).toEqual(['CAC_1', 'MFIONLY']);

    // panning outside the analysed range says so; `a` runs the same CAC over the new view
    hs!.type(PAGE_UP);
    hs!.type(PAGE_UP);
    text = await until('the view is outside the range analysed by CAC_1');
    if (process.env.ATM_SHOW) console.log(text);
    hs!.type('a');
    text = await until(/temporary analysis CAC_1: 2024-01-02 \d\d:\d\d → 2024-01-03 00:\d\d/);
    expect(text).not.toContain('the view is outside');
    expect(chartText()).toContain('DMIXADX norm');

    // another CAC from the picker replaces it; "none" clears it
    hs!.type('a');
    await until('MFIONLY  MFI');
    hs!.type('j');
    hs!.type('\r');
    await until('temporary analysis MFIONLY');
    expect(chartText()).toContain('MFI norm');
    expect(chartText()).not.toContain('DMIXADX');
    hs!.type('a');
    await until('none: clear the temporary analysis');
    for (let i = 0; i < 3; i++) hs!.type(UP);
    hs!.type('\r');
    await waitFor(() => !chartText().includes('MFI'), 3000, 'the analysis cleared');
    expect(chartText()).not.toContain('•');
    expect(await app.analysis.list()).toEqual([]);
  });

  it('speaks Korean in the picker', async () => {
    const app = await start();
    await app.setLanguage('ko');
    shell!.goTo('market');
    hs!.type('a');
    await until('저장된 CAC가 없습니다');
    expect(screenText()).toContain('없음: 임시 분석 지우기');
  });

  it('shows a CAC that cannot be read as words, never a crash', async () => {
    const app = await start();
    await app.analysis.saveCac({ name: 'BROKEN', indicators: ['SMA:n=5'], pip: null });
    await app.db.kysely.updateTable('named_configs').set({ params_json: JSON.stringify({ indicators: [{ type: 'SMA', params: { n: 1 } }], pip: null }) }).execute();
    hs!.type('a');
    await until('could not list the CACs');
    expect(screenText()).toContain('SMA.n: 1 is out of range');
    hs!.type('\x1b');
    await waitFor(() => !screenText().includes('could not list'), 3000, 'the picker closed');
    expect(screenText()).toContain('BTCUSDT 1m');
  });
});
