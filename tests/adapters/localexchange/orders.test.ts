import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { ExchangeError, type UserDataEvent } from '../../../src/core/exchange/port.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 10_000, what);

describe('order entry against the local exchange', () => {
  let ex: LocalExchange;
  let client: BinanceExchange;
  beforeAll(async () => {
    ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.1, seed: 7 });
    client = new BinanceExchange({ venue: 'local', simulated: true, restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await ex.close();
  });

  it('exchangeInfo gives typed symbols with string filters', async () => {
    const info = await client.exchangeInfo();
    const btc = info.symbols.find((s) => s.symbol === 'BTCUSDT')!;
    expect(btc).toMatchObject({ tickSize: '0.1', stepSize: '0.001', minNotional: '100', contractType: 'PERPETUAL' });
    expect(info.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 });
  });

  it('new / query / openOrders / cancel round trip, with Binance field order', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    const price = m.price(m.bestBid - 500); // far below the market: rests
    const placed = await client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price, newClientOrderId: 'rt-1' });
    expect(Object.keys(placed).slice(0, 6)).toEqual(['orderId', 'symbol', 'status', 'clientOrderId', 'price', 'avgPrice']);
    expect(placed).toMatchObject({ status: 'NEW', clientOrderId: 'rt-1', price, origQty: '0.010', executedQty: '0.000', type: 'LIMIT', side: 'BUY' });
    const q = await client.queryOrder({ symbol: 'BTCUSDT', orderId: placed.orderId });
    expect(q.status).toBe('NEW');
    expect(typeof q.time).toBe('number');
    const open = await client.openOrders('BTCUSDT');
    expect(open.map((o) => o.orderId)).toContain(placed.orderId);
    // the resting order is in the book
    expect(ex.markets.get('BTCUSDT')!.total('bid', m.bestBid - 500)).toBeGreaterThanOrEqual(10);
    // duplicate client id while open
    await expect(client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price, newClientOrderId: 'rt-1' })).rejects.toMatchObject({ code: -4116 });
    const canceled = await client.cancelOrder({ symbol: 'BTCUSDT', origClientOrderId: 'rt-1' });
    expect(canceled.status).toBe('CANCELED');
    await expect(client.cancelOrder({ symbol: 'BTCUSDT', orderId: placed.orderId })).rejects.toMatchObject({ code: -2011, exchangeMessage: 'Unknown order sent.' });
    await expect(client.queryOrder({ symbol: 'BTCUSDT', orderId: 424242 })).rejects.toMatchObject({ code: -2013, exchangeMessage: 'Order does not exist.' });
    expect((await client.openOrders('BTCUSDT')).length).toBe(0);
  });

  it('rejects bad orders with the exchange codes', async () => {
    const order = { symbol: 'BTCUSDT', side: 'BUY' as const, type: 'LIMIT' as const, timeInForce: 'GTC' as const, quantity: '0.010', price: '60000.1' };
    const expectCode = async (o: Partial<typeof order> & Record<string, unknown>, code: number) => {
      const err = await client.newOrder({ ...order, ...o } as any).then(() => undefined, (e) => e);
      expect(err).toBeInstanceOf(ExchangeError);
      expect((err as ExchangeError).code).toBe(code);
    };
    const mark = Number((await client.premiumIndex('BTCUSDT')).markPrice);
    const p = (Math.round(mark * 0.99 * 10) / 10).toFixed(1);
    await expectCode({ price: (Number(p) + 0.05).toFixed(2) }, -4014);
    await expectCode({ price: p, quantity: '0.0105' }, -4023);
    await expectCode({ price: p, quantity: '0.001' }, -4164);
    await expectCode({ symbol: 'NOPEUSDT' }, -1121);
    await expectCode({ type: 'STOP_MARKET' } as any, -4120);
    await expectCode({ price: p, positionSide: 'LONG' } as any, -4061);
    await expectCode({ price: p, quantity: '40' }, -2019);
    await expectCode({ price: p, quantity: '900' }, -2027);
    await expectCode({ price: p, reduceOnly: true } as any, -2022);
    await expectCode({ price: (mark * 1.2).toFixed(1) }, -4016);
    await expectCode({ price: p, newClientOrderId: 'x'.repeat(37) } as any, -4015);
  });

  it('a MARKET order fills against the book, opens a position and reports it everywhere', async () => {
    const events: UserDataEvent[] = [];
    const sub = await client.subscribeUserData((e) => events.push(e));
    try {
      const m = ex.markets.get('ETHUSDT')!;
      const bestAsk = m.bestAsk;
      const r = await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.500', newOrderRespType: 'RESULT' });
      expect(r.status).toBe('FILLED');
      expect(r.executedQty).toBe('0.500');
      expect(Number(r.avgPrice)).toBeGreaterThanOrEqual(bestAsk * m.tickValue - 1e-9);
      const risk = await client.positionRisk('ETHUSDT');
      expect(risk[0].positionAmt).toBe('0.500');
      expect(Number(risk[0].entryPrice)).toBeCloseTo(Number(r.avgPrice), 6);
      // cross margin with a 100,000 USDT wallet: this long cannot be liquidated
      expect(risk[0].liquidationPrice).toBe('0');
      const trades = await client.userTrades('ETHUSDT', { orderId: r.orderId });
      expect(trades.length).toBeGreaterThan(0);
      const fee = trades.reduce((a, t) => a + Number(t.commission), 0);
      expect(fee).toBeCloseTo(Number(r.cumQuote) * 0.0005, 6);
      const account = await client.account();
      expect(account.positions.map((p) => p.symbol)).toContain('ETHUSDT');
      expect(Number(account.totalWalletBalance)).toBeCloseTo(100000 - fee, 6);
      await until(() => events.some((e) => e.e === 'ORDER_TRADE_UPDATE' && (e as any).o.X === 'FILLED') && events.some((e) => e.e === 'ACCOUNT_UPDATE'), 'user data events');
      // closing with reduceOnly realises the PnL
      const close = await client.newOrder({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.500', reduceOnly: true, newOrderRespType: 'RESULT' });
      expect(close.status).toBe('FILLED');
      expect((await client.positionRisk('ETHUSDT'))[0].positionAmt).toBe('0.000');
      // leverage and margin type
      expect(await client.setLeverage('ETHUSDT', 5)).toMatchObject({ leverage: 5, symbol: 'ETHUSDT' });
      await expect(client.setLeverage('ETHUSDT', 500)).rejects.toMatchObject({ code: -4028 });
      await client.setMarginType('ETHUSDT', 'ISOLATED');
      await expect(client.setMarginType('ETHUSDT', 'ISOLATED')).rejects.toMatchObject({ code: -4046 });
      await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '1.000' });
      const iso = (await client.positionRisk('ETHUSDT'))[0];
      // isolated 5x long: LP = (WB + cum − pos·EP)/(pos·MMR − pos), about 80 % of entry
      const lp = Number(iso.liquidationPrice);
      const wb = Number(iso.isolatedWallet);
      const ep = Number(iso.entryPrice);
      expect(lp).toBeCloseTo((wb - ep) / (0.004 - 1), 1);
      expect(lp / ep).toBeGreaterThan(0.75);
      expect(lp / ep).toBeLessThan(0.85);
      await expect(client.setMarginType('ETHUSDT', 'CROSSED')).rejects.toMatchObject({ code: -4048 });
      const brackets = await client.leverageBrackets('ETHUSDT');
      expect(brackets.brackets[1]).toMatchObject({ notionalFloor: 50000, maintMarginRatio: 0.005, cum: 50 });
    } finally {
      sub.unsubscribe();
    }
  });

  it('post-only and fill-or-kill keep their codes', async () => {
    const m = ex.markets.get('BTCUSDT')!;
    await expect(client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTX', quantity: '0.010', price: m.price(m.bestAsk) })).rejects.toMatchObject({ code: -5022 });
    await expect(client.newOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'FOK', quantity: '10.000', price: m.price(m.bestAsk) })).rejects.toMatchObject({ code: -5021 });
  });
});

