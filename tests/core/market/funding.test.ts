import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { RealClock } from '../../../src/core/clock.js';
import type { FundingRateRow } from '../../../src/core/exchange/port.js';
import { resolveSymbolRules } from '../../../src/core/futures/rules.js';
import { loadConfig } from '../../../src/core/config/load.js';
import {
  downloadFunding,
  FundingService,
  importFundingArchives,
  parseFundingCsv,
  parseFundingFileName,
  type FundingRow,
} from '../../../src/core/market/funding.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { FundingStore } from '../../../src/db/fundingStore.js';
import { RulesStore } from '../../../src/db/rulesStore.js';
import { SymbolStore } from '../../../src/db/symbolStore.js';
import { tempHome } from '../../helpers/app.js';
import { writeZip } from './fixtures.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** A month of 8-hourly archive rows (calc_time a few ms after the hour, like Binance's), rates from a seeded walk. */
function archiveRows(start: number, count: number, seed = 5): FundingRow[] {
  let x = seed;
  return Array.from({ length: count }, (_, i) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const units = (x % 30001) - 10000;
    return { time: start + i * 8 * H + (x % 5), rate: (units < 0 ? '-' : '') + '0.' + String(Math.abs(units)).padStart(8, '0'), intervalHours: 8, markPrice: null };
  });
}

function fundingCsv(rows: readonly FundingRow[], header: boolean, eol = '\n'): string {
  const lines = rows.map((r) => `${r.time},${r.intervalHours ?? 8},${r.rate}`);
  return (header ? ['calc_time,funding_interval_hours,last_funding_rate', ...lines] : lines).join(eol) + eol;
}

