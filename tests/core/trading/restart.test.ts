import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { openDatabase } from '../../../src/db/database.js';
import { OrderStore } from '../../../src/db/orderStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURE = join(ROOT, 'tests/fixtures/order-trader.mjs');
// Real processes: the fixture runs the order manager from dist/ (run `npm run build` first).

/** Runs the fixture trader; collects its JSON lines. */
function trader(ex: LocalExchange, dataDir: string, ...flags: string[]): { child: ChildProcess; lines: any[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [FIXTURE, ex.url, ex.wsUrl, dataDir, DEMO_API_KEY, DEMO_API_SECRET, ...flags], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: any[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (code !== 0 && code !== null) lines.push({ step: 'stderr', stderr });
    resolve(code);
  }));
  return { child, lines, exited };
}

describe('a trader process killed between sending an order and its answer', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('is restarted: reconciliation finds the order, the same decision sends nothing, no duplicate on the exchange', async () => {
    expect(existsSync(join(ROOT, 'dist/core/trading/orders.js')), 'dist/ is missing: run `npm run build` first').toBe(true);
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.05, seed: 11 });
    cleanups.push(() => ex.close());
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const account = ex.engine.accounts.get(DEMO_API_KEY)!;
    const onExchange = () => [...account.orders.values()].filter((o) => o.clientOrderId.startsWith('atm.7.'));

    // 1. the order is processed by the exchange, its answer withheld; the process is killed while it
    //    waits (it listens to no user data stream, which would have told it the outcome)
    ex.faults.set('order-timeout');
    const first = trader(ex, tmp.home, '--no-stream');
    cleanups.push(() => void first.child.kill('SIGKILL'));
    await waitFor(() => onExchange().length === 1, 30_000, 'the order on the exchange');
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    const journal = new OrderStore(db);
    const clientId = onExchange()[0].clientOrderId;
    expect(journal.get(7, clientId)?.state).toBe('SENT'); // journaled before sending, no answer yet
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(first.lines.map((l) => l.step)).toEqual(['reconciled']);
    ex.faults.set('');

    // 2. restarted: reconciliation settles the order from the exchange; the same decision is not sent again
    const second = trader(ex, tmp.home);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    expect(await second.exited).toBe(0);
    const [reconciled, submitted] = second.lines;
    expect(reconciled.step).toBe('reconciled');
    expect(reconciled.report).toMatchObject({ updated: 1, lost: 0, adopted: 0, positionsCorrected: 1 });
    expect(submitted).toMatchObject({ step: 'submitted', status: 'existing', state: 'FILLED', clientId, position: '0.01' });
    expect(onExchange()).toHaveLength(1);
    expect(journal.get(7, clientId)).toMatchObject({ state: 'FILLED', attempts: 1, executedQty: '0.010' });
    expect(journal.fills(7, clientId).length).toBeGreaterThan(0);
    expect(journal.auditLog(7, { kind: 'correction' }).map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SENT → FILLED: queried by client id/), expect.stringMatching(/^position 0 → 0.01/)]),
    );
  });
  it('killed after journaling while the request never arrived: the restart finds it LOST and sends that decision once, under the same id', async () => {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.05, seed: 12 });
    cleanups.push(() => ex.close());
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const account = ex.engine.accounts.get(DEMO_API_KEY)!;
    const onExchange = () => [...account.orders.values()].filter((o) => o.clientOrderId.startsWith('atm.7.'));
    ex.faults.set('order-lost');
    const first = trader(ex, tmp.home, '--no-stream');
    cleanups.push(() => void first.child.kill('SIGKILL'));
    await waitFor(() => (ex.faults.firedCounts()['order-lost'] ?? 0) === 1, 30_000, 'the order request swallowed');
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    const journal = new OrderStore(db);
    const [row] = journal.open(7);
    expect(row.state).toBe('SENT');
    first.child.kill('SIGKILL');
    await first.exited;
    ex.faults.set('');
    expect(onExchange()).toHaveLength(0);

    const second = trader(ex, tmp.home);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    expect(await second.exited).toBe(0);
    const [reconciled, submitted] = second.lines;
    expect(reconciled.report).toMatchObject({ lost: 1, updated: 1 });
    expect(submitted).toMatchObject({ status: 'sent', state: 'FILLED', clientId: row.clientId });
    expect(onExchange().map((o) => o.clientOrderId)).toEqual([row.clientId]);
    expect(journal.get(7, row.clientId)).toMatchObject({ state: 'FILLED', attempts: 2 });
    expect(journal.auditLog(7, { kind: 'correction' }).some((e) => /^SENT → LOST: the exchange never received it/.test(e.message))).toBe(true);
  });
});
