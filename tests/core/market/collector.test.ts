import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { LeaseHeldError } from '../../../src/core/leases.js';
import { gapCauseOf } from '../../../src/core/market/collector.js';
import { compose, type Composition } from '../../../src/main/compose.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The collector in-process (real App, real SQLite, the real local exchange on 127.0.0.1): backfill
 * paced under its share of the request-weight budget, counted at the exchange; the lease and the
 * status it publishes.
 */
describe('collector', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT'];

  async function setup(weightLimit: { limit: number; interval: 'SECOND' | 'MINUTE'; intervalNum: number }, collect: string[], speed = 1): Promise<{ server: LocalExchange; c: Composition; home: string }> {
    const server = await LocalExchange.start({ symbols: SYMBOLS, historyDays: 3, speed, host: '127.0.0.1', weightLimit });
    cleanups.push(() => server.close());
    const tmp = tempHome('atm-collector-');
    cleanups.push(tmp.cleanup);
    const config = join(tmp.home, 'config.yaml');
    writeFileSync(
      config,
      ['exchange:', '  mode: binance', '  binance:', `    restUrl: ${server.url}`, `    wsUrl: ${server.wsUrl}`, '    routed: true', 'market:', '  collect:', ...collect.map((l) => `    ${l}`), ''].join('\n'),
    );
    const c = await compose({ home: tmp.home, configFile: config, logSync: true });
    cleanups.push(() => c.app.close());
    return { server, c, home: tmp.home };
  }

  it('backfills newest-first within weightShare of the weight window, counted at the exchange, with no 429', async () => {
    // a 2-second window of 60 weight: backfill may book 0.4 × 60 = 24 per window (four pages of 5)
    const share = 0.4;
    const limit = 60;
    const { server, c } = await setup({ limit, interval: 'SECOND', intervalNum: 2 }, [`symbols: [${SYMBOLS.join(', ')}]`, 'backfillDays: 3', `weightShare: ${share}`]);
    const started = Date.now();
    await c.app.collector.start('test collector');
    await waitFor(() => (c.app.collector.view().status?.backfill.symbolsDone ?? 0) === SYMBOLS.length, 90_000, 'the backfill to finish');

    // the backfill's pages: klines requests that end before the live fill's window began
    const liveFrom = started - 1001 * 60_000;
    const backfill = server.metrics.weightLog.filter((r) => r.path === '/fapi/v1/klines' && Number(new URLSearchParams(r.query).get('endTime') ?? Infinity) < liveFrom);
    expect(backfill.length).toBeGreaterThanOrEqual(SYMBOLS.length * 3); // 3 days − the 1000 of the live fill: ≥ 4 pages each
    const perWindow = new Map<number, number>();
    for (const r of backfill) perWindow.set(Math.floor(r.t / 2000), (perWindow.get(Math.floor(r.t / 2000)) ?? 0) + r.weight);
    const busiest = Math.max(...perWindow.values());
    expect(busiest).toBeLessThanOrEqual(share * limit);
    // paced, not just small: it took at least total / (share × limit) windows
    const total = backfill.reduce((a, r) => a + r.weight, 0);
    expect(perWindow.size).toBeGreaterThanOrEqual(Math.ceil(total / (share * limit)));
    expect(server.metrics.http429).toBe(0);

    // newest first: each symbol's backfill pages go back in time
    for (const symbol of SYMBOLS) {
      const ends = backfill.filter((r) => new URLSearchParams(r.query).get('symbol') === symbol).map((r) => Number(new URLSearchParams(r.query).get('endTime')));
      expect(ends.length).toBeGreaterThan(0);
      for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeLessThan(ends[i - 1]);
      // three days behind the live edge, nothing missing
      const series = c.app.market.series(symbol).find((s) => s.interval === '1m')!;
      expect(series.missing).toBe(0);
      expect(series.last! - series.first!).toBeGreaterThanOrEqual(3 * 86_400_000 - 2 * 60_000);
    }
    console.log(`backfill pacing: ${backfill.length} pages, ${total} weight over ${perWindow.size} windows of 2 s, busiest ${busiest} of ${share * limit} allowed; 429s ${server.metrics.http429}`);
  }, 120_000);

  it('holds the collector lease: a second App is refused and shows the holder’s status instead', async () => {
    const { c, home } = await setup({ limit: 2400, interval: 'MINUTE', intervalNum: 1 }, ['symbols: [BTCUSDT, ETHUSDT]', 'backfillDays: 0']);
    await c.app.collector.start('test collector');
    expect(c.app.collector.view().role).toBe('self');
    // another App on the same data directory (as the TUI beside `atm collect`)
    const other = await compose({ home, configFile: join(home, 'config.yaml'), logSync: true });
    cleanups.push(() => other.app.close());
    await expect(other.app.collector.start('second')).rejects.toBeInstanceOf(LeaseHeldError);
    await waitFor(() => other.app.collector.view().status !== undefined, 10_000, 'the holder to publish its status');
    const view = other.app.collector.view();
    expect(view.role).toBe('other');
    expect(view.holder?.label).toBe('test collector');
    expect(view.status?.symbols).toBe(2);
    expect(view.heartbeatAgeMs).toBeLessThan(30_000);
    // released: nobody collects, and the second may take over
    await c.app.collector.stop();
    expect(other.app.collector.view().role).toBe('none');
    await other.app.collector.start('second');
    expect(other.app.collector.view().role).toBe('self');
  }, 60_000);

  it('records klines missed while the exchange drops every connection as a disconnected gap, filled from REST', async () => {
    // 60x: a kline closes every second
    const { server, c } = await setup({ limit: 2400, interval: 'MINUTE', intervalNum: 1 }, ['symbols: [BTCUSDT, ETHUSDT]', 'backfillDays: 0'], 60);
    await c.app.collector.start('test collector');
    await waitFor(() => c.app.collector.view().status?.stale === 0 && (c.app.market.series('BTCUSDT')[0]?.rows ?? 0) > 0, 30_000, 'both series current');
    const before = c.app.market.series('BTCUSDT').find((s) => s.interval === '1m')!.last!;
    // every frame drops the connection: about 4 market minutes without a stream
    server.faults.set('drop');
    await waitFor(() => (c.app.collector.view().status?.stale ?? 0) > 0, 10_000, 'the series to turn stale');
    await new Promise((resolve) => setTimeout(resolve, 4000));
    server.faults.set('');
    await waitFor(() => c.app.collector.view().status?.stale === 0 && c.app.collector.gaps({ open: true }).length === 0, 30_000, 'caught up, no gap open');
    await waitFor(() => c.app.market.series('BTCUSDT').find((s) => s.interval === '1m')!.last! > before + 5 * 60_000, 30_000, 'live again');
    // (a fill racing the first live klines at 60x may have recorded one earlier: not this outage)
    const gaps = c.app.collector.gaps({ symbol: 'BTCUSDT' }).filter((g) => g.cause === 'disconnected' && g.from > before);
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    const missed = gaps.reduce((a, g) => a + (g.to! - g.from) / 60_000 + 1, 0);
    expect(missed).toBeGreaterThanOrEqual(2); // ~4 market minutes without a stream
    for (const g of gaps) {
      expect(g.filledAt).toBeDefined();
      expect(c.app.market.storedKlines('BTCUSDT', '1m', g.from, g.to).length).toBe((g.to! - g.from) / 60_000 + 1);
    }
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) expect(c.app.market.series(symbol).find((s) => s.interval === '1m')!.missing).toBe(0);
  }, 90_000);

  it('records aggTrades and book samples of its market.collect.deep symbols into the deep store, and stops them with itself', async () => {
    const { c } = await setup({ limit: 2400, interval: 'MINUTE', intervalNum: 1 }, ['symbols: [BTCUSDT, ETHUSDT]', 'backfillDays: 0', 'deep: [ETHUSDT]']);
    await c.app.collector.start('test collector');
    const deep = c.parts.deep;
    await waitFor(() => deep.countTrades('ETHUSDT') > 0 && deep.countBookSamples('ETHUSDT') >= 2, 40_000, 'ETHUSDT trades and book samples stored');
    const status = c.app.collector.view().status;
    expect(status?.deep.map((d) => d.symbol)).toEqual(['ETHUSDT']);
    expect(deep.countTrades('BTCUSDT')).toBe(0); // collected, but not a deep symbol
    const trades = deep.loadTrades('ETHUSDT');
    for (let i = 1; i < trades.length; i++) expect(trades[i].id).toBeGreaterThan(trades[i - 1].id);
    await c.app.collector.stop();
    const after = deep.countTrades('ETHUSDT');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(deep.countTrades('ETHUSDT')).toBe(after);
  }, 60_000);

  it('names a gap\'s cause from why the series fell behind', () => {
    expect(gapCauseOf('silent')).toBe('disconnected');
    expect(gapCauseOf('gap')).toBe('disconnected');
    expect(gapCauseOf('market stream connection lost: closed 1006')).toBe('disconnected');
    expect(gapCauseOf('system maintenance (code -1008)')).toBe('maintenance');
    // a series of another source is never written, and a start is the collector's own gap
    expect(gapCauseOf('source')).toBeUndefined();
    expect(gapCauseOf('starting')).toBeUndefined();
  });
});