describe('funding archive files', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup() {
    const tmp = tempHome('atm-funding-');
    cleanups.push(tmp.cleanup);
    const db: Database = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const dir = join(tmp.home, 'archive');
    mkdirSync(dir);
    return { db, store: new FundingStore(db), dir };
  }

  it('tells funding files from kline files by name', () => {
    expect(parseFundingFileName('/x/BTCUSDT-fundingRate-2024-01.zip')).toEqual({ symbol: 'BTCUSDT', period: '2024-01' });
    expect(parseFundingFileName('ETHUSDT-fundingRate-2023-12.csv')).toEqual({ symbol: 'ETHUSDT', period: '2023-12' });
    expect(parseFundingFileName('BTCUSDT-1m-2024-01.zip')).toBeUndefined();
    expect(FundingService.isFundingFile('BTCUSDT-8h-2024-01.zip')).toBe(false);
  });

  it('parses rows with and without header, CRLF and a BOM, keeping the rate text exact', () => {
    const rows = archiveRows(T0, 5);
    const a = parseFundingCsv(fundingCsv(rows, true), 'a.csv');
    const b = parseFundingCsv('\uFEFF' + fundingCsv(rows, false, '\r\n'), 'b.csv');
    expect(a.header).toBe(true);
    expect(b.header).toBe(false);
    expect(a.rows).toEqual(rows);
    expect(b.rows).toEqual(rows);
  });

  it('names the file, line and column of a bad row', () => {
    const rows = archiveRows(T0, 4);
    const lines = fundingCsv(rows, true).split('\n');
    lines[3] = `${rows[2].time},8,0.0001x`;
    expect(() => parseFundingCsv(lines.join('\n'), 'F.csv')).toThrow(/^F\.csv: line 4, column 3 \(last_funding_rate\): rate "0\.0001x" is not a decimal number/);
    lines[3] = `${rows[2].time},8`;
    expect(() => parseFundingCsv(lines.join('\n'), 'F.csv')).toThrow(/^F\.csv: line 4: expected 3 columns, found 2/);
    lines[3] = `${rows[0].time},8,0.0001`; // time going back
    expect(() => parseFundingCsv(lines.join('\n'), 'F.csv')).toThrow(/line 4, column 1 \(calc_time\).*not after/);
    expect(() => parseFundingCsv('symbol,rate\n', 'G.csv')).toThrow(/^G\.csv: line 1: expected a funding row or the header/);
  });

  it('imports zips (checksum verified) and csv files, counts duplicates, and refuses a corrupt file whole', async () => {
    const { store, dir, db } = await setup();
    const jan = archiveRows(T0, 93, 1);
    const feb = archiveRows(T0 + 93 * 8 * H, 87, 2);
    writeZip(dir, 'BTCUSDT-fundingRate-2024-01', fundingCsv(jan, true));
    writeZip(dir, 'BTCUSDT-fundingRate-2024-02', fundingCsv(feb, false), false);
    const first = importFundingArchives(store, [join(dir, 'BTCUSDT-fundingRate-2024-01.zip'), join(dir, 'BTCUSDT-fundingRate-2024-02.zip')]);
    expect(first.failed).toBe(0);
    expect(first.files.map((f) => [f.symbol, f.header, f.checksum, f.rows, f.inserted, f.duplicates])).toEqual([
      ['BTCUSDT', true, 'ok', 93, 93, 0],
      ['BTCUSDT', false, 'absent', 87, 87, 0],
    ]);
    expect(first.coverage).toEqual([
      { symbol: 'BTCUSDT', source: 'binance', first: jan[0].time, last: feb[86].time, count: 180, intervalHours: 8, gaps: [], missing: 0 },
    ]);
    const stored = store.loadRange('BTCUSDT');
    expect(stored.rates).toEqual([...jan, ...feb].map((r) => r.rate));
    expect(Array.from(stored.times)).toEqual([...jan, ...feb].map((r) => r.time));

    // the same month again as csv: all duplicates; one changed rate is counted, the stored one kept
    const changed = jan.map((r, i) => (i === 10 ? { ...r, rate: '0.00123456' } : r));
    writeFileSync(join(dir, 'BTCUSDT-fundingRate-2024-01.csv'), fundingCsv(changed, true));
    const again = importFundingArchives(store, [join(dir, 'BTCUSDT-fundingRate-2024-01.csv')]);
    expect(again.files[0]).toMatchObject({ rows: 93, inserted: 0, duplicates: 93, changed: 1, checksum: 'absent' });
    expect(store.loadRange('BTCUSDT', jan[10].time, jan[10].time).rates).toEqual([jan[10].rate]);

    // a zip whose checksum does not match, and a csv with a bad row: refused, nothing written
    const march = archiveRows(T0 + 180 * 8 * H, 93, 3);
    const zip = writeZip(dir, 'BTCUSDT-fundingRate-2024-03', fundingCsv(march, true));
    const bytes = readFileSync(zip);
    bytes[bytes.length - 30] ^= 0xff;
    writeFileSync(zip, bytes);
    const bad = fundingCsv(march, false).split('\n');
    bad[40] = 'oops,8,0.0001';
    writeFileSync(join(dir, 'ETHUSDT-fundingRate-2024-03.csv'), bad.join('\n'));
    const before = db.sqlite.prepare('SELECT COUNT(*) AS n FROM funding_rates').get();
    const refused = importFundingArchives(store, [zip, join(dir, 'ETHUSDT-fundingRate-2024-03.csv')]);
    expect(refused.failed).toBe(2);
    expect(refused.files[0].error).toMatch(/BTCUSDT-fundingRate-2024-03\.zip: sha256 [0-9a-f]{64} does not match/);
    expect(refused.files[1].error).toMatch(/ETHUSDT-fundingRate-2024-03\.csv: line 41, column 1 \(calc_time\): "oops"/);
    expect(db.sqlite.prepare('SELECT COUNT(*) AS n FROM funding_rates').get()).toEqual(before);
  });
});

