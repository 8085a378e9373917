import { describe, expect, it } from 'vitest';
import { cacToJson, validateCac, validatePip } from '../../../src/core/analysis/cac.js';
import { AnalysisEngine, analyzeBatch } from '../../../src/core/analysis/engine.js';
import { readBar, emptyBar } from '../../../src/core/analysis/indicators/index.js';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { attachNnModel, attachNnModelPlain } from '../../../src/core/nn/attach.js';
import { validateNnConfig, type NnModelData } from '../../../src/core/nn/model.js';
import { runTraining } from '../../../src/core/nn/run.js';
import { builtins, config, engineInput, klinesFromCloses, MIN, T0 } from '../backtest/helpers.js';
import { generateKlines } from '../analysis/data.js';
import { momentumKlines } from './data.js';

/**
 * A hand-set momentum model: logistic regression on the last return, weight 1000, no
 * standardisation: p ≈ 1 after a rise, ≈ 0 after a fall, exactly 0.5 after no change. So PIP's NN
 * signal (nnaAlpha 1, nnaBeta 0.5) is the sign of the last kline's return.
 */
function momentumModel(): NnModelData {
  const config = validateNnConfig({ name: 'MOM', type: 'logreg', features: { indicators: [], lines: [], returns: 1, lags: 0 }, target: { kind: 'sign', horizon: 1 } });
  return { name: 'MOM', version: 1, config, mean: [0], sd: [1], ySd: 1, params: Float64Array.of(1000, 0) };
}

function trainedModel(): NnModelData {
  const config = validateNnConfig({
    name: 'T', type: 'mlp', features: { indicators: ['MFI:n=14', 'SMA:n=10'], lines: ['MFI.norm', 'SMA.value'], lags: 2, returns: 3 },
    target: { kind: 'sign', horizon: 2 }, hidden: [{ size: 6, activation: 'tanh' }], training: { epochs: 3, batchSize: 64, learningRate: 0.01, patience: 0 },
  });
  const k = momentumKlines(1500, 21);
  const v = runTraining({ name: 'T', config, klines: k, range: { symbol: 'X', interval: '1m', from: 0, to: 1 } });
  return { name: 'T', version: 1, config, mean: v.mean, sd: v.sd, ySd: v.ySd, params: v.params };
}

