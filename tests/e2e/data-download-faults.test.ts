import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { tempHome } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { finish, simConfig, startAtm, startSim, type SimProcess } from './processes.js';

/**
 * Defect 1 of issue 8: `atm data download` against an exchange that answers some requests with
 * 429 or 5xx. Seen only with real processes: the download in one `atm` process, the exchange in
 * another (`atm exchange-sim`), so nothing but the download itself keeps the downloading process
 * alive while it backs off.
 */

type Row = [number, string, string, string, string, string, number, string, number, string, string, string];

/** GET with a bounded retry, since the exchange injects the same faults into these requests. */
async function restGet<T>(url: string): Promise<T> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const res = await fetch(url);
    if (res.ok) return (await res.json()) as T;
    await res.arrayBuffer();
    const wait = res.status === 429 ? Number(res.headers.get('retry-after') ?? '1') * 1000 : 100;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  throw new Error(`${url}: no answer in 60 attempts`);
}

/** The exchange's 1m klines with open times in [from, to], page by page. */
async function restKlines(sim: SimProcess, symbol: string, from: number, to: number): Promise<Row[]> {
  const out: Row[] = [];
  let cursor = from;
  for (let page = 0; page < 100 && cursor <= to; page++) {
    const rows = await restGet<Row[]>(`${sim.restUrl}/fapi/v1/klines?symbol=${symbol}&interval=1m&startTime=${cursor}&endTime=${to}&limit=1500`);
    if (rows.length === 0) break;
    out.push(...rows);
    cursor = rows[rows.length - 1][0] + 60_000;
  }
  return out;
}

/** Every stored kline of the series equals the exchange's, and none is missing. */
async function expectStoredEqualsExchange(home: string, sim: SimProcess, symbol: string): Promise<number> {
  const db = openDatabase(join(home, 'atm.sqlite'), { readonly: true });
  try {
    const stored = new KlineStore(db).loadStored(symbol, '1m');
    expect(stored.length).toBeGreaterThan(0);
    const first = stored.openTime[0];
    const last = stored.openTime[stored.length - 1];
    const rest = await restKlines(sim, symbol, first, last);
    // the download starts at the exchange's first kline and leaves no hole
    const earliest = await restGet<Row[]>(`${sim.restUrl}/fapi/v1/klines?symbol=${symbol}&interval=1m&startTime=0&limit=1`);
    expect(first).toBe(earliest[0][0]);
    expect(stored.length).toBe(rest.length);
    expect(stored.length).toBe((last - first) / 60_000 + 1);
    for (let i = 0; i < rest.length; i++) {
      const r = rest[i];
      const got = [stored.openTime[i], stored.open[i], stored.high[i], stored.low[i], stored.close[i], stored.volume[i], stored.quoteVolume[i], stored.trades[i]];
      const want = [r[0], Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5]), Number(r[7]), r[8]];
      if (got.some((v, j) => v !== want[j])) expect({ index: i, got }).toEqual({ index: i, got: want });
    }
    return stored.length;
  } finally {
    await db.close();
  }
}

