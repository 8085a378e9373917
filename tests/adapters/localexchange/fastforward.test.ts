import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SymbolMarket } from '../../../src/adapters/localexchange/market.js';
import { DEMO_API_KEY, LocalExchange, type LocalExchangeOptions } from '../../../src/adapters/localexchange/server.js';
import { SIM_SYMBOLS } from '../../../src/adapters/localexchange/symbols.js';
import { waitFor } from '../../helpers/wait.js';

const until = (cond: () => boolean, what: string) => waitFor(cond, 10_000, what);

const open: LocalExchange[] = [];
afterEach(async () => {
  for (const ex of open.splice(0)) await ex.close();
});

const T0 = 1_780_000_000_000;

async function start(realClock: () => number, options: LocalExchangeOptions = {}): Promise<LocalExchange> {
  const ex = await LocalExchange.start({ symbols: ['BTCUSDT', 'ETHUSDT'], historyDays: 0.05, seed: 33, tickMs: 100, realClock, ...options });
  open.push(ex);
  return ex;
}

async function get<T = unknown>(ex: LocalExchange, path: string): Promise<T> {
  const res = await fetch(`${ex.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

type Row = [number, string, string, string, string, string, number, string, number, string, string, string];

/** An exact decimal string as an integer of units of 10^-decimals (the string must have exactly `decimals` decimals). */
function units(text: string, decimals: number): bigint {
  const [whole, frac = ''] = text.split('.');
  expect(frac.length, `${text} has ${decimals} decimals`).toBe(decimals);
  return BigInt(whole + frac);
}

/** The whole 1m series (history, live, fast-forwarded, live again) checked for gaps and sane bars. */
async function checkedKlines(ex: LocalExchange, symbol: string, priceDecimals: number, qtyDecimals: number): Promise<Row[]> {
  const rows = await get<Row[]>(ex, `/fapi/v1/klines?symbol=${symbol}&interval=1m&limit=1500`);
  for (let i = 1; i < rows.length; i++) expect(rows[i][0] - rows[i - 1][0], `gap before ${rows[i][0]}`).toBe(60_000);
  for (const [t, o, h, l, c, v, T, q, n, bv, bq] of rows) {
    const [O, H, L, C] = [o, h, l, c].map((x) => units(x, priceDecimals));
    const [V, BV] = [v, bv].map((x) => units(x, qtyDecimals));
    const [Q, BQ] = [q, bq].map((x) => units(x, priceDecimals + qtyDecimals));
    expect(T).toBe(t + 59_999);
    expect(L <= O && L <= C && O <= H && C <= H, `bar ${t}: ${o} ${h} ${l} ${c}`).toBe(true);
    expect(L > 0n).toBe(true);
    // quote volume: an exact decimal between low × volume and high × volume; taker buys inside the totals
    expect(L * V <= Q && Q <= H * V, `bar ${t}: quote ${q} for ${v} in [${l}, ${h}]`).toBe(true);
    expect(BV <= V && BQ <= Q && L * BV <= BQ && BQ <= H * BV).toBe(true);
    expect(n > 0 === V > 0n, `bar ${t}: ${n} trades, volume ${v}`).toBe(true);
  }
  return rows;
}

describe('local exchange: kline-level fast-forward over unwatched stretches', () => {
  it('after an idle hour answers from a fast-forward: continuous, sane, exact, and the same for the same seed and request times', async () => {
    let t = T0;
    const clock = () => t;
    const a = await start(clock);
    const b = await start(clock);
    // both look at the market once, then nobody asks for an hour
    await get(a, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    await get(b, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    t += 3_600_000;
    const rowsA = await checkedKlines(a, 'BTCUSDT', 1, 3);
    await checkedKlines(a, 'ETHUSDT', 2, 3);
    expect(a.metrics.fastForwards).toBe(1);
    // only the tail ran at trade level: 600 steps, not 36,000
    expect(a.metrics.steps).toBe(600);
    expect(a.time).toBe(3_600_000 + T0);
    // the hour is there, minute by minute, with trades in it
    const hour = rowsA.filter((r) => r[0] >= T0 && r[0] < T0 + 3_600_000);
    expect(hour.length).toBe(60);
    expect(hour.filter((r) => r[8] > 0).length).toBeGreaterThan(55);
    // prices move (volatility), within reason for an hour
    const closes = hour.map((r) => Number(r[4]));
    expect(new Set(closes).size).toBeGreaterThan(30);
    expect(Math.max(...closes) / Math.min(...closes)).toBeLessThan(1.2);
    // the same seed and the same request times give the same market
    expect(await get(b, '/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1500')).toEqual(rowsA);
    const view = async (ex: LocalExchange) => [
      await get(ex, '/fapi/v1/depth?symbol=ETHUSDT&limit=100'),
      await get(ex, '/fapi/v1/aggTrades?symbol=ETHUSDT&limit=200'),
      await get(ex, '/fapi/v1/klines?symbol=ETHUSDT&interval=1h&limit=10'),
      await get(ex, '/fapi/v1/ticker/24hr?symbol=ETHUSDT').then((x) => ({ ...(x as object), closeTime: 0 })),
    ];
    expect(await view(b)).toEqual(await view(a));
  });

  it('fast-forwards a whole day in one request and keeps the series continuous across several idle stretches', async () => {
    let t = T0;
    const ex = await start(() => t);
    await get(ex, '/fapi/v1/ping');
    t += 86_400_000;
    await get(ex, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    t += 10 * 60_000; // a short stretch: fast-forward again
    await get(ex, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    t += 30_000; // shorter than the threshold: trade level only
    await get(ex, '/fapi/v1/ticker/price?symbol=BTCUSDT');
    expect(ex.metrics.fastForwards).toBe(2);
    expect(ex.metrics.steps).toBe(600 + 600 + 300);
    const rows = await get<Row[]>(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0 - 60_000}&limit=1500`);
    const first = Math.ceil((T0 - 60_000) / 60_000) * 60_000;
    expect(rows.length).toBe((Math.floor(t / 60_000) * 60_000 - first) / 60_000 + 1);
    await checkedKlines(ex, 'BTCUSDT', 1, 3);
    const day = await get<Row[]>(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1d&limit=3`);
    // trade ids run on: every bar's count is covered by the ids of the 1m bars
    const ticker = await get<{ count: number; firstId: number; lastId: number }>(ex, '/fapi/v1/ticker/24hr?symbol=BTCUSDT');
    expect(ticker.count).toBeGreaterThan(0);
    expect(ticker.lastId - ticker.firstId + 1).toBeGreaterThanOrEqual(ticker.count);
    expect(day.length).toBeGreaterThan(0);
  });

  it('resumes trade-level generation: depth diffs chain on and aggTrades stream after the catch-up', async () => {
    let t = T0;
    const ex = await start(() => t);
    await get(ex, '/fapi/v1/ping');
    t += 2 * 3_600_000;
    const snapshot = await get<{ lastUpdateId: number; bids: [string, string][]; asks: [string, string][] }>(ex, '/fapi/v1/depth?symbol=BTCUSDT&limit=1000');
    expect(ex.metrics.fastForwards).toBe(1);
    // the book was rebuilt around the last price: a full, uncrossed book with a one-tick spread
    const last = Number((await get<{ price: string }>(ex, '/fapi/v1/ticker/price?symbol=BTCUSDT')).price);
    expect(snapshot.bids.length).toBeGreaterThan(200);
    expect(snapshot.asks.length).toBeGreaterThan(200);
    expect(Number(snapshot.bids[0][0])).toBeLessThan(Number(snapshot.asks[0][0]));
    expect(Math.abs(Number(snapshot.bids[0][0]) - last) / last).toBeLessThan(0.002);
    const ws = new WebSocket(`${ex.wsUrl}/public/stream?streams=btcusdt@depth@100ms`);
    const wsMarket = new WebSocket(`${ex.wsUrl}/market/stream?streams=btcusdt@aggTrade`);
    const depth: { U: number; u: number; pu: number }[] = [];
    const trades: { a: number; p: string; T: number }[] = [];
    ws.on('message', (d) => depth.push((JSON.parse(d.toString()) as { data: { U: number; u: number; pu: number } }).data));
    wsMarket.on('message', (d) => trades.push((JSON.parse(d.toString()) as { data: { a: number; p: string; T: number } }).data));
    await Promise.all([ws, wsMarket].map((s) => new Promise((r) => s.once('open', r))));
    // the market clock moves on (100 ms a check) while the streams listen
    await until(() => ((t += 100), depth.length >= 5 && trades.length >= 20), 'depth and aggTrade frames');
    ws.close();
    wsMarket.close();
    // each depth event follows the previous one; the stream continues from the snapshot
    for (let i = 1; i < depth.length; i++) expect(depth[i].pu).toBe(depth[i - 1].u);
    expect(depth[0].u).toBeGreaterThan(snapshot.lastUpdateId);
    for (let i = 1; i < trades.length; i++) expect(trades[i].a).toBe(trades[i - 1].a + 1);
    for (const tr of trades) {
      expect(tr.T).toBeGreaterThan(T0 + 2 * 3_600_000);
      expect(Math.abs(Number(tr.p) - last) / last).toBeLessThan(0.01);
    }
  });

  it('fills resting orders the price reached while nobody watched', async () => {
    let t = T0;
    const clock = () => t;
    const idle = 6 * 3_600_000;
    // a twin with the same seed and request times shows the path: pick a price only the
    // fast-forwarded part reaches (not the trade-level tail, the last two minutes)
    const twin = await start(clock, { symbols: ['BTCUSDT'] });
    const ex = await start(clock, { symbols: ['BTCUSDT'] });
    await get(twin, '/fapi/v1/ping');
    await get(ex, '/fapi/v1/ping');
    t += idle;
    const path = await get<Row[]>(twin, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1500`);
    const ff = path.slice(0, -3);
    const tail = path.slice(-3);
    const ffHigh = Math.max(...ff.map((r) => Number(r[2])));
    const ffLow = Math.min(...ff.map((r) => Number(r[3])));
    const sell = ffHigh > Math.max(...tail.map((r) => Number(r[2])));
    expect(sell || ffLow < Math.min(...tail.map((r) => Number(r[3])))).toBe(true);
    const m = ex.markets.get('BTCUSDT')!;
    const account = ex.engine.accounts.get(DEMO_API_KEY)!;
    const price = sell ? ffHigh.toFixed(1) : ffLow.toFixed(1);
    const reached = ex.engine.newOrder(account, { symbol: 'BTCUSDT', side: sell ? 'SELL' : 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price }) as { orderId: number; status: string };
    expect(reached.status).toBe('NEW'); // it rests: away from the market when placed
    const far = ex.engine.newOrder(account, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.010', price: m.price(Math.round(m.bestBid * 0.5)) }) as { orderId: number };
    const rows = await get<Row[]>(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1500`);
    expect(ex.metrics.fastForwards).toBe(1);
    expect(account.orders.get(reached.orderId)!.status).toBe('FILLED');
    expect(account.orders.get(far.orderId)!.status).toBe('NEW');
    expect(account.positions.get('BTCUSDT')!.amt.toString()).toBe(sell ? '-0.01' : '0.01');
    // the fill is a trade of the bar that reached the price; the rest of the path is the twin's
    const bar = rows.findIndex((r) => Number(r[sell ? 2 : 3]) === Number(price));
    expect(bar).toBeGreaterThanOrEqual(0);
    expect(rows.slice(0, bar).map((r) => r.slice(0, 5))).toEqual(path.slice(0, bar).map((r) => r.slice(0, 5)));
    // the far order still rests in the rebuilt book
    expect(m.userBids.size + m.userAsks.size).toBe(1);
  });

  it('liquidates a position the unwatched path takes below its liquidation price, near that price', async () => {
    let t = T0;
    const ex = await start(() => t, { symbols: ['BTCUSDT'] });
    await get(ex, '/fapi/v1/ping');
    const account = ex.engine.accounts.get(DEMO_API_KEY)!;
    ex.engine.setLeverage(account, 'BTCUSDT', '100');
    ex.engine.setMarginType(account, 'BTCUSDT', 'ISOLATED');
    ex.engine.newOrder(account, { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.100' });
    const liquidation = Number((ex.engine.positionRiskRow(account, 'BTCUSDT', 3) as { liquidationPrice: string }).liquidationPrice);
    t += 6 * 3_600_000;
    const rows = await get<Row[]>(ex, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1500`);
    expect(ex.metrics.fastForwards).toBe(1);
    expect(Math.min(...rows.map((r) => Number(r[3])))).toBeLessThan(liquidation);
    expect(account.positions.get('BTCUSDT')!.amt.isZero()).toBe(true);
    const closing = account.trades.at(-1)!;
    expect(closing.side).toBe('SELL');
    // the book was rebuilt around the price before the liquidation traded against it
    expect(Math.abs(Number(closing.price) - liquidation) / liquidation).toBeLessThan(0.002);
  });

  it('keeps the 1m history bounded over months: the generated days plus 30 live days, oldest dropped, no gap', () => {
    const m = new SymbolMarket(SIM_SYMBOLS[0], 9, T0, 1440);
    expect(m.history.length).toBe(1440);
    const firstBefore = m.history.t[0];
    // 45 days nobody watched, in stretches of 12 hours
    for (let i = 1; i <= 90; i++) m.fastForward(T0 + i * 43_200_000, () => m.now >= m.nextFunding && m.takeFunding());
    const h = m.history;
    expect(h.length).toBeLessThanOrEqual(1440 + 30 * 1440);
    expect(h.length).toBeGreaterThan(30 * 1440);
    expect(h.t[0]).toBeGreaterThan(firstBefore);
    for (let i = 1; i < h.length; i++) if (h.t[i] - h.t[i - 1] !== 60_000) throw new Error(`gap at ${h.t[i]}`);
    // the last closed minute is the one before the open kline
    expect(h.t[h.length - 1] + 60_000).toBe(m.current.t);
    expect(m.klines('1d', undefined, undefined, 3).length).toBe(3);
  });
});
