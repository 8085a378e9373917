import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { NnStore } from '../../src/db/nnStore.js';
import { NnService } from '../../src/core/nn/service.js';
import { NnPredictor } from '../../src/core/nn/run.js';
import { computeFeatures } from '../../src/core/nn/features.js';
import { tempHome } from '../helpers/app.js';
import { MIN, T0, momentumKlines, smallConfig } from '../core/nn/data.js';

describe('NnStore and NnService (real SQLite, training in process)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(): Promise<{ db: Database; service: NnService; store: NnStore; path: string }> {
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.home, 'atm.sqlite');
    const db = openDatabase(path);
    cleanups.push(() => db.close());
    await migrate(db);
    const klines = new KlineStore(db);
    klines.insert('BTCUSDT', '1m', momentumKlines(4000, 5));
    const store = new NnStore(db);
    const service = new NnService({ models: store, klines, pool: () => { throw new Error('no pool in this test'); }, now: Date.now });
    return { db, service, store, path };
  }

  it('names a blank model NN_<n>, refuses a second model of the same name, lists and removes', async () => {
    const { service } = await open();
    expect(service.create(smallConfig('')).name).toBe('NN_1');
    expect(service.create(smallConfig('')).name).toBe('NN_2');
    expect(() => service.create(smallConfig('NN_1'))).toThrow('a model named NN_1 exists already');
    expect(service.list().map((m) => m.name)).toEqual(['NN_1', 'NN_2']);
    expect(service.remove('NN_1')).toBe(true);
    expect(service.remove('NN_1')).toBe(false);
    expect(service.list().map((m) => m.name)).toEqual(['NN_2']);
  });

  it('a saved and loaded model gives identical outputs; each training is a new version', async () => {
    const { service, db, path } = await open();
    service.create(smallConfig('M1'));
    const s1 = await service.train('M1', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, inProcess: true });
    expect(s1.version).toBe(1);
    expect(s1.finished).toBe(true);
    expect(s1.epochs).toBe(8);
    expect(s1.trainRows).toBeGreaterThan(2000);
    const v1 = service.version('M1')!;
    // Reopen the database: nothing cached.
    await db.close();
    const db2 = openDatabase(path);
    cleanups.push(() => db2.close());
    const again = new NnStore(db2).loadVersion('M1', 1)!;
    expect(again.params).toEqual(v1.params);
    expect(again.mean).toEqual(v1.mean);
    const m = computeFeatures(v1.config.features, v1.config.target, momentumKlines(500, 9));
    const a = new NnPredictor(v1);
    const b = new NnPredictor(again);
    let compared = 0;
    for (let t = 0; t < m.n; t++) {
      if (!m.valid[t]) continue;
      expect(Object.is(b.predict(m.x, t * m.cols), a.predict(m.x, t * m.cols))).toBe(true);
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
    expect(again.record.history).toHaveLength(8);
    expect(again.optimizer?.m.length).toBe(v1.params.length);
  });

  it('learns the momentum signal and tests it out of sample on a later range only', async () => {
    const { service } = await open();
    service.create(smallConfig('M1'));
    await service.train('M1', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, inProcess: true });
    await expect(service.test('M1', { from: T0 + 2500 * MIN, inProcess: true })).rejects.toThrow('--from must be after the training data');
    const test = await service.test('M1', { from: T0 + 3000 * MIN, inProcess: true });
    expect(test.range.from).toBe(T0 + 3000 * MIN);
    expect(test.rows).toBe(999); // 1000 klines, the last one's label is outside the range
    // phi = 0.6: the sign is right about 70 % of the time; an untrained model is near 50 %.
    expect(test.accuracy).toBeGreaterThan(0.62);
    expect(test.grossReturnPct).toBeGreaterThan(test.strategyReturnPct);
    expect(test.trades).toBeGreaterThan(10);
    expect(test.feeRate).toBe(0.0004);
    expect(service.get('M1')!.latest!.test!.accuracy).toBe(test.accuracy);
  });

  it('a stop keeps the last full epoch, resumable; resuming ends where an uninterrupted run ends', async () => {
    const { service } = await open();
    service.create(smallConfig('A'));
    service.create(smallConfig('B'));
    const whole = await service.train('A', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, inProcess: true });
    const controller = new AbortController();
    let epochs = 0;
    const stopped = await service.train('B', {
      symbol: 'BTCUSDT', to: T0 + 2999 * MIN, inProcess: true, signal: controller.signal,
      onEpoch: () => {
        if (++epochs === 3) controller.abort();
      },
    });
    expect(stopped.finished).toBe(false);
    expect(stopped.epochs).toBe(3);
    await expect(service.train('A', { resume: true, inProcess: true })).rejects.toThrow('no stopped training to resume');
    const resumed = await service.train('B', { resume: true, inProcess: true });
    expect(resumed.version).toBe(2);
    expect(resumed.finished).toBe(true);
    expect(resumed.epochs).toBe(8);
    expect(Array.from(service.version('B')!.params)).toEqual(Array.from(service.version('A')!.params));
    expect(service.version('B')!.record.history).toEqual(service.version('A')!.record.history);
    expect(whole.version).toBe(1);
  });

  it('refuses bad configurations with one line naming the field', async () => {
    const { service } = await open();
    expect(() => service.create(smallConfig('X', { hidden: [{ size: 0, activation: 'relu' }] }))).toThrow('model: hidden[0].size: 0 is out of range; allowed: an integer from 1 to 4096');
    expect(() => service.create(smallConfig('X', { features: { indicators: ['MFI'], lines: ['MFI.nope'] } }))).toThrow('features.lines: MFI.nope is not a line of the indicators; they have MFI.value, MFI.norm');
    expect(() => service.create(smallConfig('X', { type: 'cnn' }))).toThrow('type: "cnn" is not allowed; allowed: mlp, logreg');
  });
});
