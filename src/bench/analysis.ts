import { analyzeBatch, AnalysisEngine } from '../core/analysis/engine.js';
import { defaultCac, validateIndicator, type Cac } from '../core/analysis/cac.js';
import { INDICATORS, emptyBar, readBar, type KlineColumns } from '../core/analysis/indicators/index.js';
import { AnalyzerHost } from '../core/analysis/host.js';
import type { BenchSection } from './index.js';

/**
 * Analysis figures, on one core (the main thread), over generated 1m klines (a seeded random walk;
 * the numbers do not depend on the data's origin):
 * - batchKlinesPerSec: the default CAC (every indicator and PIP) run in batch over 2.6 M klines
 *   with every output line materialised as fresh Float64Array columns (analyzeBatch);
 * - batchReusedOutputKlinesPerSec: the same, writing into the columns of the previous result
 *   (no fresh memory to fault in: on a VM first-touch page faults cost ~5 ns per value);
 * - batchReusedOutputKlinesPerCpuSec: the same per second of CPU time used (a busy shared machine
 *   inflates wall time, not CPU time);
 * - engineKlinesPerSec: the streaming engine over the same klines, rows not kept;
 * - streamNsPerKline: one closed kline at a time through AnalysisEngine.update, a fresh kline object
 *   each time, as a live analysis is fed;
 * - workerStartMs: starting a live analysis of the default CAC over all 2.6 M klines in an analyzer
 *   thread (copying the klines over, the history in batch, keeping the newest rows);
 * - perIndicatorKlinesPerSec: each indicator alone, batch into reused columns.
 */
const N = Number(process.env.ATM_BENCH_ANALYSIS_KLINES ?? 2_600_000);

function generate(n: number): KlineColumns {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
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
    const t0 = performance.now();
    const result = analyzeBatch(cac, k);
    const batchMs = performance.now() - t0;
    const t2 = performance.now();
    const cpu0 = process.cpuUsage();
    analyzeBatch(cac, k, { reuse: result });
    const reusedMs = performance.now() - t2;
    const cpu = process.cpuUsage(cpu0);
    const reusedCpuMs = (cpu.user + cpu.system) / 1000;
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
    const t1 = performance.now();
    for (let i = 0; i < streamN; i++) engine.update({ ...readBar(k, i, bar) });
    const streamNs = ((performance.now() - t1) * 1e6) / streamN;
    const host = new AnalyzerHost({ slots: 1, source: () => k });
    const t3 = performance.now();
    await host.start({ id: 1, cac, symbol: 'BENCH', interval: '1m' });
    const workerStartMs = performance.now() - t3;
    await host.destroy();
    return {
      klines: N,
      workerStartMs: Math.round(workerStartMs),
      columns: result.columns.length,
      batchMs: Math.round(batchMs),
      batchKlinesPerSec: Math.round((N / batchMs) * 1000),
      batchReusedOutputKlinesPerSec: Math.round((N / reusedMs) * 1000),
      batchReusedOutputKlinesPerCpuSec: Math.round((N / reusedCpuMs) * 1000),
      engineKlinesPerSec: Math.round(engineKlinesPerSec),
      streamNsPerKline: Math.round(streamNs),
      perIndicatorKlinesPerSec: perIndicator,
    };
  },
};
