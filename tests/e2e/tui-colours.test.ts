import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { tempHome } from '../helpers/app.js';

/** Every SGR colour the pane holds: 'fg:239', 'bg:6', 'fg:rgb'... */
function sgrColours(pane: string): Set<string> {
  const found = new Set<string>();
  for (const match of pane.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const params = match[1].split(';').map(Number);
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if ((p === 38 || p === 48) && params[i + 1] === 5) {
        found.add(`${p === 38 ? 'fg' : 'bg'}:${params[i + 2]}`);
        i += 2;
      } else if ((p === 38 || p === 48) && params[i + 1] === 2) {
        found.add(`${p === 38 ? 'fg' : 'bg'}:rgb`);
        i += 4;
      } else if (p >= 30 && p <= 37) found.add(`fg:${p - 30}`);
      else if (p >= 40 && p <= 47) found.add(`bg:${p - 40}`);
      else if (p >= 90 && p <= 97) found.add(`fg:${p - 90 + 8}`);
      else if (p >= 100 && p <= 107) found.add(`bg:${p - 100 + 8}`);
    }
  }
  return found;
}

const beyond16 = (colours: Set<string>) => [...colours].filter((c) => c.endsWith(':rgb') || Number(c.split(':')[1]) >= 16);

describe('colours in a real terminal (tmux, capture-pane -e)', () => {
  let session: TmuxSession | undefined;
  let tmp: ReturnType<typeof tempHome> | undefined;

  beforeAll(() => {
    if (!hasTmux()) throw new Error('tmux is required for the end-to-end tests (.ci/run installs it)');
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  afterEach(() => {
    session?.kill();
    tmp?.cleanup();
    session = undefined;
  });

  let pane = '';

  async function open(env: Record<string, string>, theme?: string): Promise<Set<string>> {
    tmp = tempHome('atm-e2e-colours-');
    if (theme) writeFileSync(join(tmp.home, 'config.yaml'), `theme: ${theme}\n`);
    session = new TmuxSession(['node', 'bin/atm.js', '--home', tmp.home, '--exchange', 'sim'], { width: 120, height: 30, env });
    session.start();
    await session.waitForText('Worker pools');
    await session.waitForText(/\d\d:\d\d:\d\d UTC/);
    pane = session.captureEscapes();
    return sgrColours(pane);
  }

  it('draws the dark theme in 256 colours: the border #4e4e4e is colour 239, not black', async () => {
    const colours = await open({ TERM: 'xterm-256color', COLORTERM: '' }); // not the environment's
    expect(colours.has('fg:239')).toBe(true); // border #4e4e4e
    expect(colours.has('fg:75')).toBe(true); // accent #5fafff (panel labels)
    expect(pane).toMatch(/\x1b\[38;5;239m┌/); // the panel's corner is drawn in the border colour
    expect(pane).not.toMatch(/\x1b\[30m┌/); // not black on the default background
    expect(beyond16(colours).length).toBeGreaterThan(2);
  });

  it('sends the theme colours as 24-bit RGB where COLORTERM says truecolor', async () => {
    const colours = await open({ TERM: 'xterm-256color', COLORTERM: 'truecolor' });
    expect(pane).toMatch(/\x1b\[38;2;78;78;78m┌/); // the border #4e4e4e, exactly
    expect(pane).not.toMatch(/38;5;/);
    expect(colours.has('fg:rgb')).toBe(true);
  });

  it('keeps to the 16 basic colours with the basic16 theme', async () => {
    const colours = await open({ TERM: 'xterm-256color', COLORTERM: 'truecolor' }, 'basic16');
    expect(colours.size).toBeGreaterThan(2);
    expect(beyond16(colours)).toEqual([]);
  });

  it('falls back to basic16 on an 8-colour terminal (TERM=xterm) instead of folding greys into black', async () => {
    const colours = await open({ TERM: 'xterm', COLORTERM: '' });
    expect(colours.size).toBeGreaterThan(2);
    expect(beyond16(colours)).toEqual([]);
    expect(colours.has('fg:6')).toBe(true); // basic16 accent: cyan
  });
});
