import { execFileSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateCac } from '../../src/core/analysis/cac.js';
import { openTestApp } from '../helpers/app.js';
import { MIN, T0, momentumKlines, smallConfig } from '../core/nn/data.js';

// A stored model used by PIP through the app: the backtest and analysis services attach the
// model's plain data to the CAC, and the simulation and analysis workers run it.
describe('PIP nn mode with a stored model, in the workers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  it('a backtest in the simulation worker and a batch analysis in the analysis worker read the model by name and version', async () => {
    const t = await openTestApp();
    cleanups.push(t.cleanup);
    const { app, parts } = t;
    parts.klines.insert('BTCUSDT', '1m', momentumKlines(4000, 5));
    app.nn.create(smallConfig('M1'));
    await app.nn.train('M1', { symbol: 'BTCUSDT', to: T0 + 2999 * MIN });
    await app.nn.train('M1', { symbol: 'BTCUSDT', to: T0 + 1999 * MIN });
    const cac = { indicators: ['SMA:n=5'], pip: { mode: 'nn', nnModel: 'M1@1', nnaAlpha: 1, nnaBeta: 0.2 } };
    const backtest = (nnModel: string) =>
      app.backtest.run(
        { account: { initialBalance: '10000', marginType: 'CROSSED', makerFeeRate: '0.0002', takerFeeRate: '0.0004', slippageBps: 0, allocationRatio: 1 }, positions: [{ symbol: 'BTCUSDT', interval: '1m', leverage: 1, strategy: { name: 'ts', params: { side: 'both' }, cac: { ...cac, pip: { ...cac.pip, nnModel } } }, control: { assumedRatio: 1, priority: 0 } }] } as never,
        { from: T0 + 3000 * MIN },
      );
    const v1 = await backtest('M1@1');
    const v2 = await backtest('M1@2');
    const latest = await backtest('M1');
    expect(v1.summary.trades).toBeGreaterThan(10);
    // Version 2 (trained on less data) has other weights: other trades; the bare name is the latest.
    expect(v2.summary.tradeListHash).not.toBe(v1.summary.tradeListHash);
    expect(latest.summary.tradeListHash).toBe(v2.summary.tradeListHash);
    await expect(backtest('M1@9')).rejects.toThrow('PIP.nnModel: no trained model M1@9');

    const k = parts.klines.loadRange('BTCUSDT', '1m', T0 + 3000 * MIN);
    const result = await app.analysis.runBatch(validateCac(cac), k);
    const nn = result.values[result.columns.indexOf('PIP.nn')];
    expect(nn.filter((v) => v === v).length).toBeGreaterThan(900);
    expect(nn.some((v) => v > 0.2) && nn.some((v) => v < -0.2)).toBe(true);
  }, 120_000);
});
