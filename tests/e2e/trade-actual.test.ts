import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Dec } from '../../src/core/futures/decimal.js';
import { LocalExchange } from '../../src/adapters/localexchange/server.js';
import type { SimAccount } from '../../src/adapters/localexchange/engine.js';
import { openDatabase } from '../../src/db/database.js';
import { OrderStore } from '../../src/db/orderStore.js';
import { tempHome } from '../helpers/app.js';
import { waitFor } from '../helpers/wait.js';
import { finish, startAtm, type Running } from './processes.js';

/**
 * An actual (testnet) account traded by real `atm trade` processes through the order manager,
 * against a local exchange at 60x speed (a market minute a second) that knows the account's own
 * API key and HMAC secret: the testnet endpoints of the configuration point at it. The secret is
 * stored encrypted (atm account activate --key-file) and opened with ATM_PASSPHRASE.
 *
 * - a full cycle: orders at the exchange under atm's client ids, their fills in the account's
 *   trade log, the snapshot (wallet, position) from the exchange;
 * - SIGKILL while an order's answer is withheld (order-timeout) and while it is dropped
 *   (order-lost), then a restart: no client id twice at the exchange, the journal settled, the
 *   final snapshot equal to the exchange (wallet, position);
 * - the kill switch from another process cancels the account's open orders at the exchange;
 * - --readonly sends nothing and refuses closing positions.
 *
 * Needs `npm run build` (the processes run dist/).
 */
const ROOT = join(import.meta.dirname, '../..');
const KEY = 'atmBridgeTestKey000000000000000000001';
const SECRET = 'atmBridgeTestSecret00000000000000000000001';
const PASS = 'bridge test passphrase';

