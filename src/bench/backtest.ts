import { seededUniform } from '../core/random.js';
import { cacToJson, defaultCac } from '../core/analysis/cac.js';
import { backtestConfigSchema, type BacktestConfigInput } from '../core/backtest/config.js';
import { runBacktest, type BacktestKlines, type BacktestSummary } from '../core/backtest/engine.js';
import { defaultMarketInputs } from '../core/backtest/inputs.js';
import { StrategyRegistry } from '../core/strategy/registry.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { compose } from '../main/compose.js';
import { Shell } from '../screens/shell.js';
import { createScreen } from '../screens/tui.js';
import type { BenchSection } from './index.js';

/**
 * The backtest engine on one thread (in process; the worker adds only the transfer), over
 * generated 1m klines (a seeded random walk on a 0.1 tick, ±0.2 % a minute):
 * - buyAndHold5yKlinesPerSec: 5 years of 1m (2,629,800 klines), buy-and-hold: the engine's
 *   overhead per kline (target > 5 M/s);
 * - smaCross5yKlinesPerSec: the same klines with sma-cross (fast 50, slow 200): indicators in batch
 *   plus the strategy on every kline and its fills;
 * - twenty1yKlinesPerSec: 20 positions on one account (cross), sma-cross (fast 240, slow 1440: about a
 *   trade a day per symbol) each, 1 year of 1m (10.5 M klines;
 *   target > 1 M/s);
 * - peakRssMb5y: the process's peak resident memory after the 5-year runs (target < 400 MB).
 * - rqpm5yKlinesPerSec: the same 5 years with the default CAC (every indicator + PIP) computed in
 *   batch and the rqpm trade control on every kline, with its fills: the whole run, analysis
 *   included (target under 1.5 s: over 1.75 M klines/s);
 * - resultPageDrawMs: from a finished, saved simulation (sma-cross 2/5 on 1m: a few thousand
 *   fills, `resultPageFills`) to the Simulation Result page drawn with it (the real Shell on a
 *   headless 200x55 blessed screen over a real App in a temp data directory): the page opened
 *   and rendered once, median of 3 simulations each saved just before (so none is read yet).
 * Each klines/s figure is the best of `ATM_BENCH_BACKTEST_RUNS` runs (default 2).
 */
const YEARS = Number(process.env.ATM_BENCH_BACKTEST_YEARS ?? 5);
const RUNS = Number(process.env.ATM_BENCH_BACKTEST_RUNS ?? 2);
const MIN = 60_000;
const T0 = Date.UTC(2020, 0, 1);

export function generate(n: number, seed0: number, base: number): BacktestKlines {
  const rand = seededUniform(seed0);
  const k: BacktestKlines = {
    length: n, openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n),
    close: new Float64Array(n), volume: new Float64Array(n), takerBuyVolume: new Float64Array(n),
  };
  let p = base;
  for (let j = 0; j < n; j++) {
    const o = Math.round(p * 10) / 10;
    const c = Math.max(0.1, Math.round(o * (1 + (rand() - 0.5) * 0.002) * 10) / 10);
    k.openTime[j] = T0 + j * MIN;
    k.open[j] = o;
    k.close[j] = c;
    k.high[j] = Math.round(Math.max(o, c) * (1 + rand() * 0.001) * 10) / 10;
    k.low[j] = Math.round(Math.min(o, c) * (1 - rand() * 0.001) * 10) / 10;
    k.volume[j] = 1 + rand();
    k.takerBuyVolume[j] = k.volume[j] / 2;
    p = c;
  }
  return k;
}

function run(input: BacktestConfigInput, klines: BacktestKlines[]): BacktestSummary {
  const config = backtestConfigSchema.parse(input);
  const market = defaultMarketInputs();
  const registry = new StrategyRegistry(undefined);
  const rules = config.positions.map((p) => market.rules(p.symbol, { maxQty: '100000000' }));
  for (const r of rules) r.info.marketMaxQty = r.info.maxQty;
  return runBacktest({ config, klines, rules, funding: config.positions.map(() => ({ times: [], rates: [] })) }, { strategies: registry }).summary;
}

