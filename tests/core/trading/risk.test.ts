import { describe, expect, it } from 'vitest';
import { RiskManager, backoffClass } from '../../../src/core/trading/risk.js';
import { ExchangeError } from '../../../src/core/exchange/port.js';

const DAY = 86_400_000;
const t0 = Date.UTC(2026, 10, 27, 10, 0);
const ctx = (over: Partial<{ now: number; markPrice: string; positionAmt: string; equity: string }> = {}) => ({ now: t0, markPrice: '100', positionAmt: '0', equity: '10000', ...over });
const buy = (quantity: string, price?: string) => ({ symbol: 'BTCUSDT', side: 'BUY' as const, quantity, price });
const sell = (quantity: string, price?: string) => ({ symbol: 'BTCUSDT', side: 'SELL' as const, quantity, price });

describe('RiskManager', () => {
  it('passes an ordinary order', () => {
    expect(new RiskManager({ maxDrawdown: 0.2 }).check(buy('1'), ctx())).toEqual({ ok: true });
  });

  it('max drawdown: REDUCING from 80 % of the limit, HALTED at it, until resume()', () => {
    const r = new RiskManager({ maxDrawdown: 0.2 });
    expect(r.updateEquity('10000', t0)).toBe('ACTIVE');
    expect(r.updateEquity('12000', t0 + 1)).toBe('ACTIVE');
    expect(r.updateEquity('10000', t0 + 2)).toBe('REDUCING'); // 16.7 % ≥ 16 %
    const reducing = r.check(buy('1'), ctx({ positionAmt: '2' }));
    expect(reducing).toMatchObject({ ok: false, rule: 'reducing' });
    expect(r.check(sell('1'), ctx({ positionAmt: '2' }))).toEqual({ ok: true }); // reduces
    expect(r.check(sell('3'), ctx({ positionAmt: '2' }))).toMatchObject({ ok: false, rule: 'reducing' }); // flips past zero
    expect(r.updateEquity('9600', t0 + 3)).toBe('HALTED'); // 20 %
    const halted = r.check(sell('1'), ctx({ positionAmt: '2' }));
    expect(halted).toMatchObject({ ok: false, rule: 'halted' });
    expect((halted as { reason: string }).reason).toMatch(/drawdown 20\.00 % reached the limit 20\.00 %/);
    // recovering does not lift it; a person does
    expect(r.updateEquity('11900', t0 + DAY * 3)).toBe('HALTED');
    r.resume();
    expect(r.updateEquity('11900', t0 + DAY * 3 + 1)).toBe('ACTIVE');
  });

  it('daily loss limit: HALTED until the next 00:00 UTC, then ACTIVE with the new day opening at that equity', () => {
    const r = new RiskManager({ dailyLossLimit: 0.05 });
    r.updateEquity('10000', t0);
    expect(r.updateEquity('9590', t0 + 1000)).toBe('REDUCING'); // 4.1 % ≥ 4 %
    expect(r.updateEquity('9500', t0 + 2000)).toBe('HALTED');
    const s = r.status(t0 + 2000);
    expect(s.until).toBe(Date.UTC(2026, 10, 28));
    expect(r.check(buy('1'), ctx({ now: t0 + 3000 }))).toMatchObject({ ok: false, rule: 'halted', retryAt: Date.UTC(2026, 10, 28) });
    expect(r.updateEquity('9600', Date.UTC(2026, 10, 27, 23, 59))).toBe('HALTED');
    expect(r.updateEquity('9500', Date.UTC(2026, 10, 28, 0, 0, 1))).toBe('ACTIVE');
    expect(r.status(Date.UTC(2026, 10, 28, 0, 0, 1)).dayOpenEquity).toBe('9500');
  });

  it('remembers peak, day and halts across a restart (memory / restore)', () => {
    const r = new RiskManager({ dailyLossLimit: 0.05, maxDrawdown: 0.5 });
    r.updateEquity('10000', t0);
    r.updateEquity('9700', t0 + 1000);
    const restarted = new RiskManager({ dailyLossLimit: 0.05, maxDrawdown: 0.5 });
    restarted.restore(JSON.parse(JSON.stringify(r.memory())));
    // the day still opened at 10,000: a further fall to 9,500 halts, as without the restart
    expect(restarted.updateEquity('9500', t0 + 2000)).toBe('HALTED');
    const again = new RiskManager({ dailyLossLimit: 0.05 });
    again.restore(restarted.memory());
    expect(again.status(t0 + 3000)).toMatchObject({ state: 'HALTED', until: Date.UTC(2026, 10, 28) });
    // without the memory, the day would reopen at 9,700 and 9,500 would pass
    const forgetful = new RiskManager({ dailyLossLimit: 0.05 });
    forgetful.updateEquity('9700', t0 + 1000);
    expect(forgetful.updateEquity('9500', t0 + 2000)).toBe('ACTIVE');
  });

  it('max position notional and max leverage apply to orders that increase, not to those that reduce', () => {
    const r = new RiskManager({ maxPositionNotional: '1000', maxLeverage: 3 });
    expect(r.check(buy('10'), ctx())).toEqual({ ok: true }); // 1000
    expect(r.check(buy('10.01'), ctx())).toMatchObject({ ok: false, rule: 'max-notional' });
    expect(r.check(sell('5'), ctx({ positionAmt: '50' }))).toEqual({ ok: true }); // reduces an oversized one
    const lev = new RiskManager({ maxLeverage: 2 });
    expect(lev.check(buy('200'), ctx({ equity: '10000' }))).toEqual({ ok: true }); // 2×
    const refused = lev.check(buy('201'), ctx({ equity: '10000' }));
    expect(refused).toMatchObject({ ok: false, rule: 'max-leverage' });
    expect((refused as { reason: string }).reason).toMatch(/2\.01×/);
  });

  it('price band against the mark price (default 5 %)', () => {
    const r = new RiskManager({});
    expect(r.check(buy('1', '105'), ctx())).toEqual({ ok: true });
    expect(r.check(buy('1', '105.1'), ctx())).toMatchObject({ ok: false, rule: 'price-band' });
    expect(new RiskManager({ priceBand: 0.01 }).check(sell('1', '98.9'), ctx())).toMatchObject({ ok: false, rule: 'price-band' });
  });

  it('orders-per-minute cap over a sliding minute', () => {
    const r = new RiskManager({ maxOrdersPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      expect(r.check(buy('1'), ctx({ now: t0 + i * 1000 }))).toEqual({ ok: true });
      r.recordSent(t0 + i * 1000);
    }
    expect(r.check(buy('1'), ctx({ now: t0 + 59_000 }))).toMatchObject({ ok: false, rule: 'orders-per-minute', retryAt: t0 + 60_000 });
    expect(r.check(buy('1'), ctx({ now: t0 + 60_000 }))).toEqual({ ok: true });
  });

  it('back-off: per symbol and error class, doubling, reset by a success; 429 stops every symbol for Retry-After', () => {
    const r = new RiskManager({});
    const margin = new ExchangeError(-2019, 'Margin is insufficient.', 'rejected', 400);
    expect(r.recordError('BTCUSDT', margin, t0)).toEqual({ cls: 'margin', until: t0 + 30_000 });
    expect(r.check(buy('1'), ctx({ now: t0 + 29_999 }))).toMatchObject({ ok: false, rule: 'backoff' });
    expect(r.check({ ...buy('1'), symbol: 'ETHUSDT' }, ctx({ now: t0 + 1 }))).toEqual({ ok: true });
    expect(r.check(buy('1'), ctx({ now: t0 + 30_000 }))).toEqual({ ok: true });
    expect(r.recordError('BTCUSDT', margin, t0 + 30_000)).toEqual({ cls: 'margin', until: t0 + 30_000 + 60_000 });
    r.recordSuccess('BTCUSDT');
    expect(r.recordError('BTCUSDT', margin, t0 + 100_000)).toEqual({ cls: 'margin', until: t0 + 130_000 });
    const filter = new ExchangeError(-4164, "Order's notional must be no smaller than 100", 'rejected', 400);
    expect(r.recordError('SOLUSDT', filter, t0)?.cls).toBe('filter');
    const limited = new ExchangeError(-1003, 'Too many requests', 'rate-limited', 429, undefined, 7000);
    expect(r.recordError('XRPUSDT', limited, t0)).toEqual({ cls: 'rate', until: t0 + 7000 });
    expect(r.check({ ...buy('1'), symbol: 'ADAUSDT' }, ctx({ now: t0 + 6999 }))).toMatchObject({ ok: false, rule: 'backoff' });
    expect(r.backoffsInForce(t0 + 1).map((b) => b.key).sort()).toEqual(['*:rate', 'BTCUSDT:margin', 'SOLUSDT:filter']);
  });

  it('classifies exchange errors', () => {
    expect(backoffClass({ code: -1111, kind: 'rejected' })).toBe('filter');
    expect(backoffClass({ code: -4003, kind: 'rejected' })).toBe('filter');
    expect(backoffClass({ code: -2019, kind: 'rejected' })).toBe('margin');
    expect(backoffClass({ code: -1003, kind: 'banned' })).toBe('rate');
    expect(backoffClass({ code: -1007, kind: 'unknown-status' })).toBe('server');
    expect(backoffClass({ code: -2013, kind: 'rejected' })).toBeUndefined();
    expect(backoffClass({ code: -1121, kind: 'rejected' })).toBe('other');
  });
});
