import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/core/app.js';
import type { PageId } from '../../src/screens/page.js';
import {
  PALETTE_COMMANDS, availableCommands, paletteCompletions, paletteSuggestions, runPaletteCommand, type PaletteCommand, type PaletteHost,
} from '../../src/screens/palette.js';
import { openTestApp } from '../helpers/app.js';
import { ShellHarness } from '../helpers/shell.js';
import en from '../../locales/en.json' with { type: 'json' };
import ko from '../../locales/ko.json' with { type: 'json' };

/** A host over a real App that records what the commands asked for. */
function host(app: App) {
  const did: string[] = [];
  const h: PaletteHost = {
    app,
    goTo: (id: PageId) => did.push(`go ${id}`),
    quit: () => did.push('quit'),
    help: () => did.push('help'),
    toast: (m) => did.push(`toast ${m}`),
  };
  return { h, did };
}

/** The built-in list plus a dangerous command, as live trading will add. */
const withDangerous: PaletteCommand[] = [
  ...PALETTE_COMMANDS,
  { name: 'live', label: 'palette.commands.help', args: () => ['on', 'off'], dangerous: true, action: (h, arg) => (arg === 'on' || arg === 'off') && (h.toast(`live ${arg}`), true) },
];

describe('palette commands as data', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('completion is generated from the list: one line per argument, or the bare name', () => {
    const all = paletteCompletions();
    expect(all.filter((c) => c.startsWith('go '))).toHaveLength(10);
    expect(all).toContain('quit');
    expect(all).toContain('log trace');
    expect(all).not.toContain('q'); // aliases run but are not offered
    expect(paletteSuggestions('th')).toEqual(['theme dark', 'theme light', 'theme basic16']);
    expect(paletteSuggestions('go set')).toEqual(['go settings']);
    expect(paletteSuggestions('ebu')).toEqual(['log debug']); // contained when no prefix matches
    expect(paletteSuggestions('li', withDangerous)).toEqual(['live on', 'live off']);
  });

  it('--readonly drops the dangerous commands from completion and from what runs', async () => {
    const opened = await openTestApp();
    cleanup = opened.cleanup;
    const readonly = availableCommands(true, withDangerous);
    expect(readonly.map((c) => c.name)).toEqual(PALETTE_COMMANDS.map((c) => c.name));
    expect(paletteSuggestions('live', readonly)).toEqual([]);
    const { h, did } = host(opened.app);
    expect(runPaletteCommand('live on', h, readonly)).toEqual({ kind: 'unknown' });
    expect(runPaletteCommand('live on', h, availableCommands(false, withDangerous))).toEqual({ kind: 'ran' });
    expect(did).toEqual(['toast live on']);
  });

  it('runs a command, an alias or a page name; a bad argument gives the usage; a typo is unknown', async () => {
    const opened = await openTestApp();
    cleanup = opened.cleanup;
    const { h, did } = host(opened.app);
    expect(runPaletteCommand('go 6', h)).toEqual({ kind: 'ran' });
    expect(runPaletteCommand('go analysis', h)).toEqual({ kind: 'ran' });
    expect(runPaletteCommand('settings', h)).toEqual({ kind: 'ran' });
    expect(runPaletteCommand('q', h)).toEqual({ kind: 'ran' });
    expect(runPaletteCommand('log debug', h)).toEqual({ kind: 'ran' });
    expect(opened.app.status().logLevel).toBe('debug');
    expect(runPaletteCommand('log loud', h)).toEqual({ kind: 'usage', label: 'palette.commands.log' });
    expect(runPaletteCommand('go nowhere', h)).toEqual({ kind: 'usage', label: 'palette.commands.go' });
    expect(runPaletteCommand('frobnicate', h)).toEqual({ kind: 'unknown' });
    expect(runPaletteCommand('   ', h)).toEqual({ kind: 'empty' });
    expect(did).toEqual(['go market', 'go analysis', 'go settings', 'quit']);
  });

  it('every command has its help line in both languages', () => {
    const lookup = (o: unknown, key: string) => key.split('.').reduce<unknown>((x, k) => (x as Record<string, unknown> | undefined)?.[k], o);
    for (const c of PALETTE_COMMANDS) {
      expect(typeof lookup(en, c.label), `${c.label} in en`).toBe('string');
      expect(typeof lookup(ko, c.label), `${c.label} in ko`).toBe('string');
    }
  });
});

describe('palette in the shell (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  it('help lists every command from the list; Tab completes from it', async () => {
    h = await new ShellHarness().start({ width: 200, height: 55 });
    let screen = h.press('?');
    for (const c of PALETTE_COMMANDS) expect(screen).toContain(h.app.t(c.label).slice(0, 30));
    h.press('\x1b');
    h.press(':');
    h.press('t');
    h.press('h');
    h.press('\x1b[B'); // the second suggestion
    screen = h.press('\t');
    expect(screen).toContain(': theme light');
    h.press('\r');
    await h.until('Dashboard');
    expect(h.app.config.theme).toBe('light');
  });
});
