import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StrategyInfo } from '../../../src/core/app.js';
import type { TFunction } from '../../../src/core/i18n.js';
import { autoName, completeOnTab, completeSymbol, etaMs, fraction, klinesPerSecond, parseUtc, SimulationForm, SimulationQueue } from '../../../src/screens/simulation/model.js';
import { progressBar } from '../../../src/screens/simulation/views.js';
import { openTestApp } from '../../helpers/app.js';

describe('Simulation page view model', () => {
  let opened: Awaited<ReturnType<typeof openTestApp>>;
  let strategies: StrategyInfo[];
  let t: TFunction;
  const symbols = ['BTCUSDT', 'BNBUSDT', 'ETHUSDT'];
  const pip = { name: 'pip-cac', indicators: ['SMA:n=5'], pip: { mode: 'none' } } as never;

  beforeAll(async () => {
    opened = await openTestApp();
    strategies = await opened.app.strategies();
    t = opened.app.t;
  });
  afterAll(() => opened.cleanup());

  it('lists the registry through app.strategies() with each parameter schema', () => {
    const sma = strategies.find((s) => s.name === 'sma-cross')!;
    expect(sma.builtin).toBe(true);
    expect(sma.params.map((p) => [p.name, p.kind, p.min, p.max, p.default])).toEqual([['fast', 'integer', 2, 100_000, 10], ['slow', 'integer', 3, 100_000, 30]]);
    expect(strategies.some((s) => s.usesCac)).toBe(true);
  });

  it("generates the position's parameter fields from the chosen strategy's schema, with defaults and ranges", () => {
    const form = new SimulationForm(strategies, [], symbols);
    form.set('p0.strategy', 'sma-cross');
    const params = form.fields().filter((f) => f.key.startsWith('p0.param.'));
    expect(params.map((f) => [f.key, f.value])).toEqual([['p0.param.fast', '10'], ['p0.param.slow', '30']]);
    expect(params[0].allowed).toContain('2');
    expect(params[0].allowed).toContain('100000');
    form.set('p0.strategy', 'buy-and-hold');
    expect(form.fields().filter((f) => f.key.startsWith('p0.param.'))).toEqual([]);
    expect(form.fields().some((f) => f.key === 'p0.cac')).toBe(false);
    const cacUser = strategies.find((s) => s.usesCac)!;
    form.set('p0.strategy', cacUser.name);
    expect(form.fields().some((f) => f.key === 'p0.cac')).toBe(true);
  });

  it('names each error on its field, and builds the configuration once the form is valid', () => {
    const form = new SimulationForm(strategies, [{ name: 'pip-cac', cac: pip }], symbols);
    form.set('p0.strategy', 'sma-cross');
    form.set('p0.param.fast', '1');
    form.set('p0.param.slow', 'x');
    form.set('p0.symbol', 'xrpusdt');
    form.set('p0.leverage', '200');
    form.set('initialBalance', '-5');
    form.set('takerFeeRate', '1');
    form.set('from', '2024-02-30');
    let r = form.validate(t, []);
    expect(r.config).toBeUndefined();
    expect([...r.errors.keys()].sort()).toEqual(['from', 'initialBalance', 'p0.leverage', 'p0.param.fast', 'p0.param.slow', 'p0.symbol', 'takerFeeRate']);
    expect(r.errors.get('p0.param.fast')).toBe(t('simulation.error.range', { allowed: strategies.find((s) => s.name === 'sma-cross')!.params[0].allowed }));
    expect(r.errors.get('p0.symbol')).toBe(t('simulation.error.noKlines', { symbol: 'XRPUSDT' }));
    form.set('p0.param.fast', '5');
    form.set('p0.param.slow', '20');
    form.set('p0.symbol', 'ethusdt');
    form.set('p0.leverage', '3');
    form.set('initialBalance', '2500.5');
    form.set('takerFeeRate', '0.0004');
    form.set('from', '2024-01-02');
    form.set('to', '2024-01-03');
    form.addPosition();
    form.set('p1.symbol', 'BTCUSDT');
    form.set('p1.strategy', strategies.find((s) => s.usesCac)!.name);
    r = form.validate(t, ['SIM_2', 'mine', 'SIM_7']);
    expect([...r.errors.keys()]).toEqual(['p1.cac']);
    form.set('p1.cac', 'pip-cac');
    form.set('p1.maxAllocatedBalance', '0');
    form.set('p1.priority', '-1');
    r = form.validate(t, ['SIM_2', 'mine', 'SIM_7']);
    expect([...r.errors.keys()]).toEqual(['p1.maxAllocatedBalance', 'p1.priority']);
    form.set('p1.maxAllocatedBalance', '500');
    form.set('p1.priority', '2');
    r = form.validate(t, ['SIM_2', 'mine', 'SIM_7']);
    expect(r.errors.size).toBe(0);
    expect(r.name).toBe('SIM_8');
    expect(r.from).toBe(Date.UTC(2024, 0, 2));
    expect(r.to).toBe(Date.UTC(2024, 0, 3, 23, 59));
    expect(r.config!.account).toMatchObject({ initialBalance: '2500.5', takerFeeRate: '0.0004', marginType: 'CROSSED' });
    expect(r.config!.positions[0]).toMatchObject({ symbol: 'ETHUSDT', leverage: 3, strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } } });
    expect(r.config!.positions[1].strategy.cac).toBe(pip);
    expect(r.config!.positions[1].control).toEqual({ assumedRatio: 1, maxAllocatedBalance: '500', priority: 2 });
    expect(r.config!.positions[0].control).toEqual({ assumedRatio: 1, priority: 0 });
    // the same symbol twice is named on the second
    form.set('p1.symbol', 'ETHUSDT');
    expect(form.validate(t, []).errors.get('p1.symbol')).toBe(t('simulation.error.twice', { symbol: 'ETHUSDT' }));
  });

  it('loads a saved configuration to start from (the Result page copy)', () => {
    const form = new SimulationForm(strategies, [], symbols);
    form.set('p0.strategy', 'sma-cross');
    form.set('p0.param.fast', '7');
    form.set('p0.symbol', 'BNBUSDT');
    form.set('p0.maxAllocatedBalance', '123.45');
    const config = form.validate(t, []).config!;
    const copy = new SimulationForm(strategies, [], symbols);
    copy.load(config);
    const again = copy.validate(t, ['SIM_1']);
    expect(again.config).toEqual(config);
    expect(again.name).toBe('SIM_2');
  });

  it('turns choices, moves within the fields, and keeps one position', () => {
    const form = new SimulationForm(strategies, [], symbols);
    form.cursor = form.fields().findIndex((f) => f.key === 'marginType');
    form.cycle(1);
    expect(form.values.marginType).toBe('ISOLATED');
    form.cycle(-1);
    expect(form.values.marginType).toBe('CROSSED');
    form.move(-100);
    expect(form.cursor).toBe(0);
    form.move(1000);
    expect(form.cursor).toBe(form.fields().length - 1);
    expect(form.removePosition()).toBe(false);
    form.addPosition();
    expect(form.selectedField()?.key).toBe('p1.symbol');
    expect(form.removePosition()).toBe(true);
    expect(form.values.positions).toHaveLength(1);
  });

  it('completes symbols over the stored ones, and parses UTC dates strictly', () => {
    expect(completeSymbol('b', symbols)).toEqual(['BTCUSDT', 'BNBUSDT']);
    expect(completeOnTab('e', symbols)).toBe('ETHUSDT');
    expect(completeOnTab('B', symbols)).toBe('B');
    expect(completeOnTab('BT', symbols)).toBe('BTCUSDT');
    expect(completeOnTab('Q', symbols)).toBe('Q');
    expect(parseUtc('2024-03-01 12:30', false)).toBe(Date.UTC(2024, 2, 1, 12, 30));
    expect(parseUtc('2024-03-01 12:30', true)).toBe(Date.UTC(2024, 2, 1, 12, 30));
    expect(parseUtc('2024-13-01', false)).toBeUndefined();
    expect(parseUtc('2024-01-01 24:00', false)).toBeUndefined();
    expect(autoName([])).toBe('SIM_1');
    expect(autoName(['SIM_3', 'SIM_x', 'SIM_10'])).toBe('SIM_11');
  });

  it('takes runs through their states with progress, klines/s and ETA', () => {
    const q = new SimulationQueue();
    const a = q.add('A');
    const b = q.add('B');
    expect(q.active().map((i) => i.state)).toEqual(['queued', 'queued']);
    q.progress(a.key, 0, 1000, 1000);
    expect(a.state).toBe('queued');
    q.progress(a.key, 100, 1000, 2000);
    q.progress(a.key, 400, 1000, 3000);
    expect(a.state).toBe('running');
    expect(fraction(a)).toBe(0.4);
    expect(klinesPerSecond(a)).toBe(400);
    expect(etaMs(a)).toBe(1500);
    q.finish(a.key, 42);
    expect([a.state, a.simulationId, fraction(a), etaMs(a)]).toEqual(['done', 42, 1, undefined]);
    q.progress(a.key, 1, 1000, 4000);
    expect(a.state).toBe('done');
    q.cancelled(b.key);
    q.fail(b.key, 'late');
    expect(b.state).toBe('cancelled');
    const c = q.add('C');
    q.fail(c.key, 'no 1m klines of X');
    expect([c.state, c.error]).toEqual(['failed', 'no 1m klines of X']);
    expect(q.active()).toEqual([]);
    expect(progressBar(0.5, 8)).toBe('████░░░░');
    expect(progressBar(1 / 16, 4)).toBe('▎░░░');
  });
});
