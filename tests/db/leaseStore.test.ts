import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseHeldError } from '../../src/core/leases.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { LeaseStore, processAlive } from '../../src/db/leaseStore.js';
import { tempHome } from '../helpers/app.js';

/** The pid of a process that has exited (a short-lived child). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(child.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

describe('LeaseStore', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<Database> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    return db;
  }

  it('lets one holder at a time take a lease and names the holder to the second', async () => {
    const db = await open();
    const a = new LeaseStore(db);
    const lease = a.acquire('collector', { label: 'atm collect' });
    expect(lease.heartbeat({ symbols: 20 })).toBe(true);
    const other = new LeaseStore(db);
    let refused: unknown;
    try {
      other.acquire('collector', { label: 'atm (TUI)' });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as Error).message).toContain('atm collect');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);
    expect(other.holder('collector')?.status).toEqual({ symbols: 20 });
    expect(other.list('coll').map((h) => h.name)).toEqual(['collector']);
    expect(other.list('trader:')).toEqual([]);
    lease.release();
    expect(other.holder('collector')).toBeUndefined();
    const second = other.acquire('collector', { label: 'atm (TUI)' });
    expect(other.holder('collector')?.label).toBe('atm (TUI)');
    second.release();
  });

  it('takes over a lease whose holder process is gone, and the old holder learns it lost it', async () => {
    const db = await open();
    const gone = new LeaseStore(db, Date.now, deadPid());
    const stale = gone.acquire('trader:1', { label: 'atm trade --account main' });
    const mine = new LeaseStore(db);
    expect(mine.holder('trader:1')).toBeUndefined();
    const lease = mine.acquire('trader:1', { label: 'atm trade --account main' });
    expect(mine.holder('trader:1')?.pid).toBe(process.pid);
    expect(stale.heartbeat()).toBe(false);
    stale.release(); // must not free the new holder's lease
    expect(mine.holder('trader:1')?.pid).toBe(process.pid);
    lease.release();
  });

  it('frees a lease whose heartbeat is older than its time-to-live, and not before', async () => {
    const db = await open();
    let now = 1_000_000;
    const a = new LeaseStore(db, () => now);
    const lease = a.acquire('collector', { label: 'atm collect', ttlMs: 5_000 });
    now += 4_000;
    expect(() => a.acquire('collector', { label: 'x' })).toThrow(LeaseHeldError);
    expect(lease.heartbeat()).toBe(true);
    now += 4_000; // 4 s after the heartbeat: still held
    expect(a.holder('collector')).toBeDefined();
    now += 2_000; // 6 s: expired
    expect(a.holder('collector')).toBeUndefined();
    a.acquire('collector', { label: 'new' });
    expect(a.holder('collector')?.label).toBe('new');
  });
});
