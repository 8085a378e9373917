import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../../src/core/backtest/config.js';
import { tempHome } from '../../helpers/app.js';
import { randomWalk } from './helpers.js';

// `atm backtest --lookahead-check` as real processes (dist/ is built first), over generated archive files.
const tmp = tempHome('atm-lookahead-cli-');
const arch = join(tmp.home, 'archives');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function writeArchive(symbol: string, seed: number, base: number): void {
  const k = randomWalk(6000, seed, base);
  const rows: string[] = [];
  for (let j = 0; j < k.length; j++) {
    const t = k.openTime[j];
    rows.push([t, k.open[j].toFixed(1), k.high[j].toFixed(1), k.low[j].toFixed(1), k.close[j].toFixed(1), '1.5', t + 59_999, '30000', 10, '0.7', '14000', 0].join(','));
  }
  writeFileSync(join(arch, `${symbol}-1m-2024-01.csv`), rows.join('\n') + '\n');
}

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
const PEEK = `import { defineStrategy } from 'atm/strategy';
export default defineStrategy({
  description: 'reads the next close',
  params: {},
  create: () => ({
    onKline(i, k) {
      return k.close.at(i + 1) > k.close.at(i) ? 1 : 0;
    },
  }),
});
`;
const using = (name: string) => `account:\n  initialBalance: "10000"\npositions:\n  - symbol: BTCUSDT\n    interval: 5m\n    strategy: { name: ${name} }\n`;

beforeAll(() => {
  try {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  } catch {
    /* the tests below say what is missing */
  }
  mkdirSync(arch, { recursive: true });
  mkdirSync(join(tmp.home, 'strategies'), { recursive: true });
  writeArchive('BTCUSDT', 31, 20_000);
  writeArchive('ETHUSDT', 32, 2_000);
  writeFileSync(join(tmp.home, 'example.yaml'), EXAMPLE_CONFIG);
  writeFileSync(join(tmp.home, 'strategies', 'stateful.ts'), STATEFUL);
  writeFileSync(join(tmp.home, 'strategies', 'peek.ts'), PEEK);
  writeFileSync(join(tmp.home, 'stateful.yaml'), using('stateful'));
  writeFileSync(join(tmp.home, 'peek.yaml'), using('peek'));
}, 180_000);
afterAll(() => tmp.cleanup());

describe('atm backtest --lookahead-check', () => {
  it('exits 0 for the built-ins of the example (sma-cross 15m, rqpm with its CAC on 1h)', () => {
    const r = atm('backtest', '--config', join(tmp.home, 'example.yaml'), '--input', arch, '--lookahead-check', '--checks', '4');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 6000 1m klines: 400 of 15m and 100 of 1h
    expect(r.out.trim()).toBe('no lookahead found in 4 checks of 500 klines');
  });

  it('exits 2 and names the column, kline, time and both values when a truncated run decides differently', () => {
    const r = atm('backtest', '--config', join(tmp.home, 'stateful.yaml'), '--input', arch, '--lookahead-check');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^BTCUSDT \(position 1\) target at kline 0 \(2024-01-01T00:00:00Z\): 1 on the whole range, 0 when cut after 200 klines$/m);
    expect(r.out).toMatch(/lookahead found: \d+ differing values, 0 failed runs in 5 checks of 1200 klines/);
    const json = atm('backtest', '--config', join(tmp.home, 'stateful.yaml'), '--input', arch, '--lookahead-check', '--json');
    expect(json.code).toBe(2);
    const report = JSON.parse(json.out.trim().split('\n').pop()!);
    expect(report.clean).toBe(false);
    expect(report.positions[0].cuts).toEqual([200, 400, 600, 800, 1000]);
  });

  it('exits 2 naming the file and line of a strategy that reads a later kline', () => {
    const r = atm('backtest', '--config', join(tmp.home, 'peek.yaml'), '--input', arch, '--lookahead-check');
    expect(r.code).toBe(2);
    expect(r.out).toContain(`BTCUSDT (position 1) reads a later kline: ${join(tmp.home, 'strategies', 'peek.ts')}:7`);
    expect(r.out).toContain('read kline 1 while at kline 0');
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses --checks that is not a whole number, or without --lookahead-check', () => {
    const bad = atm('backtest', '--config', join(tmp.home, 'peek.yaml'), '--input', arch, '--lookahead-check', '--checks', 'many');
    expect(bad.code).toBe(2);
    expect(bad.err.trim()).toMatch(/--checks many: give a whole number from 1 to 1000$/);
    const alone = atm('backtest', '--config', join(tmp.home, 'peek.yaml'), '--input', arch, '--checks', '3');
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('--checks goes with --lookahead-check');
  });
});
