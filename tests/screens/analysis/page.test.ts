import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/core/app.js';
import { getKline, klinesFromRows, type Kline } from '../../../src/core/market/klines.js';
import { ShellHarness } from '../../helpers/shell.js';
import { waitFor } from '../../helpers/screen.js';
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

describe('Currency Analysis page: a closed kline is appended to the chart, not reloaded (headless, real workers)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  /** A running EMA+PIP analysis of 600 stored klines, charted; counts the worker tail requests. */
  async function charted(width: number, height: number): Promise<{ app: App; tails: () => number; next: (i: number) => Kline }> {
    const k = generateKlines(700, 5);
    for (let i = 0; i < 700; i++) k.openTime[i] = T0 + i * MIN;
    const all = toKlines(k);
    h = await new ShellHarness().start({
      width, height,
      seed: (_app, parts) => parts.klines.insert('BTCUSDT', '1m', { ...all, length: 600 }),
    });
    const app = h.app;
    let tails = 0;
    const tail = app.analysis.tail.bind(app.analysis);
    app.analysis.tail = (id, count) => {
      tails++;
      return tail(id, count);
    };
    const saved = await app.analysis.saveCac({ name: 'LIVE', indicators: ['EMA:n=5'], pip: { mode: 'classical' } });
    await app.analysis.createAnalysis(saved.id, 'BTCUSDT', '1m');
    h.shell.goTo('analysis');
    await h.until('#1 LIVE BTCUSDT 1m running', 10_000);
    h.press('f');
    h.press('\r');
    await h.until(minute(T0 + 599 * MIN), 10_000);
    return { app, tails: () => tails, next: (i) => getKline(all, i) };
  }

  /** Stores a closed kline, then announces it as the market data service does. */
  const close = (app: App, kline: Kline) => {
    h.parts.klines.insert('BTCUSDT', '1m', klinesFromRows([kline]));
    app.bus.emit('market.kline', { symbol: 'BTCUSDT', interval: '1m', kline, closed: true });
  };

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: each analysed kline is one more candle and row; a gap reloads once`, async () => {
      const { app, tails, next } = await charted(width, height);
      expect(tails()).toBe(1);
      for (let i = 600; i < 603; i++) {
        close(app, next(i));
        await h.until(minute(T0 + i * MIN), 10_000);
      }
      expect(tails()).toBe(1); // appended: no new tail from the worker
      const screen = h.text();
      expect(screen).toMatch(/[┃╹╻╿╽│]/);
      if (width >= 200) expect(screen).toContain(`C ${next(602).close}`);
      // a kline stored without being announced: the analysis replays over the gap, the chart reloads once
      h.parts.klines.insert('BTCUSDT', '1m', klinesFromRows([next(603)]));
      close(app, next(604));
      await h.until(minute(T0 + 604 * MIN), 10_000);
      await waitFor(() => tails() === 2, 10_000, 'one reload after the gap');
      close(app, next(605));
      await h.until(minute(T0 + 605 * MIN), 10_000);
      expect(tails()).toBe(2);
    }, 60_000);
  }
});
