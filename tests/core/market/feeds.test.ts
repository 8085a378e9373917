import { afterEach, describe, expect, it } from 'vitest';
import type { BookTop, MarketTrade } from '../../../src/core/market/service.js';
import { openTestApp } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

describe('MarketDataService live feeds: plain data, the exchange port stays inside (local exchange)', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('without an exchange: no venue, and a feed says so', async () => {
    const opened = await openTestApp();
    cleanup = opened.cleanup;
    const market = opened.app.market;
    expect(market.venue()).toBeUndefined();
    expect(() => market.book('BTCUSDT', () => {})).toThrow('no exchange is connected');
    expect(() => market.trades('BTCUSDT', () => {})).toThrow('no exchange is connected');
  });

  it('book(): top levels as [price, qty] strings, best first, synced flag; trades(): plain trades; close() ends a feed', async () => {
    const opened = await openTestApp({ exchangeMode: 'sim' });
    cleanup = opened.cleanup;
    const { app } = opened;
    await app.connectExchange();
    const market = app.market;
    expect(market.venue()).toBeTruthy();
    const tops: BookTop[] = [];
    const trades: MarketTrade[] = [];
    const book = market.book('BTCUSDT', (top) => tops.push(top), 5);
    const feed = market.trades('BTCUSDT', (trade) => trades.push(trade));
    await waitFor(() => tops.some((t) => t.synced && t.bids.length > 0 && t.asks.length > 0), 10_000, 'a synced book');
    await waitFor(() => trades.length > 0, 10_000, 'a trade');
    const top = tops.filter((t) => t.synced).at(-1)!;
    expect(top.symbol).toBe('BTCUSDT');
    expect(top.bids.length).toBeLessThanOrEqual(5);
    for (const [p, q] of [...top.bids, ...top.asks]) {
      expect(p).toMatch(/^\d+(\.\d+)?$/);
      expect(Number(q)).toBeGreaterThan(0);
    }
    const bids = top.bids.map(([p]) => Number(p));
    const asks = top.asks.map(([p]) => Number(p));
    expect(bids).toEqual([...bids].sort((a, b) => b - a));
    expect(asks).toEqual([...asks].sort((a, b) => a - b));
    expect(bids[0]).toBeLessThan(asks[0]);
    for (const t of tops.filter((x) => !x.synced)) expect([t.bids, t.asks]).toEqual([[], []]);
    const trade = trades[0];
    expect(Object.keys(trade).sort()).toEqual(['price', 'qty', 'sell', 'time']);
    expect(typeof trade.sell).toBe('boolean');
    expect(trade.price).toMatch(/^\d+(\.\d+)?$/);
    // closed feeds hear nothing more while a second book feed keeps receiving
    book.close();
    feed.close();
    book.close(); // twice is harmless
    const seenTops = tops.length;
    const seenTrades = trades.length;
    let later = 0;
    const second = market.book('BTCUSDT', () => later++);
    await waitFor(() => later >= 3, 10_000, 'updates on a second feed');
    second.close();
    expect(tops.length).toBe(seenTops);
    expect(trades.length).toBe(seenTrades);
  });
});
