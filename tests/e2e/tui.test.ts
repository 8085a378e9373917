import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { tempHome } from '../helpers/app.js';

const PAGES = [
  ['2', 'Accounts'], ['3', 'AutoTrade'], ['4', 'Currency Analysis'], ['5', 'Account History'], ['6', 'Market'],
  ['7', 'Simulation'], ['8', 'Simulation Result'], ['9', 'Neural Network'], ['0', 'Settings'], ['1', 'Dashboard'],
] as const;

describe('atm in a real terminal (tmux)', () => {
  const tmp = tempHome('atm-e2e-');
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

  it('opens, walks every page, shows help, switches to Korean and back, and quits', async () => {
    // Each check waits: a capture may catch a frame while it is being written.
    await session.waitForText('Worker pools');
    await session.waitForText('[1 Dashboard]');
    let screen = await session.waitForText(/\d\d:\d\d:\d\d UTC/);
    expect(screen).not.toMatch(/lqq|qqk/); // line drawing is plain Unicode, not ACS letters

    for (const [key, title] of PAGES) {
      session.send(key, true);
      await session.waitForText(`[${key} ${title}]`);
    }
    session.send('Tab');
    await session.waitForText('[2 Accounts]');
    session.send('BTab');
    await session.waitForText('[1 Dashboard]');

    session.send('?', true);
    await session.waitForText('Everywhere');
    await session.waitForText('command palette');
    session.send('q', true); // closes the help, does not quit
    await session.waitForAbsent('Everywhere');
    await session.waitForText('Worker pools');

    // Korean via the Settings page, then back to English via the command palette.
    session.send('0', true);
    await session.waitForText('[0 Settings]');
    session.send('Enter');
    await session.waitForText('[0 설정]');
    await session.waitForText('대시보드');
    await session.waitForText('한국어');
    session.send(':', true);
    session.send('lang en', true);
    session.send('Enter');
    await session.waitForText('[0 Settings]');
    expect(readFileSync(join(tmp.home, 'config.yaml'), 'utf8')).toMatch(/language: en/);

    session.send(':', true);
    session.send('go market', true);
    session.send('Enter');
    await session.waitForText('[6 Market]');

    session.send('q', true);
    await session.waitForText('[exited 0]');
  });
});
