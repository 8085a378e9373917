import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { tempHome } from '../helpers/app.js';

/** An SGR (1006) mouse press and release at 0-based cell (x, y), as a terminal reports a click. */
const click = (x: number, y: number) => `\x1b[<0;${x + 1};${y + 1}M\x1b[<0;${x + 1};${y + 1}m`;

describe('the mouse in a real terminal (tmux)', () => {
  const tmp = tempHome('atm-e2e-mouse-');
  let session: TmuxSession;

  beforeAll(() => {
    if (!hasTmux()) throw new Error('tmux is required for the end-to-end tests (.ci/run installs it)');
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    session = new TmuxSession(['node', 'bin/atm.js', '--home', tmp.home, '--exchange', 'sim'], { width: 180, height: 40 });
    session.start();
  });

  afterAll(() => {
    session?.kill();
    tmp.cleanup();
  });

  it('a click on a tab opens its page; the keys still work', async () => {
    const screen = await session.waitForText('[1 Dashboard]');
    const header = screen.split('\n')[0];
    // the program asked the terminal for mouse reports (what makes a real terminal send clicks)
    expect(session.display('#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}')).toMatch(/1/);
    expect(session.display('#{mouse_sgr_flag}')).toBe('1');
    session.send(click(header.indexOf('6 Market') + 1, 0), true);
    await session.waitForText('[6 Market]');
    session.send(click(header.indexOf('0 Settings') + 1, 0), true);
    await session.waitForText('[0 Settings]');
    session.send('1', true);
    await session.waitForText('[1 Dashboard]');
    session.send('q', true);
    await session.waitForText('[exited 0]');
    // and on quitting gave the terminal back without mouse reporting
    expect(session.display('#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}')).toBe('0000');
  });
});
