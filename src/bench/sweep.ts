import { availableParallelism } from 'node:os';
import { backtestConfigSchema } from '../core/backtest/config.js';
import { defaultMarketInputs } from '../core/backtest/inputs.js';
import { openSweepRunner, parseParamRange, runSweep, type SweepPlan } from '../core/backtest/sweep.js';
import { WorkerPool } from '../workers/pool.js';
import { generate } from './backtest.js';
import type { BenchSection } from './index.js';

/**
 * A parameter sweep on every simulation thread (one per CPU here): sma-cross on 1 year of 1m
 * klines (525,600, the backtest bench's generator), `ATM_BENCH_SWEEP_TRIALS` (default 500) random
 * trials (seed 1) over fast 5..200:5 and slow 20..1500:10 with fast < slow, objective sharpe.
 * - trialsPerSec and klinesPerSec: trials and klines backtested per second of wall time, all
 *   threads together (loading the klines into the workers included);
 * - peakRssMb: the process's peak resident memory, worker threads included (target < 400 MB):
 *   the klines are in shared memory, one copy for every thread.
 */
const TRIALS = Number(process.env.ATM_BENCH_SWEEP_TRIALS ?? 500);

export const section: BenchSection = {
  name: 'sweep',
  async run() {
    const n = 525_600;
    const klines = generate(n, 7, 30_000);
    const config = backtestConfigSchema.parse({
      account: { initialBalance: '100000', slippageBps: 1 },
      positions: [{ symbol: 'BTCUSDT', interval: '1m', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 50, slow: 200 } } }],
    });
    const market = defaultMarketInputs();
    const rules = [market.rules('BTCUSDT', { maxQty: '100000000' })];
    rules[0].info.marketMaxQty = rules[0].info.maxQty;
    const input = { config, klines: [klines], rules, funding: [{ times: [], rates: [] }] };
    const plan: SweepPlan = { ranges: [parseParamRange('fast=5..200:5', 1), parseParamRange('slow=20..1500:10', 1)], method: 'random', trials: TRIALS, seed: 1, objective: 'sharpe', constraint: 'fast < slow' };
    const threads = availableParallelism();
    const pool = new WorkerPool({ name: 'simulation', size: threads, idleTimeoutMs: 10_000 });
    try {
      const started = performance.now();
      const runner = await openSweepRunner(pool, input, {});
      const report = await runSweep(config, plan, runner, input).finally(() => runner.close());
      const seconds = (performance.now() - started) / 1000;
      const dsr = report.deflatedSharpe?.dsr ?? null;
      return {
        threads,
        trials: report.trials,
        failed: report.failed,
        klinesPerTrial: n,
        seconds: Math.round(seconds * 100) / 100,
        trialsPerSec: Math.round((report.trials / seconds) * 10) / 10,
        klinesPerSec: Math.round((report.trials * n) / seconds),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        bestSharpe: Math.round(report.rows[0].summary.sharpe * 1000) / 1000,
        deflatedSharpe: dsr === null ? null : Math.round(dsr * 1000) / 1000,
      };
    } finally {
      await pool.destroy();
    }
  },
};
