import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { sizePools } from '../../src/core/workers/pool.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { waitFor } from '../helpers/screen.js';

describe('sizePools', () => {
  it('splits the threads by the analyzer ratio, each pool at least one', () => {
    expect(sizePools(8, 0.5)).toEqual({ analysis: 4, simulation: 4 });
    expect(sizePools(8, 0.75)).toEqual({ analysis: 6, simulation: 2 });
    expect(sizePools(4, 1)).toEqual({ analysis: 4, simulation: 1 });
    expect(sizePools(4, 0)).toEqual({ analysis: 1, simulation: 3 });
    expect(sizePools('auto', 0.5, 2)).toEqual({ analysis: 1, simulation: 1 });
    expect(sizePools('auto', 0.5, 16)).toEqual({ analysis: 8, simulation: 7 });
  });
});

describe('WorkerPool (real worker threads)', () => {
  let pool: WorkerPool | undefined;
  beforeAll(() => {
    // Workers run compiled code: make sure dist/ is current.
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });
  afterEach(async () => {
    await pool?.destroy();
    pool = undefined;
  });

  it('starts with no threads, runs tasks on worker threads, and moves typed arrays intact', async () => {
    let changes = 0;
    pool = new WorkerPool({ name: 'simulation', size: 2, idleTimeoutMs: 200, onChange: () => changes++ });
    expect(pool.stats().threads).toBe(0);
    const ping = await pool.run({ kind: 'ping' });
    expect(ping.threadId).toBeGreaterThan(0);
    const values = new Float64Array(100_000).map((_, i) => i * 0.5);
    const sum = await pool.run({ kind: 'sum', values }, { transfer: [values.buffer] });
    expect(sum).toEqual({ sum: 0.5 * (99_999 * 100_000) / 2, length: 100_000 });
    expect(values.length).toBe(0); // moved, not copied
    expect(changes).toBeGreaterThanOrEqual(4);
    expect(pool.stats()).toMatchObject({ completed: 2, running: 0, queued: 0 });
  });

  it('queues beyond its thread count and reports running and queued tasks', async () => {
    pool = new WorkerPool({ name: 'analysis', size: 1, idleTimeoutMs: 200 });
    const tasks = [0, 1, 2].map(() => pool!.run({ kind: 'spin', ms: 300 }));
    await waitFor(() => pool!.stats().threads === 1, 5000, 'a thread to start');
    const during = pool.stats();
    expect(during.running).toBe(1);
    expect(during.queued).toBe(2);
    const results = await Promise.all(tasks);
    expect(new Set(results.map((r) => r.threadId)).size).toBe(1); // one thread did all three
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0, completed: 3 });
  });

  it('pinned (slot) tasks and free tasks share one thread budget', async () => {
    pool = new WorkerPool({ name: 'analysis', size: 2, idleTimeoutMs: 5000 });
    pool.hold(0);
    const pinned = [pool.runOn(0, { kind: 'spin', ms: 250 }), pool.runOn(0, { kind: 'spin', ms: 250 })];
    const free = [0, 1, 2, 3].map(() => pool!.run({ kind: 'spin', ms: 100 }));
    let most = 0;
    await waitFor(() => {
      most = Math.max(most, pool!.stats().threads);
      return pool!.stats().running === 0 && pool!.stats().queued === 0;
    }, 10_000, 'every task to finish');
    const threads = new Set([...(await Promise.all(pinned)), ...(await Promise.all(free))].map((r) => r.threadId));
    expect(threads.size).toBe(2);
    expect(most).toBeLessThanOrEqual(2);
    expect(pool.stats()).toMatchObject({ maxThreads: 2, completed: 6 });
    // pinned tasks always land on their slot's thread
    const a = await pool.runOn(0, { kind: 'ping' });
    const b = await pool.runOn(0, { kind: 'ping' });
    expect(a.threadId).toBe(b.threadId);
  });

  it('an idle slot ends its thread; a held slot keeps it until released', async () => {
    pool = new WorkerPool({ name: 'analysis', size: 2, idleTimeoutMs: 100 });
    pool.hold(0);
    const held = await pool.runOn(0, { kind: 'ping' });
    await pool.runOn(1, { kind: 'ping' });
    await waitFor(() => pool!.stats().threads === 1, 5000, 'the unheld thread to exit');
    expect((await pool.runOn(0, { kind: 'ping' })).threadId).toBe(held.threadId);
    pool.release(0);
    await waitFor(() => pool!.stats().threads === 0, 5000, 'the released thread to exit');
  });

  it('survives a worker that dies: the task fails, the next one runs on a fresh thread', async () => {
    pool = new WorkerPool({ name: 'analysis', size: 1, idleTimeoutMs: 200 });
    const before = await pool.run({ kind: 'ping' });
    await expect(pool.run({ kind: 'crash' })).rejects.toThrow();
    const after = await pool.run({ kind: 'ping' });
    expect(after.threadId).not.toBe(before.threadId);
    expect(pool.stats()).toMatchObject({ failed: 1, completed: 2 });
  });

  it('refuses unknown task kinds in the worker and rejects waiting tasks when destroyed', async () => {
    pool = new WorkerPool({ name: 'simulation', size: 1, idleTimeoutMs: 200 });
    await expect(pool.run({ kind: 'analysis.list' })).rejects.toThrow(/unknown task kind 'analysis.list'/);
    const busy = pool.run({ kind: 'spin', ms: 200 });
    const waiting = expect(pool.run({ kind: 'ping' })).rejects.toThrow(/closed/);
    await pool.destroy();
    await waiting;
    await busy.catch(() => undefined);
    pool = undefined;
  });
});
