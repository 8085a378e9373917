import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './index.js';
import { ARCHIVE_COLUMNS } from '../core/market/archive.js';
import { importArchives } from '../core/market/importer.js';
import { allocKlines, closeTime, formatDecimal, type Klines } from '../core/market/klines.js';
import { migrate, openDatabase } from '../db/database.js';
import { KlineStore } from '../db/klineStore.js';
import { seededUniform } from '../core/random.js';

/**
 * Market data figures: archive import rows/s, load of 5 years of 1m klines (2.6 M rows) into
 * columns, bytes per kline on disk, and the candlestick chart's redraw time at 200x50 over those
 * 5 years. Uses the real sample archive in ../shared/data when present for the import figure,
 * generated klines otherwise (and always for the 2.6 M load).
 */
const SAMPLE = new URL('../../../shared/data/FILUSDT-1m-2024-09-01_2024-10-31.csv', import.meta.url).pathname;
const FIVE_YEARS = 5 * 525_960; // 5 x 365.25 days of minutes
const T0 = Date.UTC(2020, 0, 1);

/** Synthetic 1m klines with Binance-like decimals (0.01 tick, 3-decimal volumes). */
export function generateKlines(count: number, start = T0, seed = 1): Klines {
  const k = allocKlines(count);
  const rand = seededUniform(seed);
  let ticks = 3_000_000; // 30000.00
  for (let i = 0; i < count; i++) {
    const o = ticks;
    ticks = Math.max(100, ticks + Math.round((rand() - 0.5) * 2000));
    const c = ticks;
    const h = Math.max(o, c) + Math.floor(rand() * 800);
    const l = Math.min(o, c) - Math.floor(rand() * 800);
    const vol = Math.floor(rand() * 500_000); // thousandths
    k.openTime[i] = start + i * 60_000;
    k.open[i] = o / 100;
    k.high[i] = h / 100;
    k.low[i] = l / 100;
    k.close[i] = c / 100;
    k.volume[i] = vol / 1000;
    k.quoteVolume[i] = Math.round((vol / 1000) * (c / 100) * 1e5) / 1e5;
    k.trades[i] = Math.floor(rand() * 3000);
    k.takerBuyVolume[i] = Math.floor(vol * rand()) / 1000;
    k.takerBuyQuoteVolume[i] = Math.round((k.takerBuyVolume[i] * c) / 100 * 1e5) / 1e5;
  }
  k.length = count;
  return k;
}

function csvOf(k: Klines): string {
  const lines: string[] = [ARCHIVE_COLUMNS.join(',')];
  for (let i = 0; i < k.length; i++) {
    lines.push(
      `${k.openTime[i]},${formatDecimal(k.open[i])},${formatDecimal(k.high[i])},${formatDecimal(k.low[i])},${formatDecimal(k.close[i])},${formatDecimal(k.volume[i])},${closeTime(k.openTime[i], '1m')},${formatDecimal(k.quoteVolume[i])},${k.trades[i]},${formatDecimal(k.takerBuyVolume[i])},${formatDecimal(k.takerBuyQuoteVolume[i])},0`,
    );
  }
  return lines.join('\n') + '\n';
}

function best<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let ms = Infinity;
  let value!: T;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    value = fn();
    ms = Math.min(ms, performance.now() - t);
  }
  return { ms, value };
}

export const section: BenchSection = {
  name: 'market',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'atm-bench-market-'));
    try {
      const figures: Record<string, unknown> = {};
      // ---- import ----
      const real = existsSync(SAMPLE);
      let importFile = SAMPLE;
      if (!real) {
        importFile = join(dir, 'BENCHUSDT-1m-2020-01.csv');
        writeFileSync(importFile, csvOf(generateKlines(90_000)));
      }
      let bestImport = Infinity;
      for (let run = 0; run < 3; run++) {
        // a fresh database each run (the first run also warms the JIT up)
        const db = openDatabase(join(dir, `import-${run}.sqlite`));
        await migrate(db);
        const store = new KlineStore(db);
        const summary = importArchives(store, [importFile], { stopOnError: true });
        bestImport = Math.min(bestImport, summary.elapsedMs);
        figures.importRows = summary.rows;
        const [info] = store.series();
        figures.importBlobBytesPerKline = Math.round((info.bytes / info.rows) * 100) / 100;
        await db.close();
      }
      figures.importSource = real ? 'FILUSDT sample archive' : 'generated';
      figures.importRowsPerSecond = Math.round((figures.importRows as number) / (bestImport / 1000));
      // ---- 5 years of 1m ----
      const db = openDatabase(join(dir, 'load.sqlite'));
      await migrate(db);
      const store = new KlineStore(db);
      // generated, stored, then dropped: the loads below run with no second copy alive (as in the app)
      const insert = (() => {
        const k = generateKlines(FIVE_YEARS);
        const t = performance.now();
        store.insert('BENCHUSDT', '1m', k);
        return performance.now() - t;
      })();
      figures.storeInsertRowsPerSecond = Math.round(FIVE_YEARS / (insert / 1000));
      db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      let loaded = store.loadRange('BENCHUSDT', '1m'); // warm-up (JIT, page cache)
      let loadMs = Infinity;
      for (let run = 0; run < 3; run++) {
        loaded = undefined as unknown as typeof loaded; // let the previous result go first
        const t = performance.now();
        loaded = store.loadRange('BENCHUSDT', '1m');
        loadMs = Math.min(loadMs, performance.now() - t);
      }
      if (loaded.length !== FIVE_YEARS) throw new Error(`loaded ${loaded.length} of ${FIVE_YEARS} klines`);
      figures.loadRows = loaded.length;
      figures.load5y1mMs = Math.round(loadMs * 10) / 10;
      const [info] = store.series('BENCHUSDT');
      figures.blobBytesPerKline = Math.round((info.bytes / FIVE_YEARS) * 100) / 100;
      figures.fileBytesPerKline = Math.round((statSync(db.path).size / FIVE_YEARS) * 100) / 100;
      const agg = best(3, () => store.loadRange('BENCHUSDT', '1h'));
      figures.load5yAs1hMs = Math.round(agg.ms * 10) / 10;
      await db.close();
      // ---- chart ----
      try {
        const { chartRedrawBench } = await import('../screens/widgets/candles.js');
        Object.assign(figures, await chartRedrawBench(loaded));
      } catch (error) {
        figures.chart = `not measured: ${(error as Error).message}`;
      }
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
