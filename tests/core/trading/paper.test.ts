import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AccountSettings, RiskLimits } from '../../../src/core/accounts/types.js';
import { runBacktest, type BacktestKlines, type StrategyResolver } from '../../../src/core/backtest/engine.js';
import { defaultMarketInputs, type MarketInputs } from '../../../src/core/backtest/inputs.js';
import { SimulatedClock } from '../../../src/core/clock.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { defineStrategy, UNCHANGED, type StrategySpec } from '../../../src/core/strategy/types.js';
import { RISK_REFUSAL_CODE, Trader, type ClosedKline, type TraderDeps, type TraderEvent } from '../../../src/core/trading/trader.js';
import { AccountStore } from '../../../src/db/accountStore.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { FundingStore } from '../../../src/db/fundingStore.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { LeaseStore } from '../../../src/db/leaseStore.js';
import { MIN, T0, builtins, config, engineInput, klinesFrom, randomWalk, resolverWith, toStoreKlines } from '../backtest/helpers.js';

/**
 * Virtual (paper) accounts on the real SQLite stores: a restart continues the account, the risk
 * manager halts it, and stored funding rates are paid as in a backtest.
 */

function row(k: BacktestKlines, j: number) {
  const all = toStoreKlines(k);
  const cut = (a: Float64Array) => a.slice(j, j + 1);
  return { length: 1, openTime: cut(all.openTime), open: cut(all.open), high: cut(all.high), low: cut(all.low), close: cut(all.close), volume: cut(all.volume), quoteVolume: cut(all.quoteVolume), trades: cut(all.trades), takerBuyVolume: cut(all.takerBuyVolume), takerBuyQuoteVolume: cut(all.takerBuyQuoteVolume) };
}

/** A strategy that takes target plan[i] at its kline i (unchanged elsewhere). */
function planned(plan: Record<number, number>): StrategyResolver {
  const spec = defineStrategy({ description: 'planned targets', params: {}, create: () => ({ onKline: (i) => plan[i] ?? UNCHANGED }) }) as StrategySpec;
  return resolverWith({ plan: spec });
}

