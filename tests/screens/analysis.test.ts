import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Shell } from '../../src/screens/shell.js';
import { headlessScreen, waitFor, type HeadlessScreen } from '../helpers/screen.js';
import { openTestApp } from '../helpers/app.js';
import { generateKlines, toKlines } from '../core/analysis/data.js';

beforeAll(() => {
  // The analyses run in worker threads, from dist/ (tsc emits even if another area has a type error).
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  } catch {
    /* emitted anyway */
  }
}, 120_000);

describe('Currency Analysis and AutoTrade pages (headless)', () => {
  let hs: HeadlessScreen | undefined;
  let done: (() => Promise<void>) | undefined;
  let shell: Shell | undefined;
  afterEach(async () => {
    shell?.dispose();
    hs?.destroy();
    await done?.();
    hs = undefined;
    done = undefined;
    shell = undefined;
  });

  const screenText = () => {
    shell!.renderNow();
    return hs!.text().join('\n');
  };
  const until = (what: string | RegExp, timeout = 10_000) =>
    waitFor(() => (typeof what === 'string' ? screenText().includes(what) : what.test(screenText())), timeout, `screen to show ${what}`);

  it('creates a CAC with validation, applies it, charts the analysis; AutoTrade lists it with its worker', async () => {
    const { app, parts, cleanup } = await openTestApp();
    done = cleanup;
    const k = generateKlines(600, 5);
    parts.klines.insert('BTCUSDT', '1m', toKlines(k));
    hs = headlessScreen(160, 48);
    shell = new Shell(app, hs.screen);
    shell.goTo('analysis');
    await until('No CAC yet');

    // New CAC with a bad parameter: the form names indicator, parameter and range, and keeps the text.
    hs.type('n');
    await until('New CAC');
    hs.type('\x1b[B'); // to Indicators
    hs.type('\x15'); // Ctrl-U clears it
    hs.type('SMA:n=1');
    hs.type('\r');
    await until('SMA.n: 1 is out of range; allowed: an integer from 2 to 100000');
    expect(screenText()).toContain('SMA:n=1');

    hs.type('\x15');
    hs.type('EMA:n=5 BOL:n=10,k=2 DMIXADX:n=5');
    hs.type('\x1b[B'); // to PIP
    hs.type('\x15');
    hs.type('mode=classical,csNSamples=5,csAt1=0.2,csAt2=0.05');
    hs.type('\r');
    await until('CAC_1 EMA BOL DMIXADX +PIP');
    expect(screenText()).toContain('saved CAC_1');

    // Apply to BTCUSDT 1m: the analysis starts in a worker and its chart opens.
    hs.type('a');
    await until('Apply the CAC to a symbol');
    hs.type('\r');
    await until(/#1 CAC_1 BTCUSDT 1m running/);
    await until('#1 BTCUSDT 1m · CAC_1');
    await until(/[▲▼]/); // PIP impulse markers on the candles
    const text = screenText();
    expect(text).toMatch(/[┃╹╻╿╽]/); // candle bodies
    expect(text).toMatch(/DMIXADX/); // oscillator sub-panel title
    expect(text).not.toContain('no output yet');
    if (process.env.ATM_SHOW) console.log(text);

    // AutoTrade: the accounts (none here) and the analysis with its worker, state and last update.
    shell.goTo('autotrade');
    await until('No accounts.');
    await until(/CAC_1\s+BTCUSDT\s+1m\s+#1 \(thread \d+\)\s+running\s+600/);
    const last = new Date(k.openTime[599]).toISOString().slice(0, 16).replace('T', ' ');
    expect(screenText()).toContain(last);

    // Deleting asks first and names what goes with it; n keeps everything, y deletes.
    shell.goTo('analysis');
    await until('#1 CAC_1 BTCUSDT 1m');
    hs.type('d'); // the analysis list has the focus after applying
    await until('Remove analysis #1 (BTCUSDT 1m, CAC_1)?');
    hs.type('n');
    await waitFor(() => !screenText().includes('Are you sure?'), 5000, 'the question to close');
    hs.type('f'); // to the CAC list
    hs.type('d');
    await until('Delete the CAC CAC_1 and its 1 analyses (#1 BTCUSDT 1m)?');
    hs.type('n');
    await waitFor(() => !screenText().includes('Are you sure?'), 5000, 'the question to close');
    expect((await app.analysis.listCacs()).length).toBe(1);
    expect((await app.analysis.list()).length).toBe(1);
    hs.type('d');
    await until('Delete the CAC CAC_1');
    hs.type('y');
    let left = 1;
    await waitFor(() => {
      void app.analysis.listCacs().then((l) => (left = l.length));
      return left === 0;
    }, 5000, 'the CAC to be deleted');
    expect(await app.analysis.list()).toEqual([]);
  });

  it('shows the pages in Korean', async () => {
    const { app, parts, cleanup } = await openTestApp();
    done = cleanup;
    await app.setLanguage('ko');
    hs = headlessScreen(140, 40);
    shell = new Shell(app, hs.screen);
    shell.goTo('autotrade');
    await until('계좌가 없습니다');
    shell.goTo('analysis');
    await until('CAC가 없습니다');
  });
});
