import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange, type LocalExchangeOptions } from '../../../src/adapters/localexchange/server.js';
import type { AlgoUpdateEvent, OrderTradeUpdateEvent, UserDataEvent } from '../../../src/core/exchange/port.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 10_000, what);

const isAlgo = (e: UserDataEvent): e is AlgoUpdateEvent => e.e === 'ALGO_UPDATE';
const isOrder = (e: UserDataEvent): e is OrderTradeUpdateEvent => e.e === 'ORDER_TRADE_UPDATE';
/** Moves a market's fair price (the test hook the liquidation tests use): trades sweep the book there, the mark follows. */
const pushFair = (ex: LocalExchange, symbol: string, factor: number) => {
  (ex.markets.get(symbol)! as unknown as { fair: number }).fair *= factor;
};

describe('algo (conditional) orders on the local exchange, through the Binance client', () => {
  let ex: LocalExchange;
  let client: BinanceExchange;
  beforeAll(async () => {
    ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 21 });
    client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await ex.close();
  });

  it('place / query / openAlgoOrders / cancel round trip with Binance fields; regular order calls do not see it', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    const below = m.price(m.lastPrice - 2000);
    const placed = await client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.010', triggerPrice: below, clientAlgoId: 'sl-1' });
    expect(Object.keys(placed).slice(0, 10)).toEqual(['algoId', 'clientAlgoId', 'algoType', 'orderType', 'symbol', 'side', 'positionSide', 'timeInForce', 'quantity', 'algoStatus']);
    expect(placed).toMatchObject({
      clientAlgoId: 'sl-1', algoType: 'CONDITIONAL', orderType: 'STOP_MARKET', side: 'SELL', positionSide: 'BOTH', quantity: '0.010',
      algoStatus: 'NEW', triggerPrice: below, price: '0', workingType: 'CONTRACT_PRICE', closePosition: false, reduceOnly: false, triggerTime: 0,
    });
    expect(typeof placed.createTime).toBe('number');
    const byId = await client.queryAlgoOrder({ algoId: placed.algoId });
    expect(byId).toMatchObject({ algoId: placed.algoId, algoStatus: 'NEW', actualOrderId: '' });
    expect((await client.queryAlgoOrder({ clientAlgoId: 'sl-1' })).algoId).toBe(placed.algoId);
    expect((await client.openAlgoOrders('BTCUSDT')).map((o) => o.algoId)).toEqual([placed.algoId]);
    expect((await client.openAlgoOrders()).map((o) => o.algoId)).toEqual([placed.algoId]);
    // the regular order endpoints know nothing of it
    expect(await client.openOrders('BTCUSDT')).toEqual([]);
    await expect(client.queryOrder({ symbol: 'BTCUSDT', orderId: placed.algoId })).rejects.toMatchObject({ code: -2013 });
    await expect(client.queryOrder({ symbol: 'BTCUSDT', origClientOrderId: 'sl-1' })).rejects.toMatchObject({ code: -2013 });
    await expect(client.cancelOrder({ symbol: 'BTCUSDT', orderId: placed.algoId })).rejects.toMatchObject({ code: -2011 });
    // a duplicate client id while it is open
    await expect(client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.010', triggerPrice: below, clientAlgoId: 'sl-1' })).rejects.toMatchObject({ code: -4116 });
    // an open algo order is an open order for the margin type
    await expect(client.setMarginType('BTCUSDT', 'ISOLATED')).rejects.toMatchObject({ code: -4047 });
    const canceled = await client.cancelAlgoOrder({ clientAlgoId: 'sl-1' });
    expect(canceled).toEqual({ algoId: placed.algoId, clientAlgoId: 'sl-1', code: '200', msg: 'success' });
    expect(Object.keys(canceled)).toEqual(['algoId', 'clientAlgoId', 'code', 'msg']);
    expect((await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus).toBe('CANCELED');
    await expect(client.cancelAlgoOrder({ algoId: placed.algoId })).rejects.toMatchObject({ code: -2011, exchangeMessage: 'Unknown order sent.' });
    await expect(client.cancelAlgoOrder({ algoId: 42 })).rejects.toMatchObject({ code: -2011 });
    await expect(client.queryAlgoOrder({ algoId: 42 })).rejects.toMatchObject({ code: -2013, exchangeMessage: 'Order does not exist.' });
    await expect(client.queryAlgoOrder({ clientAlgoId: 'nope' })).rejects.toMatchObject({ code: -2013 });
    // once it is no longer open, the client id is free again
    const again = await client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.010', triggerPrice: below, clientAlgoId: 'sl-1' });
    expect(again.algoId).toBeGreaterThan(placed.algoId);
    await client.cancelAllAlgoOrders('BTCUSDT');
    expect(await client.openAlgoOrders('BTCUSDT')).toEqual([]);
    const all = await client.allAlgoOrders('BTCUSDT');
    expect(all.map((o) => [o.algoId, o.algoStatus])).toEqual([[placed.algoId, 'CANCELED'], [again.algoId, 'CANCELED']]);
  });

  it('the client sends every algo call signed and through the rate governor with Binance\'s weights', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    const calls: [number, number][] = [];
    const governor = client.rest.governor;
    const acquire = governor.acquire.bind(governor);
    governor.acquire = (weight, orders = 0, signal) => {
      calls.push([weight, orders]);
      return acquire(weight, orders, signal);
    };
    try {
      const placed = await client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.010', triggerPrice: m.price(m.lastPrice - 2000) });
      await client.queryAlgoOrder({ algoId: placed.algoId });
      await client.openAlgoOrders('BTCUSDT');
      await client.openAlgoOrders();
      await client.allAlgoOrders('BTCUSDT', { limit: 10 });
      await client.cancelAlgoOrder({ algoId: placed.algoId });
      await client.cancelAllAlgoOrders('BTCUSDT');
    } finally {
      governor.acquire = acquire;
    }
    // POST 0 weight + 1 order; GET/DELETE algoOrder 1; openAlgoOrders 1 / 40 without a symbol; allAlgoOrders 5; algoOpenOrders 1
    expect(calls).toEqual([[0, 1], [1, 0], [1, 0], [40, 0], [5, 0], [1, 0], [1, 0]]);
    // unsigned, the exchange refuses them
    const res = await fetch(`${ex.url}/fapi/v1/openAlgoOrders?symbol=BTCUSDT&timestamp=${Date.now()}`, { headers: { 'X-MBX-APIKEY': DEMO_API_KEY } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(-1102);
  });

  it('rejects bad algo orders with the exchange codes', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    const last = m.lastPrice;
    const below = m.price(last - 1000);
    const above = m.price(last + 1000);
    const base = { symbol: 'BTCUSDT', side: 'SELL' as const, type: 'STOP_MARKET' as const, quantity: '0.010', triggerPrice: below };
    const code = (o: Record<string, unknown>) => client.newAlgoOrder({ ...base, ...o } as never).then(() => 0, (e: { code: number }) => e.code);
    // a SELL stop above the last price, a BUY stop below it, a SELL take-profit below it: they would fire at once
    expect(await code({ triggerPrice: above })).toBe(-2021);
    expect(await code({ side: 'BUY', triggerPrice: below })).toBe(-2021);
    expect(await code({ type: 'TAKE_PROFIT_MARKET', triggerPrice: below })).toBe(-2021);
    // on the mark price: a SELL stop above the mark
    expect(await code({ workingType: 'MARK_PRICE', triggerPrice: m.price(Math.ceil(m.markTicks()) + 1000) })).toBe(-2021);
    // notional at the trigger price below MIN_NOTIONAL (100 USDT): 0.001 BTC; reduce-only is exempt
    expect(await code({ quantity: '0.001' })).toBe(-4164);
    expect(await code({ type: 'STOP', price: below, quantity: '0.001' })).toBe(-4164);
    expect(await code({ quantity: '0.0105' })).toBe(-4023);
    expect(await code({ triggerPrice: (Number(below) + 0.05).toFixed(2) })).toBe(-4014);
    expect(await code({ type: 'STOP' })).toBe(-1102); // no limit price
    expect(await code({ price: below })).toBe(-1106); // a price on a *_MARKET
    expect(await code({ closePosition: true })).toBe(-1106); // closePosition with a quantity
    expect(await code({ triggerPrice: undefined })).toBe(-1102);
    expect(await code({ clientAlgoId: 'x'.repeat(37) })).toBe(-4015);
    expect(await code({ positionSide: 'LONG' })).toBe(-4061);
    expect(await code({ symbol: 'NOPEUSDT' })).toBe(-1121);
    // conditional types still cannot use the regular endpoint
    await expect(client.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET' as never, quantity: '0.010' })).rejects.toMatchObject({ code: -4120 });
    // MAX_NUM_ALGO_ORDERS (10 per symbol in exchangeInfo)
    const info = (await client.exchangeInfo()).symbols.find((s) => s.symbol === 'BTCUSDT')!;
    expect(info.maxNumAlgoOrders).toBe(10);
    for (let i = 0; i < 10; i++) await client.newAlgoOrder({ ...base, triggerPrice: m.price(last - 1000 - i) });
    expect(await code({})).toBe(-4045);
    expect(await client.newAlgoOrder({ ...base, symbol: 'ETHUSDT', quantity: '0.100', triggerPrice: ex.markets.get('ETHUSDT')!.price(ex.markets.get('ETHUSDT')!.lastPrice - 500) })).toMatchObject({ algoStatus: 'NEW' });
    await client.cancelAllAlgoOrders('BTCUSDT');
    await client.cancelAllAlgoOrders('ETHUSDT');
    expect(await client.openAlgoOrders()).toEqual([]);
    // reduce-only is exempt from MIN_NOTIONAL (checked again when it fires)
    expect(await code({ quantity: '0.001', reduceOnly: true })).toBe(0);
    await client.cancelAllAlgoOrders('BTCUSDT');
  });

  it('a STOP_MARKET closePosition stop-loss on the mark price closes a long when the mark crosses it, reported on the user data stream', async () => {
    const events: UserDataEvent[] = [];
    const sub = await client.subscribeUserData((e) => events.push(e));
    try {
      const m = ex.markets.get('ETHUSDT')!;
      const open = await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '1.000', newOrderRespType: 'RESULT' });
      expect(open.status).toBe('FILLED');
      const trigger = m.price(Math.floor(m.markTicks() * 0.99));
      const stop = await client.newAlgoOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: trigger, workingType: 'MARK_PRICE', closePosition: true, clientAlgoId: 'eth-sl' });
      expect(stop).toMatchObject({ algoStatus: 'NEW', closePosition: true, workingType: 'MARK_PRICE', quantity: '0.000' });
      await until(() => events.some((e) => isAlgo(e) && e.o.aid === stop.algoId && e.o.X === 'NEW'), 'ALGO_UPDATE NEW');
      // a few quiet steps: the mark stays above the trigger, the stop waits
      for (let i = 0; i < 5; i++) ex.tick(100);
      expect(m.markTicks() * m.tickValue).toBeGreaterThan(Number(trigger));
      expect((await client.queryAlgoOrder({ algoId: stop.algoId })).algoStatus).toBe('NEW');
      // the market falls 3 %: the mark crosses the trigger and the stop closes the position
      pushFair(ex, 'ETHUSDT', 0.97);
      for (let i = 0; i < 30 && Number((await client.positionRisk('ETHUSDT'))[0].positionAmt) !== 0; i++) ex.tick(100);
      expect((await client.positionRisk('ETHUSDT'))[0].positionAmt).toBe('0.000');
      expect(m.markTicks() * m.tickValue).toBeLessThanOrEqual(Number(trigger));
      const fired = await client.queryAlgoOrder({ algoId: stop.algoId });
      expect(fired.algoStatus).toBe('FINISHED');
      expect(fired.triggerTime).toBeGreaterThan(0);
      const actualId = Number(fired.actualOrderId);
      expect(actualId).toBeGreaterThan(0);
      expect(Number(fired.actualPrice)).toBeGreaterThan(0);
      // the order it placed is a regular one: a reduce-only MARKET for the whole position
      const actual = await client.queryOrder({ symbol: 'ETHUSDT', orderId: actualId });
      expect(actual).toMatchObject({
        status: 'FILLED', type: 'MARKET', origType: 'STOP_MARKET', side: 'SELL', executedQty: '1.000', reduceOnly: true, closePosition: true,
        stopPrice: trigger, workingType: 'MARK_PRICE', clientOrderId: 'eth-sl',
      });
      expect(await client.openAlgoOrders('ETHUSDT')).toEqual([]);
      // the user data stream: NEW → TRIGGERING → TRIGGERED (with the order id) → FINISHED, the order's fill, the flat position
      await until(() => events.some((e) => isAlgo(e) && e.o.aid === stop.algoId && e.o.X === 'FINISHED')
        && events.some((e) => isOrder(e) && e.o.i === actualId && e.o.X === 'FILLED')
        && events.some((e) => e.e === 'ACCOUNT_UPDATE' && (e as { a: { P: { s: string; pa: string }[] } }).a.P.some((p) => p.s === 'ETHUSDT' && Number(p.pa) === 0)), 'the stop\'s events');
      const algoEvents = events.filter(isAlgo).filter((e) => e.o.aid === stop.algoId);
      expect(algoEvents.map((e) => e.o.X)).toEqual(['NEW', 'TRIGGERING', 'TRIGGERED', 'FINISHED']);
      expect(algoEvents[0].o).toMatchObject({ caid: 'eth-sl', at: 'CONDITIONAL', o: 'STOP_MARKET', s: 'ETHUSDT', S: 'SELL', tp: trigger, wt: 'MARK_PRICE', cp: true, ai: '' });
      expect(algoEvents[2].o.ai).toBe(String(actualId));
      const fill = events.filter(isOrder).find((e) => e.o.i === actualId && e.o.x === 'TRADE')!;
      expect(fill.o).toMatchObject({ o: 'MARKET', ot: 'STOP_MARKET', sp: trigger, wt: 'MARK_PRICE', cp: true, R: true, S: 'SELL' });
      // ordering: the algo order went TRIGGERED before its order filled, FINISHED after
      const at = (pred: (e: UserDataEvent) => boolean) => events.findIndex(pred);
      expect(at((e) => isAlgo(e) && e.o.aid === stop.algoId && e.o.X === 'TRIGGERING')).toBeLessThan(at((e) => isOrder(e) && e.o.i === actualId));
      expect(at((e) => isOrder(e) && e.o.i === actualId && e.o.X === 'FILLED')).toBeLessThan(at((e) => isAlgo(e) && e.o.aid === stop.algoId && e.o.X === 'FINISHED'));
    } finally {
      sub.unsubscribe();
    }
  });

  it('a STOP (limit) on the last price places a LIMIT at its price when trades reach the trigger', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    const trigger = m.lastPrice + 300;
    const limit = trigger + 200;
    const placed = await client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'STOP', quantity: '0.010', triggerPrice: m.price(trigger), price: m.price(limit), timeInForce: 'GTC' });
    pushFair(ex, 'BTCUSDT', 1.02);
    for (let i = 0; i < 30 && (await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus === 'NEW'; i++) ex.tick(100);
    const fired = await client.queryAlgoOrder({ algoId: placed.algoId });
    expect(['TRIGGERED', 'FINISHED']).toContain(fired.algoStatus);
    const actual = await client.queryOrder({ symbol: 'BTCUSDT', orderId: Number(fired.actualOrderId) });
    expect(actual).toMatchObject({ type: 'LIMIT', origType: 'STOP', price: m.price(limit), stopPrice: m.price(trigger), workingType: 'CONTRACT_PRICE', side: 'BUY', origQty: '0.010' });
    if (actual.status === 'NEW') await client.cancelOrder({ symbol: 'BTCUSDT', orderId: actual.orderId });
    ex.tick(100);
    expect((await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus).toBe('FINISHED');
    // flatten what it bought
    const amt = (await client.positionRisk('BTCUSDT'))[0].positionAmt;
    if (Number(amt) > 0) await client.newOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: amt, reduceOnly: true });
  });

  it('a closePosition stop with no position to close is REJECTED when it fires', async () => {
    const events: UserDataEvent[] = [];
    const sub = await client.subscribeUserData((e) => events.push(e));
    try {
      const m = ex.markets.get('ETHUSDT')!;
      expect((await client.positionRisk('ETHUSDT'))[0].positionAmt).toBe('0.000');
      const placed = await client.newAlgoOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'STOP_MARKET', triggerPrice: m.price(m.lastPrice - 100), closePosition: true });
      pushFair(ex, 'ETHUSDT', 0.98);
      for (let i = 0; i < 30 && (await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus === 'NEW'; i++) ex.tick(100);
      expect(await client.queryAlgoOrder({ algoId: placed.algoId })).toMatchObject({ algoStatus: 'REJECTED', actualOrderId: '' });
      await until(() => events.some((e) => e.e === 'CONDITIONAL_ORDER_TRIGGER_REJECT'), 'CONDITIONAL_ORDER_TRIGGER_REJECT');
      const rejected = events.filter(isAlgo).find((e) => e.o.aid === placed.algoId && e.o.X === 'REJECTED')!;
      expect(rejected.o.rm).toBe('ReduceOnly Order is rejected.');
    } finally {
      sub.unsubscribe();
    }
  });

  it('a TRAILING_STOP_MARKET arms at its activation price and fires after the callback from the best price', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.020' });
    const activate = m.price(m.lastPrice + 200);
    const placed = await client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'TRAILING_STOP_MARKET', quantity: '0.020', reduceOnly: true, activatePrice: activate, callbackRate: '1' });
    expect(placed).toMatchObject({ activatePrice: activate, callbackRate: '1.0', triggerPrice: '0' });
    await expect(client.newAlgoOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'TRAILING_STOP_MARKET', quantity: '0.020', callbackRate: '20' })).rejects.toMatchObject({ code: -2007 });
    // up 2 % (arms it and sets the best price), then down 3 %: about 1 % under the best price it fires
    pushFair(ex, 'BTCUSDT', 1.02);
    for (let i = 0; i < 10; i++) ex.tick(100);
    expect((await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus).toBe('NEW');
    const best = Math.max(...m.trades.slice(-2000).map((t) => t.p));
    pushFair(ex, 'BTCUSDT', 0.97);
    for (let i = 0; i < 30 && (await client.queryAlgoOrder({ algoId: placed.algoId })).algoStatus === 'NEW'; i++) ex.tick(100);
    const fired = await client.queryAlgoOrder({ algoId: placed.algoId });
    expect(fired.algoStatus).toBe('FINISHED');
    const trades = await client.userTrades('BTCUSDT', { orderId: Number(fired.actualOrderId) });
    expect(trades.length).toBeGreaterThan(0);
    expect(Number(trades[0].price)).toBeLessThanOrEqual(best * m.tickValue * 0.99 + 1e-9);
    expect((await client.positionRisk('BTCUSDT'))[0].positionAmt).toBe('0.000');
  });
});

