import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { analyzeBatch } from '../../../src/core/analysis/engine.js';
import { AnalyzerHost } from '../../../src/core/analysis/host.js';
import { defaultCac, validateCac } from '../../../src/core/analysis/cac.js';
import { emptyBar, readBar, type KlineColumns } from '../../../src/core/analysis/indicators/index.js';
import { EventBus } from '../../../src/core/bus.js';
import { AnalysisService, type BookFeed } from '../../../src/core/analysis/service.js';
import type { App } from '../../../src/core/app.js';
import { compose } from '../../../src/main/compose.js';
import { WorkerPool } from '../../../src/workers/pool.js';
import type { StoredAnalysis } from '../../../src/core/analysis/repository.js';
import { openTestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/screen.js';
import { firstMismatch, generateKlines, head, toKlines } from './data.js';

// Worker threads run compiled code: make sure dist/ has the analysis worker.
beforeAll(() => {
  if (!existsSync('dist/workers/analysis-tasks.js')) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
}, 120_000);

const FULL = generateKlines(1200, 21);
const STORED = 1000;
const cac = defaultCac('host');
const small = validateCac({ name: 'small', indicators: ['SMA:n=5', 'DMIXADX:n=7'], pip: true });

function lastRowOf(c: typeof cac, k: KlineColumns): Float64Array {
  const r = analyzeBatch(c, k);
  return Float64Array.from(r.values.map((v) => v[v.length - 1]));
}

describe('analyzer host (real worker threads)', () => {
  let host: AnalyzerHost | undefined;
  let pool: WorkerPool | undefined;
  const newPool = (size: number) => (pool = new WorkerPool({ name: 'analysis', size, idleTimeoutMs: 1000 }));
  afterEach(async () => {
    await host?.destroy();
    await pool?.destroy();
    host = undefined;
    pool = undefined;
  });

  it('places analyses on the least-loaded worker and answers like the batch engine', async () => {
    let stored = head(FULL, STORED);
    const bus = new EventBus();
    const updates: number[] = [];
    bus.on('analysis.updated', (e) => updates.push(e.id));
    host = new AnalyzerHost({ pool: newPool(2), source: () => stored, bus });
    const started = [];
    for (const id of [1, 2, 3, 4, 5]) started.push(await host.start({ id, cac: id === 5 ? small : cac, symbol: 'BTCUSDT', interval: '1m' }));
    expect(started.map((a) => a.slot)).toEqual([0, 1, 0, 1, 0]);
    const p0 = await host.probe(0);
    const p1 = await host.probe(1);
    expect(p0.ids.sort()).toEqual([1, 3, 5]);
    expect(p1.ids.sort()).toEqual([2, 4]);
    expect(p0.threadId).not.toBe(p1.threadId);
    expect(started[0].count).toBe(STORED);
    expect(firstMismatch(started[0].last, lastRowOf(cac, stored), 0)).toBeUndefined();

    // Stopping frees the slot: the next analysis goes to the emptier worker.
    await host.stop(3);
    await host.stop(5);
    const six = await host.start({ id: 6, cac, symbol: 'ETHUSDT', interval: '1m' });
    expect(six.slot).toBe(0);

    // Live klines: each closed kline reaches every analysis of its series, in order.
    const bar = emptyBar();
    for (let i = STORED; i < STORED + 50; i++) {
      stored = head(FULL, i + 1);
      await host.pushKline('BTCUSDT', '1m', { ...readBar(FULL, i, bar) });
    }
    expect(host.get(1)!.count).toBe(STORED + 50);
    expect(host.get(6)!.count).toBe(STORED);
    expect(updates.filter((id) => id === 2).length).toBe(50);
    expect(firstMismatch(host.get(2)!.last, lastRowOf(cac, head(FULL, STORED + 50)), 0)).toBeUndefined();

    // The chart tail comes from the worker.
    const tail = await host.tail(1, 100);
    expect(tail!.openTime.length).toBe(100);
    expect(tail!.openTime[99]).toBe(FULL.openTime[STORED + 49]);
    const batch = analyzeBatch(cac, head(FULL, STORED + 50));
    const c = batch.columns.indexOf('DMIXADX.adx');
    expect(firstMismatch(tail!.values[c], batch.values[c].slice(STORED - 50, STORED + 50), 0)).toBeUndefined();
    expect(pool!.stats()).toMatchObject({ name: 'analysis', maxThreads: 2, threads: 2 });
  });

  it('recovers when a worker dies: a fresh thread replays its analyses from stored klines, without a gap', async () => {
    let stored = head(FULL, STORED);
    const bus = new EventBus();
    const states: string[] = [];
    bus.on('analysis.changed', (e) => states.push(`${e.id}:${e.state}`));
    host = new AnalyzerHost({ pool: newPool(2), source: () => stored, bus });
    await host.start({ id: 1, cac, symbol: 'BTCUSDT', interval: '1m' });
    await host.start({ id: 2, cac: small, symbol: 'BTCUSDT', interval: '1m' });
    await host.start({ id: 3, cac: small, symbol: 'BTCUSDT', interval: '1m' });
    const before = await host.probe(0);
    expect(before.ids.sort()).toEqual([1, 3]);

    await host.killWorker(0);
    // The next kline finds the worker gone (its replacement holds nothing) and triggers the replay.
    const bar = emptyBar();
    for (let i = STORED; i < STORED + 20; i++) {
      stored = head(FULL, i + 1); // the market layer stores a kline before announcing it
      await host.pushKline('BTCUSDT', '1m', { ...readBar(FULL, i, bar) });
    }
    const after = await host.probe(0);
    expect(after.threadId).not.toBe(before.threadId);
    expect(after.ids.sort()).toEqual([1, 3]);
    expect(states).toContain('1:recovering');
    expect(host.get(1)!.state).toBe('running');
    for (const id of [1, 2, 3]) {
      expect(host.get(id)!.count, `analysis ${id}`).toBe(STORED + 20);
      expect(firstMismatch(host.get(id)!.last, lastRowOf(id === 1 ? cac : small, head(FULL, STORED + 20)), 0)).toBeUndefined();
    }
    expect(pool!.stats().failed).toBeGreaterThan(0);
  });

  it('the app service stores analyses and resumes them after a restart from stored klines', async () => {
    const { app, parts, home, cleanup } = await openTestApp();
    let app2: App | undefined;
    try {
      parts.klines.insert('BTCUSDT', '1m', toKlines(head(FULL, STORED)));
      const saved = await app.analysis.saveCac({ name: '', indicators: ['EMA:n=10', 'MFI'], pip: true });
      expect(saved.cac.name).toBe('CAC_1');
      const view = await app.analysis.createAnalysis(saved.id, 'btcusdt', '1m');
      expect(view).toMatchObject({ symbol: 'BTCUSDT', liveState: 'running', count: STORED, lastOpenTime: FULL.openTime[STORED - 1] });
      expect(app.status().pools[0].threads).toBeGreaterThanOrEqual(1);
      await app.close();

      // Restart: more klines were stored meanwhile; the analysis picks up all of them.
      const second = await compose({ home, logSync: true });
      app2 = second.app;
      second.parts.klines.insert('BTCUSDT', '1m', toKlines(head(FULL, STORED + 30)));
      expect(await app2.analysis.resume()).toBe(1);
      const [again] = await app2.analysis.list();
      expect(again).toMatchObject({ id: view.id, cacName: 'CAC_1', liveState: 'running', count: STORED + 30, lastOpenTime: FULL.openTime[STORED + 29] });
      const expected = lastRowOf(saved.cac, head(FULL, STORED + 30));
      expect(firstMismatch(app2.analysis.live(view.id)!.last, expected, 0)).toBeUndefined();

      // A temporary analysis over a range runs in the analysis pool and equals the local batch.
      const temp = await app2.analysis.runBatch(saved.cac, app2.analysis.loadKlines('BTCUSDT', '1m', FULL.openTime[100], FULL.openTime[399]));
      const local = analyzeBatch(saved.cac, head({ ...FULL, openTime: FULL.openTime.slice(100), open: FULL.open.slice(100), high: FULL.high.slice(100), low: FULL.low.slice(100), close: FULL.close.slice(100), volume: FULL.volume.slice(100), takerBuyVolume: FULL.takerBuyVolume.slice(100) }, 300));
      expect(temp.columns).toEqual(local.columns);
      temp.values.forEach((v, c) => expect(firstMismatch(v, local.values[c], 0), temp.columns[c]).toBeUndefined());

      // Live: the market data service stores each closed kline, then announces it. Announcements
      // for four klines go missing (they were filled from REST): the analysis replays, no gap.
      const store = second.parts.klines;
      for (let i = STORED + 30; i < STORED + 45; i++) {
        store.insert('BTCUSDT', '1m', toKlines(head(FULL, i + 1)));
        if (i >= STORED + 36 && i < STORED + 40) continue;
        const bar = readBar(FULL, i, emptyBar());
        app2.bus.emit('market.kline', { symbol: 'BTCUSDT', interval: '1m', closed: true, kline: { ...bar, quoteVolume: 0, trades: 0, takerBuyQuoteVolume: 0 } });
      }
      await waitFor(() => app2!.analysis.live(view.id)?.count === STORED + 45, 10_000, 'the live klines to be analysed');
      expect(firstMismatch(app2.analysis.live(view.id)!.last, lastRowOf(saved.cac, head(FULL, STORED + 45)), 0)).toBeUndefined();
      // The stored row follows (written right after the worker answers).
      let storedLast: number | null = null;
      for (let tries = 0; tries < 200 && storedLast !== FULL.openTime[STORED + 44]; tries++) {
        storedLast = ((await second.parts.analyses.listAnalyses()) as StoredAnalysis[])[0].lastOpenTime;
        if (storedLast !== FULL.openTime[STORED + 44]) await new Promise((r) => setTimeout(r, 10));
      }
      expect(storedLast).toBe(FULL.openTime[STORED + 44]);
    } finally {
      await app2?.close();
      await cleanup();
    }
  });

  it('live analyses with WOI sample the local order book at each close; history has none', async () => {
    const { app, parts, cleanup } = await openTestApp();
    const opened: string[] = [];
    let closed = 0;
    const service = new AnalysisService({
      analyses: parts.analyses, bus: app.bus, klines: parts.klines, pool: newPool(1), now: () => Date.now(),
      book: (symbol): BookFeed => {
        opened.push(symbol);
        return {
          // 3 lots bid against 1 ask at the touch: imbalance +0.5.
          snapshot: () => ({ bidPrice: Float64Array.from([99.9]), bidQty: Float64Array.from([3]), askPrice: Float64Array.from([100.1]), askQty: Float64Array.from([1]) }),
          close: () => closed++,
        };
      },
    });
    try {
      const store = parts.klines;
      store.insert('ETHUSDT', '1m', toKlines(head(FULL, 200)));
      const saved = await service.saveCac({ indicators: ['WOI:interval=2,sigma=0.01', 'EMA:n=5'], pip: { mode: 'classical_woi', woiThreshold: 0.3 } });
      const view = await service.createAnalysis(saved.id, 'ETHUSDT', '1m');
      expect(opened).toEqual(['ETHUSDT']);
      const cols = service.live(view.id)!.columns;
      const woi = cols.indexOf('WOI.value');
      expect(Number.isNaN(service.live(view.id)!.last[woi])).toBe(true); // stored history: no book
      for (let i = 200; i < 203; i++) {
        store.insert('ETHUSDT', '1m', toKlines(head(FULL, i + 1)));
        const bar = readBar(FULL, i, emptyBar());
        app.bus.emit('market.kline', { symbol: 'ETHUSDT', interval: '1m', closed: true, kline: { ...bar, quoteVolume: 0, trades: 0, takerBuyQuoteVolume: 0 } });
      }
      await waitFor(() => service.live(view.id)?.count === 203, 10_000, 'live klines');
      const last = service.live(view.id)!.last;
      expect(last[woi]).toBeCloseTo(0.5, 12);
      expect(last[cols.indexOf('PIP.woi')]).toBe(1);
      await service.deleteAnalysis(view.id);
      expect(closed).toBe(1);
    } finally {
      await service.close();
      await cleanup();
    }
  });
});
