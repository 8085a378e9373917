import { afterEach, describe, expect, it } from 'vitest';
import type { CollectorStatus } from '../../../src/core/market/collector.js';
import { LeaseStore } from '../../../src/db/leaseStore.js';
import { ShellHarness } from '../../helpers/shell.js';

/**
 * The Dashboard's Collector block (headless): with `atm collect` holding the data directory's
 * collector lease, the TUI shows the status that process publishes with its heartbeats, and the
 * age of the last one; with nobody holding it, says so.
 */
describe('Dashboard Collector block (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());
  /** Runs the shell's once-a-second redraw now (what its timer does). */
  const tick = () => (h.shell as unknown as { tickRender(): void }).tickRender();

  const status = (over: Partial<CollectorStatus> = {}): CollectorStatus => ({
    pid: process.ppid, label: 'atm collect', venue: 'binance', startedAt: Date.now() - 60_000, symbols: 20, stale: 1,
    messagesPerSecond: 84, lagMs: 12, rowsToday: 1680, backfilledToday: 8771, openGaps: 1,
    backfill: { symbolsDone: 5, symbols: 20, fraction: 0.25, weightUsed: 400 }, deep: [], ...over,
  });

  it('shows nobody collecting, then the holder of the lease with its published figures and heartbeat age', async () => {
    h = await new ShellHarness().start({ width: 160, height: 40 });
    const t = h.app.t;
    await h.until(t('collector.panel.none'));
    // another process (here: this test's parent, alive) holds the lease; its last heartbeat was 7 s ago
    const other = new LeaseStore(h.parts.db, () => Date.now() - 7000, process.ppid);
    const lease = other.acquire('collector', { label: 'atm collect' });
    lease.heartbeat(status());
    let screen = await h.until(`atm collect (pid ${process.ppid})`);
    expect(screen).toMatch(/last heartbeat [78]s ago/);
    expect(screen).toContain('symbols 20 (1 behind)');
    expect(screen).toContain('84 msg/s, lag 12 ms');
    expect(screen).toContain('open gaps 1');
    expect(screen).toContain('backfill 25% (5/20)');
    // a new heartbeat with new figures is shown on the next once-a-second redraw
    lease.heartbeat(status({ openGaps: 0, backfill: { symbolsDone: 20, symbols: 20, fraction: 1, weightUsed: 900 } }));
    tick();
    screen = await h.until('backfill 100% (20/20)');
    expect(screen).toContain('open gaps 0');
    // released: nobody collects
    lease.release();
    tick();
    await h.until(t('collector.panel.none'));
  });

  it('fits an 80-column terminal', async () => {
    h = await new ShellHarness().start({ width: 80, height: 24 });
    const lease = new LeaseStore(h.parts.db, Date.now, process.ppid).acquire('collector', { label: 'atm collect' });
    lease.heartbeat(status());
    await h.until(`pid ${process.ppid}`);
    for (const line of h.hs.text()) expect(line.length).toBeLessThanOrEqual(80);
    lease.release();
  });
});
