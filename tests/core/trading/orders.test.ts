import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange, type LocalExchangeOptions } from '../../../src/adapters/localexchange/server.js';
import { RealClock } from '../../../src/core/clock.js';
import type { SymbolInfo } from '../../../src/core/exchange/port.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import type { OrderIntent } from '../../../src/core/trading/journal.js';
import { killSwitch } from '../../../src/core/trading/killSwitch.js';
import { OrderManager, type OrderEvent, type OrderManagerOptions } from '../../../src/core/trading/orders.js';
import { RiskManager } from '../../../src/core/trading/risk.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { OrderStore } from '../../../src/db/orderStore.js';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

const T0 = Date.UTC(2026, 0, 1);
const until = (cond: () => boolean, what: string) => waitFor(cond, 15_000, what);

interface Rig {
  ex: LocalExchange;
  client: BinanceExchange;
  manager: OrderManager;
  journal: OrderStore;
  events: OrderEvent[];
  /** REST calls as the adapter logged them ("POST /fapi/v1/order", ...). */
  requests: string[];
  /** Orders of the demo account on the exchange with this client id. */
  ordersOnExchange(clientId: string): number;
  mark(symbol?: string): Promise<string>;
  intent(over: Partial<OrderIntent>): OrderIntent;
}

describe('OrderManager against the local exchange', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function rig(
    options: { exchange?: LocalExchangeOptions; timeoutMs?: number; manager?: Partial<OrderManagerOptions>; start?: boolean; dataDir?: string } = {},
  ): Promise<Rig> {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 7, ...options.exchange });
    cleanups.push(() => ex.close());
    const requests: string[] = [];
    const client = new BinanceExchange({
      venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, timeoutMs: options.timeoutMs,
      onLog: (_level, line) => {
        const m = /^REST (\w+ \S+)/.exec(line);
        if (m) requests.push(m[1]);
      },
    });
    cleanups.push(() => client.close());
    await client.connect();
    let dir = options.dataDir;
    if (!dir) {
      const tmp = tempHome();
      cleanups.push(tmp.cleanup);
      dir = tmp.home;
    }
    const db = openDatabase(join(dir, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const journal = new OrderStore(db);
    const manager = new OrderManager({ accountId: 1, port: client, journal, clock: new RealClock(), unknownQueryDelaysMs: [100, 200, 400], agingIntervalMs: 0, ...options.manager });
    cleanups.push(() => manager.stop());
    const events: OrderEvent[] = [];
    manager.on((e) => events.push(e));
    if (options.start ?? true) await manager.start();
    let seq = 0;
    return {
      ex, client, manager, journal, events, requests,
      ordersOnExchange: (clientId) => [...ex.engine.accounts.get(DEMO_API_KEY)!.orders.values()].filter((o) => o.clientOrderId === clientId).length,
      mark: async (symbol = 'BTCUSDT') => (await client.premiumIndex(symbol)).markPrice,
      intent: (over) => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.010', positionIndex: 0, decision: { openTime: T0, sequence: seq++, purpose: 'entry' }, ...over }),
    };
  }

  const orderPosts = (r: Rig) => r.requests.filter((q) => q === 'POST /fapi/v1/order' || q === 'POST /fapi/v1/algoOrder').length;

  it('a full cycle: market entry, the same decision again sends nothing, a resting limit, a stop, a reduce-only exit, a cancel', async () => {
    const r = await rig();
    expect(r.manager.ready).toBe(true);
    const entry = r.intent({ reason: 'target +1' });
    const opened = await r.manager.submit(entry);
    expect(opened.status).toBe('sent');
    if (opened.status !== 'sent') return;
    expect(opened.order).toMatchObject({ state: 'FILLED', executedQty: '0.010', attempts: 1 });
    expect(opened.order.clientId).toBe('atm.1.0.' + T0.toString(36) + '.0.en');
    await until(() => r.manager.position('BTCUSDT') === '0.01', 'the position from ACCOUNT_UPDATE');
    const fills = r.journal.fills(1, opened.order.clientId);
    expect(fills.reduce((s, f) => s.add(f.quantity), Dec.ZERO).toString()).toBe('0.01');
    expect(r.events.filter((e) => e.type === 'fill').length).toBe(fills.length);

    // the same decision (a retry, a restart) sends nothing
    const posts = orderPosts(r);
    const again = await r.manager.submit(entry);
    expect(again.status).toBe('existing');
    expect(orderPosts(r)).toBe(posts);
    expect(r.ordersOnExchange(opened.order.clientId)).toBe(1);

    // a resting LIMIT, rounded to the grid (BUY: down), and a post-only one
    const mark = Number(await r.mark());
    const limit = await r.manager.submit(r.intent({ type: 'LIMIT', price: (mark * 0.98 + 0.037).toFixed(3), quantity: '0.0109' }), { markPrice: String(mark) });
    expect(limit.status === 'sent' && limit.order).toMatchObject({ state: 'ACKED', sent: { quantity: '0.01', timeInForce: 'GTC' } });
    if (limit.status !== 'sent') return;
    expect(Dec.parse(limit.order.sent.price!).isMultipleOf('0.1')).toBe(true);
    expect(Dec.parse(limit.order.sent.price!).lte((mark * 0.98 + 0.037).toFixed(3))).toBe(true);
    const postOnly = await r.manager.submit(r.intent({ type: 'POST_ONLY', price: (mark * 0.97).toFixed(1) }));
    expect(postOnly.status === 'sent' && postOnly.order.sent.timeInForce).toBe('GTX');

    // a stop-loss through the conditional order endpoint
    const stop = await r.manager.submit(r.intent({ type: 'STOP_MARKET', side: 'SELL', triggerPrice: (mark * 0.96).toFixed(1), closePosition: true, quantity: undefined, decision: { openTime: T0, sequence: 0, purpose: 'stop' } }));
    expect(stop.status === 'sent' && stop.order).toMatchObject({ state: 'ACKED', sent: { kind: 'algo' } });
    expect((await r.client.openAlgoOrders('BTCUSDT')).map((a) => a.clientAlgoId)).toEqual([stop.status === 'sent' ? stop.order.clientId : '']);

    // a reduce-only exit closes the position
    const exit = await r.manager.submit(r.intent({ side: 'SELL', reduceOnly: true, decision: { openTime: T0 + 60_000, sequence: 0, purpose: 'exit' } }));
    expect(exit.status === 'sent' && exit.order.state).toBe('FILLED');
    await until(() => r.manager.position('BTCUSDT') === '0', 'flat');

    // cancels
    const canceled = await r.manager.cancel(limit.order.clientId, 'test');
    expect(canceled?.state).toBe('CANCELED');
    await r.manager.cancel(stop.status === 'sent' ? stop.order.clientId : '', 'test');
    await r.manager.cancel(postOnly.status === 'sent' ? postOnly.order.clientId : '', 'test');
    expect(r.manager.openOrders()).toEqual([]);
    expect(await r.client.openOrders()).toEqual([]);
    const kinds = new Set(r.journal.auditLog(1).map((e) => e.kind));
    for (const k of ['reconcile', 'decision', 'sent', 'fill', 'cancel']) expect(kinds).toContain(k);
  });

  it('the same decision submitted three times at once is sent once', async () => {
    const r = await rig({ timeoutMs: 500 });
    const intent = r.intent({});
    r.ex.faults.set('order-timeout'); // the first is slow to settle: the others arrive meanwhile
    const results = await Promise.all([r.manager.submit(intent), r.manager.submit(intent), r.manager.submit(intent)]);
    r.ex.faults.set('');
    expect(results.map((x) => x.status).sort()).toEqual(['refused', 'refused', 'sent']);
    expect(results.filter((x) => x.status === 'refused').map((x) => (x as { rule: string }).rule)).toEqual(['in-flight', 'in-flight']);
    expect(await r.manager.submit(intent)).toMatchObject({ status: 'existing', order: { state: 'FILLED' } });
    expect(orderPosts(r)).toBe(1);
    expect(r.ordersOnExchange(r.manager.clientIdFor(intent))).toBe(1);
  });

  it('duplicated and late user data events change nothing: fills once per trade, no state goes back', async () => {
    const r = await rig();
    const seen: import('../../../src/core/exchange/port.js').UserDataEvent[] = [];
    const sub = await r.client.subscribeUserData((e) => seen.push(e));
    cleanups.push(() => sub.unsubscribe());
    const res = await r.manager.submit(r.intent({}));
    if (res.status !== 'sent') throw new Error('not sent');
    await until(() => seen.some((e) => e.e === 'ORDER_TRADE_UPDATE' && (e as { o: { X: string } }).o.X === 'FILLED'), 'the FILLED event');
    await until(() => r.manager.position('BTCUSDT') === '0.01', 'position');
    const fills = r.journal.fills(1, res.order.clientId).length;
    const fillEvents = r.events.filter((e) => e.type === 'fill').length;
    // everything again, backwards (the NEW event last) and twice
    for (const e of [...seen].reverse().concat([...seen].reverse())) r.manager.onUserEvent(e);
    expect(r.journal.get(1, res.order.clientId)).toMatchObject({ state: 'FILLED', executedQty: res.order.executedQty });
    expect(r.journal.fills(1, res.order.clientId)).toHaveLength(fills);
    expect(r.events.filter((e) => e.type === 'fill')).toHaveLength(fillEvents);
  });

  it('a partial fill: PARTIAL with the filled part journaled, then cancelled with the fill kept', async () => {
    const r = await rig();
    const [[askPrice, askQty]] = r.ex.markets.get('BTCUSDT')!.levels('ask', 1);
    // a BUY limit at the best ask for more than the level holds: part fills, the rest rests
    const quantity = Dec.parse(askQty).add('0.050').toString();
    const res = await r.manager.submit(r.intent({ type: 'LIMIT', price: askPrice, quantity }));
    expect(res.status).toBe('sent');
    if (res.status !== 'sent') return;
    expect(res.order.state).toBe('PARTIAL');
    expect(Dec.parse(res.order.executedQty).eq(askQty)).toBe(true);
    await until(() => Dec.parse(r.manager.position('BTCUSDT')).eq(askQty), 'the partial position');
    const filled = r.journal.fills(1, res.order.clientId).reduce((s, f) => s.add(f.quantity), Dec.ZERO);
    expect(filled.eq(askQty)).toBe(true);
    const canceled = await r.manager.cancel(res.order.clientId, 'test');
    expect(canceled?.state).toBe('CANCELED');
    expect(Dec.parse(canceled!.executedQty).eq(askQty)).toBe(true);
    expect(r.manager.openOrders()).toEqual([]);
  });

  it('a limit left open longer than its max age is cancelled', async () => {
    const r = await rig({ manager: { agingIntervalMs: 50, limitMaxAgeMs: 300 } });
    const mark = Number(await r.mark());
    const placed = await r.manager.submit(r.intent({ type: 'LIMIT', price: (mark * 0.97).toFixed(1) }));
    expect(placed.status === 'sent' && placed.order.state).toBe('ACKED');
    if (placed.status !== 'sent') return;
    await until(() => r.journal.get(1, placed.order.clientId)!.state === 'CANCELED', 'the aged limit cancelled');
    expect(await r.client.openOrders('BTCUSDT')).toEqual([]);
    expect(r.journal.auditLog(1).some((e) => e.kind === 'cancel' && /aged/.test(e.message))).toBe(true);
  });

  it('an order whose response times out (processed, never answered) is resolved by query, with no duplicate', async () => {
    const r = await rig({ timeoutMs: 500 });
    r.ex.faults.set('order-timeout');
    const result = await r.manager.submit(r.intent({}));
    r.ex.faults.set('');
    expect(result.status).toBe('sent');
    if (result.status !== 'sent') return;
    expect(result.order).toMatchObject({ state: 'FILLED', attempts: 1, executedQty: '0.010' });
    expect(r.events.map((e) => e.type)).toContain('unknown');
    expect(r.events.find((e) => e.type === 'resolved')).toMatchObject({ how: 'found' });
    expect(r.ex.faults.firedCounts()['order-timeout']).toBe(1);
    expect(orderPosts(r)).toBe(1);
    expect(r.ordersOnExchange(result.order.clientId)).toBe(1);
    expect(r.journal.fills(1, result.order.clientId).reduce((s, f) => s.add(f.quantity), Dec.ZERO).toString()).toBe('0.01');
  });

  it('an order that never reached the exchange is LOST after the bounded queries and sent again under the same id, once', async () => {
    const r = await rig({ timeoutMs: 500 });
    r.ex.faults.set('order-lost');
    r.manager.on((e) => {
      if (e.type === 'unknown') r.ex.faults.set('');
    });
    const result = await r.manager.submit(r.intent({}));
    expect(result.status).toBe('sent');
    if (result.status !== 'sent') return;
    expect(r.events.filter((e) => e.type === 'resolved').map((e) => (e as { how: string }).how)).toEqual(['lost', 'resent']);
    expect(result.order).toMatchObject({ state: 'FILLED', attempts: 2 });
    expect(orderPosts(r)).toBe(2);
    expect(r.ordersOnExchange(result.order.clientId)).toBe(1);
    // -2013 each time, then LOST, in the audit log
    expect(r.journal.auditLog(1).some((e) => e.kind === 'resolved' && /never arrived \(LOST\)/.test(e.message))).toBe(true);
  });

  it('-2019 margin insufficient does not become a retry storm: one request, then local refusals while backing off', async () => {
    const r = await rig();
    const mark = await r.mark();
    const first = await r.manager.submit(r.intent({ quantity: '40' }), { markPrice: mark });
    expect(first.status === 'sent' && first.order).toMatchObject({ state: 'REJECTED', error: '-2019 Margin is insufficient.' });
    const posts = orderPosts(r);
    expect(posts).toBe(1);
    for (let i = 0; i < 25; i++) {
      const next = await r.manager.submit(r.intent({ quantity: '40' }), { markPrice: mark });
      expect(next).toMatchObject({ status: 'refused', rule: 'backoff' });
    }
    expect(orderPosts(r)).toBe(1);
    // another symbol is not held back
    const eth = await r.manager.submit(r.intent({ symbol: 'ETHUSDT', quantity: '0.100' }));
    expect(eth.status === 'sent' && eth.order.state).toBe('FILLED');
    expect(r.journal.auditLog(1, { kind: 'refused' })).toHaveLength(25);
  });

  it('429 holds every symbol back for Retry-After: one request, no storm', async () => {
    const r = await rig();
    const mark = await r.mark();
    r.ex.faults.set('429,retry-after=30');
    const first = await r.manager.submit(r.intent({}), { markPrice: mark });
    r.ex.faults.set('');
    expect(first.status === 'sent' && first.order).toMatchObject({ state: 'REJECTED' });
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const next = await r.manager.submit(r.intent({ symbol, quantity: symbol === 'ETHUSDT' ? '0.100' : '0.010' }), { markPrice: mark });
      expect(next).toMatchObject({ status: 'refused', rule: 'backoff' });
      expect((next as { reason: string }).reason).toMatch(/every symbol/);
    }
    expect(orderPosts(r)).toBe(1);
  });

  it('a 5xx answer to an order and to every query: UNKNOWN stays UNKNOWN (nothing resent) until a reconciliation can tell', async () => {
    const r = await rig();
    const mark = await r.mark();
    r.ex.faults.set('5xx');
    const res = await r.manager.submit(r.intent({}), { markPrice: mark });
    expect(res.status === 'sent' && res.order.state).toBe('UNKNOWN');
    if (res.status !== 'sent') return;
    expect(orderPosts(r)).toBe(1);
    expect(r.journal.auditLog(1, { kind: 'query' }).length).toBe(3); // one failed query per bounded wait
    r.ex.faults.set('');
    // 503 "Service Unavailable." came before processing here, so the exchange never had it
    const report = await r.manager.reconcile();
    expect(report).toMatchObject({ lost: 1 });
    expect(r.journal.get(1, res.order.clientId)!.state).toBe('LOST');
    // the same decision may now go, under the same id, once
    const again = await r.manager.submit(r.intent({ decision: res.order.intent.decision }), { markPrice: mark });
    expect(again.status === 'sent' && again.order).toMatchObject({ state: 'FILLED', clientId: res.order.clientId, attempts: 2 });
    expect(r.ordersOnExchange(res.order.clientId)).toBe(1);
  });

  it('a filter error from the exchange (its filters changed since they were read) backs the symbol off too', async () => {
    const info = await (async () => {
      const ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 7 });
      const c = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl });
      const symbols = (await c.exchangeInfo()).symbols;
      await c.close();
      await ex.close();
      return symbols;
    })();
    const stale: SymbolInfo[] = info.map((s) => (s.symbol === 'BTCUSDT' ? { ...s, minNotional: '5' } : s));
    const r = await rig({ manager: { symbols: stale } });
    const mark = await r.mark();
    const first = await r.manager.submit(r.intent({ quantity: '0.001' }), { markPrice: mark });
    expect(first.status === 'sent' && first.order.error).toMatch(/^-4164 /);
    for (let i = 0; i < 10; i++) expect(await r.manager.submit(r.intent({ quantity: '0.001' }), { markPrice: mark })).toMatchObject({ status: 'refused', rule: 'backoff' });
    expect(orderPosts(r)).toBe(1);
    // what the manager knows to fail is not sent at all: a precision the symbol does not have
    const local = await r.manager.submit(r.intent({ symbol: 'ETHUSDT', type: 'LIMIT', price: '1.00001', quantity: '1' }), { markPrice: mark });
    expect(local).toMatchObject({ status: 'refused', rule: 'filter' });
    expect(orderPosts(r)).toBe(1);
  });

  it('each risk refusal is given with its reason, in the audit log, and sends nothing', async () => {
    const r = await rig({ manager: { risk: new RiskManager({ maxPositionNotional: '1000', maxLeverage: 2, maxOrdersPerMinute: 3, maxDrawdown: 0.1, dailyLossLimit: 0.5 }) } });
    const mark = await r.mark();
    const refusals: Record<string, string> = {};
    const expectRefused = async (intent: OrderIntent, rule: string) => {
      const res = await r.manager.submit(intent, { markPrice: mark });
      expect(res).toMatchObject({ status: 'refused', rule });
      refusals[rule] = (res as { reason: string }).reason;
    };
    await expectRefused(r.intent({ quantity: '0.100' }), 'max-notional');
    await expectRefused(r.intent({ type: 'LIMIT', price: (Number(mark) * 0.9).toFixed(1) }), 'price-band');
    // 0.010 BTC against an equity of 100,000 USDT is far below 0.001×
    r.manager.risk.limits = { ...r.manager.risk.limits, maxLeverage: 0.001 };
    await expectRefused(r.intent({ quantity: '0.010' }), 'max-leverage');
    r.manager.risk.limits = { ...r.manager.risk.limits, maxLeverage: 2 };
    for (let i = 0; i < 3; i++) expect((await r.manager.submit(r.intent({ quantity: '0.002', type: 'LIMIT', price: (Number(mark) * 0.97).toFixed(1) }), { markPrice: mark })).status).toBe('sent');
    await expectRefused(r.intent({}), 'orders-per-minute');
    r.manager.risk.limits = { ...r.manager.risk.limits, maxOrdersPerMinute: 100 };
    expect(r.manager.equity).toBe('100000');
    r.manager.setEquity('91000'); // 9 % below the peak: past 80 % of the 10 % limit
    await expectRefused(r.intent({}), 'reducing');
    r.manager.setEquity('89000');
    await expectRefused(r.intent({}), 'halted');
    r.manager.setAutomation('off', 'test');
    await expectRefused(r.intent({}), 'automation');
    expect(refusals['max-notional']).toMatch(/exceeds the limit 1000/);
    expect(refusals['price-band']).toMatch(/from the mark price/);
    expect(refusals['max-leverage']).toMatch(/exceeds the limit 0.001×/);
    expect(refusals.halted).toMatch(/drawdown/);
    const audited = r.journal.auditLog(1, { kind: 'refused' }).map((e) => e.message.split(':')[0]);
    expect(audited).toEqual(['max-notional', 'price-band', 'max-leverage', 'orders-per-minute', 'reducing', 'halted', 'automation']);
    expect(orderPosts(r)).toBe(3);
    expect(r.journal.auditLog(1, { kind: 'risk' }).map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/ACTIVE → REDUCING/), expect.stringMatching(/REDUCING → HALTED/)]));
  });

  it('the websocket dropped during a fill: the fill comes from userTrades, the position from reconciliation after the reconnect', async () => {
    const r = await rig();
    // the second user data frame (the TRADE of the fill) kills the connection before it is sent
    r.ex.faults.set('drop=2');
    const result = await r.manager.submit(r.intent({}));
    r.ex.faults.set('');
    expect(result.status === 'sent' && result.order.state).toBe('FILLED');
    if (result.status !== 'sent') return;
    expect(r.ex.faults.firedCounts().drop).toBe(1);
    await until(() => r.events.some((e) => e.type === 'reconciled' && e.report.time > result.order.createdAt), 'the reconciliation after the reconnect');
    expect(r.events.filter((e) => e.type === 'stream').map((e) => (e as { up: boolean }).up)).toEqual([false, true]);
    expect(r.manager.position('BTCUSDT')).toBe('0.01');
    expect(r.journal.fills(1, result.order.clientId).reduce((s, f) => s.add(f.quantity), Dec.ZERO).toString()).toBe('0.01');
    expect(r.journal.auditLog(1, { kind: 'correction' }).some((e) => /position 0 → 0.01/.test(e.message))).toBe(true);
    expect(r.manager.ready).toBe(true);
  });

  it('the websocket dropped while a resting order fills: reconciliation after the reconnect finds it FILLED, with its fills and position', async () => {
    const OTHER = { apiKey: 'otherTraderKeyLocalExchange00000000000000000000000000000000000000', apiSecret: 'otherTraderSecret000000000000000000000000000000000000000000000000' };
    const r = await rig({ exchange: { accounts: [{ apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET }, OTHER] } });
    const m = r.ex.markets.get('BTCUSDT')!;
    const [[bidPrice]] = m.levels('bid', 1);
    const placed = await r.manager.submit(r.intent({ type: 'LIMIT', price: bidPrice }));
    expect(placed.status === 'sent' && placed.order.state).toBe('ACKED');
    if (placed.status !== 'sent') return;
    // another trader sells the whole best bid level, ours included, while our stream drops the fill
    const level = m.levels('bid', 1)[0][1];
    const other = new BinanceExchange({ venue: 'local', simulated: true, restUrl: r.ex.url, wsUrl: r.ex.wsUrl, ...OTHER });
    cleanups.push(() => other.close());
    r.ex.faults.set('drop');
    await other.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: level });
    r.ex.faults.set('');
    expect(r.ex.faults.firedCounts().drop).toBe(1);
    await until(() => r.journal.get(1, placed.order.clientId)!.state === 'FILLED', 'the fill found by reconciliation');
    expect(r.events.filter((e) => e.type === 'stream').map((e) => (e as { up: boolean }).up)).toEqual([false, true]);
    await until(() => r.manager.ready, 'ready again');
    expect(r.manager.position('BTCUSDT')).toBe('0.01');
    expect(r.journal.fills(1, placed.order.clientId).map((f) => [Dec.parse(f.quantity).toString(), f.maker])).toEqual([['0.01', true]]);
    expect(r.journal.auditLog(1, { kind: 'correction' }).map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ACKED → FILLED: queried by client id/), 'position 0 → 0.01 (from positionRisk)']),
    );
  });

  it('listenKey expiry: the adapter creates a new key and reconnects, the manager reconciles, fills arrive on the new stream', async () => {
    let real = Date.now();
    const r = await rig({ exchange: { realClock: () => real } });
    const firstKey = r.ex.engine.accounts.get(DEMO_API_KEY)!.listenKey;
    expect(firstKey).toBeDefined();
    real += 61 * 60_000; // past the 60 minutes without keepalive
    r.ex.tick();
    await until(() => r.events.filter((e) => e.type === 'reconciled').length >= 2, 'a second reconciliation');
    const account = r.ex.engine.accounts.get(DEMO_API_KEY)!;
    expect(account.listenKey).toBeDefined();
    expect(account.listenKey).not.toBe(firstKey);
    expect(r.journal.auditLog(1, { kind: 'stream' }).map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringMatching(/listenKey expired/), expect.stringMatching(/back/)]));
    const fillsBefore = r.events.filter((e) => e.type === 'fill').length;
    const result = await r.manager.submit(r.intent({}));
    expect(result.status === 'sent' && result.order.state).toBe('FILLED');
    await until(() => r.manager.position('BTCUSDT') === '0.01', 'the position from the new stream');
    expect(r.events.filter((e) => e.type === 'fill').length).toBeGreaterThan(fillsBefore);
  });

  it('no order is sent before reconciliation, and reconciliation adopts our orders unknown to the journal and corrects positions', async () => {
    const r = await rig({ start: false });
    // what a lost journal would not know: an open order with our prefix and a position
    const mark = Number(await r.mark());
    await r.client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: (mark * 0.97).toFixed(1), newClientOrderId: 'atm.1.0.abc.0.en' });
    await r.client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: (mark * 0.97).toFixed(1), newClientOrderId: 'by-hand-1' });
    await r.client.newOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.100' });
    expect(await r.manager.submit(r.intent({}))).toMatchObject({ status: 'refused', rule: 'not-ready' });
    const report = await r.manager.start();
    expect(report).toMatchObject({ adopted: 1, foreignOpen: 1, positionsCorrected: 1, openOrders: 1 });
    expect(r.journal.get(1, 'atm.1.0.abc.0.en')).toMatchObject({ state: 'ACKED', intent: { decision: { openTime: parseInt('abc', 36), purpose: 'entry' } } });
    expect(r.manager.position('ETHUSDT')).toBe('-0.1');
    expect(r.journal.auditLog(1, { kind: 'adopted' })).toHaveLength(1);
    expect(r.journal.auditLog(1, { kind: 'correction' }).map((e) => e.message)).toEqual(['position 0 → -0.1 (from positionRisk)']);
  });

  it('the kill switch cancels orders and conditional orders, closes positions reduce-only and stops automation', async () => {
    const r = await rig();
    const mark = Number(await r.mark());
    await r.manager.submit(r.intent({}));
    await r.manager.submit(r.intent({ type: 'LIMIT', price: (mark * 0.97).toFixed(1) }));
    await r.manager.submit(r.intent({ type: 'STOP_MARKET', side: 'SELL', triggerPrice: (mark * 0.96).toFixed(1), closePosition: true, quantity: undefined }));
    await r.manager.submit(r.intent({ symbol: 'ETHUSDT', side: 'SELL', quantity: '0.100' }));
    await until(() => r.manager.position('ETHUSDT') === '-0.1' && r.manager.position('BTCUSDT') === '0.01', 'positions');
    r.manager.setEquity('1'); // a halted account can still be closed
    const report = await killSwitch(r.manager, { closePositions: true, reason: 'test' });
    expect(report.errors).toEqual([]);
    expect(report.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(report.closed.map((c) => [c.symbol, c.quantity, c.state])).toEqual([['BTCUSDT', '0.01', 'FILLED'], ['ETHUSDT', '0.1', 'FILLED']]);
    expect(await r.client.openOrders()).toEqual([]);
    expect(await r.client.openAlgoOrders()).toEqual([]);
    expect((await r.client.positionRisk()).filter((p) => !Dec.parse(p.positionAmt).isZero())).toEqual([]);
    expect(r.manager.openOrders()).toEqual([]);
    expect(r.manager.automation).toBe('killed');
    expect(await r.manager.submit(r.intent({}))).toMatchObject({ status: 'refused', rule: 'automation' });
  });
});
