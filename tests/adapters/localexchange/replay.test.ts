import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { replayFromDatabase } from '../../../src/main/exchangeSim.js';
import { allocKlines } from '../../../src/core/market/klines.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { tempHome } from '../../helpers/app.js';

/** Generated 1m archive rows: a slow ramp with a known high/low each minute. */
function rows(start: number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = start + i * 60_000;
    const o = 100 + i;
    const c = o + 0.5;
    out.push([t, o.toFixed(2), (c + 0.25).toFixed(2), (o - 0.25).toFixed(2), c.toFixed(2), '12.5', t + 59_999, '1250', 40, '6', '600', '0'].join(','));
  }
  return out;
}

const tmp = tempHome('atm-replay-');
afterAll(() => tmp.cleanup());

describe('kline replay', () => {
  it('replays Binance archive files (csv with header, zip without): history as stored, then the path', async () => {
    const dir = join(tmp.home, 'archive', 'TESTUSDT');
    mkdirSync(dir, { recursive: true });
    const start = Date.UTC(2024, 0, 15);
    const day1 = rows(start, 60);
    const day2 = rows(start + 60 * 60_000, 60);
    writeFileSync(join(dir, 'TESTUSDT-1m-2024-01-15.csv'), ['open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore', ...day1].join('\n'));
    writeFileSync(join(dir, 'TESTUSDT-1m-2024-01-16.zip'), zipSync({ 'TESTUSDT-1m-2024-01-16.csv': new TextEncoder().encode(day2.join('\n')) }));
    const ex = await LocalExchange.start({ dataDir: join(tmp.home, 'archive'), historyDays: 30 / 1440, manualClock: true });
    try {
      expect([...ex.markets.keys()]).toEqual(['TESTUSDT']);
      const res = await fetch(`${ex.url}/fapi/v1/klines?symbol=TESTUSDT&interval=1m&startTime=${start}&limit=30`);
      const got = (await res.json()) as unknown[][];
      expect(got.length).toBe(30);
      expect(got[0].slice(0, 5)).toEqual([start, '100.00', '100.75', '99.75', '100.50']);
      expect(got[29][0]).toBe(start + 29 * 60_000);
      // the market starts at the first replayed minute and follows its path
      const m = ex.markets.get('TESTUSDT')!;
      expect(ex.time).toBe(start + 30 * 60_000);
      for (let i = 0; i < 60; i++) ex.tick(1000);
      const last = m.lastPrice * m.tickValue;
      expect(last).toBeGreaterThan(129);
      expect(last).toBeLessThan(132);
    } finally {
      await ex.close();
    }
  });

  it('replays the 1m klines stored in an atm database', async () => {
    const home = join(tmp.home, 'atmhome');
    const db = openDatabase(join(home, 'atm.sqlite'));
    await migrate(db);
    const k = allocKlines(50);
    const start = Date.UTC(2024, 5, 1);
    for (let i = 0; i < 50; i++) {
      k.openTime[i] = start + i * 60_000;
      k.open[i] = 2000 + i;
      k.high[i] = 2001 + i;
      k.low[i] = 1999 + i;
      k.close[i] = 2000.5 + i;
      k.volume[i] = 3;
      k.quoteVolume[i] = 6000;
      k.trades[i] = 30;
      k.takerBuyVolume[i] = 1.5;
      k.takerBuyQuoteVolume[i] = 3000;
    }
    k.length = 50;
    new KlineStore(db).insert('ETHUSDT', '1m', k);
    await db.close();
    const replay = await replayFromDatabase(home, undefined, 10 / 1440);
    expect(replay?.symbols).toEqual(['ETHUSDT']);
    const ex = await LocalExchange.start({ replay, historyDays: 10 / 1440, manualClock: true });
    try {
      const res = await fetch(`${ex.url}/fapi/v1/klines?symbol=ETHUSDT&interval=1m&startTime=${start}&limit=5`);
      const got = (await res.json()) as unknown[][];
      expect(got[0].slice(0, 5)).toEqual([start, '2000.00', '2001.00', '1999.00', '2000.50']);
      expect(ex.time).toBe(start + 10 * 60_000);
    } finally {
      await ex.close();
    }
  });
});
