import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { tempHome } from '../../helpers/app.js';
import { makeRows, toCsv, writeZip } from './fixtures.js';

/** `atm data ...` as a user runs it: the built program in a child process. */
describe('atm data (command line)', () => {
  const tmp = tempHome('atm-cli-data-');
  const archive = join(tmp.home, 'archive');
  const atm = (...args: string[]) => spawnSync(process.execPath, ['bin/atm.js', '--home', join(tmp.home, 'home'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    mkdirSync(archive);
  });
  afterAll(() => tmp.cleanup());

  it('imports, reports, verifies, exports and refuses bad input with one clear line', () => {
    const T0 = Date.UTC(2024, 2, 1);
    const rows = makeRows(T0, 3 * 1440, '1m', 31);
    writeZip(archive, 'XRPUSDT-1m-2024-03-01', toCsv(rows.slice(0, 1440), '1m', true));
    writeZip(archive, 'XRPUSDT-1m-2024-03-03', toCsv(rows.slice(2880), '1m', false));
    let r = atm('data', 'import', archive);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('XRPUSDT-1m-2024-03-01.zip (XRPUSDT-1m-2024-03-01.csv): 1440 rows, 1440 imported, 0 duplicates skipped, checksum ok');
    expect(r.stdout).toContain('XRPUSDT 1m: 2024-03-01 00:00 .. 2024-03-03 23:59 1 gap(s), 1440 kline(s) missing');
    expect(r.stdout).toContain('gap 2024-03-02 00:00 .. 2024-03-02 23:59 (1440 missing)');

    r = atm('data', 'import', archive);
    expect(r.stdout).toContain('total: 2 file(s), 2880 rows, 0 imported, 2880 duplicates skipped');

    r = atm('data', 'status', '--json');
    const status = JSON.parse(r.stdout) as { symbol: string; source: string; rows: number; gaps: number; missing: number; bytes: number }[];
    expect(status).toMatchObject([{ symbol: 'XRPUSDT', interval: '1m', source: 'binance', rows: 2880, gaps: 1, missing: 1440 }]);
    expect(status[0].bytes).toBeGreaterThan(0);
    // the UTC dates beside the epoch milliseconds
    expect(status[0]).toMatchObject({ firstIso: '2024-03-01T00:00:00.000Z', lastIso: '2024-03-03T23:59:00.000Z' });
    expect(Object.keys(status[0]).slice(Object.keys(status[0]).indexOf('first'), Object.keys(status[0]).indexOf('first') + 4)).toEqual(['first', 'firstIso', 'last', 'lastIso']);

    r = atm('data', 'verify');
    expect(r.status).toBe(2); // the gap
    expect(r.stdout).toContain('1 gap(s) (1440 missing)');

    writeFileSync(join(archive, 'XRPUSDT-1m-2024-03-02.csv'), toCsv(rows.slice(1440, 2880), '1m', false));
    expect(atm('data', 'import', join(archive, 'XRPUSDT-1m-2024-03-02.csv')).stdout).toContain('no gaps');
    r = atm('data', 'verify', '--symbol', 'xrpusdt');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('XRPUSDT 1m: ok, 4320 klines');

    const out = join(tmp.home, 'export');
    r = atm('data', 'export', '--symbol', 'XRPUSDT', '--interval', '1h', '--out', out, '--daily', '--csv');
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['XRPUSDT-1h-2024-03-01.csv', 'XRPUSDT-1h-2024-03-02.csv', 'XRPUSDT-1h-2024-03-03.csv']);
    expect(readFileSync(join(out, 'XRPUSDT-1h-2024-03-01.csv'), 'utf8').split('\n')[1]).toMatch(/^1709251200000,[\d.]+,[\d.]+,[\d.]+,[\d.]+,[\d.]+,1709254799999,/);

    // refused input: one line on stderr, no stack trace
    writeFileSync(join(archive, 'BAD.csv'), '1,2,3\n');
    r = atm('data', 'import', join(archive, 'BAD.csv'), '--symbol', 'XRPUSDT', '--interval', '1m');
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('BAD.csv: refused, nothing imported: ');
    expect(r.stdout).toContain('line 1: expected 12 columns, found 3');
    r = atm('data', 'export', '--symbol', 'XRPUSDT', '--from', 'yesterday');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('atm: --from "yesterday" is not a time: use YYYY-MM-DD, "YYYY-MM-DD HH:MM" (UTC) or epoch milliseconds');
    r = atm('data', 'import', join(archive, 'nothing-here.zip'));
    expect(r.stdout + r.stderr).toContain('nothing-here.zip: no such file or directory');

    // delete a series
    expect(atm('data', 'delete', '--symbol', 'XRPUSDT').status).toBe(2);
    // destructive: refused without a terminal to ask on, unless --yes (issue 13, defect 1)
    r = atm('data', 'delete', '--symbol', 'XRPUSDT', '--interval', '1m');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Delete the stored klines of XRPUSDT: 1m (4320 klines)? Refused without a terminal to ask on: add --yes to confirm');
    expect(atm('data', 'status').stdout).toContain('XRPUSDT');
    r = atm('data', 'delete', '--symbol', 'XRPUSDT', '--interval', '1m', '--yes');
    expect(r.stdout).toContain('deleted XRPUSDT 1m: 4320 klines');
    expect(atm('data', 'status').stdout).toContain('no klines stored');
  }, 120_000); // about a dozen atm processes: slow when the whole suite runs on two cores

  it('refuses rows off the interval grid and files of another interval; status and verify agree (issue 8, defect 4)', () => {
    const dir = join(tmp.home, 'grid');
    mkdirSync(dir);
    const T0 = Date.UTC(2024, 5, 1);
    // a 1m file with one row moved off the minute (line 51: 49 rows after the header)
    const lines = toCsv(makeRows(T0, 1440, '1m', 41), '1m', true).split('\n');
    lines[50] = lines[50].replace(/^(\d+),/, (_, t: string) => `${Number(t) + 1000},`);
    const off = join(dir, 'ADAUSDT-1m-2024-06-01.csv');
    writeFileSync(off, lines.join('\n'));
    let r = atm('data', 'import', off);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(`${off}: refused, nothing imported: ${off}: line 51: open time`);
    expect(r.stdout).toContain('is not on the 1m grid: 1m klines open every minute');
    // 1m rows in a file named -5m-
    const misnamed = writeZip(dir, 'ADAUSDT-5m-2024-06-02', toCsv(makeRows(T0 + 86_400_000, 1440, '1m', 42), '1m', false));
    r = atm('data', 'import', misnamed);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('ADAUSDT-5m-2024-06-02.csv: line 2: open time');
    expect(r.stdout).toContain('5m klines open every 5 minutes');
    expect(r.stdout).toContain('as in a 1m file');
    // nothing of either was stored; status and verify have nothing to disagree on
    expect(JSON.parse(atm('data', 'status', '--json').stdout)).toEqual([]);
    expect(atm('data', 'verify').status).toBe(0);
  });

  it('reports rows repeated inside a file, and says so when nothing was imported (exit 2)', () => {
    const dir = join(tmp.home, 'repeats');
    mkdirSync(dir);
    const rows = makeRows(Date.UTC(2024, 6, 1), 100, '1m', 43);
    const file = join(dir, 'DOTUSDT-1m-2024-07-01.csv');
    writeFileSync(file, toCsv([...rows, ...rows.slice(0, 5)], '1m', false));
    let r = atm('data', 'import', file);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${file}: 105 rows, 100 imported, 0 duplicates skipped, no checksum file (5 row(s) repeated inside the file with the same values, stored once)`);
    const empty = join(dir, 'DOTUSDT-1m-2024-07-02.csv');
    writeFileSync(empty, '');
    r = atm('data', 'import', empty);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(`${empty}: empty, no kline rows`);
    expect(r.stderr.trim()).toBe(`atm: nothing imported: ${empty} hold(s) no kline rows`);
    const nothing = join(dir, 'empty-folder');
    mkdirSync(nothing);
    r = atm('data', 'import', nothing);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`atm: ${nothing}: no archive files (.zip or .csv) found`);
  });

  it('exports text identical to the imported archive, trailing zeros included (NEARUSDT "4.0520", issue 13)', () => {
    // a day of NEARUSDT-like rows: prices on a 0.001 tick printed with 4 decimals (every one ends
    // in 0, so the stored values cannot tell), whole-number volumes, quote volumes with 3 decimals
    // printed with 4; what Binance's files look like
    const T0 = Date.UTC(2024, 10, 1);
    const rows = makeRows(T0, 1440, '1m', 77, 4.05);
    const p4 = (v: number) => v.toFixed(4);
    const lines = rows.map((k) =>
      [k.openTime, p4(k.open), p4(k.high), p4(k.low), p4(k.close), Math.round(k.volume), k.openTime + 59_999, (Math.round(k.quoteVolume * 1000) / 1000).toFixed(4), k.trades,
        Math.round(k.takerBuyVolume), (Math.round(k.takerBuyQuoteVolume * 1000) / 1000).toFixed(4), 0].join(','),
    );
    const csv = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n' + lines.join('\n') + '\n';
    expect(csv).toMatch(/,\d+\.\d{3}0,/); // trailing zeros are there to lose
    const dir = join(tmp.home, 'near');
    mkdirSync(dir);
    writeZip(dir, 'NEARUSDT-1m-2024-11-01', csv);
    let r = atm('data', 'import', dir);
    expect(r.status, r.stderr).toBe(0);
    const out = join(tmp.home, 'near-out');
    r = atm('data', 'export', '--symbol', 'NEARUSDT', '--interval', '1m', '--out', out, '--daily', '--csv');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'NEARUSDT-1m-2024-11-01.csv'), 'utf8')).toBe(csv);
    // zipped, the CSV inside is the same text, and its checksum file matches the zip
    const zipped = join(tmp.home, 'near-zip');
    expect(atm('data', 'export', '--symbol', 'NEARUSDT', '--interval', '1m', '--out', zipped, '--daily').status).toBe(0);
    const entries = unzipSync(readFileSync(join(zipped, 'NEARUSDT-1m-2024-11-01.zip')));
    expect(Buffer.from(entries['NEARUSDT-1m-2024-11-01.csv']).toString('utf8')).toBe(csv);
    // an interval aggregated from 1m keeps 1m's decimals: 1h prices print 4 decimals too
    expect(atm('data', 'export', '--symbol', 'NEARUSDT', '--interval', '1h', '--out', join(tmp.home, 'near-1h'), '--daily', '--csv').status).toBe(0);
    expect(readFileSync(join(tmp.home, 'near-1h', 'NEARUSDT-1h-2024-11-01.csv'), 'utf8').split('\n')[1]).toMatch(/^1730419200000,\d\.\d{4},\d\.\d{4},\d\.\d{4},\d\.\d{4},\d+,/);
  });

  it('ends quietly when the reader of its output goes away (atm data status --json | head -c1)', async () => {
    // the pipe is closed before atm writes anything: every write fails with EPIPE
    const child = spawn(process.execPath, ['bin/atm.js', '--home', join(tmp.home, 'home'), 'data', 'status', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
