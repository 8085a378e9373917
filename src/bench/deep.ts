import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinanceExchange } from '../adapters/binance/adapter.js';
import { LocalExchange } from '../adapters/localexchange/server.js';
import { startDeepRecording } from '../core/market/deep.js';
import { encodeBookSamples, encodeTrades } from '../core/market/deepCodec.js';
import { migrate, openDatabase } from '../db/database.js';
import { DeepStore } from '../db/deepStore.js';
import type { BenchSection } from './index.js';

const DAY_S = 86_400;
/** Binance USD-M BTCUSDT prints about this many aggTrades a day (order of magnitude, 2024). */
const BINANCE_BTC_AGGTRADES_PER_DAY = 2_000_000;

/**
 * Deep data figures: two symbols recorded from the local exchange in real time (top 20 levels
 * sampled each second, trades from the aggTrade stream), then the packed bytes per sample and per
 * trade as stored, and the bytes per symbol-day they make. `DEEP_BENCH_SECONDS` (default 60) sets
 * the recording time.
 */
async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.DEEP_BENCH_SECONDS ?? 60);
  const home = mkdtempSync(join(tmpdir(), 'atm-bench-deep-'));
  const db = openDatabase(join(home, 'atm.sqlite'));
  await migrate(db);
  const store = new DeepStore(db);
  const symbols = ['BTCUSDT', 'ETHUSDT'];
  const ex = await LocalExchange.start({ symbols, historyDays: 0.02, seed: 17 });
  const client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, routed: true });
  try {
    await client.connect();
    const recordings = symbols.map((s) => startDeepRecording({ port: client, store }, s, { levels: 20, sampleMs: 1000, flushMs: 30_000 }));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    for (const r of recordings) await r.stop();
    const figures: Record<string, unknown> = { recordedSeconds: seconds, levelsPerSide: 20, flushSeconds: 30 };
    for (const info of store.summary()) {
      const trades = store.loadTrades(info.symbol);
      const samples = store.loadBookSamples(info.symbol);
      const perSample = info.bookBytes / Math.max(1, info.samples);
      const perTrade = info.tradeBytes / Math.max(1, info.trades);
      const oneChunkPerTrade = trades.length > 0 ? encodeTrades(trades).length / trades.length : 0;
      const oneChunkPerSample = samples.length > 0 ? encodeBookSamples(samples).length / samples.length : 0;
      const tradesPerDay = (info.trades / seconds) * DAY_S;
      figures[info.symbol] = {
        samples: info.samples,
        trades: info.trades,
        bookBytesPerSample: Math.round(perSample),
        bookBytesPerSampleOneChunk: Math.round(oneChunkPerSample),
        bookMBPerDay: +((perSample * DAY_S) / 1e6).toFixed(2),
        tradeBytesPerTrade: +perTrade.toFixed(2),
        tradeBytesPerTradeOneChunk: +oneChunkPerTrade.toFixed(2),
        localTradesPerDay: Math.round(tradesPerDay),
        tradeMBPerDayLocal: +((perTrade * tradesPerDay) / 1e6).toFixed(2),
        tradeMBPerDayAtBinanceBtcRate: +((oneChunkPerTrade * BINANCE_BTC_AGGTRADES_PER_DAY) / 1e6).toFixed(1),
        gaps: info.gaps,
      };
    }
    return figures;
  } finally {
    await client.close();
    await ex.close();
    await db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export const section: BenchSection = { name: 'deep', run };
