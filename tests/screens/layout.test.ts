import { afterEach, describe, expect, it } from 'vitest';
import { klinesFromRows } from '../../src/core/market/klines.js';
import { MIN_HEIGHT, MIN_WIDTH } from '../../src/screens/shell.js';
import { PAGE_IDS } from '../../src/screens/page.js';
import { ShellHarness } from '../helpers/shell.js';
import { makeRows } from '../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);
const SIZES = [[200, 55], [80, 24], [60, 15]] as const;

/** The panels' top and bottom borders on a row: each run from a corner to its corner, nothing between. */
const BORDER_ROW = { top: /^(┌[^┐]*┐)+$/, bottom: /^(└─+┘)+$/ };

describe('every page at 200x55, 80x24 and 60x15 (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of SIZES) {
    it(`${width}x${height}: panels fit without overlapping, rows do not wrap, and ? help shows`, async () => {
      h = await new ShellHarness().start({
        width, height,
        seed: (_app, parts) => parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 5, 2.0))),
      });
      for (const [i, id] of PAGE_IDS.entries()) {
        const key = String((i + 1) % 10);
        h.press(key);
        const lines = h.hs.text();
        const where = `${id} at ${width}x${height}:\n${lines.join('\n')}`;
        expect(lines, where).toHaveLength(height);
        for (const line of lines) expect(line.length, where).toBeLessThanOrEqual(width);
        expect(lines[height - 1], where).toContain('? help');
        expect(lines[0], where).toContain(`[${key} `);
        if (width < MIN_WIDTH || height < MIN_HEIGHT) {
          // below the minimum the page is not drawn: it says so, with both sizes
          expect(lines.join('\n'), where).toContain(`This terminal is ${width}×${height}; atm needs at least ${MIN_WIDTH}×${MIN_HEIGHT}`);
          expect(lines.slice(1, -1).join('\n'), where).not.toMatch(/[┌┐└┘│]/);
          continue;
        }
        expect(lines[1], where).toMatch(BORDER_ROW.top);
        expect(lines[height - 2], where).toMatch(BORDER_ROW.bottom);
        // every body row is framed: starts and ends with a vertical or a corner (no panel overlaps another's edge)
        for (const line of lines.slice(1, height - 1)) expect(line, where).toMatch(/^[│┌└].*[│┐┘]$/);
      }
    });
  }

  it('at 80x24 tables drop whole columns instead of wrapping rows', async () => {
    h = await new ShellHarness().start({ width: 80, height: 24 });
    let lines = h.hs.text();
    const poolHead = lines.findIndex((l) => l.includes('│pool '));
    expect(lines[poolHead]).toContain('running');
    expect(lines[poolHead]).not.toContain('failed'); // dropped, not wrapped
    expect(lines[poolHead + 1]).toMatch(/│analysis\s+\d+\s+\d+\s+\d+\s+│$/);
    h.press('3');
    lines = h.hs.text();
    const head = lines.findIndex((l) => l.includes('ID CAC'));
    expect(lines[head]).toMatch(/Symbol\s+Int\.\s+State/);
    expect(lines[head + 1]).toMatch(/^│\s+│$/); // the next row is empty: the header did not wrap
  });

  it('at 80x24 the Market page collapses the order book and gives the chart the room', async () => {
    h = await new ShellHarness().start({
      width: 80, height: 24,
      seed: (_app, parts) => parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 2 * 1440, '1m', 5, 2.0))),
    });
    h.press('6');
    await h.until('ETHUSDT · 1m');
    const lines = h.hs.text();
    expect(lines[1]).not.toContain('Order book');
    const chartTop = lines[1].indexOf('┌─ ETHUSDT');
    expect(lines[1].length - chartTop).toBeGreaterThanOrEqual(48);
    expect(lines[2]).toContain('ETHUSDT 1m  2024-01-02 23:59'); // the chart's header is whole
  });
});
