import { afterEach, describe, expect, it } from 'vitest';
import type { AccountSettings } from '../../../src/core/accounts/types.js';
import { runBacktest } from '../../../src/core/backtest/engine.js';
import { defaultMarketInputs } from '../../../src/core/backtest/inputs.js';
import { SimulatedClock } from '../../../src/core/clock.js';
import { LeaseHeldError } from '../../../src/core/leases.js';
import { pino } from 'pino';
import { Trader, traderLeaseName, type TraderDeps, type TraderEvent } from '../../../src/core/trading/trader.js';
import { migrate, openDatabase, type Database } from '../../../src/db/database.js';
import { KlineStore } from '../../../src/db/klineStore.js';
import { LeaseStore } from '../../../src/db/leaseStore.js';
import { MIN, T0, builtins, config, engineInput, randomWalk, toStoreKlines } from '../backtest/helpers.js';
import type { BacktestKlines } from '../../../src/core/backtest/engine.js';
import { MemoryAccounts } from './memoryAccounts.js';

/** One row of klines as a store insert. */
function row(k: BacktestKlines, j: number) {
  const all = toStoreKlines(k);
  const cut = (a: Float64Array) => a.slice(j, j + 1);
  return { length: 1, openTime: cut(all.openTime), open: cut(all.open), high: cut(all.high), low: cut(all.low), close: cut(all.close), volume: cut(all.volume), quoteVolume: cut(all.quoteVolume), trades: cut(all.trades), takerBuyVolume: cut(all.takerBuyVolume), takerBuyQuoteVolume: cut(all.takerBuyQuoteVolume) };
}

