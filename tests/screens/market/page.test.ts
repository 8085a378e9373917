import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import { ShellHarness } from '../../helpers/shell.js';
import { makeRows } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

/** Adds `slope` per kline to every price (kept on the 0.001 tick). */
function trend(rows: ReturnType<typeof makeRows>, slope: number): ReturnType<typeof makeRows> {
  const p = (x: number) => Math.round(x * 1000) / 1000;
  return rows.map((r, i) => ({ ...r, open: p(r.open + slope * i), high: p(r.high + slope * i), low: p(r.low + slope * i), close: p(r.close + slope * i) }));
}

describe('Market page layout (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}`, async () => {
      h = await new ShellHarness().start({
        width, height,
        seed: (_app, parts) => {
          // ETH rises and BTC falls by construction (a trend well above the random walk's spread)
          parts.klines.insert('ETHUSDT', '1m', klinesFromRows(trend(makeRows(T0, 2 * 1440, '1m', 5, 2.0), +0.0002)));
          parts.klines.insert('BTCUSDT', '1m', klinesFromRows(trend(makeRows(T0, 2 * 1440, '1m', 6, 4.0), -0.0002)));
        },
      });
      h.press('6');
      let screen = await h.until('ETHUSDT · 1m');
      const lines = h.hs.text();
      if (process.env.ATM_SHOW) console.log(lines.join('\n'));
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // the panels side by side: symbols (ETH up first), the chart, the book panel's reason when wide
      const eth = lines.findIndex((l) => /^│ETHUSDT\s+\+/.test(l));
      const btc = lines.findIndex((l) => /^│BTCUSDT\s+-/.test(l));
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
