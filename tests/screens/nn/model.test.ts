import { describe, expect, it } from 'vitest';
import { createI18n, fixedT } from '../../../src/core/i18n.js';
import type { SeriesInfo } from '../../../src/core/market/repository.js';
import { validateNnConfig } from '../../../src/core/nn/model.js';
import { layersOf, ModelList, modelRows, NnForm, parseHidden, splitData, testRangeAfter, TrainingRuns } from '../../../src/screens/nn/model.js';
import { curveChart, curveLines, structureLines } from '../../../src/screens/nn/views.js';

const t = fixedT(createI18n('en'));
const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const series = (symbol: string, rows: number, interval = '1m'): SeriesInfo =>
  ({ symbol, interval, first: T0, last: T0 + (rows - 1) * MIN, rows, missing: 0, bytes: 0, chunks: 0 }) as SeriesInfo;

describe('Neural Network page view model', () => {
  it('builds a valid configuration and data split from the default form, the name left blank for NN_<n>', () => {
    const form = new NnForm([], [series('BTCUSDT', 1000)]);
    const r = form.validate(t);
    expect([...r.errors]).toEqual([]);
    expect(r.config!.name).toBe('');
    expect(r.config!.hidden).toEqual([{ size: 16, activation: 'relu' }, { size: 8, activation: 'relu' }]);
    expect(r.config!.features.lines).toEqual(['MFI.value', 'MFI.norm']); // blank lines: every line of the indicators
    // 1000 klines, 20 % held out: 800 train, the test starts at the next kline and ends at the last
    expect(r.data).toEqual({ symbol: 'BTCUSDT', interval: '1m', from: T0, to: T0 + 799 * MIN, test: { from: T0 + 800 * MIN, to: T0 + 999 * MIN } });
  });

  it('names every bad field at once, each with its reason, and puts nothing on good fields', () => {
    const form = new NnForm([], [series('BTCUSDT', 1000)]);
    form.set('epochs', '0');
    form.set('learningRate', 'fast');
    form.set('hidden', '16:relu x');
    form.set('lines', 'MFI.nope');
    form.set('from', '2024-13-01');
    form.set('testShare', '0.95');
    form.set('seed', '-1');
    const r = form.validate(t);
    expect(r.config).toBeUndefined();
    expect([...r.errors.keys()].sort()).toEqual(['epochs', 'from', 'hidden', 'learningRate', 'lines', 'seed', 'testShare']);
    expect(r.errors.get('epochs')).toContain('out of range');
    expect(r.errors.get('learningRate')).toContain('"fast" is not a number');
    expect(r.errors.get('lines')).toContain('MFI.nope is not a line of the indicators');
    expect(r.errors.get('hidden')).toBe(t('nnPage.error.hidden'));
    expect(r.errors.get('from')).toBe(t('nnPage.error.date'));
    expect(r.errors.get('testShare')).toBe(t('nnPage.error.share'));
  });

  it('refuses a symbol without stored klines of the interval, and an end before the start', () => {
    const form = new NnForm([], [series('BTCUSDT', 1000)]);
    form.set('symbol', 'ethusdt');
    expect(form.values.symbol).toBe('ETHUSDT');
    expect(form.validate(t).errors.get('symbol')).toBe(t('nnPage.error.noKlines', { symbol: 'ETHUSDT', interval: '1m' }));
    form.set('symbol', 'BTCUSDT');
    form.set('from', '2024-01-01 10:00');
    form.set('to', '2024-01-01 09:00');
    expect(form.validate(t).errors.get('to')).toBe(t('nnPage.error.order'));
  });

  it('shows hidden layers for mlp only and momentum for sgd only; a CAC fills the indicators', () => {
    const cac = { name: 'trend', indicators: [{ type: 'SMA', params: { n: 20 } }, { type: 'MFI', params: { n: 9 } }] };
    const form = new NnForm([cac], [series('BTCUSDT', 1000)]);
    const keys = () => form.fields().map((f) => f.key);
    expect(keys()).toContain('hidden');
    expect(keys()).not.toContain('momentum');
    form.cursor = keys().indexOf('type');
    form.cycle(1);
    expect(form.values.type).toBe('logreg');
    expect(keys()).not.toContain('hidden');
    form.set('optimizer', 'sgd');
    expect(keys()).toContain('momentum');
    form.set('cac', 'trend');
    expect(form.values.indicators).toBe('SMA:n=20 MFI:n=9');
    expect(form.availableLines()).toEqual(expect.arrayContaining(['MFI.value', 'MFI.norm']));
    expect(form.availableLines()![0]).toMatch(/^SMA\./);
    form.set('indicators', 'NOPE:x=1');
    expect(form.availableLines()).toBeUndefined();
    form.set('cac', 'trend');
    const r = form.validate(t);
    expect(r.config!.type).toBe('logreg');
    expect(r.config!.hidden).toEqual([]);
    expect(r.config!.features.lines[0]).toMatch(/^SMA\./);
    expect(r.config!.features.lines).toContain('MFI.norm');
    expect(r.config!.features.indicators.map((i) => i.type)).toEqual(['SMA', 'MFI']);
    // the train form shows the data fields only
    form.reset('train', 'M1', { symbol: 'BTCUSDT', interval: '1m' });
    expect(keys()).toEqual(['symbol', 'interval', 'from', 'to', 'testShare']);
    expect(form.validate(t).config).toBeUndefined();
    expect(form.validate(t).data?.symbol).toBe('BTCUSDT');
  });

  it('parses hidden layers and splits ranges by time', () => {
    expect(parseHidden('64 32:tanh,16:sigmoid')).toEqual([{ size: 64, activation: 'relu' }, { size: 32, activation: 'tanh' }, { size: 16, activation: 'sigmoid' }]);
    expect(parseHidden('16:relu x')).toBeUndefined();
    const errors = new Map<string, string>();
    expect(splitData('X', '5m', T0, T0 + 9 * 5 * MIN, 0, errors, t)).toEqual({ symbol: 'X', interval: '5m', from: T0, to: T0 + 45 * MIN, test: undefined });
    expect(splitData('X', '5m', T0, T0 + 9 * 5 * MIN, 0.3, errors, t)!.test).toEqual({ from: T0 + 35 * MIN, to: T0 + 45 * MIN });
    expect(testRangeAfter(T0 + 799 * MIN, '1m', [series('X', 1000)], 'X')).toEqual({ from: T0 + 800 * MIN, to: T0 + 999 * MIN });
    expect(testRangeAfter(T0 + 999 * MIN, '1m', [series('X', 1000)], 'X')).toBeUndefined();
  });

  it('lists models with their live training state and keeps the selection on its model', () => {
    const config = validateNnConfig({ name: 'A', features: { indicators: [], returns: 2 } });
    const info = (name: string, latest: unknown) => ({ id: 1, name, type: 'mlp' as const, config, versions: latest ? 1 : 0, latest: latest as never, createdAt: 0, updatedAt: 0 });
    const test = { accuracy: 0.61, logLoss: 0.65, strategyReturnPct: 3.2 };
    const models = [info('A', null), info('B', { version: 2, finished: true, epochs: 30, valLoss: 0.6, test }), info('C', { version: 1, finished: false, epochs: 4, valLoss: 0.7, test: null })];
    const runs = new TrainingRuns();
    const list = new ModelList();
    list.setRows(modelRows(models, runs), 'B');
    expect(list.rows.map((r) => r.status)).toEqual(['none', 'trained', 'stopped']);
    expect(list.rows[1]).toMatchObject({ version: 2, accuracy: 0.61, logLoss: 0.65, returnPct: 3.2 });
    runs.start('A', 50, undefined);
    runs.epoch('A', { epoch: 1, loss: 0.7, valLoss: 0.69, accuracy: 0.5, valAccuracy: 0.52 });
    runs.epoch('A', { epoch: 2, loss: 0.68, valLoss: 0.68, accuracy: 0.55, valAccuracy: 0.53 });
    list.setRows(modelRows(models.slice().reverse(), runs));
    expect(list.selected()!.name).toBe('B');
    expect(list.rows.find((r) => r.name === 'A')).toMatchObject({ status: 'running', epochs: 2, planned: 50 });
    // an epoch number seen again (a resumed run) replaces what followed it
    runs.epoch('A', { epoch: 2, loss: 0.6, valLoss: 0.6, accuracy: 0.6, valAccuracy: 0.6 });
    expect(runs.get('A')!.history.map((h) => h.loss)).toEqual([0.7, 0.6]);
    runs.set('A', 'failed', 'boom');
    expect(modelRows(models, runs)[0].status).toBe('failed');
  });

  it('draws the structure: columns of nodes with sizes, large layers summarised with ⋮', () => {
    const config = validateNnConfig({ features: { indicators: ['MFI:n=14'], lines: ['MFI.norm'], lags: 9, returns: 54 }, hidden: [{ size: 64, activation: 'relu' }, { size: 3, activation: 'tanh' }] });
    const layers = layersOf(config);
    expect(layers).toEqual([{ size: 64, kind: 'in' }, { size: 64, kind: 'relu' }, { size: 3, kind: 'tanh' }, { size: 1, kind: 'sigmoid' }]);
    const lines = structureLines(layers, 60, 12);
    expect(lines).toHaveLength(12);
    for (const l of lines) expect(l.length).toBe(60);
    expect(lines[0]).toMatch(/64 .*64 .*3 .*1/);
    expect(lines[11]).toMatch(/in .*relu .*tanh .*sigmoid/);
    const body = lines.slice(1, 11).join('\n');
    // each 64-wide layer: 5 nodes and ⋮; the 3-node layer: 3 nodes; the output: one
    expect((body.match(/○/g) ?? []).length).toBe(5);
    expect((body.match(/●/g) ?? []).length).toBe(5 + 3);
    expect((body.match(/◉/g) ?? []).length).toBe(1);
    expect((body.match(/⋮/g) ?? []).length).toBe(2);
    expect(body).toContain('─');
    // logreg: inputs straight to the output
    expect(layersOf({ ...config, type: 'logreg' }).map((l) => l.kind)).toEqual(['in', 'sigmoid']);
  });

  it('charts two series over the epochs; a missing validation series is left out', () => {
    const rows = curveChart([1, 0.8, 0.6, 0.4], [1, 0.9, 0.85, 0.8], ['loss', 'val'], 30, 8, 2);
    expect(rows).toHaveLength(8);
    expect(rows[0]).toContain('• loss 0.40');
    expect(rows[0]).toContain('× val 0.80');
    expect(rows[1]).toMatch(/^1\.00 │◆/); // both series start at the top
    expect(rows[6]).toMatch(/^0\.40 │.*•$/); // the loss ends at the bottom right
    expect(rows[7]).toMatch(/└1 +4$/);
    const noVal = curveChart([0.7, 0.6], [NaN, NaN], ['loss', 'val'], 30, 6, 2);
    expect(noVal.join('')).not.toContain('×');
    expect(curveLines([], 40, 10, t)).toEqual([t('nnPage.curves.none').padEnd(40).slice(0, 40)]);
  });
});