describe('atm trade on an actual account (real processes, local exchange as the testnet)', () => {
  let ex: LocalExchange;
  let exAccount: SimAccount;
  const tmp = tempHome();
  const cfg = join(tmp.home, 'config.yaml');
  const running: Running[] = [];
  let prefix = '';
  const env = { ATM_PASSPHRASE: PASS };
  const atm = (args: string[]) => {
    const p = startAtm(['--home', tmp.home, '--config', cfg, ...args], env);
    running.push(p);
    return p;
  };
  const run = async (args: string[], what: string) => finish(atm(args), 60_000, what);
  const atmOrders = () => [...exAccount.orders.values()].filter((o) => o.clientOrderId.startsWith(prefix));
  /** The wallet as the exchange reports it (GET /fapi/v2/balance: 8 decimals). */
  const wallet = () => String(ex.engine.balances(exAccount)[0].balance);
  const position = () => exAccount.positions.get('BTCUSDT')?.amt.toString() ?? '0';
  const show = async () => {
    const r = await run(['account', 'show', 'real', '--json'], 'account show');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { id: number; wallet: string | null; snapshot: { walletBalance: string; positions: { symbol: string; amount: string }[] } | null; settings: { automation: string } };
  };
  const stop = async (p: Running, what: string) => {
    p.child.kill('SIGTERM');
    const done = await finish(p, 30_000, what);
    expect(done.code, done.stderr).toBe(0);
    return done;
  };

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist/core/trading/exchangeVenue.js')), 'dist/ is missing or old: run `npm run build` first').toBe(true);
    ex = await LocalExchange.start({ speed: 60, symbols: ['BTCUSDT'], historyDays: 1, seed: 17, accounts: [{ apiKey: KEY, apiSecret: SECRET, usdt: '10000' }] });
    exAccount = ex.engine.accounts.get(KEY)!;
    const venue = (name: string) => [`  ${name}:`, `    restUrl: ${ex.url}`, `    wsUrl: ${ex.wsUrl}`, '    routed: true'];
    writeFileSync(cfg, ['exchange:', '  mode: binance', '  connectTimeoutMs: 20000', ...venue('binance'), ...venue('testnet'), ''].join('\n'));
    const positions = join(tmp.home, 'positions.yaml');
    writeFileSync(positions, [
      'positions:',
      '  - symbol: BTCUSDT',
      '    leverage: 2',
      '    strategy: { name: sma-cross, params: { fast: 2, slow: 3 } }',
      '    control: { assumedRatio: 0.5 }',
      '',
    ].join('\n'));
    const keyFile = join(tmp.home, 'key.json');
    writeFileSync(keyFile, JSON.stringify({ apiKey: KEY, apiSecret: SECRET }));
    chmodSync(keyFile, 0o600);
    for (const [args, what] of [
      [['account', 'add', 'real', '--binance', '--testnet'], 'account add'],
      [['account', 'activate', 'real', '--key-file', keyFile], 'account activate'],
      [['account', 'configure', 'real', '--config', positions], 'account configure'],
      [['account', 'automation', 'real', 'on', '--yes'], 'account automation'],
    ] as const) {
      const r = await run([...args], what);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    }
    prefix = `atm.${(await show()).id.toString(36)}.`;
  }, 180_000);

  afterEach(() => {
    // a failed test leaves no trader holding the account's lease for the next one
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await ex?.close();
    tmp.cleanup();
  });

  it('trades: orders at the exchange under atm client ids, their fills in the trade log, the snapshot from the exchange', async () => {
    const trader = atm(['trade', '--account', 'real']);
    await waitFor(() => atmOrders().length >= 2 || trader.child.exitCode !== null, 120_000, 'two atm orders at the exchange');
    await waitFor(() => (trader.stdout().match(/\bfill\b/g) ?? []).length >= 2 || trader.child.exitCode !== null, 30_000, 'two fill lines from atm trade');
    expect(trader.stdout()).toMatch(/trading real \(testnet\)/);
    expect(trader.stdout()).toMatch(/real\s+fill\s+BTCUSDT (BUY|SELL) /);
    expect(trader.stdout()).not.toContain(SECRET);
    expect(trader.stdout()).not.toContain(PASS);
    const done = await stop(trader, 'atm trade after SIGTERM');
    expect(done.stdout).toMatch(/stopped trading real/);

    // every atm order at the exchange carries a parsable client id of this account
    for (const o of atmOrders()) expect(o.clientOrderId).toMatch(/^atm\.[0-9a-z]+\.0\.[0-9a-z]+\.[0-9a-z]+\.(en|ex|aj|sl|tp|ks)$/);
    const ids = atmOrders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    // the exchange's trades of those orders are the account's trade log
    const orderIds = new Set(atmOrders().map((o) => o.orderId));
    const exchangeTrades = exAccount.trades.filter((t) => orderIds.has(t.orderId)).map((t) => `${t.side} ${t.qty} ${t.price}`).sort();
    expect(exchangeTrades.length).toBeGreaterThanOrEqual(2);
    const history = await run(['account', 'history', 'real', '--json', '--limit', '0'], 'account history');
    expect(history.code, history.stderr).toBe(0);
    const logged = (JSON.parse(history.stdout) as { trades: { side: string; quantity: string; price: string }[] }).trades.map((t) => `${t.side} ${t.quantity} ${t.price}`).sort();
    expect(logged).toEqual(exchangeTrades);
    // the final snapshot: the exchange's wallet and position
    const v = await show();
    expect(v.snapshot).not.toBeNull();
    expect(Dec.parse(v.snapshot!.walletBalance).eq(wallet()), `${v.snapshot!.walletBalance} vs ${wallet()}`).toBe(true);
    const held = v.snapshot!.positions.find((p) => p.symbol === 'BTCUSDT')?.amount ?? '0';
    expect(held).toBe(position());
  }, 240_000);

  for (const fault of ['order-timeout', 'order-lost'] as const) {
    it(`SIGKILLed while an order goes out (${fault}) and restarted: no client id twice at the exchange, the journal settled, the snapshot equal to the exchange`, async () => {
      const before = new Set(atmOrders().map((o) => o.clientOrderId));
      const dbPath = join(tmp.home, 'atm.sqlite');
      const db = openDatabase(dbPath, { readonly: true });
      try {
        const journal = new OrderStore(db);
        const accountId = (await show()).id;
        const known = new Set(journal.list(accountId, { limit: 1000 }).map((o) => o.clientId));
        const newJournal = () => journal.list(accountId, { limit: 50 }).filter((o) => !known.has(o.clientId) && !before.has(o.clientId));
        // the REST answer was read ("accepted" in the audit log)
        const answered = (clientId: string) => journal.auditLog(accountId, { kind: 'sent', limit: 1000 }).some((e) => e.clientId === clientId);
        ex.faults.set(fault);
        const first = atm(['trade', '--account', 'real']);
        // an order journaled and sent, its answer withheld (processed) or its request dropped: killed before any answer
        const arrived = (clientId: string) => atmOrders().some((o) => o.clientOrderId === clientId);
        const candidate = () => newJournal().reverse().find((o) => !answered(o.clientId) && (fault === 'order-lost' ? o.state === 'SENT' : arrived(o.clientId)));
        await waitFor(() => candidate() !== undefined || first.child.exitCode !== null, 120_000, 'an order journaled, sent and not answered').catch((error: Error) => {
          const rows = newJournal().map((o) => `${o.clientId} ${o.state}${answered(o.clientId) ? ' answered' : ''}${arrived(o.clientId) ? ' arrived' : ''}`);
          throw new Error(`${error.message}; journal: ${rows.join(', ')}; atm trade: ${first.stdout().slice(-1500)} ${first.stderr().slice(-500)}`);
        });
        const pending = candidate()!;
        first.child.kill('SIGKILL');
        await first.exited;
        ex.faults.set('');
        expect(answered(pending.clientId)).toBe(false); // killed before the REST answer was read
        expect(journal.get(accountId, pending.clientId)?.state).toMatch(fault === 'order-lost' ? /^SENT$/ : /^(SENT|ACKED|PARTIAL|FILLED)$/); // FILLED / ACKED: told by the user data stream
        const atExchange = atmOrders().filter((o) => o.clientOrderId === pending.clientId).length;
        expect(atExchange).toBe(fault === 'order-timeout' ? 1 : 0);

        const second = atm(['trade', '--account', 'real']);
        await waitFor(() => /trading real/.test(second.stdout()) || second.child.exitCode !== null, 60_000, 'the restarted trader');
        // the reconciliation settles the killed order: FILLED (it was processed) or LOST (it never arrived)
        await waitFor(() => /^(FILLED|LOST|CANCELED)$/.test(journal.get(accountId, pending.clientId)?.state ?? ''), 30_000, 'the killed order settled');
        // a few market minutes of the restarted trader
        await waitFor(() => (second.stdout().match(/\bminute\b/g) ?? []).length >= 3 || second.child.exitCode !== null, 30_000, 'three minutes after the restart');
        await stop(second, 'restarted atm trade');
        const settled = journal.get(accountId, pending.clientId)!.state;
        const sameId = atmOrders().filter((o) => o.clientOrderId === pending.clientId).length;
        if (fault === 'order-timeout') {
          // processed before the kill: found by the reconciliation, never sent again
          expect(settled).toBe('FILLED');
          expect(sameId).toBe(1);
        } else {
          // never arrived: LOST, or sent once again under the same id when the same decision was taken again
          expect(['LOST', 'FILLED']).toContain(settled);
          expect(sameId).toBe(settled === 'LOST' ? 0 : 1);
        }
        const ids = atmOrders().map((o) => o.clientOrderId);
        expect(new Set(ids).size, ids.join(', ')).toBe(ids.length);
        // state reconciled: the final snapshot holds the exchange's position and wallet
        const stopped = await show();
        expect(stopped.snapshot!.positions.find((p) => p.symbol === 'BTCUSDT')?.amount ?? '0').toBe(position());
        expect(Dec.parse(stopped.snapshot!.walletBalance).eq(wallet()), `${stopped.snapshot!.walletBalance} vs ${wallet()}`).toBe(true);
      } finally {
        ex.faults.set('');
        for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        await db.close();
      }
    }, 300_000);
  }

  it('the kill switch from another process cancels the account\'s open orders at the exchange', async () => {
    const trader = atm(['trade', '--account', 'real']);
    await waitFor(() => /trading real/.test(trader.stdout()) || trader.child.exitCode !== null, 60_000, 'atm trade to start');
    // a resting order of this account at the exchange, far from the price (placed by hand)
    const { BinanceExchange } = await import('../../src/adapters/binance/adapter.js');
    const client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: KEY, apiSecret: SECRET, timeoutMs: 10_000 });
    try {
      await client.connect();
      const mark = Number((await client.premiumIndex('BTCUSDT')).markPrice);
      const price = (Math.floor((mark * 0.9) / 10) * 10).toFixed(1);
      await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.002', price, newClientOrderId: 'manual-resting-1' });
      expect((await client.openOrders('BTCUSDT')).map((o) => o.clientOrderId)).toContain('manual-resting-1');
      const kill = await run(['trade', '--kill', 'real', '--yes'], 'atm trade --kill');
      expect(kill.code, kill.stderr).toBe(0);
      expect(kill.stdout).toContain(`pid ${trader.child.pid}`);
      await waitFor(() => /kill switch/.test(trader.stdout()), 10_000, 'the trader to log the kill');
      await waitFor(() => [...exAccount.orders.values()].every((o) => o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'), 15_000, 'no open order at the exchange');
      expect((await client.openOrders('BTCUSDT')).length).toBe(0);
      expect((await client.openAlgoOrders()).length).toBe(0);
    } finally {
      await client.close();
    }
    await stop(trader, 'killed atm trade');
    expect((await show()).settings.automation).toBe('killed');
  }, 180_000);

  it('exchange.mode sim: an actual account trades on the local exchange of the atm process, with its own key registered there', async () => {
    // an account of its own: client ids are per account and decision kline, and this market's klines overlap the testnet's
    const keyFile = join(tmp.home, 'key2.json');
    writeFileSync(keyFile, JSON.stringify({ apiKey: `${KEY}sim`, apiSecret: SECRET }));
    chmodSync(keyFile, 0o600);
    for (const [args, what] of [
      [['account', 'add', 'local', '--binance', '--testnet'], 'account add'],
      [['account', 'activate', 'local', '--key-file', keyFile], 'account activate'],
      [['account', 'configure', 'local', '--config', join(tmp.home, 'positions.yaml')], 'account configure'],
      [['account', 'automation', 'local', 'on', '--yes'], 'account automation'],
    ] as const) {
      const r = await run([...args], what);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    }
    const before = [...ex.engine.accounts.values()].map((a) => a.orders.size);
    const trader = atm(['--exchange', 'sim', 'trade', '--account', 'local']);
    await waitFor(() => /\bfill\b/.test(trader.stdout()) || trader.child.exitCode !== null, 60_000, 'a fill on the local exchange of atm trade').catch((error: Error) => {
      throw new Error(`${error.message}: ${trader.stdout().slice(-2000)} ${trader.stderr().slice(-1000)}`);
    });
    expect(trader.stdout()).toMatch(/local\s+fill\s+BTCUSDT (BUY|SELL) /);
    await stop(trader, 'atm trade --exchange sim');
    // nothing went to the configured (testnet) venue
    expect([...ex.engine.accounts.values()].map((a) => a.orders.size)).toEqual(before);
  }, 180_000);

  it('--readonly: the trader sends nothing, and closing positions is refused', async () => {
    const on = await run(['account', 'automation', 'real', 'on', '--yes'], 'automation on');
    expect(on.code, on.stderr).toBe(0);
    const before = atmOrders().length;
    const trader = atm(['--readonly', 'trade', '--account', 'real']);
    await waitFor(() => /trading real/.test(trader.stdout()) || trader.child.exitCode !== null, 60_000, 'read-only atm trade to start');
    expect(trader.stdout()).toMatch(/read-only/);
    // ten market minutes: sma-cross(2,3) changes its decision in that time on the generated market
    await waitFor(() => (trader.stdout().match(/\bminute\b/g) ?? []).length >= 10 || trader.child.exitCode !== null, 60_000, 'ten minutes stepped');
    expect(atmOrders().length).toBe(before);
    const refused = await run(['--readonly', 'trade', '--kill', 'real', '--close-positions', '--yes'], 'read-only kill with closing');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/read-only/);
    await stop(trader, 'read-only atm trade');
    expect(atmOrders().length).toBe(before);
  }, 180_000);
});
