import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { tempHome } from '../helpers/app.js';
import { makeRows, writeZip, toCsv } from '../core/market/fixtures.js';

/**
 * The Simulation and Simulation Result pages through the real program: klines imported from the
 * command line, then a small simulation configured in a real terminal, run on the simulation
 * worker pool, saved, and opened in the Result page.
 */
describe('a simulation configured, run and opened in a real terminal (tmux)', () => {
  const tmp = tempHome('atm-e2e-sim-');
  let session: TmuxSession;
  const atm = (...args: string[]) => spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8' });

  beforeAll(() => {
    if (!hasTmux()) throw new Error('tmux is required for the end-to-end tests (.ci/run installs it)');
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    const rows = makeRows(Date.UTC(2024, 0, 1), 3 * 1440, '1m', 17, 3.5);
    const zip = writeZip(tmp.home, 'FILUSDT-1m-2024-01', toCsv(rows, '1m', false));
    const imported = atm('data', 'import', zip);
    expect(imported.status, imported.stderr).toBe(0);
    session = new TmuxSession(['node', 'bin/atm.js', '--home', tmp.home, '--exchange', 'sim'], { width: 160, height: 45 });
    session.start();
  }, 60_000);

  afterAll(() => {
    session?.kill();
    tmp.cleanup();
  });

  it('names it, picks sma-cross, runs it, and shows it on the Result page', async () => {
    await session.waitForText('Worker pools');
    session.send('7', true);
    await session.waitForText('[7 Simulation]');
    let screen = await session.waitForText('‹CROSSED›');
    expect(screen).toMatch(/#1 Symbol\s+FILUSDT/); // the one stored symbol is offered first
    // the name (the first field)
    session.send('Enter');
    await session.waitForText('Enter keeps, Esc drops');
    session.send('C-u');
    session.send('E2E_SIM', true);
    await session.waitForText('E2E_SIM▏');
    session.send('Enter');
    await session.waitForText(/Name \(blank: auto\)\s+E2E_SIM /);
    // the strategy: above the position's account control (assumed ratio, max allocated, priority: the last field);
    // turn it to sma-cross, whose parameters appear
    session.send('G', true);
    for (let i = 0; i < 3; i++) session.send('k', true);
    await session.waitForText(/Strategy\s+‹buy-and-hold›/);
    session.send('l', true);
    await session.waitForText(/Strategy\s+‹sma-cross›/);
    screen = await session.waitForText(/fast\s+10/);
    expect(screen).toMatch(/slow\s+30/);
    // a wrong value is named on its field and nothing runs
    session.send('j', true);
    session.send('Enter');
    await session.waitForText('10▏');
    session.send('C-u');
    session.send('1', true);
    session.send('Enter');
    session.send('r', true);
    await session.waitForText('out of range');
    expect(session.capture()).toContain('Nothing queued');
    // the cursor is on the first field in error
    session.send('Enter');
    await session.waitForText('1▏');
    session.send('C-u');
    session.send('8', true);
    session.send('Enter');
    await session.waitForText(/fast\s+8 /);
    // run it: saved, then shown on the Result page with its configuration
    session.send('r', true);
    screen = await session.waitForText('[8 Simulation Result]', 30_000);
    screen = await session.waitForText('Simulations (1, by date)');
    expect(screen).toContain('E2E_SIM');
    expect(screen).toContain('FILUSDT 1m x1 sma-cross fast=8 slow=30');
  }, 90_000);
});
