import { describe, expect, it } from 'vitest';
import { config } from '../../core/backtest/helpers.js';
import { configLines, cycleValue, filterTrades, isWin, positionReturns, ResultListState, sortRows, type ResultRow, type RoundTrip } from '../../../src/screens/result/model.js';
import { equityChart } from '../../../src/screens/result/views.js';

const cfg = config({
  account: { initialBalance: '1000' },
  positions: [
    { symbol: 'BTCUSDT', leverage: 2, strategy: { name: 'sma-cross', params: { fast: 5, slow: 20 } } },
    { symbol: 'ETHUSDT', strategy: { name: 'buy-and-hold' } },
  ],
});

const row = (id: number, name: string, finishedAt: number, returnPct: number, sharpe: number, maxDrawdownPct: number): ResultRow => ({
  id, name, finishedAt, returnPct, sharpe, maxDrawdownPct, trades: id, initialBalance: '1000', finalBalance: String(1000 + returnPct * 10),
  buyAndHoldReturnPct: { BTCUSDT: 5, ETHUSDT: -2.5 }, config: cfg,
});
const rows = [row(1, 'beta', 300, 4, 0.5, 12), row(2, 'alpha', 100, -3, -0.2, 4), row(3, 'gamma', 200, 9, 1.5, 20)];
const ids = (r: ResultRow[]) => r.map((x) => x.id);

const trade = (symbol: string, side: 'LONG' | 'SHORT', pnl: string): RoundTrip => ({ symbol, side, entryTime: 0, exitTime: 60_000, entryPrice: '100', exitPrice: '101', pnl, fees: '0.1' });

describe('Result page view model', () => {
  it('sorts each column best first, and reversed', () => {
    expect(ids(sortRows(rows, 'return'))).toEqual([3, 1, 2]);
    expect(ids(sortRows(rows, 'sharpe'))).toEqual([3, 1, 2]);
    expect(ids(sortRows(rows, 'drawdown'))).toEqual([2, 1, 3]);
    expect(ids(sortRows(rows, 'name'))).toEqual([2, 1, 3]);
    expect(ids(sortRows(rows, 'date'))).toEqual([1, 3, 2]);
    expect(ids(sortRows(rows, 'return', true))).toEqual([2, 1, 3]);
  });

  it('keeps the selected simulation across sorts and reloads, and clamps the cursor when rows go', () => {
    const list = new ResultListState();
    list.setRows(rows);
    expect(list.sort).toBe('date');
    list.move(1);
    expect(list.selected()?.id).toBe(3);
    list.cycleSort(); // name
    expect(list.sort).toBe('name');
    expect(list.selected()?.id).toBe(3);
    expect(list.cursor).toBe(2);
    list.reverse();
    expect(list.selected()?.id).toBe(3);
    expect(list.cursor).toBe(0);
    list.setRows(rows.filter((r) => r.id !== 3));
    expect(list.rows).toHaveLength(2);
    expect(list.selected()).toBeDefined();
    list.setRows(rows, 2);
    expect(list.selected()?.id).toBe(2);
    list.move(10);
    expect(list.cursor).toBe(2);
    list.jump('top');
    expect(list.cursor).toBe(0);
    for (let i = 0; i < 5; i++) list.cycleSort();
    expect(list.sort).toBe('name');
  });

  it('filters trades by symbol, side and outcome (exact sign of the PnL text)', () => {
    const trades = [trade('BTCUSDT', 'LONG', '12.5'), trade('BTCUSDT', 'SHORT', '-0.000000001'), trade('ETHUSDT', 'LONG', '0'), trade('ETHUSDT', 'SHORT', '3')];
    expect(isWin(trades[1])).toBe(false);
    expect(isWin(trades[2])).toBe(false);
    expect(filterTrades(trades, {})).toHaveLength(4);
    expect(filterTrades(trades, { symbol: 'BTCUSDT' }).map((t) => t.pnl)).toEqual(['12.5', '-0.000000001']);
    expect(filterTrades(trades, { side: 'SHORT' }).map((t) => t.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(filterTrades(trades, { outcome: 'win' }).map((t) => t.pnl)).toEqual(['12.5', '3']);
    expect(filterTrades(trades, { outcome: 'loss', symbol: 'ETHUSDT' }).map((t) => t.pnl)).toEqual(['0']);
  });

  it('cycles a filter through its values and back to all', () => {
    let v: string | undefined;
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) seen.push((v = cycleValue(['a', 'b'], v)));
    expect(seen).toEqual(['a', 'b', undefined, 'a']);
  });

  it("gives each position's strategy PnL and return beside its buy-and-hold return", () => {
    const r = row(1, 'x', 0, 1, 0, 0);
    const p = positionReturns(r, [trade('BTCUSDT', 'LONG', '12.5'), trade('BTCUSDT', 'SHORT', '-2.25'), trade('ETHUSDT', 'LONG', '0.1')]);
    expect(p).toEqual([
      { symbol: 'BTCUSDT', pnl: '10.25', returnPct: 1.025, buyAndHoldPct: 5 },
      { symbol: 'ETHUSDT', pnl: '0.1', returnPct: 0.01, buyAndHoldPct: -2.5 },
    ]);
    expect(positionReturns(r, undefined)[0]).toEqual({ symbol: 'BTCUSDT', pnl: undefined, returnPct: undefined, buyAndHoldPct: 5 });
    // the summary's per-position result (open positions and funding included) wins over the round trips
    const withSummary = { ...r, positionPnl: { BTCUSDT: '-95.5', ETHUSDT: '0' } };
    expect(positionReturns(withSummary, [trade('BTCUSDT', 'LONG', '12.5')])[0]).toEqual({ symbol: 'BTCUSDT', pnl: '-95.5', returnPct: -9.55, buyAndHoldPct: 5 });
  });

  it('writes the configuration as one line for the account and one per position', () => {
    const lines = configLines(cfg);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('1000 USDT CROSSED');
    expect(lines[1]).toMatch(/^BTCUSDT 1m x2 sma-cross fast=5 slow=20/);
    expect(lines[2]).toMatch(/^ETHUSDT 1m x1 buy-and-hold ratio 1$/);
  });

  it('draws the equity as an area and the drawdown hanging below, one column per slice', () => {
    // rises to 200, falls to 100 (50% drawdown), back to 150
    const equity = [100, 150, 200, 150, 100, 125, 150, 150];
    const peak = equity.map((_, i) => Math.max(...equity.slice(0, i + 1)));
    const drawdownPct = equity.map((v, i) => ((peak[i] - v) / peak[i]) * 100);
    const c = equityChart({ time: equity.map((_, i) => i * 60_000), equity, drawdownPct }, 8, 6);
    expect(c.equity).toHaveLength(4);
    expect(c.drawdown).toHaveLength(2);
    expect([c.min, c.max, c.maxDrawdown]).toEqual([100, 200, 50]);
    for (const line of [...c.equity, ...c.drawdown]) expect([...line]).toHaveLength(8);
    // the peak column is full to the top, the lowest ones have only their bottom eighth
    expect(c.equity.map((l) => l[2])).toEqual(['█', '█', '█', '█']);
    expect(c.equity.map((l) => l[4]).join('')).toBe('   ▁');
    // no drawdown before the peak, the deepest under the trough
    expect(c.drawdown.map((l) => l[1]).join('')).toBe('  ');
    expect(c.drawdown.map((l) => l[4]).join('')).toBe('██');
    // wider than the history: one column per point
    expect(equityChart({ time: [0, 1], equity: [1, 2], drawdownPct: [0, 0] }, 50, 4).equity[0]).toHaveLength(2);
  });
});