describe('virtual accounts: restart, risk, funding (real SQLite)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  async function setup(start: number, strategies: StrategyResolver = builtins) {
    const db: Database = openDatabase(':memory:');
    cleanups.push(() => db.close());
    await migrate(db);
    const clock = new SimulatedClock(start);
    const store = new KlineStore(db);
    const funding = new FundingStore(db);
    const leases = new LeaseStore(db, () => clock.now());
    const accounts = new AccountStore(db, () => clock.now());
    const listeners = new Set<(symbol: string, kline?: ClosedKline) => void>();
    const fundingListeners = new Map<string, (time: number, rate: string) => void>();
    const events: TraderEvent[] = [];
    const inputs: MarketInputs = {
      ...defaultMarketInputs(),
      funding: (symbol, from, to) => {
        const f = funding.loadRange(symbol, from, to);
        return { times: Array.from(f.times), rates: f.rates };
      },
    };
    const deps: TraderDeps = {
      accounts, leases, clock, log: pino({ level: 'silent' }), label: 'paper test', strategies, inputs,
      market: {
        storedKlines: (symbol, from, to) => store.loadRange(symbol, '1m', from, to),
        watch: () => () => undefined,
        onStored: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        watchFunding: (symbol, l) => {
          fundingListeners.set(symbol, l);
          return () => fundingListeners.delete(symbol);
        },
      },
      onEvent: (e) => events.push(e),
    };
    const publish = (symbol: string, k: BacktestKlines, j: number) => {
      store.insert(symbol, '1m', row(k, j));
      const kline: ClosedKline = { openTime: k.openTime[j], open: k.open[j], high: k.high[j], low: k.low[j], close: k.close[j], volume: k.volume[j], takerBuyVolume: k.takerBuyVolume[j] };
      for (const l of listeners) l(symbol, j % 5 === 2 ? undefined : kline);
    };
    /** The mark price stream announces `rate` for the funding at `time`. */
    const announce = (symbol: string, time: number, rate: string) => fundingListeners.get(symbol)?.(time, rate);
    return { clock, store, funding, leases, accounts, deps, publish, events, announce };
  }

  const settingsOf = (cfg: ReturnType<typeof config>, risk: RiskLimits = {}): AccountSettings => ({ account: cfg.account, positions: cfg.positions, risk, automation: 'on' });

  it('a restarted virtual account continues its wallet, positions and balance history: no reset, no re-entry, the backtest\'s fills over the whole series', async () => {
    const cfg = config({
      account: { initialBalance: '10000', slippageBps: 1, marginType: 'ISOLATED' },
      positions: [
        { symbol: 'BTCUSDT', leverage: 3, strategy: { name: 'sma-cross', params: { fast: 3, slow: 8 } }, control: { assumedRatio: 0.4 } },
        { symbol: 'ETHUSDT', interval: '5m', leverage: 2, strategy: { name: 'buy-and-hold' }, control: { assumedRatio: 0.4 } },
      ],
    });
    const n = 1000;
    const half = 517;
    const ks = [randomWalk(n, 3, 20_000), randomWalk(n, 4, 1_500)];
    const backtest = runBacktest(engineInput(cfg, ks), { strategies: builtins });
    expect(backtest.fills.length).toBeGreaterThan(10);
    expect(backtest.summary.rejections).toBe(0);
    expect(backtest.fills.some((f) => f.time > T0 + half * MIN)).toBe(true);

    const t = await setup(T0 - 10 * MIN);
    const acc = t.accounts.create('paper', 'virtual', settingsOf(cfg));
    const first = Trader.start(t.deps, 'paper');
    for (let j = 0; j < half; j++) {
      t.publish('BTCUSDT', ks[0], j);
      t.publish('ETHUSDT', ks[1], j);
    }
    first.stop();
    const stopped = t.accounts.snapshot(acc.id)!;
    expect(stopped.positions.find((p) => p.symbol === 'ETHUSDT')).toMatchObject({ marginType: 'ISOLATED', leverage: 2 });
    expect(stopped.walletBalance).not.toBe('10000');
    const tradesBefore = t.accounts.trades(acc.id).length;

    // restarted 30 s after the last kline closed: the stored klines warm it up, the snapshot restores it
    t.clock.advanceTo(T0 + half * MIN + 30_000);
    const second = Trader.start(t.deps, 'paper');
    cleanups.push(() => second.stop());
    expect(t.events.some((e) => e.kind === 'restored')).toBe(true);
    const view = second.engine.account.view();
    expect(view.wallet.toString()).toBe(stopped.walletBalance);
    expect(view.positions.map((p) => [p.symbol, p.amt.toString(), p.entry.toString(), p.leverage, p.marginType])).toEqual(
      stopped.positions.map((p) => [p.symbol, p.amount, p.entryPrice, p.leverage, p.marginType]),
    );
    // no re-entry at the start: buy-and-hold still holds, nothing was sent
    expect(second.ordersSent).toBe(0);
    expect(t.accounts.trades(acc.id)).toHaveLength(tradesBefore);
    for (let j = half; j < n; j++) {
      t.publish('BTCUSDT', ks[0], j);
      t.publish('ETHUSDT', ks[1], j);
    }
    second.stop();
    const log = t.accounts.trades(acc.id);
    expect(log.map((f) => [f.time, f.symbol, f.side, f.quantity, f.price, f.fee, f.realizedPnl])).toEqual(backtest.fills.map((f) => [f.time, f.symbol, f.side, f.qty, f.price, f.fee, f.realizedPnl]));
    expect(log.filter((f) => f.symbol === 'ETHUSDT')).toHaveLength(1);
    expect(t.accounts.snapshot(acc.id)!.marginBalance).toBe(backtest.summary.finalBalance);
    const balance = t.accounts.balanceHistory(acc.id);
    expect(balance).toHaveLength(n);
    expect(balance.map((b) => b.time)).toEqual(Array.from({ length: n }, (_, j) => T0 + (j + 1) * MIN));
  });

  // prices: 20000 until kline 5, which falls to `low`; flat after. The account goes long 5x at kline 2's open.
  function dropSeries(n: number, low: number, start: number): BacktestKlines {
    const closes = Array.from({ length: n }, (_, j) => (j < 5 ? 20_000 : low));
    const opens = closes.map((_, j) => (j <= 5 ? 20_000 : low));
    return klinesFrom(opens, closes, start);
  }
  const planCfg = () => config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', leverage: 5, strategy: { name: 'plan' } }] });

  it('max drawdown halts a virtual account: orders refused with the reason, HALTED in the snapshot, still halted after a restart until its limits change', async () => {
    const k = dropSeries(40, 18_000, T0);
    const t = await setup(T0 - MIN, planned({ 1: 1, 10: 0, 20: 1, 30: 0 }));
    const acc = t.accounts.create('dd', 'virtual', settingsOf(planCfg(), { maxDrawdown: 0.3 }));
    const trader = Trader.start(t.deps, 'dd');
    for (let j = 0; j < 15; j++) t.publish('BTCUSDT', k, j);
    const log = t.accounts.trades(acc.id);
    expect(log).toHaveLength(1); // the entry; the close decided at kline 10 was refused
    const refusal = t.events.find((e) => e.kind === 'rejected');
    expect(refusal?.text).toContain(String(RISK_REFUSAL_CODE));
    expect(refusal?.text).toMatch(/risk halted: trading halted: drawdown .* reached the limit 30/);
    expect(trader.chains()[0].orders.some((o) => o.status === 'rejected' && o.code === RISK_REFUSAL_CODE && /drawdown/.test(o.message ?? ''))).toBe(true);
    expect(t.events.some((e) => e.kind === 'risk' && /ACTIVE → HALTED/.test(e.text))).toBe(true);
    trader.stop();
    const snap = t.accounts.snapshot(acc.id)!;
    expect(snap.risk).toBe('HALTED');
    expect(snap.riskReason).toMatch(/drawdown/);
    expect(t.accounts.auditLog(acc.id).some((a) => a.action === 'risk')).toBe(true);
    // a restart remembers the halt (the peak is not reset to the lower equity)
    t.clock.advanceTo(T0 + 15 * MIN + 30_000);
    const again = Trader.start(t.deps, 'dd');
    cleanups.push(() => again.stop());
    expect(again.risk.status(t.clock.now()).state).toBe('HALTED');
    for (let j = 15; j < 25; j++) t.publish('BTCUSDT', k, j);
    expect(t.accounts.trades(acc.id)).toHaveLength(1);
    expect(again.snapshot().risk).toBe('HALTED');
    // a person changes the limits (atm account risk): the halt is lifted, the next decision trades
    const stored = t.accounts.get(acc.id)!;
    t.accounts.updateSettings(acc.id, { ...stored.settings, risk: { maxDrawdown: 0.9 } });
    t.clock.advanceBy(1_500);
    expect(t.events.some((e) => e.kind === 'risk' && /limits changed: maxDrawdown=0.9/.test(e.text))).toBe(true);
    for (let j = 25; j < 40; j++) t.publish('BTCUSDT', k, j);
    expect(again.snapshot().risk).toBe('ACTIVE');
    const log2 = t.accounts.trades(acc.id);
    expect(log2.map((f) => [f.side, f.reason])).toEqual([['BUY', 'open'], ['SELL', 'close']]);
  });

  it('the daily loss limit halts a virtual account until 00:00 UTC, then it trades again', async () => {
    const day = T0 + 86_400_000;
    const k = dropSeries(40, 18_000, day - 12 * MIN); // kline 12 opens at midnight
    const t = await setup(day - 13 * MIN, planned({ 1: 1, 8: 0.5, 14: 0 }));
    const acc = t.accounts.create('daily', 'virtual', settingsOf(planCfg(), { dailyLossLimit: 0.2 }));
    const trader = Trader.start(t.deps, 'daily');
    cleanups.push(() => trader.stop());
    for (let j = 0; j < 11; j++) t.publish('BTCUSDT', k, j);
    expect(trader.snapshot().risk).toBe('HALTED');
    expect(trader.snapshot().riskReason).toMatch(/daily limit 20/);
    expect(t.accounts.trades(acc.id)).toHaveLength(1);
    expect(t.events.filter((e) => e.kind === 'rejected').map((e) => e.text).join('\n')).toMatch(/risk halted: .*daily limit/);
    for (let j = 11; j < 20; j++) t.publish('BTCUSDT', k, j);
    // the new day opened at that equity: ACTIVE, and the decision of kline 14 (flat) was sent at kline 15's open
    expect(trader.snapshot().risk).toBe('ACTIVE');
    const log = t.accounts.trades(acc.id);
    expect(log).toHaveLength(2);
    expect(log[1]).toMatchObject({ side: 'SELL', reason: 'close', time: day + 3 * MIN });
  });

  it('REDUCING near the drawdown limit lets a close through and refuses a new entry', async () => {
    const k = dropSeries(40, 18_000, T0);
    const t = await setup(T0 - MIN, planned({ 1: 1, 10: 0, 20: 1 }));
    const acc = t.accounts.create('reduce', 'virtual', settingsOf(planCfg(), { maxDrawdown: 0.6 }));
    const trader = Trader.start(t.deps, 'reduce');
    cleanups.push(() => trader.stop());
    for (let j = 0; j < 30; j++) t.publish('BTCUSDT', k, j);
    const log = t.accounts.trades(acc.id);
    expect(log.map((f) => [f.side, f.reason])).toEqual([['BUY', 'open'], ['SELL', 'close']]);
    expect(trader.snapshot().risk).toBe('REDUCING');
    expect(t.events.filter((e) => e.kind === 'rejected').map((e) => e.text).join('\n')).toMatch(/risk reducing: only reducing orders: drawdown/);
  });

  it('max notional, max leverage and the orders-per-minute cap refuse a virtual account\'s orders with their reason', async () => {
    const cases: { risk: RiskLimits; rule: RegExp; positions?: number }[] = [
      { risk: { maxPositionNotional: '5000' }, rule: /risk max-notional: position notional after the order .* exceeds the limit 5000/ },
      { risk: { maxLeverage: 2 }, rule: /risk max-leverage: leverage after the order .* exceeds the limit 2/ },
      { risk: { maxOrdersPerMinute: 1 }, rule: /risk orders-per-minute: 1 orders in the last minute \(cap 1\)/, positions: 2 },
    ];
    for (const c of cases) {
      const symbols = c.positions === 2 ? ['BTCUSDT', 'ETHUSDT'] : ['BTCUSDT'];
      const cfg = config({ account: { initialBalance: '10000' }, positions: symbols.map((symbol) => ({ symbol, leverage: 5, strategy: { name: 'plan' }, control: { assumedRatio: 1 / symbols.length } })) });
      const k = klinesFrom(Array(10).fill(20_000), Array(10).fill(20_000), T0);
      const t = await setup(T0 - MIN, planned({ 1: 1 }));
      const acc = t.accounts.create('limits', 'virtual', settingsOf(cfg, c.risk));
      const trader = Trader.start(t.deps, 'limits');
      for (let j = 0; j < 5; j++) for (const s of symbols) t.publish(s, k, j);
      const refused = t.events.filter((e) => e.kind === 'rejected');
      expect(refused).toHaveLength(1);
      expect(refused[0].text).toMatch(c.rule);
      expect(t.accounts.trades(acc.id)).toHaveLength(symbols.length - 1);
      trader.stop();
    }
  });

  it('pays stored funding rates like a backtest, including a rate stored while it runs', async () => {
    const k = randomWalk(600, 5, 20_000);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'buy-and-hold' } }] });
    const times = [T0 + 100 * MIN + 30_000, T0 + 400 * MIN];
    const rates = ['0.0001', '-0.0003'];
    const backtest = runBacktest(engineInput(cfg, [k], [{ times, rates }]), { strategies: builtins });
    const without = runBacktest(engineInput(cfg, [k]), { strategies: builtins });
    expect(backtest.summary.finalBalance).not.toBe(without.summary.finalBalance);

    const t = await setup(T0 - MIN);
    t.funding.insert('BTCUSDT', [{ time: times[0], rate: rates[0] }]);
    const acc = t.accounts.create('funded', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'funded');
    cleanups.push(() => trader.stop());
    for (let j = 0; j < 600; j++) {
      if (j === 200) t.funding.insert('BTCUSDT', [{ time: times[1], rate: rates[1] }]); // the live feed stores it
      t.publish('BTCUSDT', k, j);
    }
    trader.stop();
    expect(t.accounts.snapshot(acc.id)!.marginBalance).toBe(backtest.summary.finalBalance);
    expect(t.events.filter((e) => e.kind === 'funding')).toHaveLength(2);
    expect(t.events.filter((e) => e.kind === 'funding').map((e) => e.text)).toEqual([
      expect.stringMatching(/^BTCUSDT funding at .*rate 0\.0001, paid /), expect.stringMatching(/rate -0\.0003, received /),
    ]);
    const wallet = (time: number) => Dec.parse(t.accounts.balanceHistory(acc.id).find((b) => b.time === time)!.walletBalance);
    // the first payment (longs pay a positive rate) is in the wallet after kline 101
    expect(wallet(T0 + 102 * MIN).lt(wallet(T0 + 101 * MIN))).toBe(true);
    expect(wallet(T0 + 401 * MIN).gt(wallet(T0 + 400 * MIN))).toBe(true);
  });

  it('pays the funding the mark price stream announced when no stored rate covers its time; a stored rate wins', async () => {
    const k = randomWalk(600, 5, 20_000);
    const cfg = config({ account: { initialBalance: '10000' }, positions: [{ symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'buy-and-hold' } }] });
    const times = [T0 + 100 * MIN + 30_000, T0 + 400 * MIN];
    const rates = ['0.0002', '0.0001'];
    const backtest = runBacktest(engineInput(cfg, [k], [{ times, rates }]), { strategies: builtins });

    const t = await setup(T0 - MIN);
    const acc = t.accounts.create('streamed', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'streamed');
    cleanups.push(() => trader.stop());
    for (let j = 0; j < 600; j++) {
      // the stream announces estimates before each funding time; the last one before it counts
      if (j === 50) t.announce('BTCUSDT', times[0], '0.0005');
      if (j === 90) t.announce('BTCUSDT', times[0], rates[0]);
      if (j === 300) t.announce('BTCUSDT', times[1], '0.0009');
      // a stored (settled) rate covers the second time: it wins over the announcement
      if (j === 350) t.funding.insert('BTCUSDT', [{ time: times[1], rate: rates[1] }]);
      t.publish('BTCUSDT', k, j);
    }
    trader.stop();
    expect(t.accounts.snapshot(acc.id)!.marginBalance).toBe(backtest.summary.finalBalance);
    expect(t.events.filter((e) => e.kind === 'funding')).toHaveLength(2);
  });
});