function best(times: number, f: () => BacktestSummary): BacktestSummary {
  let out: BacktestSummary | undefined;
  for (let i = 0; i < times; i++) {
    const s = f();
    if (!out || s.elapsedMs < out.elapsedMs) out = s;
  }
  return out!;
}

/** A writable that looks like a 200x55 TTY to blessed and drops the bytes. */
class NullTty extends Writable {
  isTTY = true;
  columns = 200;
  rows = 55;
  override _write(_chunk: unknown, _enc: BufferEncoding, done: () => void): void {
    done();
  }
  getWindowSize(): [number, number] {
    return [this.columns, this.rows];
  }
}

export async function resultPage(): Promise<{ resultPageDrawMs: number; resultPageFills: number }> {
  const home = mkdtempSync(join(tmpdir(), 'atm-bench-result-'));
  const { app, parts } = await compose({ home, logSync: true });
  try {
    const n = 20_000;
    const k = generate(n, 7, 30_000);
    parts.klines.insert('BTCUSDT', '1m', { ...k, quoteVolume: new Float64Array(n), trades: new Float64Array(n).fill(1), takerBuyQuoteVolume: new Float64Array(n) });
    const config = backtestConfigSchema.parse({ account: { initialBalance: '100000' }, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 2, slow: 5 } } }] });
    const times: number[] = [];
    let fills = 0;
    for (let round = 0; round < 3; round++) {
      const result = await app.backtest.run(config, { inProcess: true });
      fills = result.summary.fills;
      const name = `BENCH_${round}`;
      app.backtest.save(result, config, name);
      const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
      const screen = createScreen({ input, output: new NullTty(), env: { TERM: 'xterm-256color' } });
      const shell = new Shell(app, screen);
      shell.renderNow();
      const started = performance.now();
      shell.goTo('result');
      shell.renderNow();
      times.push(performance.now() - started);
      const text = (screen as unknown as { lines: [number, string][][] }).lines.map((line) => line.map((cell) => cell[1]).join('')).join('\n');
      shell.dispose();
      screen.destroy();
      if (!text.includes(name)) throw new Error(`the Simulation Result page did not show ${name}`);
    }
    times.sort((a, b) => a - b);
    return { resultPageDrawMs: Math.round(times[1] * 10) / 10, resultPageFills: fills };
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const perSec = (s: BacktestSummary) => Math.round(s.klines / (s.elapsedMs / 1000));

export const section: BenchSection = {
  name: 'backtest',
  async run() {
    const n5 = Math.round(YEARS * 365.25 * 1440);
    const k5 = generate(n5, 1, 30_000);
    const account = { initialBalance: '100000', slippageBps: 1 };
    const bh = best(RUNS, () => run({ account, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'buy-and-hold' } }] }, [k5]));
    const sma = best(RUNS, () => run({ account, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 50, slow: 200 } } }] }, [k5]));
    const cac = cacToJson(defaultCac('bench'));
    const rqpm = best(RUNS, () => run({ account, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'rqpm', cac } }] }, [k5]));
    const peakRssMb5y = Math.round(process.resourceUsage().maxRSS / 1024);
    const n1 = 525_600;
    const k20 = Array.from({ length: 20 }, (_, i) => generate(n1, 100 + i, 100 + i * 50));
    const twenty = best(RUNS, () =>
      run({
        account,
        positions: k20.map((_, i) => ({ symbol: `S${i}USDT`, leverage: 2, strategy: { name: 'sma-cross', params: { fast: 240, slow: 1440 } }, control: { assumedRatio: 0.05 } })),
      }, k20),
    );
    const page = await resultPage();
    return {
      ...page,
      klines5y: n5,
      buyAndHold5yKlinesPerSec: perSec(bh),
      buyAndHold5yMs: bh.elapsedMs,
      smaCross5yKlinesPerSec: perSec(sma),
      smaCross5yMs: sma.elapsedMs,
      smaCross5yFills: sma.fills,
      rqpm5yKlinesPerSec: perSec(rqpm),
      rqpm5yMs: rqpm.elapsedMs,
      rqpm5yFills: rqpm.fills,
      twenty1yKlinesPerSec: perSec(twenty),
      twenty1yMs: twenty.elapsedMs,
      twenty1yFills: twenty.fills,
      peakRssMb5y,
    };
  },
};
