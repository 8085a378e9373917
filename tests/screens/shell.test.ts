import { afterEach, describe, expect, it } from 'vitest';
import { Shell, paletteSuggestions, resolvePage } from '../../src/screens/shell.js';
import { PAGE_IDS } from '../../src/screens/page.js';
import { bindKeys, defineKeys, displayKey } from '../../src/screens/keys.js';
import { loadTheme, paint } from '../../src/screens/theme.js';
import type { AppOptions } from '../../src/core/app.js';
import { openApp } from '../../src/main/compose.js';
import { waitFor } from '../helpers/screen.js';
import { ShellHarness } from '../helpers/shell.js';

const TITLES_EN = ['Dashboard', 'Accounts', 'AutoTrade', 'Currency Analysis', 'Account History', 'Market', 'Simulation', 'Simulation Result', 'Neural Network', 'Settings'];

describe('TUI shell (headless, real blessed screen)', () => {
  let h: ShellHarness;
  let shell: Shell;
  afterEach(() => h.dispose());

  async function start(width = 160, height = 40, options: Partial<AppOptions> = {}) {
    h = await new ShellHarness().start({ width, height, app: options });
    shell = h.shell;
    return { app: h.app, home: h.home, hs: h.hs, shell: h.shell };
  }
  const press = (data: string) => h.press(data);
  const until = (text: string) => h.until(text);

  it('renders the header tabs, the dashboard and the status bar', async () => {
    const { hs } = await start();
    const lines = hs.text();
    expect(lines[0]).toContain('1 Dashboard');
    expect(lines[0]).toContain('0 Settings');
    expect(lines.join('\n')).toContain('Worker pools');
    expect(lines[lines.length - 1]).toContain('exchange: offline');
    expect(lines[lines.length - 1]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // Plain Unicode line drawing, no ACS letters.
    expect(lines[1]).toMatch(/^┌─/);
  });

  it('reaches every page with the number keys, and with Tab / Shift-Tab', async () => {
    const { shell } = await start();
    for (let i = 0; i < PAGE_IDS.length; i++) {
      const key = String((i + 1) % 10);
      const text = press(key);
      expect(shell.currentPage).toBe(PAGE_IDS[i]);
      expect(text.split('\n')[0]).toContain(`[${key} ${TITLES_EN[i]}]`);
    }
    press('1');
    press('\t');
    expect(shell.currentPage).toBe('accounts');
    press('\x1b'); // Esc: back to the page before
    await waitFor(() => shell.currentPage === 'dashboard', 2000, 'Esc to go back');
    press('\x1b[Z'); // Shift-Tab from the Dashboard wraps to the last page
    expect(shell.currentPage).toBe('settings');
  });

  it('says plainly when a page has no backend yet, with no numbers', async () => {
    await start();
    const text = press('9');
    expect(text).toContain('Not built yet');
    expect(text).toContain('shows no data rather than invented numbers');
  });

  it('opens the help overlay generated from the bindings and closes it with q or Esc', async () => {
    await start();
    let text = press('?');
    expect(text).toContain('Everywhere');
    expect(text).toContain('command palette');
    expect(text).toContain('On this page: Dashboard');
    expect(text).toContain('show or hide the log panel');
    text = press('q'); // closes help, does not quit
    expect(text).not.toContain('Everywhere');
    press('0');
    text = press('?');
    expect(text).toContain('On this page: Settings');
    expect(text).toContain('change the value');
    h.hs.type('\x1b');
    await waitFor(() => !h.text().includes('Everywhere'), 2000, 'help to close on Esc');
  });

  it('runs palette commands: go to a page, set the log level, unknown commands are reported', async () => {
    const { app } = await start();
    press(':');
    let text = press('go mar');
    expect(text).toContain('go market');
    press('\r');
    expect(shell!.currentPage).toBe('market');
    press(':');
    press('log debug');
    press('\r');
    expect(app.settings().logLevel).toBe('debug');
    press(':');
    press('frobnicate');
    text = press('\r');
    expect(text).toContain('unknown command: frobnicate');
  });

  it('switches the language to Korean and back at runtime, and saves it', async () => {
    const { app, home } = await start();
    press('0');
    press('\r'); // Enter on "Language" cycles en -> ko
    let text = await until('한국어');
    expect(text).toContain('설정');
    expect(text).toContain('대시보드');
    expect(text).toContain('한국어');
    expect(app.settings().language).toBe('ko');
    // Persisted: a new app on the same data directory starts in Korean.
    const again = await openApp({ home, logSync: true });
    expect(again.settings().language).toBe('ko');
    await again.close();
    press('\r');
    text = await until('Settings');
    expect(text).toContain('Dashboard');
    expect(app.settings().language).toBe('en');
  });

  it('changes theme, bell and log level from the Settings page', async () => {
    const { app } = await start();
    press('0');
    press('j'); // Theme
    press('l');
    expect(app.settings().theme).toBe('light');
    press('h');
    expect(app.settings().theme).toBe('dark');
    press('j'); // Bell on trades
    press(' ');
    expect(app.settings().bellTrade).toBe(false);
    press('j');
    press('j'); // Log level
    press('l');
    expect(app.settings().logLevel).toBe('warn');
  });

  it('asks before quitting while a job runs', async () => {
    const { app } = await start();
    let exited = false;
    (shell as any).options.onExit = () => {
      exited = true;
    };
    const job = app.jobs.start('import BTCUSDT');
    let text = press('q');
    expect(text).toContain('Quit atm?');
    expect(text).toContain('import BTCUSDT');
    text = press('n');
    expect(text).not.toContain('Quit atm?');
    expect(exited).toBe(false);
    job.done();
  });

  it('rings the terminal bell on trade and error events only when enabled, and shows errors', async () => {
    const { app } = await start();
    let rings = 0;
    (h.hs.screen.program as any).bell = () => rings++;
    app.bus.emit('notify', { kind: 'trade', message: 'BTCUSDT filled' }); // bell.trade defaults to on
    expect(rings).toBe(1);
    app.bus.emit('notify', { kind: 'error', message: 'order rejected: -2019 margin is insufficient' }); // bell.error off
    expect(rings).toBe(1);
    expect(h.text()).toContain('order rejected: -2019 margin is insufficient');
    app.setBell('error', true);
    app.setBell('trade', false);
    app.bus.emit('notify', { kind: 'error', message: 'x' });
    app.bus.emit('notify', { kind: 'trade', message: 'y' });
    expect(rings).toBe(2);
  });

  it('redraws cleanly on resize, with short tab names when narrow', async () => {
    const { hs } = await start(80, 24);
    expect(hs.text()[0]).toContain('1 Dash');
    expect(hs.text()[0]).toContain('0 Set');
  });
});

describe('key bindings and themes', () => {
  it('drops dangerous bindings in read-only mode', () => {
    const keys = defineKeys({
      view: { keys: ['v'], label: 'keys.up' },
      buy: { keys: ['b'], label: 'keys.up', dangerous: true },
    });
    const actions = { view: () => {}, buy: () => {} };
    expect(bindKeys(keys, actions, false).map((b) => b.id)).toEqual(['view', 'buy']);
    expect(bindKeys(keys, actions, true).map((b) => b.id)).toEqual(['view']);
  });

  it('shows keys the way people write them', () => {
    expect(displayKey('S-g')).toBe('G');
    expect(displayKey('C-c')).toBe('Ctrl-C');
    expect(displayKey('escape')).toBe('Esc');
    expect(displayKey('S-tab')).toBe('Shift-Tab');
  });

  it('respects NO_COLOR', () => {
    const colored = loadTheme('dark', {});
    const plain = loadTheme('dark', { NO_COLOR: '1' });
    expect(paint(colored, 'up', 'x')).toContain('-fg}');
    expect(paint(plain, 'up', 'x')).toBe('x');
    expect(plain.color).toBe(false);
  });

  it('completes palette commands and resolves pages by number, id and title', () => {
    expect(paletteSuggestions('th')).toEqual(['theme dark', 'theme light', 'theme basic16']);
    expect(paletteSuggestions('go set')).toEqual(['go settings']);
    const title = (id: string) => ({ analysis: 'Currency Analysis' })[id] ?? id;
    expect(resolvePage('0', title as any)).toBe('settings');
    expect(resolvePage('currency analysis', title as any)).toBe('analysis');
    expect(resolvePage('nope', title as any)).toBeUndefined();
  });
});
