import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';
import { MIN, T0, momentumKlines, smallConfig } from '../../core/nn/data.js';
import { layersOf, nodeRows, resample } from '../../../src/screens/nn/model.js';

describe('Neural Network page: view model', () => {
  it('summarises a large layer (first nodes, a gap, the last) and resamples curves to the width', () => {
    expect(nodeRows(3, 5)).toEqual([0, 1, 2]);
    expect(nodeRows(64, 6)).toEqual([0, 1, 2, 3, -1, 63]);
    const h = Array.from({ length: 10 }, (_, i) => ({ epoch: i + 1, loss: i, valLoss: i, accuracy: i, valAccuracy: i }));
    expect(resample(h, 'loss', 5)).toEqual([1, 3, 5, 7, 9]);
    expect(resample(h, 'loss', 20)).toHaveLength(10);
  });
});

describe('Neural Network page (headless, training in a real worker)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  for (const [width, height] of [[160, 45], [80, 24]] as const) {
    it(`${width}x${height}: lists models, draws the structure, creates one, trains with live curves, tests, deletes after asking`, async () => {
      h = await new ShellHarness().start({
        width, height,
        seed: (app, parts) => {
          parts.klines.insert('BTCUSDT', '1m', momentumKlines(4000, 5));
          app.nn.create(smallConfig('M1'));
        },
      });
      const { t } = h.app;
      await h.app.nn.train('M1', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN, inProcess: true });
      let screen = h.press('9');
      expect(screen).toContain(t('nnPage.list', { count: 1 }));
      expect(screen).toContain('M1');
      const lines = h.hs.text();
      expect(lines).toHaveLength(height);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      // the structure: 5 inputs, 8 tanh, 1 sigmoid, as columns of nodes
      expect(screen).toContain('●');
      expect(screen).toContain('tanh');
      expect(screen).toContain('sigmoid');
      expect(screen).toContain(t('nnPage.loss'));
      expect(layersOf(h.app.nn.get('M1')!, 5).map((l) => l.size)).toEqual([5, 8, 1]);

      // train again on the same klines in the simulation worker: the curves end at epoch 8/8
      h.press('t');
      screen = await h.until('v2', 60_000);
      expect(screen).toContain('8/8');
      expect(h.app.nn.get('M1')!.versions).toBe(2);

      // out-of-sample test on the klines after the training data
      h.press('x');
      screen = await h.until('after fees', 30_000);
      const test = h.app.nn.get('M1')!.latest!.test!;
      expect(screen).toContain(`accuracy ${(test.accuracy * 100).toFixed(1)}%`);
      expect(h.app.nn.get('M1')!.latest!.test!.accuracy).toBeGreaterThan(0.6);

      // a new model from the example: NN_1, 19 inputs drawn as a summarised column
      screen = h.press('n');
      expect(screen).toContain('NN_1');
      expect(screen).toContain('19');
      expect(screen).toContain('relu');

      // delete asks first
      h.press('d');
      screen = h.press('n');
      expect(h.app.nn.get('NN_1')).toBeDefined();
      h.press('d');
      screen = h.press('y');
      expect(h.app.nn.get('NN_1')).toBeUndefined();
    }, 120_000);
  }
});
