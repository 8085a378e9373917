import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { tempHome } from '../helpers/app.js';
import { makeRows, writeZip, toCsv } from '../core/market/fixtures.js';

/**
 * The market data and analysis features through the real program: archive import and a CAC from
 * the command line, then the Market page and the Currency Analysis page in a real terminal.
 */
describe('market data and analysis in a real terminal (tmux)', () => {
  const tmp = tempHome('atm-e2e-market-');
  let session: TmuxSession;
  const atm = (...args: string[]) => spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8' });

  beforeAll(() => {
    if (!hasTmux()) throw new Error('tmux is required for the end-to-end tests (.ci/run installs it)');
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    // Three days of 1m klines in Binance's archive layout (zip + .CHECKSUM), no header row.
    const rows = makeRows(Date.UTC(2024, 0, 1), 3 * 1440, '1m', 11, 3.5);
    const zip = writeZip(tmp.home, 'FILUSDT-1m-2024-01', toCsv(rows, '1m', false));
    const imported = atm('data', 'import', zip);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('4320 imported');
    const cac = atm('cac', 'save', '--name', 'E2E', '--indicator', 'EMA:n=20', '--indicator', 'DMIXADX:n=14', '--indicator', 'PIP');
    expect(cac.status, cac.stderr).toBe(0);
    const applied = atm('cac', 'apply', 'E2E', '--symbol', 'FILUSDT', '--interval', '1m');
    expect(applied.status, applied.stderr).toBe(0);
    session = new TmuxSession(['node', 'bin/atm.js', '--home', tmp.home, '--exchange', 'sim'], { width: 170, height: 45 });
    session.start();
  }, 60_000);

  afterAll(() => {
    session?.kill();
    tmp.cleanup();
  });

  it('charts the imported symbol on the Market page and the analysis on the Currency Analysis page', async () => {
    await session.waitForText('Worker pools');
    session.send('6', true);
    // Each check waits: a capture may catch a frame while it is being written.
    let screen = await session.waitForText('FILUSDT 1m  2024-01-03 23:59');
    expect(screen).toContain('[6 Market]');
    await session.waitForText('┃'); // candle bodies (heavy verticals; borders are light)
    await session.waitForText(/╵\d\d:\d\d/); // time axis
    session.send(']', true); // next interval: 3m aggregated from 1m
    screen = await session.waitForText('FILUSDT 3m');
    session.send('-', true); // zoom out
    screen = await session.waitForText(/\d+ candles per column/);

    session.send('4', true);
    screen = await session.waitForText('[4 Currency Analysis]');
    expect(screen).toContain('E2E');
    await session.waitForText(/#\d+ E2E FILUSDT 1m/);
    session.send('f', true); // to the analyses list
    await session.waitForText(/Currency analyses ●/);
    session.send('Enter');
    await session.waitForText('FILUSDT 1m · E2E');
    await session.waitForText(/\n│[^\n]*││DMIXADX/); // the oscillator sub-panel under the candles
    await session.waitForText(/[▲▼•]/); // overlay line or PIP markers drawn

    session.send('3', true);
    await session.waitForText('[3 AutoTrade]');
    screen = await session.waitForText(/E2E\s+FILUSDT\s+1m\s.*4320/);
    expect(screen).toContain('running');

    session.send('q', true);
    await session.waitForText('[exited 0]');
  });

  it('left the stored klines intact and verifiable', () => {
    const verify = atm('data', 'verify');
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('FILUSDT 1m: ok, 4320 klines');
  });
});
