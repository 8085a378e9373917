import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { NnStore } from '../../src/db/nnStore.js';
import { WorkerPool } from '../../src/workers/pool.js';
import { NnService } from '../../src/core/nn/service.js';
import type { EpochRecord } from '../../src/core/nn/train.js';
import { tempHome } from '../helpers/app.js';
import { MIN, T0, momentumKlines, smallConfig } from '../core/nn/data.js';

// Training in a real simulation worker: per-epoch progress through the SharedArrayBuffer, a stop
// that keeps the last full epoch, and a resume that ends with the uninterrupted run's weights.
describe('nn.train in the simulation worker', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  async function open(): Promise<NnService> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const klines = new KlineStore(db);
    klines.insert('BTCUSDT', '1m', momentumKlines(3000, 5));
    const pool = new WorkerPool({ name: 'simulation', size: 1, idleTimeoutMs: 1000 });
    cleanups.push(() => pool.destroy());
    return new NnService({ models: new NnStore(db), klines, pool: () => pool, now: Date.now });
  }

  it('streams every epoch in order, stops on abort with a resumable version, resumes to the same weights', async () => {
    const service = await open();
    const epochs = 120;
    service.create(smallConfig('A', { training: { epochs, batchSize: 16, learningRate: 0.005, patience: 0, validation: 0.2 } }));
    service.create(smallConfig('B', { training: { epochs, batchSize: 16, learningRate: 0.005, patience: 0, validation: 0.2 } }));
    const seen: EpochRecord[] = [];
    const whole = await service.train('A', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, onEpoch: (r, planned) => {
      expect(planned).toBe(epochs);
      seen.push(r);
    } });
    expect(whole.finished).toBe(true);
    expect(seen.map((r) => r.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    expect(seen).toEqual(service.version('A')!.record.history);

    const controller = new AbortController();
    const stopped = await service.train('B', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, signal: controller.signal, onEpoch: (r) => {
      if (r.epoch === 2) controller.abort();
    } });
    expect(stopped.finished).toBe(false);
    expect(stopped.epochs).toBeGreaterThanOrEqual(2);
    expect(stopped.epochs).toBeLessThan(epochs);
    const resumedEpochs: number[] = [];
    const resumed = await service.train('B', { resume: true, onEpoch: (r) => resumedEpochs.push(r.epoch) });
    expect(resumed.finished).toBe(true);
    expect(resumedEpochs[0]).toBe(stopped.epochs + 1);
    expect(resumedEpochs.at(-1)).toBe(epochs);
    expect(Array.from(service.version('B')!.params)).toEqual(Array.from(service.version('A')!.params));
  }, 120_000);
});
