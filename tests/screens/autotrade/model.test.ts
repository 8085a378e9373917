import { describe, expect, it } from 'vitest';
import { createI18n, fixedT } from '../../../src/core/i18n.js';
import type { PositionChain, TradedAccount } from '../../../src/core/trading/index.js';
import { accountCells, chainLines } from '../../../src/screens/autotrade/model.js';

const T = Date.UTC(2026, 10, 27, 3, 0);

const chain: PositionChain = {
  symbol: 'BTCUSDT', interval: '5m', strategy: 'sma-cross',
  kline: { openTime: T, open: 20000, high: 20100, low: 19950, close: 20050.5 },
  values: [{ name: 'fast.value', value: 20010.25 }, { name: 'slow.value', value: null }],
  decided: 1, held: 0, pending: true,
  orders: [{ time: T + 300_000, side: 'BUY', type: 'MARKET', qty: '0.5', reason: 'open', status: 'rejected', code: -2019, message: 'Margin is insufficient.' }],
  fills: [],
  why: 'rejected -2019: Margin is insufficient.',
  updatedAt: T,
};

describe('AutoTrade model', () => {
  for (const lang of ['en', 'ko'] as const) {
    it(`${lang}: a position's chain reads kline → values → target → orders → fills → why, clipped to the width`, () => {
      const t = fixedT(createI18n(lang));
      const lines = chainLines(chain, t, 200);
      expect(lines[0]).toBe('BTCUSDT 5m · sma-cross');
      expect(lines[1]).toContain('11-27 03:00');
      expect(lines[1]).toContain('C 20050.5');
      expect(lines[2]).toContain('fast.value 20010.3');
      expect(lines[2]).toContain('slow.value -');
      expect(lines[3]).toContain('+1.00');
      expect(lines[4]).toContain('BUY MARKET 0.5 (open)');
      expect(lines[4]).toContain('-2019');
      expect(lines[5]).toMatch(/: -$/);
      expect(lines[6]).toContain('Margin is insufficient.');
      for (const l of chainLines(chain, t, 30)) expect(l.length).toBeLessThanOrEqual(30);
      if (lang === 'ko') expect(lines.join('\n')).toContain('주문하지 않은 이유');
    });
  }

  it('an account row names who trades it: this process, another pid with its label, or nobody', () => {
    const t = fixedT(createI18n('en'));
    const base: TradedAccount = { id: 1, name: 'paper', kind: 'virtual', automation: 'on', chains: [] };
    expect(accountCells(base, t)).toEqual(['paper', 'virtual', 'on', '-', '-', '-', '-']);
    const other = accountCells({ ...base, trader: { pid: 4242, host: 'h', label: 'atm trade --account paper', here: false, since: T } }, t);
    expect(other[3]).toBe('pid 4242: atm trade --account paper');
    const here = accountCells({
      ...base, automation: 'killed', trader: { pid: 1, host: 'h', label: 'atm (TUI)', here: true, since: T },
      snapshot: { time: T, walletBalance: '10000', availableBalance: '9000', marginBalance: '10012.5', unrealizedPnl: '12.345', positions: [], openOrders: 0, risk: 'ACTIVE', automation: 'killed' },
    }, t);
    expect(here).toEqual(['paper', 'virtual', 'killed', 'this process', '10012.50', '0', '11-27 03:00']);
  });
});
