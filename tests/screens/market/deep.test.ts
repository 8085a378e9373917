import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/core/bus.js';
import { createI18n, fixedT } from '../../../src/core/i18n.js';
import type { BookSample, DeepTrade } from '../../../src/core/market/deepCodec.js';
import { DeepDataService } from '../../../src/core/market/deepService.js';
import { klinesFromRows } from '../../../src/core/market/klines.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { DeepStore } from '../../../src/db/deepStore.js';
import { deepStripView } from '../../../src/screens/market/deep.js';
import { openTestApp, tempHome } from '../../helpers/app.js';
import { ShellHarness } from '../../helpers/shell.js';
import { makeRows, toCsv, writeZip } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const t = fixedT(createI18n('en'));

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function service(): Promise<{ store: DeepStore; deep: DeepDataService }> {
  const tmp = tempHome();
  cleanups.push(tmp.cleanup);
  const db = openDatabase(join(tmp.home, 'atm.sqlite'));
  cleanups.push(() => db.close());
  await migrate(db);
  const store = new DeepStore(db);
  return { store, deep: new DeepDataService({ store, bus: new EventBus() }) };
}

/** Trades every 7 s over `minutes` minutes: qty (i % 5 + 1) / 10, every third one a taker sell. */
function tradesOver(minutes: number): DeepTrade[] {
  const out: DeepTrade[] = [];
  for (let i = 0, time = T0; time < T0 + minutes * MIN; i++, time += 7000) {
    out.push({ id: i + 1, price: `${100 + (i % 3)}.5`, qty: `0.${(i % 5) + 1}`, firstId: i + 1, lastId: i + 1, time, buyerMaker: i % 3 === 0 });
  }
  return out;
}

describe('the deep data strip (view model, no terminal)', () => {
  it('sums taker buys and sells per candle from stored aggTrades, NaN where none', async () => {
    const { store, deep } = await service();
    const trades = tradesOver(10);
    // a chunk per minute, as the recorder's flushes make them
    for (let m = 0; m < 10; m++) store.insertTrades('BTCUSDT', trades.filter((x) => Math.floor((x.time - T0) / MIN) === m));
    const openTimes = Float64Array.from({ length: 12 }, (_, i) => T0 + i * MIN);
    const strip = deep.strip('BTCUSDT', openTimes, MIN);
    expect(strip.hasTrades).toBe(true);
    expect(strip.hasBook).toBe(false);
    for (let c = 0; c < 12; c++) {
      const inCandle = trades.filter((x) => x.time >= openTimes[c] && x.time < openTimes[c] + MIN);
      const buy = inCandle.filter((x) => !x.buyerMaker).reduce((a, x) => a + Number(x.qty), 0);
      const sell = inCandle.filter((x) => x.buyerMaker).reduce((a, x) => a + Number(x.qty), 0);
      if (inCandle.length === 0) {
        expect(strip.buy[c]).toBeNaN();
        continue;
      }
      expect(strip.buy[c]).toBeCloseTo(buy, 12);
      expect(strip.sell[c]).toBeCloseTo(sell, 12);
    }
    const view = deepStripView(strip, 'BTCUSDT', t);
    expect(view.line).toBeUndefined();
    expect(view.panels.map((p) => p.id)).toEqual(['deep.flow']);
    expect(view.panels[0].series.map((s) => s.label)).toEqual(['buy', 'sell']);
    // bounded: with room for no panel, none is drawn
    expect(deepStripView(strip, 'BTCUSDT', t, 2).panels).toEqual([]);
    // bounded reads: only the latest candles are covered when the trades pass the limit
    const bounded = deep.strip('BTCUSDT', openTimes, MIN, { maxTrades: 20 });
    expect(bounded.fromIndex).toBeGreaterThan(0);
    expect(bounded.buy[0]).toBeNaN();
    expect(bounded.buy[9]).toBeCloseTo(strip.buy[9], 12);
  });

  it('averages bid and ask size within the band per candle from book samples, else from bookDepth rows', async () => {
    const { store, deep } = await service();
    const samples: BookSample[] = [0, 20_000, 40_000, 61_000].map((dt, i) => ({
      time: T0 + dt,
      // mid 100: 99.5 is within 1 %, 98.0 is not; 100.5 within, 102 not
      bids: [['99.5', `${i + 1}.0`], ['98.0', '50.0']],
      asks: [['100.5', `${2 * (i + 1)}.0`], ['102.0', '70.0']],
    }));
    store.insertBookSamples('ETHUSDT', samples);
    const openTimes = Float64Array.from([T0, T0 + MIN]);
    const strip = deep.strip('ETHUSDT', openTimes, MIN);
    expect(strip.hasBook).toBe(true);
    expect([...strip.bid]).toEqual([2, 4]); // (1 + 2 + 3) / 3, then 4
    expect([...strip.ask]).toEqual([4, 8]);
    expect(deepStripView(strip, 'ETHUSDT', t).panels.map((p) => p.title)).toEqual(['depth ±1%']);

    store.insertBookDepth('SOLUSDT', [
      { time: T0 + 5000, percentage: '-1.00', depth: '10.5', notional: '1' },
      { time: T0 + 5000, percentage: '1.00', depth: '7.25', notional: '1' },
      { time: T0 + 5000, percentage: '-2.00', depth: '99', notional: '1' },
    ]);
    const fromArchive = deep.strip('SOLUSDT', openTimes, MIN);
    expect(fromArchive.hasBook).toBe(true);
    expect(fromArchive.bid[0]).toBe(10.5);
    expect(fromArchive.ask[0]).toBe(7.25);
    expect(fromArchive.bid[1]).toBeNaN();
  });

  it('says in one line that nothing is recorded, and how to get it', async () => {
    const { deep } = await service();
    const view = deepStripView(deep.strip('XRPUSDT', Float64Array.from([T0]), MIN), 'XRPUSDT', t);
    expect(view.panels).toEqual([]);
    expect(view.line).toBe('No deep data recorded for XRPUSDT: add it to market.collect.deep, or import its aggTrades files (i)');
    expect(deepStripView(undefined, undefined, t)).toEqual({ panels: [] });
    const ko = deepStripView(undefined, 'XRPUSDT', fixedT(createI18n('ko')));
    expect(ko.line).toContain('XRPUSDT');
    expect(ko.line).not.toBe(view.line);
  });
});

