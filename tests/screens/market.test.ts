import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/core/app.js';
import { klinesFromRows } from '../../src/core/market/klines.js';
import { connectExchange } from '../../src/screens/exchange.js';
import { waitFor } from '../helpers/screen.js';
import { ShellHarness } from '../helpers/shell.js';
import { openTestApp } from '../helpers/app.js';
import { makeRows } from '../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('Market page (headless, real blessed screen and shell)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  async function start(seed?: (app: App) => void, options: Parameters<typeof openTestApp>[0] = {}) {
    h = await new ShellHarness().start({ seed, app: options });
    return { app: h.app };
  }
  const press = (data: string) => h.press(data);
  const until = (text: string) => h.until(text);

  it('says plainly when nothing is stored and no exchange is connected', async () => {
    await start();
    press('6');
    const screen = await until('No klines stored yet');
    expect(screen).toContain('No exchange connected');
    expect(screen).not.toMatch(/\d+\.\d+%/); // no invented figures
  });

  it('lists stored symbols, charts the selected one, filters, sorts, zooms and switches interval', async () => {
    await start((app) => {
      // ETH rises, BTC falls over the last day; BTC trades more
      const p = (x: number) => Number(x.toFixed(4));
      const eth = makeRows(T0, 2 * 1440, '1m', 5, 2.0).map((r, i) => ({ ...r, open: p(2 + i / 10000), high: p(2.1 + i / 10000), low: p(1.9 + i / 10000), close: p(2.05 + i / 10000) }));
      const btc = makeRows(T0, 2 * 1440, '1m', 6, 4.0).map((r, i) => ({ ...r, open: p(4 - i / 10000), high: p(4.1 - i / 10000), low: p(3.5 - i / 10000), close: p(3.95 - i / 10000), quoteVolume: r.quoteVolume * 100 }));
      app.market.store.insert('ETHUSDT', '1m', klinesFromRows(eth));
      app.market.store.insert('BTCUSDT', '1m', klinesFromRows(btc));
    });
    press('6');
    let screen = await until('ETHUSDT');
    const lines = h.hs.text();
    const ethLine = lines.findIndex((l) => l.startsWith('│ETHUSDT'));
    const btcLine = lines.findIndex((l) => l.startsWith('│BTCUSDT'));
    expect(ethLine).toBeGreaterThan(0);
    expect(ethLine).toBeLessThan(btcLine); // sorted by change: ETH (up) first
    expect(screen).toContain("ETHUSDT 1m"); // the chart of the selected symbol
    expect(screen).toContain('2024-01-02 23:59'); // readout of the last candle
    expect(screen).toMatch(/[┃│╽╿╻╹]/);
    // sort by volume: BTC first
    screen = press('s');
    const byVolume = h.hs.text();
    expect(byVolume.findIndex((l) => l.startsWith('│BTCUSDT'))).toBeLessThan(byVolume.findIndex((l) => l.startsWith('│ETHUSDT')));
    // filter
    press('/');
    press('e');
    press('t');
    screen = press('\r');
    expect(screen).toContain('/ET');
    expect(screen).not.toMatch(/BTCUSDT\s+[-+]/);
    // interval switch and zoom
    screen = press(']');
    expect(screen).toContain('ETHUSDT 3m');
    screen = press('-');
    expect(screen).toContain('2 candles per column');
    screen = press('f');
    expect(screen).toMatch(/\d+ candles per column/);
    // a live forming kline from the market data service shows at once
    const app = h.app;
    app.bus.emit('market.kline', { symbol: 'ETHUSDT', interval: '1m', closed: false, kline: { openTime: T0 + 2 * 1440 * 60_000, open: 2.3, high: 2.4, low: 2.2, close: 2.35, volume: 1, quoteVolume: 2.35, trades: 1, takerBuyVolume: 0, takerBuyQuoteVolume: 0 } });
    for (let i = 0; i < 12; i++) press('+'); // back to one candle per column
    press('G'); // the latest candle
    screen = await until('2024-01-03 00:00');
    expect(screen).toContain('C 2.35');
  });

  it('with the local exchange connected: exchange symbols, a live chart filled from REST, the order book and trades', async () => {
    // real (archive) ETHUSDT klines are stored: the simulated exchange must not write into them
    const { app } = await start((a) => a.market.store.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 100, '1m', 9))), { exchangeMode: 'sim' });
    press('6');
    await connectExchange(app);
    await waitFor(() => app.market.isListed('BTCUSDT') === true, 5000, "the exchange's symbols imported");
    for (const ch of '/ETH\r') press(ch);
    await until('from binance; klines of this');
    expect(app.market.cannotWatch('ETHUSDT', '1m')).toBe('source');
    press('/');
    press('\x1b'); // while typing a filter, Esc clears it (and does not go back a page)
    await waitFor(() => {
      h.shell.renderNow();
      const text = h.hs.text().join('\n');
      return text.includes('[6 Market]') && !text.includes('/ETH');
    }, 2000, 'the filter cleared, still on the Market page');
    let screen = await until('ETHUSDT'); // the exchange's symbols are listed before anything is stored
    for (const ch of '/BTC\r') press(ch);
    screen = await until('BTCUSDT 1m');
    // the chart fills from REST (nothing was stored) and the book and trades stream in
    await waitFor(() => (app.market.store.lastOpenTime('BTCUSDT', '1m') ?? 0) > 0, 10_000, 'the initial fill');
    screen = await until('Recent trades');
    await waitFor(() => {
      h.shell.renderNow();
      screen = h.hs.text().join('\n');
      return /\d\d:\d\d:\d\d\s+\d+\.\d/.test(screen) && !screen.includes('order book syncing');
    }, 10_000, 'trades and a synced book');
    expect(screen).not.toContain('No exchange connected');
    expect(screen).toMatch(/[┃│╽╿╻╹]/);
    expect(app.market.isStale('BTCUSDT')).toBe(false);
    expect(app.market.store.gaps('BTCUSDT', '1m')).toEqual([]);
  });
});
