import { afterEach, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';

describe('Dashboard page layout (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  for (const [width, height] of [[200, 55], [80, 24]] as const) {
    it(`${width}x${height}: process, pools, exchange and the log panel (l hides and shows it)`, async () => {
      h = await new ShellHarness().start({ width, height });
      const t = h.app.t;
      h.app.log.warn({ component: 'test' }, 'a line for the log panel');
      let screen = await h.until('a line for the log panel');
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      expect(lines[1]).toContain(t('dashboard.process'));
      expect(lines[1]).toContain(t('dashboard.pools'));
      expect(screen).toContain(t('exchange.dashboard.offline').slice(0, 20));
      expect(screen).toContain(t('dashboard.poolNames.analysis'));
      expect(screen).toMatch(/WARN\s+\[test\] a line for the log panel/);
      screen = h.press('l');
      expect(screen).not.toContain('a line for the log panel');
      screen = h.press('l');
      expect(screen).toContain('a line for the log panel');
    });
  }
});