describe('funding on the local exchange', () => {
  it('settles size × mark × rate at the funding time, reported as income and in fundingRate', async () => {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['ETHUSDT'], historyDays: 0.05, seed: 9 });
    const client = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
    try {
      await client.connect();
      await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '2.000' });
      const account = ex.engine.accounts.get(DEMO_API_KEY)!;
      const before = account.wallet;
      const m = ex.markets.get('ETHUSDT')!;
      // jump the market clock past the next funding time in one step
      ex.tick(m.nextFunding - m.now + 1000);
      const rows = (await (await fetch(`${ex.url}/fapi/v1/fundingRate?symbol=ETHUSDT`)).json()) as { fundingRate: string; markPrice: string; fundingTime: number }[];
      expect(rows.length).toBe(1);
      const { Dec } = await import('../../../src/core/futures/decimal.js');
      const paid = Dec.parse('2').mul(rows[0].markPrice).mul(rows[0].fundingRate);
      // the wallet moves by exactly −size × mark × rate (longs pay when the rate is positive)
      expect(before.sub(account.wallet).toString()).toBe(paid.toString());
      expect((await client.balances())[0].balance).toBe(account.wallet.toString(8));
      expect(account.income.some((i) => i.incomeType === 'FUNDING_FEE' && Dec.parse(i.income).eq(paid.neg().toString(8)))).toBe(true);
    } finally {
      await client.close();
      await ex.close();
    }
  });
});

describe('liquidation on the local exchange', () => {
  it('liquidates an isolated position when the mark price reaches its liquidation price', async () => {
    const ex = await LocalExchange.start({ manualClock: true, symbols: ['ETHUSDT'], historyDays: 0.05, seed: 4 });
    const client = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET });
    try {
      await client.connect();
      await client.setMarginType('ETHUSDT', 'ISOLATED');
      await client.setLeverage('ETHUSDT', 100);
      const open = await client.newOrder({ symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.100' });
      const risk = (await client.positionRisk('ETHUSDT'))[0];
      const lp = Number(risk.liquidationPrice);
      expect(lp).toBeGreaterThan(Number(risk.entryPrice) * 0.985);
      const m = ex.markets.get('ETHUSDT')!;
      // push the market 3 % down: the fair price drops, trades sweep the book, the mark follows
      (m as unknown as { fair: number }).fair *= 0.97;
      for (let i = 0; i < 30 && Number((await client.positionRisk('ETHUSDT'))[0].positionAmt) !== 0; i++) ex.tick(100);
      expect((await client.positionRisk('ETHUSDT'))[0].positionAmt).toBe('0.000');
      const orders = [...ex.engine.accounts.get(DEMO_API_KEY)!.orders.values()];
      const liq = orders.find((o) => o.clientOrderId.startsWith('autoclose-'));
      expect(liq).toMatchObject({ type: 'LIQUIDATION', side: 'SELL', status: 'FILLED' });
      // the price gapped through LP: the loss stops at the isolated margin (the insurance fund
      // takes the rest); the opening fee was paid before
      const fee = (await client.userTrades('ETHUSDT', { orderId: open.orderId })).reduce((sum, t) => sum + Number(t.commission), 0);
      const wallet = Number((await client.balances())[0].balance);
      expect(100000 - fee - wallet).toBeCloseTo(Number(risk.isolatedWallet), 6);
    } finally {
      await client.close();
      await ex.close();
    }
  });
});