describe('PIP with a neural network model', () => {
  it('validation takes a model reference (NAME or NAME@VERSION) and keeps it in the stored form, never the weights', () => {
    expect(validatePip({ mode: 'nn', nnModel: 'M1@2' })).toMatchObject({ mode: 'nn', nnModel: 'M1@2' });
    expect(() => validatePip({ mode: 'nn_classical' })).toThrow('mode nn_classical needs a neural network model');
    expect(() => validatePip({ mode: 'nn', nnModel: 'a b' })).toThrow('PIP.nnModel: "a b" is not a model name or NAME@VERSION');
    const cac = attachNnModel(validateCac({ indicators: ['SMA'], pip: { mode: 'nn', nnModel: 'MOM' } }), () => momentumModel());
    expect(cac.pip!.nn!.name).toBe('MOM');
    expect(cacToJson(cac).pip).toMatchObject({ mode: 'nn', nnModel: 'MOM' });
    expect(cacToJson(cac).pip).not.toHaveProperty('nn');
    expect(() => attachNnModel(validateCac({ indicators: ['SMA'], pip: { mode: 'nn', nnModel: 'GONE@3' } }), () => undefined)).toThrow('PIP.nnModel: no trained model GONE@3 (version 3)');
    // A model that was not attached is refused when the analysis runs.
    expect(() => analyzeBatch(validateCac({ indicators: ['SMA'], pip: { mode: 'nn', nnModel: 'MOM' } }), generateKlines(10))).toThrow('was not loaded');
  });

  for (const mode of ['nn', 'nn_classical'] as const) {
    it(`streaming equals batch (${mode}, a trained model with indicator inputs, lags and returns)`, () => {
      const model = trainedModel();
      const cac = attachNnModel(validateCac({ indicators: ['SMA:n=5', 'EMA:n=8', 'BOL'], pip: { mode, nnModel: 'T', nnaAlpha: 0.6, nnaBeta: 0.2, csNSamples: 5 } }), () => model);
      const k = generateKlines(3000, 4);
      const batch = analyzeBatch(cac, k);
      const engine = new AnalysisEngine(cac);
      const bar = emptyBar();
      const nnCol = batch.columns.indexOf('PIP.nn');
      const dirCol = batch.columns.indexOf('PIP.direction');
      let values = 0;
      for (let i = 0; i < 3000; i++) {
        const row = engine.update(readBar(k, i, bar));
        for (let c = 0; c < batch.columns.length; c++) expect(Object.is(row[c], batch.values[c][i]), `${batch.columns[c]} at ${i}`).toBe(true);
        if (row[nnCol] === row[nnCol]) values++;
      }
      expect(values).toBeGreaterThan(2900);
      // The model moves the direction: some longs and some shorts.
      const dirs = new Set(batch.values[dirCol]);
      expect(dirs.has(1) && dirs.has(-1)).toBe(true);
      // advance() over blocks, then update(): the same too.
      const mixed = new AnalysisEngine(cac);
      const rows: number[] = [];
      mixed.advance(k, 0, 1700, (cols, len) => {
        for (let j = 0; j < len; j++) rows.push(cols[nnCol][j]);
      });
      for (let i = 1700; i < 3000; i++) rows.push(mixed.update(readBar(k, i, bar))[nnCol]);
      rows.forEach((v, i) => expect(Object.is(v, batch.values[nnCol][i])).toBe(true));
    });
  }

  it('the nn mode changes a backtest\'s trades as expected: ts enters on each turn of a zigzag, in the new direction', () => {
    // Four legs of 20 klines: up, down, up, down (steps of 0.5 % on about 100).
    const closes: number[] = [100];
    for (let leg = 0; leg < 4; leg++) for (let j = 0; j < 20; j++) closes.push(Math.round(closes[closes.length - 1] * (leg % 2 === 0 ? 1.005 : 0.995) * 100) / 100);
    const k = klinesFromCloses(closes);
    const base = { indicators: ['SMA:n=3'], pip: { mode: 'classical', csNSamples: 1, csAt1: 0.3, csAt2: 0.1, nnaAlpha: 1, nnaBeta: 0.5 } };
    const run = (pip: Record<string, unknown>) => {
      const cfg = config({
        account: { initialBalance: '10000', takerFeeRate: '0.0004' },
        positions: [{ symbol: 'BTCUSDT', leverage: 1, strategy: { name: 'ts', params: { side: 'both' }, cac: { ...base, pip: { ...base.pip, ...pip } } } }],
      });
      const input = engineInput(cfg, [k]);
      const withModel = { ...cfg, positions: cfg.positions.map((p) => ({ ...p, strategy: { ...p.strategy, cac: attachNnModelPlain(p.strategy.cac, () => momentumModel()) as typeof p.strategy.cac } })) };
      return runBacktest({ ...input, config: withModel }, { strategies: builtins });
    };
    const classical = run({});
    const nn = run({ mode: 'nn', nnModel: 'MOM' });
    // NN: the first return (kline 1) is a rise → long on its close; each turn (klines 21, 41, 61)
    // gives an impulse the other way: the cycle ends and the new one starts on the same close;
    // fills at the next kline's open.
    const entries = nn.trades.map((t) => [t.side, (t.entryTime - T0) / MIN]);
    expect(entries).toEqual([
      ['LONG', 2],
      ['SHORT', 22],
      ['LONG', 42],
    ]);
    expect(nn.trades.map((t) => (t.exitTime - T0) / MIN)).toEqual([22, 42, 62]);
    // The fourth cycle (short from kline 62) is still open at the end: its fill is the last.
    expect(nn.fills.at(-1)).toMatchObject({ side: 'SELL', time: T0 + 62 * MIN });
    // Every closed trade made money (each leg is a clean trend the model follows)...
    for (const t of nn.trades.slice(0, 3)) expect(Number(t.pnl)).toBeGreaterThan(0);
    // ...and the classical mode on the same series trades differently.
    expect(classical.trades.map((t) => [t.side, (t.entryTime - T0) / MIN])).not.toEqual(entries);
  });
});
