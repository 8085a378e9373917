import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import { ShellHarness } from '../../helpers/shell.js';
import { makeRows } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('Market page layout (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}`, async () => {
      h = await new ShellHarness().start({
        width, height,
        seed: (_app, parts) => {
          parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 5, 2.0)));
          parts.klines.insert('BTCUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 6, 4.0)));
        },
      });
      h.press('6');
      let screen = await h.until('ETHUSDT · 1m');
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // the panels side by side: symbols (ETH up first), the chart, the book panel's reason when wide
      const eth = lines.findIndex((l) => l.startsWith('│ETHUSDT      +'));
      const btc = lines.findIndex((l) => l.startsWith('│BTCUSDT      -'));
      expect(eth).toBeGreaterThan(0);
      expect(btc).toBe(eth + 1);
      expect(lines[1]).toContain('Symbols (by change)');
      if (width >= 120) {
        expect(lines[1]).toContain('Order book and trades');
        expect(screen).toContain('No exchange connected');
      } else expect(lines[1]).not.toContain('Order book and trades'); // collapsed: the chart takes its room
      expect(screen).toMatch(/┤\d\.\d{3}/); // the price axis
      expect(lines[2]).toContain('ETHUSDT 1m  2024-01-02 23:59');
      // keys work at this size: the next symbol, a longer interval
      screen = h.press('j');
      expect(screen).toContain('BTCUSDT · 1m');
      screen = h.press(']');
      expect(screen).toContain('BTCUSDT · 3m');
    });
  }
});
