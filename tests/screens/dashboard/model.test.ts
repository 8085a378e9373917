import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../../src/core/app.js';
import type { ExchangeStats } from '../../../src/core/exchange/port.js';
import { exchangeLines, jobLabels, LogPanelState, logRow, poolRows, processRows } from '../../../src/screens/dashboard/model.js';
import { exchangeStateText } from '../../../src/screens/exchange.js';
import { openTestApp } from '../../helpers/app.js';

describe('Dashboard view model (no terminal)', () => {
  let app: App;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });
  const open = async () => {
    const opened = await openTestApp();
    app = opened.app;
    cleanup = opened.cleanup;
    return app;
  };

  it('process rows name the mode, the exchange state, read-only and the database of the real app', async () => {
    await open();
    const rows = new Map(processRows(app.status(), app.exchangeMode, app.t));
    expect(rows.get(app.t('dashboard.mode'))).toBe(app.exchangeMode);
    expect(rows.get(app.t('dashboard.exchange'))).toBe(exchangeStateText({ kind: 'none' }, app.t).text);
    expect(rows.get(app.t('dashboard.database'))).toBe(app.status().databasePath);
    expect(rows.get(app.t('dashboard.readonly'))).toBe(app.t('dashboard.no'));
    expect(rows.get(app.t('dashboard.uptime'))).toMatch(/^\d\d:\d\d \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
  });

  it('pool rows: a header and one row per pool with its thread budget; jobs capped', async () => {
    await open();
    const s = app.status();
    const [head, ...rows] = poolRows(s, app.t);
    expect(head).toHaveLength(7);
    expect(rows.map((r) => r[2])).toEqual(s.pools.map((p) => String(p.maxThreads)));
    const many = { ...s, jobs: Array.from({ length: 8 }, (_, i) => ({ id: String(i), label: `job ${i}` })) };
    expect(jobLabels(many)).toEqual(['job 0', 'job 1', 'job 2', 'job 3', 'job 4']);
  });

  it('exchange lines: offline is undefined; figures rounded; books listed with their state', async () => {
    await open();
    expect(exchangeLines(undefined, app.t)).toBeUndefined();
    const stats: ExchangeStats = {
      venue: 'binance', simulated: false, connections: 2, streams: 5, messagesPerSecond: 12.6, messagesTotal: 900, lagMs: 41.7, maxLagMs: 120.2,
      queued: 0, reconnects: 1, usedWeight: 40, weightLimit: 2400, timeOffsetMs: 3,
      books: [{ symbol: 'BTCUSDT', state: 'live', lastUpdateId: 7, bestBid: '100.1', bestAsk: '100.2', resyncs: 0 }],
    };
    const [line, books] = exchangeLines(stats, app.t)!;
    expect(line).toContain('13');
    expect(line).toContain('42');
    expect(line).toContain('120');
    expect(line).toContain('40');
    expect(books).toContain('BTCUSDT');
    expect(books).toContain('100.1');
    expect(exchangeLines({ ...stats, books: [] }, app.t)![1]).toBe(app.t('exchange.dashboard.noBooks'));
    expect(exchangeLines({ ...stats, simulated: true }, app.t)![0]).toContain(app.t('exchange.dashboard.simulated'));
  });

  it('exchange state in words with its colour role', async () => {
    await open();
    expect(exchangeStateText({ kind: 'connected', venue: 'binance', simulated: true }, app.t).role).toBe('warn');
    expect(exchangeStateText({ kind: 'connected', venue: 'binance', simulated: false }, app.t).role).toBeUndefined();
    const down = exchangeStateText({ kind: 'disconnected', venue: 'binance', reason: 'socket closed', simulated: false }, app.t);
    expect(down.role).toBe('error');
    expect(down.text).toContain('socket closed');
  });

  it('log rows and the log panel state', () => {
    const r = logRow({ time: Date.UTC(2024, 0, 1, 13, 4, 5), level: 'warn', msg: 'behind', component: 'market' });
    expect(r).toEqual({ time: '13:04:05', level: 'WARN ', role: 'warn', text: '[market] behind' });
    expect(logRow({ time: 0, level: 'debug', msg: 'x' })).toMatchObject({ level: 'DEBUG', role: 'muted', text: 'x' });
    const log = new LogPanelState(true);
    log.scrolled(false);
    expect(log.follow).toBe(false);
    log.scrolled(true);
    log.toggle();
    expect([log.shown, log.follow]).toEqual([false, true]);
  });
});
