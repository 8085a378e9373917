import { describe, expect, it } from 'vitest';
import { LocalOrderBook } from '../../../src/adapters/binance/orderbook.js';
import type { DepthSnapshot, DepthUpdateEvent, PriceLevel } from '../../../src/core/exchange/port.js';

function ev(U: number, u: number, pu: number, b: PriceLevel[] = [], a: PriceLevel[] = []): DepthUpdateEvent {
  return { e: 'depthUpdate', E: 0, T: 0, s: 'BTCUSDT', U, u, pu, b, a };
}

function snap(lastUpdateId: number, bids: PriceLevel[], asks: PriceLevel[]): DepthSnapshot {
  return { lastUpdateId, E: 0, T: 0, bids, asks };
}

/** A book whose snapshots come from a queue the test fills. */
function harness() {
  const pending: ((s: DepthSnapshot) => void)[] = [];
  let fetches = 0;
  const book = new LocalOrderBook('BTCUSDT', {
    fetchSnapshot: () => {
      fetches++;
      return new Promise((resolve) => pending.push(resolve));
    },
  });
  return {
    book,
    fetches: () => fetches,
    async answer(s: DepthSnapshot) {
      pending.shift()!(s);
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('LocalOrderBook (Binance USD-M procedure)', () => {
  it('buffers, drops events older than the snapshot, applies from the event spanning it', async () => {
    const h = harness();
    h.book.resync();
    h.book.onEvent(ev(90, 95, 89, [['100.0', '1']]));
    h.book.onEvent(ev(96, 105, 95, [['100.0', '2'], ['99.0', '5']], [['101.0', '3']]));
    h.book.onEvent(ev(106, 110, 105, [['99.0', '0']], [['102.0', '4']]));
    expect(h.book.synced).toBe(false);
    await h.answer(snap(100, [['100.0', '7'], ['98.0', '1']], [['101.0', '1']]));
    expect(h.book.synced).toBe(true);
    expect(h.book.lastUpdateId).toBe(110);
    expect(h.book.bids()).toEqual([['100.0', '2'], ['98.0', '1']]);
    expect(h.book.asks()).toEqual([['101.0', '3'], ['102.0', '4']]);
    expect(h.book.bestBid()).toEqual(['100.0', '2']);
  });

  it('fetches again when the snapshot is older than every buffered event', async () => {
    const h = harness();
    h.book.resync();
    h.book.onEvent(ev(120, 130, 119, [['100.0', '1']]));
    await h.answer(snap(100, [['100.0', '9']], []));
    expect(h.book.synced).toBe(false);
    expect(h.fetches()).toBe(2);
    await h.answer(snap(125, [['100.0', '9']], [['101.0', '1']]));
    expect(h.book.synced).toBe(true);
    expect(h.book.bids()).toEqual([['100.0', '1']]);
  });

  it('resyncs on a pu gap and on an out-of-order event, and recovers', async () => {
    const h = harness();
    h.book.resync();
    await h.answer(snap(10, [['100.0', '1']], [['101.0', '1']]));
    h.book.onEvent(ev(11, 12, 10, [['100.0', '2']]));
    expect(h.book.lastUpdateId).toBe(12);
    // 13..14 is missing: the next event's pu (14) is not the last u (12)
    h.book.onEvent(ev(15, 16, 14, [['100.0', '3']]));
    expect(h.book.synced).toBe(false);
    expect(h.book.resyncs).toBe(1);
    expect(h.book.bids()).toEqual([]);
    h.book.onEvent(ev(17, 18, 16, [], [['101.0', '0']]));
    await h.answer(snap(16, [['100.0', '3'], ['99.5', '1']], [['101.0', '2']]));
    expect(h.book.synced).toBe(true);
    expect(h.book.lastUpdateId).toBe(18);
    expect(h.book.asks()).toEqual([]);
    expect(h.book.bestAsk()).toBeUndefined();
    expect(h.book.bids(1)).toEqual([['100.0', '3']]);
  });

  it('keeps the buffer bounded while waiting for a snapshot', () => {
    const book = new LocalOrderBook('BTCUSDT', { fetchSnapshot: () => new Promise(() => undefined), maxBuffer: 100 });
    book.resync();
    for (let i = 1; i <= 10_000; i++) book.onEvent(ev(i, i, i - 1, [['100.0', String(i)]]));
    expect((book as any).buffer.length).toBe(100);
    expect((book as any).buffer[99].u).toBe(10_000);
  });
});