describe('Trader (virtual account on real SQLite klines and leases)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(start: number) {
    const db: Database = openDatabase(':memory:');
    cleanups.push(() => db.close());
    await migrate(db);
    const clock = new SimulatedClock(start);
    const store = new KlineStore(db);
    const leases = new LeaseStore(db, () => clock.now());
    const accounts = new MemoryAccounts();
    const listeners = new Set<(symbol: string) => void>();
    const watched: string[] = [];
    const events: TraderEvent[] = [];
    const deps: TraderDeps = {
      accounts, leases, clock, log: pino({ level: 'silent' }), label: 'test trader', strategies: builtins, inputs: defaultMarketInputs(),
      market: {
        storedKlines: (symbol, from, to) => store.loadRange(symbol, '1m', from, to),
        watch: (symbol) => {
          watched.push(symbol);
          return () => watched.splice(watched.indexOf(symbol), 1);
        },
        onStored: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
      },
      onEvent: (e) => events.push(e),
    };
    /** Stores kline j of `k` as the market data service would, and tells the listeners. */
    const publish = (symbol: string, k: BacktestKlines, j: number) => {
      store.insert(symbol, '1m', row(k, j));
      for (const l of listeners) l(symbol);
    };
    return { clock, store, leases, accounts, deps, publish, watched, events, listeners };
  }

  const settingsOf = (cfg: ReturnType<typeof config>, automation: AccountSettings['automation'] = 'on'): AccountSettings => ({ account: cfg.account, positions: cfg.positions, risk: {}, automation });

  it('replaying klines through a virtual account gives the backtest\'s fills (same tradeListHash), trade log, balance history and snapshot', async () => {
    const cfg = config({
      account: { initialBalance: '10000', slippageBps: 1 },
      positions: [
        { symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 3, slow: 8 } }, control: { assumedRatio: 0.5 } },
        { symbol: 'ETHUSDT', interval: '5m', strategy: { name: 'sma-cross', params: { fast: 2, slow: 5 } }, control: { assumedRatio: 0.5 } },
      ],
    });
    const n = 1500;
    const ks = [randomWalk(n, 3, 20_000), randomWalk(n, 4, 1_500)];
    const backtest = runBacktest(engineInput(cfg, ks), { strategies: builtins });
    expect(backtest.fills.length).toBeGreaterThan(20);

    // the trader starts before the first kline: every kline is live
    const t = await setup(T0 - 10 * MIN);
    const acc = t.accounts.create('paper', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'paper');
    cleanups.push(() => trader.stop());
    expect(t.watched.sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (let j = 0; j < n; j++) {
      t.publish('BTCUSDT', ks[0], j);
      t.publish('ETHUSDT', ks[1], j);
      if (j % 100 === 0) t.clock.advanceBy(MIN); // snapshots at most once a second: let the timer write
    }
    expect(trader.minutes).toBe(n);
    expect(trader.engine.tradeListHash()).toBe(backtest.summary.tradeListHash);
    const log = t.accounts.trades(acc.id);
    expect(log.map((f) => [f.time, f.symbol, f.side, f.quantity, f.price, f.fee])).toEqual(backtest.fills.map((f) => [f.time, f.symbol, f.side, f.qty, f.price, f.fee]));
    const balance = t.accounts.balanceHistory(acc.id);
    expect(balance).toHaveLength(n);
    expect(balance[n - 1].time).toBe(T0 + n * MIN);
    trader.stop();
    const snap = t.accounts.snapshot(acc.id)!;
    expect(snap.marginBalance).toBe(backtest.summary.finalBalance);
    expect(snap.trader).toBeUndefined();
    expect(snap.automation).toBe('on');
    expect(t.leases.holder(traderLeaseName(acc.id))).toBeUndefined();
    expect(t.events.some((e) => e.kind === 'fill')).toBe(true);
  });

  it('refuses a second trader on the same account, naming the first; after stop the account can be traded again', async () => {
    const cfg = config({ account: { initialBalance: '1000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'buy-and-hold' } }] });
    const t = await setup(T0);
    t.accounts.create('main', 'virtual', settingsOf(cfg));
    const first = Trader.start(t.deps, 'main');
    let refused: unknown;
    try {
      Trader.start({ ...t.deps, label: 'second trader' }, 'main');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as Error).message).toContain('test trader');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);
    first.stop();
    const again = Trader.start({ ...t.deps, label: 'second trader' }, 'main');
    expect(t.leases.holder(traderLeaseName(again.account.id))?.label).toBe('second trader');
    again.stop();
    expect(() => Trader.start(t.deps, 'nobody')).toThrow(/no account nobody/);
  });

  it('warms up on stored klines without orders, then moves to the strategy\'s decision at the first live open', async () => {
    const cfg = config({ account: { initialBalance: '1000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'buy-and-hold' } }] });
    const k = randomWalk(300, 9);
    const t = await setup(T0 + 200 * MIN);
    t.store.insert('BTCUSDT', '1m', toStoreKlines({ ...k, length: 200, openTime: k.openTime.slice(0, 200), open: k.open.slice(0, 200), high: k.high.slice(0, 200), low: k.low.slice(0, 200), close: k.close.slice(0, 200), volume: k.volume.slice(0, 200), takerBuyVolume: k.takerBuyVolume.slice(0, 200) }));
    const acc = t.accounts.create('warm', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'warm');
    cleanups.push(() => trader.stop());
    // klines 0..198 warm the strategy up; kline 199 closes at the start: the first live minute
    expect(trader.runs[0].length).toBe(200);
    const log = t.accounts.trades(acc.id);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ side: 'BUY', time: T0 + 199 * MIN, price: String(k.open[199]) });
    t.publish('BTCUSDT', k, 200);
    expect(t.accounts.trades(acc.id)).toHaveLength(1);
    const chain = trader.chains()[0];
    expect(chain.kline?.openTime).toBe(T0 + 200 * MIN);
    expect(chain.fills).toHaveLength(1);
    expect(chain.orders[0]).toMatchObject({ side: 'BUY', type: 'MARKET', status: 'sent' });
  });

  it('sends nothing while automation is off or read-only, says why, and the kill switch closes positions and is stored', async () => {
    const cfg = config({ account: { initialBalance: '1000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'sma-cross', params: { fast: 2, slow: 4 } } }] });
    const k = randomWalk(400, 5);
    for (const mode of ['off', 'readonly'] as const) {
      const t = await setup(T0 - MIN);
      const acc = t.accounts.create('quiet', 'virtual', settingsOf(cfg, mode === 'off' ? 'off' : 'on'));
      const trader = Trader.start({ ...t.deps, readonly: mode === 'readonly' }, 'quiet');
      for (let j = 0; j < 200; j++) t.publish('BTCUSDT', k, j);
      expect(t.accounts.trades(acc.id)).toHaveLength(0);
      expect(trader.ordersSent).toBe(0);
      const whys = trader.chains().map((c) => c.why);
      expect(whys[0]).toMatch(mode === 'off' ? /automation is off|unchanged|already held/ : /read-only|unchanged|already held/);
      trader.stop();
    }
    const t = await setup(T0 - MIN);
    const acc = t.accounts.create('live', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'live');
    cleanups.push(() => trader.stop());
    let j = 0;
    for (; j < 400 && trader.engine.account.amtF[0] === 0; j++) t.publish('BTCUSDT', k, j);
    expect(trader.engine.account.amtF[0]).not.toBe(0);
    const before = t.accounts.trades(acc.id).length;
    const result = trader.kill({ closePositions: true });
    expect(result.closing).toBe(1);
    t.publish('BTCUSDT', k, j++);
    t.publish('BTCUSDT', k, j++);
    const log = t.accounts.trades(acc.id);
    expect(log).toHaveLength(before + 1);
    expect(log[log.length - 1].reason).toBe('kill');
    expect(trader.engine.account.amtF[0]).toBe(0);
    for (let e = j + 100; j < e; j++) t.publish('BTCUSDT', k, j);
    expect(t.accounts.trades(acc.id)).toHaveLength(before + 1);
    expect(t.accounts.get(acc.id)!.settings.automation).toBe('killed');
    expect(t.accounts.get(acc.id)!.settings.kill).toMatchObject({ closePositions: true });
    expect(trader.chains()[0].why).toMatch(/kill switch|unchanged|already held/);
  });

  it('acts on a kill requested by another process through the stored settings', async () => {
    const cfg = config({ account: { initialBalance: '1000' }, positions: [{ symbol: 'BTCUSDT', strategy: { name: 'buy-and-hold' } }] });
    const k = randomWalk(50, 2);
    const t = await setup(T0 - MIN);
    const acc = t.accounts.create('remote', 'virtual', settingsOf(cfg));
    const trader = Trader.start(t.deps, 'remote');
    cleanups.push(() => trader.stop());
    for (let j = 0; j < 5; j++) t.publish('BTCUSDT', k, j);
    expect(trader.engine.account.amtF[0]).toBeGreaterThan(0);
    const s = t.accounts.get(acc.id)!.settings;
    t.accounts.updateSettings(acc.id, { ...s, automation: 'killed', kill: { at: t.clock.now() + 1, closePositions: true } });
    t.clock.advanceBy(1_500); // the heartbeat reads the settings
    expect(t.accounts.get(acc.id)!.settings.kill?.handledAt).toBeDefined();
    for (let j = 5; j < 8; j++) t.publish('BTCUSDT', k, j);
    expect(trader.engine.account.amtF[0]).toBe(0);
    expect(t.events.some((e) => e.kind === 'kill')).toBe(true);
  });
});
