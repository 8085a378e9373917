import { afterEach, describe, expect, it } from 'vitest';
import { Shell } from '../../src/screens/shell.js';
import { headlessScreen, type HeadlessScreen } from '../helpers/screen.js';
import { openTestApp } from '../helpers/app.js';

describe('TUI shell (headless)', () => {
  let hs: HeadlessScreen | undefined;
  let done: (() => Promise<void>) | undefined;
  afterEach(async () => {
    hs?.destroy();
    await done?.();
    hs = undefined;
    done = undefined;
  });

  it('renders the header tabs, the dashboard and the status bar', async () => {
    const { app, cleanup } = await openTestApp();
    done = cleanup;
    hs = headlessScreen(160, 40);
    const shell = new Shell(app, hs.screen);
    shell.renderNow();
    const lines = hs.text();
    expect(lines[0]).toContain('1 Dashboard');
    expect(lines[0]).toContain('0 Settings');
    expect(lines.join('\n')).toContain('Worker pools');
    expect(lines[lines.length - 1]).toContain('exchange: offline');
    expect(lines[lines.length - 1]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    shell.dispose();
  });
});
