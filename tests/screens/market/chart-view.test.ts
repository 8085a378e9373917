import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import { ShellHarness } from '../../helpers/shell.js';
import { makeRows } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('Market chart view across intervals and zoom (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  async function open(): Promise<void> {
    h = await new ShellHarness().start({
      width: 160, height: 40,
      seed: (_app, parts) => parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 3 * 1440, '1m', 5, 2.0))),
    });
    h.press('6');
    await h.until('ETHUSDT · 1m');
  }

  /** The time in the readout (the candle under the cursor). */
  const cursorTime = (screen: string) => /ETHUSDT \d+[mhd]\s+(\d{4}-\d\d-\d\d \d\d:\d\d)/.exec(screen)?.[1];

  it('] and [ keep the time position (g: the first candle stays under the cursor)', async () => {
    await open();
    let screen = h.press('g');
    expect(cursorTime(screen)).toBe('2024-01-01 00:00');
    screen = h.press(']');
    expect(screen).toContain('ETHUSDT · 3m');
    expect(cursorTime(screen)).toBe('2024-01-01 00:00');
    screen = h.press(']');
    expect(screen).toContain('ETHUSDT · 5m');
    expect(cursorTime(screen)).toBe('2024-01-01 00:00');
    screen = h.press('[');
    expect(cursorTime(screen)).toBe('2024-01-01 00:00');
  });

  it('keeps the zoom as a time span: 8 x 1m per column becomes 1 x 5m... not 8 x 5m', async () => {
    await open();
    h.press('-');
    h.press('-');
    let screen = h.press('-');
    expect(screen).toContain('8 candles per column');
    screen = h.press(']'); // 3m: 8 minutes per column is about 2 candles of 3m
    expect(screen).toMatch(/ETHUSDT · 3m · 2 candles per column/);
    screen = h.press(']'); // 5m: about 1.6, so 1 or 2
    expect(screen).not.toContain('8 candles per column');
  });

  it('+ at the deepest zoom says so', async () => {
    await open();
    const screen = h.press('+');
    expect(screen).toContain('zoomed in fully: one candle per column');
  });
});
