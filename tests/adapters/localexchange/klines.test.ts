import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';

type Row = [number, string, string, string, string, string, number, string, number, string, string, string];

describe('local exchange klines', () => {
  let ex: LocalExchange;
  beforeAll(async () => {
    ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.5, seed: 13 });
    // an hour of live market on top of the generated history
    for (let i = 0; i < 360; i++) ex.tick(10_000);
  });
  afterAll(async () => ex.close());

  async function klines(query: string): Promise<Row[]> {
    const res = await fetch(`${ex.url}/fapi/v1/klines?symbol=BTCUSDT&${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Row[];
  }

  it('a startTime before the history gives the first klines of the history', async () => {
    const first = ex.markets.get('BTCUSDT')!.history.t[0];
    const rows = await klines('interval=1m&startTime=0&limit=5');
    expect(rows.map((r) => r[0])).toEqual([0, 1, 2, 3, 4].map((i) => first + i * 60_000));
    // within endTime
    const bounded = await klines(`interval=1m&startTime=${first - 7 * 86_400_000}&endTime=${first + 120_000}`);
    expect(bounded.map((r) => r[0])).toEqual([first, first + 60_000, first + 120_000]);
    // an endTime before the history: nothing
    expect(await klines(`interval=1m&startTime=0&endTime=${first - 1}`)).toEqual([]);
    // higher intervals start at the first whole interval of the history
    const hours = await klines('interval=1h&startTime=0&limit=3');
    const firstHour = Math.ceil(first / 3_600_000) * 3_600_000;
    expect(hours.map((r) => r[0])).toEqual([firstHour, firstHour + 3_600_000, firstHour + 7_200_000]);
  });

  it('a startTime inside the history still pages forward from it', async () => {
    const first = ex.markets.get('BTCUSDT')!.history.t[0];
    const start = first + 100 * 60_000 + 1; // not on a boundary: the next open time
    const rows = await klines(`interval=1m&startTime=${start}&limit=3`);
    expect(rows.map((r) => r[0])).toEqual([first + 101 * 60_000, first + 102 * 60_000, first + 103 * 60_000]);
  });

  it('serves exact decimal quote volumes: a 1h kline is the sum of its 1m klines to the last digit', async () => {
    /** A decimal string as an integer of 10^-8 units (exact). */
    const units = (text: string) => {
      const [whole, frac = ''] = text.split('.');
      expect(frac.length).toBeLessThanOrEqual(8);
      return BigInt(whole + frac.padEnd(8, '0'));
    };
    const hours = await klines('interval=1h&startTime=0&limit=12');
    expect(hours.length).toBe(12);
    for (const hour of hours) {
      const minutes = await klines(`interval=1m&startTime=${hour[0]}&endTime=${hour[0] + 3_599_999}&limit=60`);
      expect(minutes.length).toBe(60);
      const sum = (i: number) => minutes.reduce((acc, r) => acc + units(r[i] as string), 0n);
      expect(units(hour[7])).toBe(sum(7)); // quote asset volume
      expect(units(hour[10])).toBe(sum(10)); // taker buy quote asset volume
      expect(units(hour[7])).toBeGreaterThan(0n);
    }
  });
});


describe('local exchange month and week klines', () => {
  it('opens 1M klines on the first of the calendar month and 1w klines on Monday, as Binance does', async () => {
    // history from early February 2026 (28 days) into March: a fixed 30- or 31-day month would misalign
    const now = Date.UTC(2026, 2, 20, 12);
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 45, seed: 5, realClock: () => now });
    try {
      const get = async (query: string) => (await (await fetch(`${ex.url}/fapi/v1/klines?symbol=BTCUSDT&${query}`)).json()) as Row[];
      const months = await get('interval=1M&startTime=0&limit=5');
      // the first whole month of the history is March (February started before the history)
      expect(months.map((r) => [r[0], r[6]])).toEqual([[Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1) - 1]]);
      const march = await get(`interval=1d&startTime=${Date.UTC(2026, 2, 1)}&endTime=${now}&limit=100`);
      expect(months[0][8]).toBe(march.reduce((n, r) => n + r[8], 0));
      const weeks = await get('interval=1w&limit=3');
      for (const w of weeks) {
        expect(new Date(w[0]).getUTCDay()).toBe(1);
        expect(w[6] - w[0]).toBe(7 * 86_400_000 - 1);
      }
    } finally {
      await ex.close();
    }
  });
});
