import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { EventBus } from '../../src/core/bus.js';
import { WorkerPools, sizePools } from '../../src/core/workers/pools.js';
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

describe('WorkerPools (real worker threads)', () => {
  let pools: WorkerPools | undefined;
  beforeAll(() => {
    // Workers run compiled code: make sure dist/ is current.
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });
  afterEach(async () => {
    await pools?.destroy();
    pools = undefined;
  });

  it('starts with no threads, runs tasks on worker threads, and moves typed arrays intact', async () => {
    const bus = new EventBus();
    let changes = 0;
    bus.on('workers.changed', () => changes++);
    pools = new WorkerPools({ sizing: { analysis: 2, simulation: 1 }, idleTimeoutMs: 200, bus });
    expect(pools.stats().map((s) => s.threads)).toEqual([0, 0]);
    const ping = await pools.analysis.run({ kind: 'ping' });
    expect(ping.threadId).toBeGreaterThan(0);
    const values = new Float64Array(100_000).map((_, i) => i * 0.5);
    const sum = await pools.simulation.run({ kind: 'sum', values });
    expect(sum).toEqual({ sum: 0.5 * (99_999 * 100_000) / 2, length: 100_000 });
    expect(changes).toBeGreaterThanOrEqual(4);
    expect(pools.stats()[0].completed).toBe(1);
  });

  it('queues beyond its thread count and reports running and queued tasks', async () => {
    pools = new WorkerPools({ sizing: { analysis: 1, simulation: 1 }, idleTimeoutMs: 200 });
    const tasks = [0, 1, 2].map(() => pools!.analysis.run({ kind: 'spin', ms: 300 }));
    await waitFor(() => pools!.analysis.stats().threads === 1, 5000, 'a thread to start');
    const during = pools.analysis.stats();
    expect(during.running + during.queued).toBe(3);
    expect(during.queued).toBeGreaterThanOrEqual(1);
    const results = await Promise.all(tasks);
    expect(new Set(results.map((r) => r.threadId)).size).toBe(1); // one thread did all three
    expect(pools.analysis.stats()).toMatchObject({ running: 0, queued: 0, completed: 3 });
  });

  it('shrinks to zero threads when idle', async () => {
    pools = new WorkerPools({ sizing: { analysis: 2, simulation: 1 }, idleTimeoutMs: 100 });
    await Promise.all([pools.analysis.run({ kind: 'spin', ms: 50 }), pools.analysis.run({ kind: 'spin', ms: 50 })]);
    expect(pools.analysis.stats().threads).toBeGreaterThan(0);
    await waitFor(() => pools!.analysis.stats().threads === 0, 5000, 'idle threads to exit');
  });

  it('survives a worker that dies: the task fails, the next one runs', async () => {
    pools = new WorkerPools({ sizing: { analysis: 1, simulation: 1 }, idleTimeoutMs: 200 });
    await expect(pools.analysis.run({ kind: 'crash' })).rejects.toThrow();
    const ping = await pools.analysis.run({ kind: 'ping' });
    expect(ping.threadId).toBeGreaterThan(0);
    expect(pools.analysis.stats()).toMatchObject({ failed: 1, completed: 1 });
  });
});
