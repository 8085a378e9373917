import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';
import { generateKlines, toKlines } from '../../core/analysis/data.js';

beforeAll(() => {
  // The analyses run in worker threads, from dist/ (tsc emits even if another area has a type error).
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  } catch {
    /* emitted anyway */
  }
}, 120_000);

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const minute = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

describe('analysis lifecycle in the TUI (headless, real workers)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  /** Three analyses (EMA on BTCUSDT 1m, ETHUSDT 1m, BTCUSDT 3m) over 300 stored klines each. */
  async function start(): Promise<void> {
    const k = generateKlines(300, 5);
    for (let i = 0; i < 300; i++) k.openTime[i] = T0 + i * MIN;
    const all = toKlines(k);
    h = await new ShellHarness().start({
      width: 200, height: 55,
      seed: (_app, parts) => {
        parts.klines.insert('BTCUSDT', '1m', all);
        parts.klines.insert('ETHUSDT', '1m', all);
      },
    });
    const saved = await h.app.analysis.saveCac({ name: 'LIFE', indicators: ['EMA:n=5'] });
    await h.app.analysis.createAnalysis(saved.id, 'BTCUSDT', '1m');
    await h.app.analysis.createAnalysis(saved.id, 'ETHUSDT', '1m');
  }

  it('s stops the charted analysis: the chart says stopped and r resumes it', async () => {
    await start();
    h.shell.goTo('analysis');
    await h.until('#2 LIFE ETHUSDT 1m running', 10_000);
    h.press('f'); // the analysis list
    h.press('\r'); // chart #1
    await h.until(minute(T0 + 299 * MIN), 10_000);
    h.press('s');
    let screen = await h.until('Analysis #1 is stopped', 10_000);
    expect(screen).toContain('#1 LIFE BTCUSDT 1m stopped');
    expect(screen).toContain('Press r to resume it');
    expect(screen).not.toContain('no output yet');
    h.press('r');
    screen = await h.until('#1 LIFE BTCUSDT 1m running', 10_000);
    screen = await h.until(minute(T0 + 299 * MIN), 10_000); // the chart is back
    expect(screen).not.toContain('is stopped');
    const list = await h.app.analysis.list();
    expect(list.find((a) => a.id === 1)?.liveState).toBe('running');
  }, 60_000);

  it('AutoTrade Enter opens Currency Analysis on the analysis selected, not another', async () => {
    await start();
    h.press('3');
    await h.until(/ETHUSDT\s+1m/, 10_000);
    h.press('j'); // the second row: #2 ETHUSDT
    h.press('\r');
    const screen = await h.until('[4 Currency Analysis]', 10_000);
    expect(screen).toContain('[4 Currency Analysis]');
    await h.until(/#2 · ETHUSDT|ETHUSDT 1m · LIFE/, 10_000);
    const text = await h.until(minute(T0 + 299 * MIN), 10_000);
    expect(text).toContain('#2 LIFE ETHUSDT 1m running ◆'); // the diamond marks the charted one
    expect(text).not.toContain('#1 LIFE BTCUSDT 1m running ◆');
  }, 60_000);

  it('] and [ draw the analysis at longer intervals and back; [ at its own says why not shorter', async () => {
    await start();
    h.shell.goTo('analysis');
    await h.until('#2 LIFE ETHUSDT 1m running', 10_000);
    h.press('f');
    h.press('\r'); // chart #1 (BTCUSDT 1m)
    await h.until(minute(T0 + 299 * MIN), 10_000);
    let screen = h.press(']');
    expect(screen).toContain('BTCUSDT 3m · LIFE');
    expect(screen).toContain(minute(T0 + 297 * MIN)); // the last 3m candle, where the view was
    screen = h.press(']');
    expect(screen).toContain('BTCUSDT 5m · LIFE');
    screen = h.press('[');
    screen = h.press('[');
    expect(screen).toContain('BTCUSDT 1m · LIFE');
    screen = h.press('[');
    expect(screen).toContain('this analysis is computed at 1m');
  }, 60_000);
});
