import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { StrategyError } from '../../../src/core/strategy/types.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import { openTestApp } from '../../helpers/app.js';
import { config, engineInput, randomWalk, toStoreKlines } from './helpers.js';

// User strategy files, loaded by name inside the simulation worker (real threads; dist/ is built first).
const FLIP = `import { defineStrategy, UNCHANGED } from 'atm/strategy';
export default defineStrategy({
  description: 'long 20 klines, short 20 klines',
  params: { block: { kind: 'integer', default: 20, min: 2, max: 1000 } },
  create: ({ params }) => ({
    onKline(i) {
      if (i % params.block !== 0) return UNCHANGED;
      return (i / params.block) % 2 === 0 ? 1 : -1;
    },
  }),
});
`;
const THROWS = `import { defineStrategy } from 'atm/strategy';
export default defineStrategy({
  description: 'throws at kline 50',
  params: {},
  create: () => ({
    onKline(i) {
      if (i === 50) throw new Error('boom at fifty');
      return 0;
    },
  }),
});
`;
const LOOPS = `import { defineStrategy } from 'atm/strategy';
export default defineStrategy({
  description: 'never returns at kline 10',
  params: {},
  create: () => ({
    onKline(i) {
      while (i === 10) { /* stuck */ }
      return 0;
    },
  }),
});
`;

describe('user strategy files in a backtest', () => {
  let t: Awaited<ReturnType<typeof openTestApp>>;
  let dir: string;
  beforeAll(async () => {
    t = await openTestApp();
    dir = join(t.home, 'strategies');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'flip.ts'), FLIP);
    writeFileSync(join(dir, 'throws.ts'), THROWS);
    writeFileSync(join(dir, 'loops.ts'), LOOPS);
    t.parts.klines.insert('BTCUSDT', '1m', toStoreKlines(randomWalk(2000, 41)));
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('loads a user file by name in the worker and gives the in-process result', async () => {
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'flip', params: { block: 25 } } }] });
    const worker = await t.app.backtest.run(cfg);
    const local = await t.app.backtest.run(cfg, { inProcess: true });
    expect(worker.summary.fills).toBeGreaterThan(100);
    expect(worker.summary.tradeListHash).toBe(local.summary.tradeListHash);
    expect(worker.fills[0].time).toBe(local.fills[0].time);
  });

  it('stops the run when the strategy throws, naming its file and line and the kline', async () => {
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'throws' } }] });
    const error = await t.app.backtest.run(cfg).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`${join(dir, 'throws.ts')}:7`);
    expect((error as Error).message).toContain('boom at fifty');
    expect((error as Error).message).toContain('kline 50');
    expect(t.app.backtest.saved()).toHaveLength(0);
  });

  it('stops a strategy that does not return within the chunk time limit', () => {
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'loops' } }] });
    const run = () => runBacktest(engineInput(cfg, [randomWalk(100, 1)]), { strategies: new StrategyRegistry(dir), chunkTimeLimitMs: 300 });
    expect(run).toThrow(StrategyError);
    expect(run).toThrow(/loops\.ts:\d+.*did not return in time/);
  });
});
