import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { CollectorGapStore } from '../../src/db/collectorStore.js';
import { tempHome } from '../helpers/app.js';
import { TmuxSession, hasTmux } from '../helpers/tmux.js';
import { waitFor } from '../helpers/wait.js';
import { finish, simConfig, startAtm, startSim, type SimProcess } from './processes.js';

/**
 * Issue 14: the TUI started (and restarted) while `atm collect` runs does not collect but shows
 * the collector's state on the Dashboard; nothing is missed meanwhile; once `atm collect` stops,
 * the TUI takes the collection over.
 */
describe('the TUI beside atm collect (tmux)', () => {
  const tmp = tempHome('atm-e2e-collect-tui-');
  const home = join(tmp.home, 'home');
  let sim: SimProcess;
  let config: string;
  let session: TmuxSession | undefined;

  beforeAll(async () => {
    if (!hasTmux()) throw new Error('tmux is required for the end-to-end tests (.ci/run installs it)');
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    sim = await startSim(['--speed', '60', '--history', '1', '--symbols', 'BTCUSDT,ETHUSDT', '--seed', '9']);
    config = join(tmp.home, 'collect.yaml');
    writeFileSync(config, simConfig(sim) + ['market:', '  collect:', '    symbols: [BTCUSDT, ETHUSDT]', '    backfillDays: 0', ''].join('\n'));
  }, 120_000);

  afterAll(async () => {
    session?.kill();
    await sim?.stop();
    tmp.cleanup();
  });

  const tui = () => new TmuxSession(['node', 'bin/atm.js', '--home', home, '--config', config], { width: 160, height: 40 });

  it('shows atm collect on the Dashboard across a TUI restart, misses nothing, and takes over when it stops', async () => {
    const collector = startAtm(['--home', home, '--config', config, 'collect']);
    try {
      await waitFor(() => /collecting 2 symbols/.test(collector.stdout()) || collector.child.exitCode !== null, 60_000, 'the collector to start');
      const pid = collector.child.pid!;
      for (let run = 0; run < 2; run++) {
        session = tui();
        session.start();
        const screen = await session.waitForText(`atm collect (pid ${pid})`, 30_000);
        expect(screen).toMatch(/last heartbeat \d+s ago/);
        await session.waitForText('symbols 2 (0 behind)', 30_000);
        session.send('q', true);
        await session.waitForText('[exited 0]', 15_000);
        session.kill();
        session = undefined;
      }
      collector.child.kill('SIGTERM');
      const stopped = await finish(collector, 30_000, 'atm collect');
      expect(stopped.code).toBe(0);

      // nobody holds the lease now: a TUI collects itself
      session = tui();
      session.start();
      await session.waitForText('collecting in this process', 40_000);
      await session.waitForText('symbols 2 (0 behind)', 30_000);
      session.send('q', true);
      await session.waitForText('[exited 0]', 15_000);
    } finally {
      if (collector.child.exitCode === null) collector.child.kill('SIGKILL');
    }
    const db = openDatabase(join(home, 'atm.sqlite'), { readonly: true });
    try {
      const store = new KlineStore(db);
      for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
        const info = store.series(symbol).find((s) => s.interval === '1m')!;
        expect({ symbol, missing: info.missing }).toEqual({ symbol, missing: 0 });
      }
      // the TUI restarts cost nothing: the only collector_stopped gaps are the TUI's takeover after atm collect stopped
      const gaps = new CollectorGapStore(db).list();
      for (const g of gaps) if (g.cause !== 'exchange_missing') expect(g.filledAt).toBeDefined();
      expect(gaps.filter((g) => g.cause === 'collector_stopped').length).toBeLessThanOrEqual(2);
    } finally {
      await db.close();
    }
  }, 300_000);
});
