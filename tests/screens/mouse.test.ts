import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../src/core/market/klines.js';
import { ShellHarness } from '../helpers/shell.js';
import { makeRows } from '../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

/** SGR (1006) mouse reports as a terminal sends them; x and y are 0-based screen cells. */
const click = (x: number, y: number) => `\x1b[<0;${x + 1};${y + 1}M\x1b[<0;${x + 1};${y + 1}m`;
const wheel = (x: number, y: number, down: boolean, ctrl = false) => `\x1b[<${(down ? 65 : 64) + (ctrl ? 16 : 0)};${x + 1};${y + 1}M`;

describe('the mouse (headless): tabs, rows, wheel on lists and charts; keys stay first', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  async function market(): Promise<void> {
    h = await new ShellHarness().start({
      width: 160, height: 40,
      seed: (_app, parts) => {
        parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 5, 2.0)));
        parts.klines.insert('BTCUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 6, 4.0)));
      },
    });
  }

  it('a click on a tab opens its page', async () => {
    await market();
    const header = h.hs.text()[0];
    const x = header.indexOf('6 Market');
    expect(x).toBeGreaterThan(0);
    await h.until('[1 Dashboard]');
    h.hs.type(click(x + 2, 0));
    await h.until('[6 Market]');
    const y = header.indexOf('0 Settings');
    h.hs.type(click(y, 0));
    await h.until('[0 Settings]');
  });

  it('Market: a click on a symbol charts it, the wheel moves through the list', async () => {
    await market();
    h.press('6');
    let screen = await h.until('ETHUSDT · 1m');
    const lines = h.hs.text();
    const btcRow = lines.findIndex((l) => l.startsWith('│BTCUSDT'));
    expect(btcRow).toBeGreaterThan(0);
    h.hs.type(click(3, btcRow));
    screen = await h.until('BTCUSDT · 1m');
    h.hs.type(wheel(3, btcRow, false)); // up: back to ETH
    screen = await h.until('ETHUSDT · 1m');
    expect(screen).toContain('ETHUSDT · 1m');
  });

  it('Market chart: Ctrl+wheel zooms, the wheel pans, a click moves the cursor', async () => {
    await market();
    h.press('6');
    await h.until('ETHUSDT · 1m');
    const lines = h.hs.text();
    const chartRow = Math.floor(lines.length / 2);
    const chartX = lines[1].indexOf('┌─ ETHUSDT') + 10;
    h.hs.type(wheel(chartX, chartRow, true, true)); // Ctrl+wheel down: zoom out
    await h.until('2 candles per column');
    h.hs.type(wheel(chartX, chartRow, false, true)); // Ctrl+wheel up: zoom in
    await h.until(/ETHUSDT · 1m \S/);
    const chart = (h.shell as unknown as { pages: Map<string, { chart: { visibleRange(): { from: number; to: number } | undefined; length: number } }> }).pages.get('market')!.chart;
    const cursorTime = () => /ETHUSDT 1m\s+(\S+ \S+)/.exec(h.text())?.[1];
    const before = cursorTime();
    h.hs.type(click(chartX, chartRow)); // the cursor jumps to the clicked column
    await h.until(/ETHUSDT 1m/);
    expect(cursorTime()).not.toBe(before);
    expect(chart.visibleRange()?.to).toBe(chart.length);
    h.hs.type(wheel(chartX, chartRow, false)); // wheel up: back in time
    h.text();
    expect(chart.visibleRange()!.to).toBeLessThan(chart.length);
  });
});
