import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/compose.js';
import { tempHome } from '../../helpers/app.js';
import { firstMismatch, generateKlines, toKlines } from './data.js';
import * as ref from './reference.js';

const K = generateKlines(300, 31);
const tmp = tempHome('atm-analyze-');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const nums = (a: (number | null)[]) => Float64Array.from(a, (v) => (v === null ? NaN : v));

beforeAll(async () => {
  // Build dist/ (tsc emits even when another area is mid-edit with a type error).
  try {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
    } catch {
      /* emitted anyway */
    }
  }
  // A Binance archive CSV (12 columns, no header).
  const rows: string[] = [];
  for (let i = 0; i < K.close.length; i++) {
    rows.push([K.openTime[i], K.open[i], K.high[i], K.low[i], K.close[i], K.volume[i], K.openTime[i] + 59_999, 0, 10, K.takerBuyVolume[i], 0, 0].join(','));
  }
  writeFileSync(join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), rows.join('\n') + '\n');
  writeFileSync(join(tmp.home, 'trend.yaml'), 'name: trend\nindicators:\n  - EMA:n=10\n  - type: DMIXADX\n    params: { n: 7 }\npip:\n  mode: classical\n');
  const { app, parts } = await compose({ home: tmp.home, logSync: true });
  parts.klines.insert('BTCUSDT', '1m', toKlines(K));
  await app.close();
}, 120_000);

afterAll(() => tmp.cleanup());

