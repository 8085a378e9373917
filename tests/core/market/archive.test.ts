import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveError, parseArchiveFileName, parseKlineCsv, readArchiveFile } from '../../../src/core/market/archive.js';
import { klinesEqual, klinesFromRows } from '../../../src/core/market/klines.js';
import { makeRows, toCsv, writeZip } from './fixtures.js';

const T0 = Date.UTC(2024, 0, 1);

describe('archive file names', () => {
  it('reads symbol, interval and period from daily, monthly and joined names', () => {
    expect(parseArchiveFileName('/x/BTCUSDT-1m-2024-01-15.zip')).toEqual({ symbol: 'BTCUSDT', interval: '1m', period: '2024-01-15' });
    expect(parseArchiveFileName('ETHUSDT-1mo-2024-01.csv')).toEqual({ symbol: 'ETHUSDT', interval: '1M', period: '2024-01' });
    expect(parseArchiveFileName('FILUSDT-1m-2024-09-01_2024-10-31.csv')?.interval).toBe('1m');
    expect(parseArchiveFileName('BTCUSDT-4h-2024-01.zip.CHECKSUM')?.interval).toBe('4h');
    expect(parseArchiveFileName('notes.csv')).toBeUndefined();
    expect(parseArchiveFileName('BTCUSDT-7m-2024-01.zip')).toBeUndefined();
  });
});

describe('parseKlineCsv', () => {
  const rows = makeRows(T0, 500, '1m', 7);
  it('parses with and without header, LF and CRLF, giving exactly Number(text)', () => {
    const expected = klinesFromRows(rows);
    for (const header of [true, false]) {
      for (const eol of ['\n', '\r\n']) {
        const csv = toCsv(rows, '1m', header, eol);
        const parsed = parseKlineCsv(csv, 'x.csv');
        expect(parsed.header).toBe(header);
        expect(klinesEqual(parsed.klines, expected)).toBe(true);
      }
    }
  });

  it('matches Number() on awkward decimals and integers, including 0 and 0.0', () => {
    const line = (o: string) => `1700000000000,${o},${o},${o},${o},0,1700000059999,0.0,0,0,0.00000000,0`;
    for (const text of ['0.1', '1234567.12345678', '0.00000001', '3.141', '00012.50', '9007199254740993', '1e-7', '0']) {
      const k = parseKlineCsv(line(text), 'a.csv').klines;
      expect(Object.is(k.open[0], Number(text))).toBe(true);
      expect(k.volume[0]).toBe(0);
    }
  });

  it('names the file, line and column of a bad value', () => {
    const csv = toCsv(rows.slice(0, 5), '1m', true).split('\n');
    csv[3] = csv[3].replace(/^(\d+),([^,]+),/, '$1,abc,');
    const error = (() => {
      try {
        parseKlineCsv(csv.join('\n'), 'BTCUSDT-1m-2024-01.csv');
      } catch (e) {
        return e as ArchiveError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ArchiveError);
    expect(error.message).toContain('BTCUSDT-1m-2024-01.csv: line 4, column 2 (open): "abc" is not a non-negative number');
    expect(() => parseKlineCsv('1,2,3\n', 'f.csv')).toThrow('f.csv: line 1: expected 12 columns, found 3');
    expect(() => parseKlineCsv('hello,world\n', 'f.csv')).toThrow(/line 1: expected a kline row or the header/);
    expect(() => parseKlineCsv('1700000060000,1,1,1,1,1,1700000000000,1,1,1,1,0\n', 'f.csv')).toThrow(/column 7 \(close_time\): close time/);
  });
});

describe('readArchiveFile', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a zip with a valid checksum and refuses a corrupt one', () => {
    dir = mkdtempSync(join(tmpdir(), 'atm-archive-'));
    const rows = makeRows(T0, 1440);
    const path = writeZip(dir, 'BTCUSDT-1m-2024-01-01', toCsv(rows, '1m', true));
    const [file] = readArchiveFile(path);
    expect(file.symbol).toBe('BTCUSDT');
    expect(file.interval).toBe('1m');
    expect(file.checksum).toBe('ok');
    expect(file.header).toBe(true);
    expect(klinesEqual(file.klines, klinesFromRows(rows))).toBe(true);

    const bytes = readFileSync(path);
    bytes[bytes.length - 30] ^= 0xff; // damage the zip but keep the old checksum
    writeFileSync(path, bytes);
    expect(() => readArchiveFile(path)).toThrow(/does not match .* in BTCUSDT-1m-2024-01-01.zip.CHECKSUM/);
    rmSync(`${path}.CHECKSUM`);
    // without a checksum file, damage inside the compressed data is still caught (inflate or CRC-32)
    const fresh = writeZip(dir, 'BTCUSDT-1m-2024-01-02', toCsv(rows, '1m', false), false);
    const damaged = readFileSync(fresh);
    damaged[Math.floor(damaged.length / 2)] ^= 0x01;
    writeFileSync(fresh, damaged);
    expect(() => readArchiveFile(fresh)).toThrow(ArchiveError);
  });

  it('takes --symbol/--interval over the name and refuses a name it cannot read without them', () => {
    dir = mkdtempSync(join(tmpdir(), 'atm-archive-'));
    const path = join(dir, 'data.csv');
    writeFileSync(path, toCsv(makeRows(T0, 3, '1h'), '1h', false));
    expect(() => readArchiveFile(path)).toThrow(/cannot tell the symbol and interval/);
    const [file] = readArchiveFile(path, { symbol: 'ETHUSDT', interval: '1h' });
    expect(file.klines.length).toBe(3);
    expect(file.symbol).toBe('ETHUSDT');
  });
});