describe('the strip on the Market page (headless blessed screen)', () => {
  let h: ShellHarness | undefined;
  afterEach(() => h?.dispose());

  it('draws the trade-flow panel for a symbol with stored trades and the dim line for one without', async () => {
    h = await new ShellHarness().start({
      seed: (_app, parts) => {
        parts.klines.insert('BTCUSDT', '1m', klinesFromRows(makeRows(T0, 30, '1m', 5, 100)));
        parts.klines.insert('ETHUSDT', '1m', klinesFromRows(makeRows(T0, 30, '1m', 6, 100)));
        parts.deep.insertTrades('BTCUSDT', tradesOver(30));
      },
      app: {} as Parameters<typeof openTestApp>[0],
    });
    h.press('6');
    const screens: Record<string, string> = {};
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      h.press('/');
      h.press('\x1b'); // clears the previous filter
      for (const ch of `/${symbol.slice(0, 3)}\r`) h.press(ch);
      screens[symbol] = await h.until(`${symbol} · 1m`);
    }
    expect(screens.BTCUSDT).toContain('trade flow');
    expect(screens.BTCUSDT).not.toContain('No deep data recorded');
    expect(screens.ETHUSDT).toContain('No deep data recorded for ETHUSDT');
    expect(screens.ETHUSDT).not.toContain('trade flow');
  });

  it('i imports aggTrades files as a job, and the strip appears for the symbol', async () => {
    const cwd = process.cwd();
    const tmp = tempHome('atm-deep-jobs-');
    cleanups.push(() => {
      process.chdir(cwd);
      tmp.cleanup();
    });
    const dir = join(tmp.home, 'archive');
    mkdirSync(dir);
    writeZip(dir, 'XRPUSDT-1m-2024-01-01', toCsv(makeRows(T0, 30, '1m', 21), '1m', true));
    const trades = tradesOver(30);
    writeFileSync(join(dir, 'XRPUSDT-aggTrades-2024-01-01.csv'), trades.map((x) => `${x.id},${x.price},${x.qty},${x.firstId},${x.lastId},${x.time},${x.buyerMaker}`).join('\n') + '\n');
    process.chdir(tmp.home);
    h = await new ShellHarness().start({ width: 160, height: 45 });
    h.press('6');
    h.press('i');
    h.press('j');
    h.press('\r'); // into archive/
    h.press('i'); // the whole folder
    await h.until('done: ');
    expect(h.app.jobs.list()[0]).toMatchObject({ state: 'done', result: `1 file(s), 30 imported, 0 already stored, 0 failed; deep data: 1 file(s), ${trades.length} rows imported, 0 refused` });
    expect(h.app.market.deep.trades('XRPUSDT')).toEqual(trades);
    const screen = await h.until('trade flow');
    expect(screen).toContain('XRPUSDT · 1m');
    expect(screen).not.toContain('No deep data recorded');
  });
});