describe('atm data download against a separate exchange-sim process with faults', () => {
  const tmp = tempHome('atm-e2e-download-');
  let sim: SimProcess;
  let config: string;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    // 5 days of history: 7200 1m klines, about 8 pages; a 429 or a 5xx on 40 % of requests, so
    // nearly every run meets three failures in a row somewhere (connection included)
    sim = await startSim(['--faults', '429@0.2,5xx@0.2', '--history', '5', '--symbols', 'BTCUSDT,ETHUSDT', '--seed', '7']);
    config = join(tmp.home, 'sim.yaml');
    writeFileSync(config, simConfig(sim));
  }, 90_000);

  afterAll(async () => {
    await sim?.stop();
    tmp.cleanup();
  });

  it('finishes every run (exit 0), waits out 429s and 5xxs, and stores every kline the exchange has', async () => {
    const runs = 4;
    for (let run = 0; run < runs; run++) {
      const home = join(tmp.home, `run${run}`);
      mkdirSync(home);
      const symbol = run % 2 === 0 ? 'BTCUSDT' : 'ETHUSDT';
      const r = await finish(startAtm(['--home', home, '--config', config, 'data', 'download', '--symbol', symbol, '--interval', '1m']), 120_000, `download run ${run}`);
      expect({ run, code: r.code, stderr: r.stderr.slice(-600) }).toEqual({ run, code: 0, stderr: r.stderr.slice(-600) });
      expect(r.stdout).toMatch(new RegExp(`^${symbol} 1m: \\d+ klines stored with \\d+ requests`, 'm'));
      const stored = await expectStoredEqualsExchange(home, sim, symbol);
      expect(stored).toBeGreaterThanOrEqual(5 * 1440 - 2);
    }
  }, 600_000);

  it('waits out a 429 at connection even when its Retry-After is longer than the connection timeout', async () => {
    // every other request answered 429 with Retry-After 2 s, the connection timeout 1 s: the
    // venue has answered, so it is reachable, and the wait is the exchange's to set
    const busy = await startSim(['--faults', '429@0.5,retry-after=2', '--history', '1', '--symbols', 'BTCUSDT', '--seed', '3']);
    try {
      const cfg = join(tmp.home, 'busy.yaml');
      writeFileSync(cfg, simConfig(busy, 1000));
      for (let run = 0; run < 2; run++) {
        const home = join(tmp.home, `busy${run}`);
        mkdirSync(home);
        const r = await finish(startAtm(['--home', home, '--config', cfg, 'data', 'download', '--symbol', 'BTCUSDT']), 120_000, `busy run ${run}`);
        expect({ run, code: r.code, stderr: r.stderr.slice(-600) }).toEqual({ run, code: 0, stderr: r.stderr.slice(-600) });
        expect(await expectStoredEqualsExchange(home, busy, 'BTCUSDT')).toBeGreaterThanOrEqual(1440 - 2);
      }
    } finally {
      await busy.stop();
    }
  }, 300_000);

  it('an exchange that cannot be reached ends the download with one line, not a silent exit', async () => {
    const home = join(tmp.home, 'unreachable');
    mkdirSync(home);
    const cfg = join(tmp.home, 'closed.yaml');
    // port 9 (discard): nothing listens there on a test machine, so the connection is refused
    writeFileSync(cfg, simConfig({ restUrl: 'http://127.0.0.1:9', wsUrl: 'ws://127.0.0.1:9' }));
    const r = await finish(startAtm(['--home', home, '--config', cfg, 'data', 'download', '--symbol', 'BTCUSDT']), 60_000, 'download from nowhere');
    expect(r.code).toBe(3); // the exchange's failure, not the user's
    expect(r.stderr.trim()).toMatch(/^atm: the exchange cannot be reached \(.*127\.0\.0\.1:9.*\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('on a real failure (the exchange goes away mid-download) ends with one clear line, never silently', async () => {
    const slow = await startSim(['--faults', 'slow=300', '--history', '10', '--symbols', 'BTCUSDT']);
    try {
      const home = join(tmp.home, 'gone');
      mkdirSync(home);
      const cfg = join(tmp.home, 'slow.yaml');
      writeFileSync(cfg, simConfig(slow));
      const p = startAtm(['--home', home, '--config', cfg, 'data', 'download', '--symbol', 'BTCUSDT']);
      // the progress line appears after the first second of downloading: then take the exchange away
      await waitFor(() => /\d+ stored, \d+ requests/.test(p.stderr()) || p.child.exitCode !== null, 60_000, 'download progress');
      slow.child.kill('SIGKILL');
      const r = await finish(p, 120_000, 'the download after the exchange went away');
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBe(13);
      const lines = r.stderr.split(/[\r\n]+/).filter((l) => l.startsWith('atm:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^atm: BTCUSDT 1m: the download stopped at \d{4}-\d\d-\d\d \d\d:\d\d \(\d+ klines stored\) after 5 retries \(.*127\.0\.0\.1.*\); what was stored stays, and the same command resumes from there$/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await slow.stop();
    }
  }, 200_000);
});
