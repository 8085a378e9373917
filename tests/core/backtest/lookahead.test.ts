import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG, parseBacktestConfig } from '../../../src/core/backtest/config.js';
import { cutPoints, runLookaheadCheck } from '../../../src/core/backtest/lookahead.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import { builtins, config, engineInput, randomWalk } from './helpers.js';

// A strategy that reads the next kline's close: the bounded views throw LookaheadError (line 7).
const PEEK = `import { defineStrategy } from 'atm/strategy';
export default defineStrategy({
  description: 'buys when the next close is higher',
  params: {},
  create: () => ({
    onKline(i, k) {
      const next = k.close.at(i + 1);
      return next > k.close.at(i) ? 1 : 0;
    },
  }),
});
`;

// Causal within one run, but its running peak lives in the module and is never reset by create():
// a later run starts with the peak of every kline the earlier runs saw, the future included.
const STATEFUL = `import { defineStrategy } from 'atm/strategy';
let peak = -Infinity;
export default defineStrategy({
  description: 'long at a new high (the high is kept across runs)',
  params: {},
  create: () => ({
    onKline(i, k) {
      const c = k.close.at(i);
      if (c >= peak) { peak = c; return 1; }
      return 0;
    },
  }),
});
`;

const dir = mkdtempSync(join(tmpdir(), 'atm-lookahead-'));
writeFileSync(join(dir, 'peek.ts'), PEEK);
writeFileSync(join(dir, 'stateful.ts'), STATEFUL);
const users = new StrategyRegistry(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const one = (name: string, interval = '1m') => config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', interval, strategy: { name } }] } as never);

describe('lookahead check', () => {
  it('spreads the cut points evenly and keeps them inside the range', () => {
    expect(cutPoints(600, 5)).toEqual([100, 200, 300, 400, 500]);
    expect(cutPoints(3, 5)).toEqual([1, 2]);
    expect(cutPoints(1, 5)).toEqual([]);
  });

  it('finds nothing in the built-ins: sma-cross on 15m and rqpm with its CAC on 1h (the example configuration)', () => {
    const { config: cfg } = parseBacktestConfig(EXAMPLE_CONFIG, 'example.yaml');
    const input = engineInput(cfg, [randomWalk(12_000, 3), randomWalk(12_000, 4, 1500)]);
    const report = runLookaheadCheck(input, builtins, { checks: 5 });
    expect(report.failures).toEqual([]);
    expect(report.differences).toEqual([]);
    expect(report.differenceCount).toBe(0);
    expect(report.clean).toBe(true);
    expect(report.positions.map((p) => [p.symbol, p.interval, p.klines, p.cuts.length])).toEqual([
      ['BTCUSDT', '15m', 800, 5],
      ['ETHUSDT', '1h', 200, 5],
    ]);
    expect(report.klines).toBe(1000);
    // the indicator columns of sma-cross and the CAC's columns of rqpm were compared, beside the decisions
    expect(report.positions[0].columns.length).toBeGreaterThan(3);
    expect(report.positions[1].columns.length).toBeGreaterThan(3);
    expect(report.positions[1].columns).toContain('target');
  });

  it('reports a strategy that reads a later kline as a LookaheadError with its file and line', () => {
    const report = runLookaheadCheck(engineInput(one('peek'), [randomWalk(500, 5)]), users);
    expect(report.clean).toBe(false);
    expect(report.failures).toHaveLength(1);
    const f = report.failures[0];
    expect(f).toMatchObject({ kind: 'lookahead', strategy: 'peek', symbol: 'BTCUSDT', kline: 0, cut: 500, file: join(dir, 'peek.ts'), line: 7 });
    expect(f.message).toMatch(/read kline 1 while at kline 0/);
  });

  it('catches a strategy that carries state across runs by comparing the truncated runs with the full run', () => {
    const k = randomWalk(3000, 6);
    const report = runLookaheadCheck(engineInput(one('stateful'), [k]), users, { checks: 4 });
    expect(report.failures).toEqual([]);
    expect(report.clean).toBe(false);
    expect(report.differenceCount).toBeGreaterThan(0);
    expect(report.differences).toHaveLength(1);
    const d = report.differences[0];
    expect(d).toMatchObject({ position: 0, symbol: 'BTCUSDT', column: 'target', full: 1, truncated: 0 });
    // the first truncated run (600 klines) starts with the whole range's peak: kline 0, a new high
    // in the full run, is no longer one
    expect(d.time).toBe(k.openTime[d.index]);
    expect(d.cut).toBe(600);
    expect(d.index).toBe(0);
  });

  it('a causal user strategy written the same way without module state passes', () => {
    writeFileSync(join(dir, 'fresh.ts'), STATEFUL.replace('let peak = -Infinity;\n', '').replace('create: () => ({', 'create: () => { let peak = -Infinity; return ({').replace('  }),\n});', '  }); },\n});'));
    const report = runLookaheadCheck(engineInput(one('fresh', '5m'), [randomWalk(3000, 6)]), users, { checks: 3 });
    expect(report.failures).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.positions[0].cuts).toEqual([150, 300, 450]);
  });
});