describe('priceProtect', () => {
  it('holds a mark-price trigger while mark and last price differ by more than triggerProtect (5 %)', async () => {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['ETHUSDT'], historyDays: 0.05, seed: 5 });
    try {
      const account = ex.engine.accounts.get(DEMO_API_KEY)!;
      const m = ex.markets.get('ETHUSDT')!;
      const trigger = m.price(Math.floor(m.lastPrice * 0.99));
      const order = { algoType: 'CONDITIONAL', symbol: 'ETHUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.100', triggerPrice: trigger, workingType: 'MARK_PRICE' };
      const guarded = ex.algos.place(account, { ...order, priceProtect: 'true' }) as { algoId: number };
      const plain = ex.algos.place(account, order) as { algoId: number };
      // the mark drops 10 % under the last price (index and basis moved by hand): only the plain one fires
      const internals = m as unknown as { index: number; basisEma: number };
      internals.index = m.lastPrice * 0.9;
      internals.basisEma = 0;
      ex.algos.checkMarket(m);
      expect(account.algos.get(plain.algoId)!.status).toBe('FINISHED');
      expect(account.algos.get(guarded.algoId)!.status).toBe('NEW');
      // within 5 % of the last price and still under the trigger: it fires
      internals.index = m.lastPrice * 0.98;
      ex.algos.checkMarket(m);
      expect(account.algos.get(guarded.algoId)!.status).toBe('FINISHED');
    } finally {
      await ex.close();
    }
  });
});

