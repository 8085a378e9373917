import { seededUniform } from '../core/random.js';
import { analyzeBatch, AnalysisEngine } from '../core/analysis/engine.js';
import { defaultCac, validateIndicator, type Cac } from '../core/analysis/cac.js';
import { INDICATORS, emptyBar, readBar, type KlineColumns } from '../core/analysis/indicators/index.js';
import { AnalyzerHost } from '../core/analysis/host.js';
import { WorkerPool } from '../workers/pool.js';
import type { BenchSection } from './index.js';

/**
 * Analysis figures, on one core (the main thread), over generated 1m klines (a seeded random walk;
 * the numbers do not depend on the data's origin). The machine may be shared: figures "PerCpuSec"
 * divide by the CPU time this process used (a busy machine inflates wall time, not CPU time), and
 * the reused-output batch is run 3 times, reporting the best run (wall and CPU each).
 * - batchKlinesPerSec / batchKlinesPerCpuSec: the default CAC (every indicator and PIP) run in batch
 *   over 2.6 M klines with every output line materialised as fresh Float64Array columns
 *   (analyzeBatch): this includes faulting in ~750 MB of fresh memory (the kernel's page faults
 *   and zeroing show up as system time);
 * - batchReusedOutputKlinesPerSec / ...PerCpuSec: the same, writing into the columns of the
 *   previous result (no fresh memory to fault in): the indicators' and PIP's own throughput;
 * - engineKlinesPerSec: the streaming engine over the same klines, rows not kept;
 * - streamNsPerKline / streamCpuNsPerKline: one closed kline at a time through
 *   AnalysisEngine.update, a fresh kline object each time, as a live analysis is fed;
 * - workerStartMs: starting a live analysis of the default CAC over all 2.6 M klines in an analyzer
 *   thread (copying the klines over, the history in batch, keeping the newest rows);
 * - perIndicatorKlinesPerSec: each indicator alone, batch into reused columns.
 */
const N = Number(process.env.ATM_BENCH_ANALYSIS_KLINES ?? 2_600_000);

function generate(n: number): KlineColumns {
  // the one seeded generator (the LCG here multiplied past 2^53 and drifted the walk to a few dollars)
  const rand = seededUniform(12345);
  const k: KlineColumns = {
    openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n),
    close: new Float64Array(n), volume: new Float64Array(n), takerBuyVolume: new Float64Array(n),
  };
  let price = 30_000;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = Math.round(open * (1 + (rand() - 0.5) * 0.002) * 10) / 10;
    k.openTime[i] = 1_600_000_000_000 + i * 60_000;
    k.open[i] = open;
    k.close[i] = close;
    k.high[i] = Math.round(Math.max(open, close) * (1 + rand() * 0.001) * 10) / 10;
    k.low[i] = Math.round(Math.min(open, close) * (1 - rand() * 0.001) * 10) / 10;
    k.volume[i] = rand() < 0.02 ? 0 : Math.round(rand() * 100_000) / 1000;
    k.takerBuyVolume[i] = Math.round(k.volume[i] * rand() * 1000) / 1000;
    price = close;
  }
  return k;
}

/** User + system CPU time of a `process.cpuUsage` difference, in ms. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function engineRun(cac: Cac, k: KlineColumns): number {
  const engine = new AnalysisEngine(cac);
  const bar = emptyBar();
  const n = k.close.length;
  let check = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) check += engine.update(readBar(k, i, bar))[0] || 0;
  const ms = performance.now() - t0;
  if (check === 12345.678) process.stderr.write(''); // keep the result alive
  return (n / ms) * 1000;
}

export const section: BenchSection = {
  name: 'analysis',
  async run() {
    const k = generate(N);
    const cac = defaultCac('bench');
    // Warm the JIT on a short prefix first.
    analyzeBatch(cac, { ...k, length: 50_000 });
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    const result = analyzeBatch(cac, k);
    const batchMs = performance.now() - t0;
    const batchCpuMs = cpuMs(process.cpuUsage(cpuStart));
    let reusedMs = Infinity;
    let reusedCpuMs = Infinity;
    for (let run = 0; run < 3; run++) {
      const cpu0 = process.cpuUsage();
      const t2 = performance.now();
      analyzeBatch(cac, k, { reuse: result });
      reusedMs = Math.min(reusedMs, performance.now() - t2);
      reusedCpuMs = Math.min(reusedCpuMs, cpuMs(process.cpuUsage(cpu0)));
    }
    const engineKlinesPerSec = engineRun(cac, k);
    const perIndicator: Record<string, number> = {};
    for (const type of Object.keys(INDICATORS)) {
      const one: Cac = { name: type, indicators: [validateIndicator(type)], pip: null };
      const first = analyzeBatch(one, k);
      const t = performance.now();
      analyzeBatch(one, k, { reuse: first });
      perIndicator[type] = Math.round((N / (performance.now() - t)) * 1000);
    }
    {
      const pipOnly: Cac = { ...cac, indicators: cac.indicators.filter((i) => i.type === 'EMA') };
      const first = analyzeBatch(pipOnly, k);
      const t = performance.now();
      analyzeBatch(pipOnly, k, { reuse: first });
      perIndicator.EMA_plus_PIP = Math.round((N / (performance.now() - t)) * 1000);
    }

    const streamN = Math.min(N, 500_000);
    const engine = new AnalysisEngine(cac);
    const bar = emptyBar();
    const streamCpu0 = process.cpuUsage();
    const t1 = performance.now();
    for (let i = 0; i < streamN; i++) engine.update({ ...readBar(k, i, bar) });
    const streamNs = ((performance.now() - t1) * 1e6) / streamN;
    const streamCpuNs = (cpuMs(process.cpuUsage(streamCpu0)) * 1e6) / streamN;
    const pool = new WorkerPool({ name: 'analysis', size: 1, idleTimeoutMs: 1000 });
    const host = new AnalyzerHost({ pool, source: () => k });
    const t3 = performance.now();
    await host.start({ id: 1, cac, symbol: 'BENCH', interval: '1m' });
    const workerStartMs = performance.now() - t3;
    await host.destroy();
    await pool.destroy();
    return {
      klines: N,
      workerStartMs: Math.round(workerStartMs),
      columns: result.columns.length,
      batchMs: Math.round(batchMs),
      batchKlinesPerSec: Math.round((N / batchMs) * 1000),
      batchKlinesPerCpuSec: Math.round((N / batchCpuMs) * 1000),
      batchReusedOutputKlinesPerSec: Math.round((N / reusedMs) * 1000),
      batchReusedOutputKlinesPerCpuSec: Math.round((N / reusedCpuMs) * 1000),
      engineKlinesPerSec: Math.round(engineKlinesPerSec),
      streamNsPerKline: Math.round(streamNs),
      streamCpuNsPerKline: Math.round(streamCpuNs),
      perIndicatorKlinesPerSec: perIndicator,
    };
  },
};