describe('funding download from the local exchange', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    let t = Date.now();
    const server = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: 0.05, seed: 9, tickMs: 100, host: '127.0.0.1', realClock: () => t });
    cleanups.push(() => server.close());
    const port = new BinanceExchange({ venue: 'local', simulated: true, restUrl: server.url, wsUrl: server.wsUrl, routed: true, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
    await port.connect();
    cleanups.push(() => port.close());
    // let the market run four days (a fast-forward settles funding every 8 h)
    t += 4 * 24 * H;
    let served: FundingRateRow[] = [];
    for (let i = 0; i < 200 && served.length < 12; i++) served = await port.fundingRateHistory('BTCUSDT', { startTime: 0, limit: 1000 });
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    return { port, served, db, store: new FundingStore(db), symbols: new SymbolStore(db), rules: new RulesStore(db), clock: new RealClock() };
  }

  it("serves Binance's row shape, and a download stores exactly what it serves; interrupted, it resumes where the store ends", async () => {
    const { port, served, store, symbols, clock } = await setup();
    expect(served.length).toBeGreaterThanOrEqual(12);
    for (const r of served) {
      expect(r.symbol).toBe('BTCUSDT');
      expect(typeof r.fundingTime).toBe('number');
      expect(r.fundingRate).toMatch(/^-?\d+\.\d{8}$/);
      expect(r.markPrice).toMatch(/^\d+\.\d+$/);
    }
    const deps = { port, store, symbols, clock };
    // pages of 5; stop after the first page
    const controller = new AbortController();
    const first = await downloadFunding(deps, { symbol: 'BTCUSDT', from: 0, pageLimit: 5, signal: controller.signal, onProgress: () => controller.abort() });
    expect(first).toMatchObject({ stored: 5, requests: 1, cancelled: true });
    const second = await downloadFunding(deps, { symbol: 'BTCUSDT', from: 0, pageLimit: 5 });
    expect(second.resumedFrom).toBe(served[4].fundingTime + 1);
    expect(second.stored).toBe(served.length - 5);
    expect(second.duplicates).toBe(0);
    expect(second.requests).toBe(Math.floor((served.length - 5) / 5) + 1);
    const stored = store.loadRange('BTCUSDT');
    expect(Array.from(stored.times)).toEqual(served.map((r) => r.fundingTime));
    expect(stored.rates).toEqual(served.map((r) => r.fundingRate));
    expect(stored.marks).toEqual(served.map((r) => r.markPrice));
    expect(store.sourceOf('BTCUSDT')).toBe('local');
    // complete: one request finds nothing new
    const third = await downloadFunding(deps, { symbol: 'BTCUSDT', from: 0 });
    expect(third).toMatchObject({ stored: 0, requests: 1 });
    // archive rates (binance) never land on these
    expect(() => store.insert('BTCUSDT', [{ time: 1, rate: '0.0001' }])).toThrow(/never mixed/);
  });

  it('stores the exchange rules on the way: exchangeInfo and, with credentials, the leverage brackets', async () => {
    const { port, store, symbols, rules, clock } = await setup();
    const service = new FundingService({ store, symbols, rules, clock, exchange: () => port });
    const result = await service.download({ symbol: 'BTCUSDT', from: 0 });
    expect(result.rules).toMatchObject({ venue: 'local', brackets: { stored: true } });
    expect(result.coverage).toMatchObject({ symbol: 'BTCUSDT', source: 'local', intervalHours: 8, gaps: [] });
    const home = tempHome();
    cleanups.push(home.cleanup);
    const config = loadConfig(join(home.home, 'none.yaml')).config.symbolRules;
    const r = resolveSymbolRules(rules, config, 'BTCUSDT');
    expect(r.source).toEqual({ filters: 'exchange', brackets: 'exchange' });
    expect(r.bracketsVenue).toBe('local');
    const served = await port.leverageBrackets('BTCUSDT');
    expect(r.brackets).toEqual(served.brackets);
    const info = (await port.exchangeInfo()).symbols.find((s) => s.symbol === 'BTCUSDT')!;
    for (const key of ['tickSize', 'stepSize', 'minQty', 'maxQty', 'marketStepSize', 'marketMinQty', 'marketMaxQty', 'minNotional', 'minPrice', 'maxPrice'] as const) {
      expect(r.info[key], key).toBe(info[key]);
    }
  });

  it('the simulated exchange never overwrites what a real venue stored (exchangeInfo, brackets)', async () => {
    const { port, store, symbols, rules, clock } = await setup();
    const real = (await port.exchangeInfo()).symbols.find((s) => s.symbol === 'BTCUSDT')!;
    symbols.upsertAll([{ ...real, tickSize: '0.50', minNotional: '55' }]);
    const tiers = [{ bracket: 1, initialLeverage: 50, notionalCap: 1e9, notionalFloor: 0, maintMarginRatio: 0.01, cum: 0 }];
    rules.putBrackets({ symbol: 'BTCUSDT', brackets: tiers }, 'binance', 1);
    const result = await new FundingService({ store, symbols, rules, clock, exchange: () => port }).download({ symbol: 'BTCUSDT', from: 0 });
    expect(result.rules).toMatchObject({ venue: 'local', symbols: 0, brackets: { stored: false, reason: 'brackets from binance are kept' } });
    expect(rules.symbolInfo('BTCUSDT')).toMatchObject({ tickSize: '0.50', minNotional: '55' });
    expect(rules.brackets('BTCUSDT')).toMatchObject({ source: 'binance', brackets: tiers });
  });
});