describe('algo orders while nobody watches (kline-level fast-forward)', () => {
  const open: LocalExchange[] = [];
  afterEach(async () => {
    for (const e of open.splice(0)) await e.close();
  });
  const T0 = 1_780_000_000_000;
  async function start(realClock: () => number, options: LocalExchangeOptions = {}): Promise<LocalExchange> {
    const e = await LocalExchange.start({ symbols: ['BTCUSDT'], historyDays: 0.05, seed: 33, tickMs: 100, realClock, ...options });
    open.push(e);
    return e;
  }
  async function get<T = unknown>(e: LocalExchange, path: string): Promise<T> {
    const res = await fetch(`${e.url}${path}`);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  }
  type Row = [number, string, string, string, string];

  it('fires a stop-loss the unwatched path crosses, at its trigger price, and closes the position', async () => {
    let t = T0;
    const clock = () => t;
    // a twin with the same seed and request times shows the path: a trigger only the
    // fast-forwarded part reaches (not the trade-level tail)
    const twin = await start(clock);
    const ex = await start(clock);
    await get(twin, '/fapi/v1/ping');
    await get(ex, '/fapi/v1/ping');
    t += 6 * 3_600_000;
    const path = await get<Row[]>(twin, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1500`);
    const ff = path.slice(0, -3);
    const tail = path.slice(-3);
    const ffHigh = Math.max(...ff.map((r) => Number(r[2])));
    const ffLow = Math.min(...ff.map((r) => Number(r[3])));
    // a long protected below, or a short protected above: whichever only the fast-forward reaches
    const long = ffLow < Math.min(...tail.map((r) => Number(r[3])));
    expect(long || ffHigh > Math.max(...tail.map((r) => Number(r[2])))).toBe(true);
    const account = ex.engine.accounts.get(DEMO_API_KEY)!;
    const m = ex.markets.get('BTCUSDT')!;
    ex.engine.newOrder(account, { symbol: 'BTCUSDT', side: long ? 'BUY' : 'SELL', type: 'MARKET', quantity: '0.010' });
    // half-way from the market to the path's extreme
    const trigger = Math.round((m.lastPrice + (long ? ffLow : ffHigh) / m.tickValue) / 2);
    const far = Math.round(m.lastPrice * (long ? 0.5 : 1.5));
    const stop = ex.algos.place(account, { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: long ? 'SELL' : 'BUY', type: 'STOP_MARKET', triggerPrice: m.price(trigger), closePosition: 'true' }) as { algoId: number };
    const other = ex.algos.place(account, { algoType: 'CONDITIONAL', symbol: 'BTCUSDT', side: long ? 'SELL' : 'BUY', type: 'STOP_MARKET', triggerPrice: m.price(far), quantity: '0.010', reduceOnly: 'true' }) as { algoId: number };
    const rows = await get<Row[]>(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1500`);
    expect(ex.metrics.fastForwards).toBe(1);
    const fired = account.algos.get(stop.algoId)!;
    expect(fired.status).toBe('FINISHED');
    expect(account.algos.get(other.algoId)!.status).toBe('NEW');
    expect(account.positions.get('BTCUSDT')!.amt.isZero()).toBe(true);
    const closing = account.orders.get(fired.actualOrderId)!;
    expect(closing).toMatchObject({ status: 'FILLED', type: 'MARKET', reduceOnly: true });
    // it fired in the first bar that reached the trigger (the path up to there is the twin's)
    const bar = rows.findIndex((r) => (long ? Number(r[3]) <= Number(m.price(trigger)) : Number(r[2]) >= Number(m.price(trigger))));
    expect(bar).toBeGreaterThanOrEqual(0);
    expect(bar).toBeLessThan(rows.length - 3); // in the kline-level stretch
    expect(rows.slice(0, bar).map((r) => r.slice(0, 5))).toEqual(path.slice(0, bar).map((r) => r.slice(0, 5)));
    // the fill traded against a book rebuilt at the trigger (or the bar's open after a gap): near it
    const fill = account.trades.at(-1)!;
    expect(fill.orderId).toBe(fired.actualOrderId);
    const price = Number(fill.price);
    expect(Math.abs(price - Number(m.price(trigger))) / price).toBeLessThan(0.002);
    // and the unwatched path went on as it would have (the fill is a trade of its bar, nothing more)
    const ohlc = (r: Row) => r.slice(0, 5);
    expect(rows.slice(bar + 1, rows.length - 3).map(ohlc)).toEqual(path.slice(bar + 1, path.length - 3).map(ohlc));
    expect([rows[bar][0], rows[bar][1], rows[bar][4]]).toEqual([path[bar][0], path[bar][1], path[bar][4]]);
  });
});