describe('atm analyze', () => {
  it('reads an archive CSV and prints one JSON object of <TYPE>.<line> arrays, null in warm-up', () => {
    const r = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), '--indicator', 'SMA:n=3', '--indicator', 'BOL:n=5,k=2', '--indicator', 'DMIXADX:n=5');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, (number | null)[]>;
    expect(Object.keys(json)).toEqual(['openTime', 'openTimeIso', 'SMA.value', 'BOL.upper', 'BOL.middle', 'BOL.lower', 'DMIXADX.plusDI', 'DMIXADX.minusDI', 'DMIXADX.adx', 'DMIXADX.signal', 'DMIXADX.norm']);
    expect(json.openTime[0]).toBe(K.openTime[0]);
    // the UTC date beside each epoch millisecond, one for one
    expect(json.openTimeIso.length).toBe(json.openTime.length);
    expect(json.openTimeIso.map((v) => Date.parse(v as unknown as string))).toEqual(json.openTime);
    expect(json.openTimeIso[0]).toBe('2023-11-14T22:13:20.000Z');
    expect(json['SMA.value'].slice(0, 3)).toEqual([null, null, json['SMA.value'][2]]);
    expect(firstMismatch(nums(json['SMA.value']), ref.sma(K.close, 3))).toBeUndefined();
    expect(firstMismatch(nums(json['BOL.upper']), ref.bbands(K.close, 5, 2).upper)).toBeUndefined();
    expect(firstMismatch(nums(json['DMIXADX.adx']), ref.dmi(K.high, K.low, K.close, 5).adx)).toBeUndefined();
  });

  it('reads a zipped archive the same way, and names a missing file', () => {
    const csv = readFileSync(join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'));
    writeFileSync(join(tmp.home, 'BTCUSDT-1m-2023-11-14.zip'), zipSync({ 'BTCUSDT-1m-2023-11-14.csv': new Uint8Array(csv) }));
    const fromCsv = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), '--indicator', 'MFI:n=5', '--indicator', 'PSAR');
    const fromZip = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.zip'), '--indicator', 'MFI:n=5', '--indicator', 'PSAR');
    expect(fromZip.err).toBe('');
    expect(fromZip.out).toBe(fromCsv.out);
    const missing = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-15.csv'), '--indicator', 'SMA');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('BTCUSDT-1m-2023-11-15.csv');
  });

  it('reads stored klines with --symbol/--interval/--from/--to and writes CSV to a file', () => {
    const out = join(tmp.home, 'out.csv');
    const from = new Date(K.openTime[100]).toISOString().slice(0, 16);
    const r = atm('analyze', '--symbol', 'BTCUSDT', '--interval', '1m', '--from', from, '--to', String(K.openTime[199]), '--indicator', 'EMA:n=4', '--format', 'csv', '--out', out);
    expect(r.err).toBe('');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('openTime,openTimeIso,EMA.value');
    expect(lines.length).toBe(101);
    expect(lines[1]).toBe(`${K.openTime[100]},${new Date(K.openTime[100]).toISOString()},`);
    expect(lines[1].split(',')[1]).toBe('2023-11-14T23:53:20.000Z');
    const expected = ref.ema(K.close.slice(100, 200), 4);
    expect(Number(lines[4].split(',')[2])).toBeCloseTo(expected[3], 9);
  });

  it('runs a CAC file (YAML) with PIP', () => {
    const r = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), '--cac', join(tmp.home, 'trend.yaml'));
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as Record<string, unknown[]>;
    expect(Object.keys(json)).toContain('PIP.direction');
    expect(json['PIP.direction'].every((v) => v === -1 || v === 0 || v === 1)).toBe(true);
  });

  it('names the indicator, parameter and allowed range of a bad parameter', () => {
    const r = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), '--indicator', 'SMA:n=1');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('atm: SMA.n: 1 is out of range; allowed: an integer from 2 to 100000');
    const bad = atm('analyze', '--input', join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv'), '--indicator', 'PSAR:max=2');
    expect(bad.err).toContain('PSAR.max: 2 is out of range; allowed: a number greater than 0 and at most 1');
  });

  it('stores a CAC (auto-named) and applies it to a symbol', () => {
    expect(atm('cac', 'save', '--indicator', 'SMA:n=5', '--indicator', 'PIP').out.trim()).toMatch(/^saved CAC_1 \(id \d+\)$/);
    const applied = atm('cac', 'apply', 'CAC_1', '--symbol', 'BTCUSDT', '--interval', '1m');
    expect(applied.err).toBe('');
    expect(applied.out).toContain('300 stored klines analysed, state running');
    const list = JSON.parse(atm('analyses', '--json').out) as Record<string, unknown>[];
    expect(list[0]).toMatchObject({ cacName: 'CAC_1', symbol: 'BTCUSDT', lastOpenTime: K.openTime[299], lastOpenTimeIso: '2023-11-15T03:12:20.000Z' });
    // each ISO field right after its epoch field, and the same instant
    const keys = Object.keys(list[0]);
    for (const key of ['lastOpenTime', 'createdAt', 'updatedAt']) {
      expect(keys[keys.indexOf(key) + 1]).toBe(`${key}Iso`);
      expect(Date.parse(list[0][`${key}Iso`] as string)).toBe(list[0][key]);
    }
    const cacs = JSON.parse(atm('cac', 'list', '--json').out) as Record<string, unknown>[];
    expect(cacs[0].name).toBe('CAC_1');
    expect(Date.parse(cacs[0].createdAtIso as string)).toBe(cacs[0].createdAt);
    expect(Date.parse(cacs[0].updatedAtIso as string)).toBe(cacs[0].updatedAt);
    expect(typeof cacs[0].createdAt).toBe('number');
  });

  it('says what is wrong, in one line and exit 2, for each mistake a new user made', () => {
    const csv = join(tmp.home, 'BTCUSDT-1m-2023-11-14.csv');
    const one = (r: { code: number | null; out: string; err: string }, text: string) => {
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toEqual([expect.stringContaining(text)]);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    };
    one(atm('analyze', '--input', csv, '--indicator', 'SMA:n=3', '--out', join(tmp.home, 'no', 'such', 'dir', 'out.json')), 'cannot write the file (its folder does not exist)');
    one(atm('analyze', '--symbol', 'BTCUSDT', '--interval', '7m', '--indicator', 'SMA:n=3'), '--interval: unknown interval "7m"');
    one(atm('analyze', '--symbol', 'BTCUSDT', '--interval', '1m', '--indicator', 'SMA:n=3', '--from', '2023-11-15', '--to', '2023-11-14'), 'is later than --to');
    one(atm('analyze', '--input', csv, '--interval', '5m', '--indicator', 'SMA:n=3'), '--interval 5m does not match BTCUSDT-1m-2023-11-14.csv, which holds 1m klines');
    one(atm('cac', 'save', '--file', join(tmp.home, 'nope.json')), '--file');
    atm('cac', 'save', '--name', 'dup', '--indicator', 'SMA:n=3');
    one(atm('cac', 'apply', 'dup', '--symbol', 'FOOUSDT', '--interval', '1m'), 'FOOUSDT is not a known symbol');
    expect(atm('cac', 'apply', 'dup', '--symbol', 'BTCUSDT', '--interval', '1m').code).toBe(0);
    one(atm('cac', 'apply', 'dup', '--symbol', 'btcusdt', '--interval', '1m'), 'dup is already applied to BTCUSDT 1m');
    one(atm('frobnicate'), "unknown command 'frobnicate': the commands are tui, status");
  });
});
