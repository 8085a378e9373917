import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { KlineStore } from '../../src/db/klineStore.js';
import { CollectorGapStore } from '../../src/db/collectorStore.js';
import { tempHome } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { finish, simConfig, startAtm, startSim, type Running, type SimProcess } from './processes.js';

/**
 * Issue 14: `atm collect` against a separate `atm exchange-sim` process that drops and closes its
 * websockets and answers 429s, at 60× speed (a kline closes every second). 20 symbols: the two
 * built-in ones and 18 the local exchange generates.
 */

type Row = [number, string, string, string, string, string, number, string, number, string, string, string];

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', ...Array.from({ length: 18 }, (_, i) => `S${String(i + 1).padStart(3, '0')}USDT`)];

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

/** Status lines `atm collect` printed so far (one per heartbeat). */
const beats = (p: Running) => p.stdout().split('\n').filter((l) => /open gaps/.test(l)).length;

describe('atm collect: 20 symbols through faults, SIGKILL and restart, one collector per data directory', () => {
  const tmp = tempHome('atm-e2e-collect-');
  let sim: SimProcess;
  let config: string;
  const home = join(tmp.home, 'home');

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    sim = await startSim(['--faults', 'drop=2000,close=3000,429@0.05', '--speed', '60', '--history', '2', '--symbols', SYMBOLS.join(','), '--seed', '5']);
    config = join(tmp.home, 'collect.yaml');
    writeFileSync(config, simConfig(sim) + ['market:', '  collect:', `    symbols: [${SYMBOLS.join(', ')}]`, '    backfillDays: 1.5', '    weightShare: 0.3', ''].join('\n'));
  }, 120_000);

  afterAll(async () => {
    await sim?.stop();
    tmp.cleanup();
  });

  it('stores every closed kline equal to REST, fills the SIGKILL gap (cause collector_stopped), and refuses a second collector', async () => {
    const first = startAtm(['--home', home, '--config', config, 'collect']);
    try {
      await waitFor(() => /collecting 20 symbols/.test(first.stdout()) || first.child.exitCode !== null, 60_000, 'the collector to start');
      expect(first.stderr()).toBe('');

      // a second collector on the same data directory refuses, naming the first's pid
      const second = await finish(startAtm(['--home', home, '--config', config, 'collect']), 60_000, 'the second collector');
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`pid ${first.child.pid}`);
      expect(second.stderr.split('\n').filter(Boolean)).toHaveLength(1);

      // ~15 market minutes through drops, closes and 429s
      await waitFor(() => beats(first) >= 3, 60_000, 'three heartbeats');
    } finally {
      first.child.kill('SIGKILL');
      await finish(first, 10_000, 'the killed collector');
    }
    // about five market minutes pass with nobody collecting
    await new Promise((resolve) => setTimeout(resolve, 5000));

    const restarted = startAtm(['--home', home, '--config', config, 'collect']);
    await waitFor(() => beats(restarted) >= 2 || restarted.child.exitCode !== null, 60_000, 'the restarted collector to beat twice');
    restarted.child.kill('SIGTERM');
    const stopped = await finish(restarted, 30_000, 'the restarted collector');
    expect({ code: stopped.code, stderr: stopped.stderr }).toEqual({ code: 0, stderr: '' });
    expect(stopped.stdout).toContain('collector stopped, lease released');
    const serverNow = (await restGet<{ serverTime: number }>(`${sim.restUrl}/fapi/v1/time`)).serverTime;

    const db = openDatabase(join(home, 'atm.sqlite'), { readonly: true });
    try {
      const store = new KlineStore(db);
      const gaps = new CollectorGapStore(db).list();
      const lease = db.sqlite.prepare("SELECT COUNT(*) AS n FROM leases WHERE name = 'collector'").get() as { n: number };
      expect(lease.n).toBe(0); // released on SIGTERM
      for (const symbol of SYMBOLS) {
        const stored = store.loadStored(symbol, '1m');
        const firstT = stored.openTime[0];
        const last = stored.openTime[stored.length - 1];
        // the live edge is current (a few market seconds per real second went by since the stop)
        expect(serverNow - last).toBeLessThan(30 * 60_000);
        // backfilled 1.5 days behind the live edge, no kline missing in between
        expect(last - firstT).toBeGreaterThanOrEqual(1.5 * 86_400_000 - 120_000);
        expect({ symbol, missing: (last - firstT) / 60_000 + 1 - stored.length }).toEqual({ symbol, missing: 0 });
        const rest = await restKlines(sim, symbol, firstT, last);
        expect(rest.length).toBe(stored.length);
        for (let i = 0; i < rest.length; i++) {
          const r = rest[i];
          const got = [stored.openTime[i], stored.open[i], stored.high[i], stored.low[i], stored.close[i], stored.volume[i], stored.quoteVolume[i], stored.trades[i]];
          const want = [r[0], Number(r[1]), Number(r[2]), Number(r[3]), Number(r[4]), Number(r[5]), Number(r[7]), r[8]];
          if (got.some((v, j) => v !== want[j])) expect({ symbol, index: i, got }).toEqual({ symbol, index: i, got: want });
        }
        // the SIGKILL left a gap per symbol: recorded with its cause, filled, its klines stored
        const killed = gaps.filter((g) => g.symbol === symbol && g.cause === 'collector_stopped');
        expect(killed.length).toBeGreaterThanOrEqual(1);
        for (const g of killed) {
          expect(g.filledAt).toBeDefined();
          expect(g.to).toBeGreaterThanOrEqual(g.from);
          expect(store.loadStored(symbol, '1m', g.from, g.to).length).toBe((g.to! - g.from) / 60_000 + 1);
        }
      }
      // every gap is closed: nothing open, every cause one of the four
      for (const g of gaps) {
        expect(['disconnected', 'collector_stopped', 'maintenance', 'exchange_missing']).toContain(g.cause);
        if (g.cause !== 'exchange_missing') expect(g.filledAt).toBeDefined();
      }
      console.log(`collect e2e: ${gaps.length} gaps recorded (${gaps.filter((g) => g.cause === 'disconnected').length} disconnected, ${gaps.filter((g) => g.cause === 'collector_stopped').length} collector_stopped)`);
    } finally {
      await db.close();
    }

    // atm data status shows each symbol's gaps with their causes
    const status = await finish(startAtm(['--home', home, '--config', config, 'data', 'status', '--symbol', 'S007USDT', '--json']), 30_000, 'data status');
    expect(status.code).toBe(0);
    const series = JSON.parse(status.stdout) as { interval: string; liveEdge: number; backfill: { fraction: number }; collectorGaps: { cause: string; filledAt: number | null }[] }[];
    const m1 = series.find((s) => s.interval === '1m')!;
    expect(m1.backfill.fraction).toBe(1);
    expect(m1.collectorGaps.some((g) => g.cause === 'collector_stopped' && g.filledAt !== null)).toBe(true);
    const text = await finish(startAtm(['--home', home, '--config', config, 'data', 'status', '--symbol', 'S007USDT']), 30_000, 'data status');
    expect(text.stdout).toContain('collector: none running');
    expect(text.stdout).toMatch(/S007USDT \d{4}-\d\d-\d\d \d\d:\d\d \.\. \d{4}-\d\d-\d\d \d\d:\d\d \(\d+ klines\) collector stopped, filled/);
  }, 300_000);

  it('waits for an exchange that cannot be reached, saying so, holding the lease; SIGTERM stops it (exit 0, lease released)', async () => {
    const away = join(tmp.home, 'away');
    const cfg = join(tmp.home, 'away.yaml');
    // port 9 (discard): nothing listens there on a test machine
    writeFileSync(cfg, simConfig({ restUrl: 'http://127.0.0.1:9', wsUrl: 'ws://127.0.0.1:9' }));
    const waiting = startAtm(['--home', away, '--config', cfg, 'collect']);
    await waitFor(() => /the exchange cannot be reached \(.+\); collecting as soon as it can/.test(waiting.stdout()) || waiting.child.exitCode !== null, 60_000, 'the waiting line');
    const second = await finish(startAtm(['--home', away, '--config', cfg, 'collect']), 60_000, 'a second collector');
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${waiting.child.pid}`);
    waiting.child.kill('SIGTERM');
    const stopped = await finish(waiting, 30_000, 'the waiting collector');
    expect({ code: stopped.code, stderr: stopped.stderr }).toEqual({ code: 0, stderr: '' });
    const db = openDatabase(join(away, 'atm.sqlite'), { readonly: true });
    try {
      expect((db.sqlite.prepare("SELECT COUNT(*) AS n FROM leases WHERE name = 'collector'").get() as { n: number }).n).toBe(0);
    } finally {
      await db.close();
    }
  }, 180_000);
});
