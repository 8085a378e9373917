import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { ApiCredentials } from '../../../src/core/accounts/secrets.js';
import type { StoredAccount } from '../../../src/core/accounts/types.js';
import { RealClock } from '../../../src/core/clock.js';
import { DEFAULT_BRACKETS } from '../../../src/core/futures/accounting.js';
import { FuturesAccount } from '../../../src/core/futures/account.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import type { VenueEvent } from '../../../src/core/futures/fills.js';
import { createLogging } from '../../../src/core/logging.js';
import { ActualAccounts, type ActualAccountSession } from '../../../src/core/trading/exchangeVenue.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { OrderStore } from '../../../src/db/orderStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The actual account's venue on the real local exchange (127.0.0.1, manual market clock) with the
 * real order manager and journal (SQLite): the engine's account restated from the exchange at
 * start, the target held at start, orders answered at once with a local id and their fills coming
 * back under it with the exchange's fee, read-only refusing, client ids from the decision kline.
 */
const KEY = 'atmVenueTestKey0000000000000000001';
const SECRET = 'atmVenueTestSecret000000000000000000001';

describe('ExchangeVenue (an actual account through the order manager)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function rig(options: { readonly?: boolean; before?: (client: BinanceExchange) => Promise<void> } = {}) {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.05, seed: 3, accounts: [{ apiKey: KEY, apiSecret: SECRET, usdt: '5000' }] });
    cleanups.push(() => ex.close());
    const tmp = tempHome();
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const logging = createLogging({ file: join(tmp.home, 'atm.log'), level: 'info', panelLines: 100, sync: true });
    const connect = async () => {
      const c = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: KEY, apiSecret: SECRET, timeoutMs: 10_000 });
      await c.connect();
      return c;
    };
    const hand = await connect();
    cleanups.push(() => hand.close());
    await options.before?.(hand);
    const info = (await hand.exchangeInfo()).symbols.find((s) => s.symbol === 'BTCUSDT')!;
    const account: StoredAccount = {
      id: 3, name: 'real', kind: 'testnet', credentials: { stored: true, apiKeyHint: KEY.slice(-4), keyType: 'hmac' }, createdAt: 0, updatedAt: 0,
      settings: {
        account: { initialBalance: '10000' } as StoredAccount['settings']['account'],
        positions: [{ symbol: 'BTCUSDT', leverage: 3 } as StoredAccount['settings']['positions'][number]],
        risk: {}, automation: 'on',
      },
    };
    const opened: string[] = [];
    const actual = new ActualAccounts({
      connector: { connect: async (a, creds) => (opened.push(`${a.name} ${creds.apiKey}`), connect()) },
      journal: new OrderStore(db), leases: undefined, clock: new RealClock(), log: logging.logger, readonly: options.readonly ?? false,
      credentials: (_a, passphrase) => {
        expect(passphrase).toBe('pw');
        return new ApiCredentials(KEY, SECRET);
      },
      manager: { unknownQueryDelaysMs: [100, 200], agingIntervalMs: 0 },
    });
    const session: ActualAccountSession = await actual.open(account, { passphrase: async () => 'pw' });
    cleanups.push(() => session.close());
    const engineAccount = new FuturesAccount({ initialBalance: '10000' }, [{ info, brackets: DEFAULT_BRACKETS, leverage: 3, marginType: 'CROSSED' }]);
    const events: VenueEvent[] = [];
    const venue = session.venue(engineAccount, (e) => events.push(e));
    const exAccount = ex.engine.accounts.get(KEY)!;
    return { ex, hand, session, venue, events, engineAccount, exAccount, opened };
  }

  it('restates the account from the exchange at start and holds the position found there', async () => {
    const r = await rig({
      before: async (c) => {
        await c.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.020', newClientOrderId: 'by-hand-1' });
      },
    });
    expect(r.opened).toEqual([`real ${KEY}`]);
    // leverage set as configured, wallet and position as the exchange has them
    expect(r.exAccount.leverage.get('BTCUSDT')).toBe(3);
    expect(r.engineAccount.positionAmt(0).toString()).toBe(r.exAccount.positions.get('BTCUSDT')!.amt.toString());
    expect(r.engineAccount.positionAmt(0).toString()).toBe('-0.02');
    expect(r.engineAccount.wallet.eq(r.exAccount.wallet.toString(8))).toBe(true);
    expect(r.engineAccount.wallet.lt('5000')).toBe(true); // the fee of the order by hand
    // a short is held: a short decision keeps it, a long or flat one closes it first
    expect(r.venue.heldAtStart(0, -0.5)).toBe(-0.5);
    expect(r.venue.heldAtStart(0, 1)).toBe(-1);
    expect(r.venue.heldAtStart(0, 0)).toBe(-1);
  }, 60_000);

  it('answers submit at once with a local id; the fill comes back under it with the exchange\'s fee; the client id names the decision kline', async () => {
    const r = await rig();
    expect(r.venue.heldAtStart(0, 1)).toBeUndefined();
    const decisionKline = Date.UTC(2026, 10, 27, 3, 0);
    r.venue.setDecisionTime(() => decisionKline);
    const res = r.venue.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.015', tag: 'open' });
    expect('orderId' in res).toBe(true);
    const id = (res as { orderId: number }).orderId;
    expect(r.events).toEqual([]); // nothing known yet: the order is on its way
    // the trader's next minute waits for this order's fills (its sizing reads the position)
    expect(r.venue.busy()).toBe(true);
    let idleAt: number | undefined;
    r.venue.whenIdle(() => (idleAt = r.events.filter((e) => e.type === 'fill').length), 60_000);
    await waitFor(() => idleAt !== undefined, 15_000, 'the venue idle again');
    expect(r.venue.busy()).toBe(false);
    expect(idleAt).toBeGreaterThan(0); // called once the fills came, not before
    const fills = r.events.filter((e): e is Extract<VenueEvent, { type: 'fill' }> => e.type === 'fill');
    expect(fills.every((f) => f.orderId === id && f.tag === 'open')).toBe(true);
    const sold = fills.reduce((sum, f) => sum.add(f.fill.qty), Dec.ZERO);
    expect(sold.toString()).toBe('0.015');
    const atm = [...r.exAccount.orders.values()].filter((o) => o.clientOrderId.startsWith('atm.3.'));
    expect(atm.map((o) => o.clientOrderId)).toEqual([`atm.3.0.${decisionKline.toString(36)}.0.en`]);
    const trades = r.exAccount.trades.filter((t) => t.orderId === atm[0].orderId);
    expect(fills.map((f) => f.fill.fee.toString()).sort()).toEqual(trades.map((t) => Dec.parse(t.commission).toString()).sort());
    await waitFor(() => r.engineAccount.positionAmt(0).eq('0.015') && r.engineAccount.wallet.eq(r.exAccount.wallet.toString(8)), 15_000, 'the account restated');
    // the same decision again (a restarted trader): nothing new at the exchange, the engine is told it is done
    r.venue['sequences'].clear();
    const again = r.venue.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.015', tag: 'open' });
    await waitFor(() => r.events.some((e) => e.type === 'canceled' && e.orderId === (again as { orderId: number }).orderId), 15_000, 'the existing order told');
    expect([...r.exAccount.orders.values()].filter((o) => o.clientOrderId.startsWith('atm.3.')).length).toBe(1);
  }, 60_000);

  it('read-only: submit is refused and nothing reaches the exchange', async () => {
    const r = await rig({ readonly: true });
    const res = r.venue.submit({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.015', tag: 'open' });
    expect('code' in res && res.msg).toMatch(/read-only/);
    expect(r.exAccount.leverage.get('BTCUSDT')).not.toBe(3); // no leverage change either
    expect([...r.exAccount.orders.values()].length).toBe(0);
  }, 60_000);
});
