import { describe, expect, it } from 'vitest';
import { AccountListState, activateForm, createForm, FormState, planText, type AccountRow } from '../../../src/screens/accounts/model.js';
import { equityHistory, tradeTotals, tradeWindow } from '../../../src/screens/history/model.js';

const row = (id: number, name: string): AccountRow => ({ id, name, kind: 'virtual', wallet: '1', equity: '1', risk: 'ACTIVE', automation: 'off', positions: 0 });

describe('Accounts page model', () => {
  it('keeps the selection by id when the rows are read again, and clamps it when the row goes', () => {
    const list = new AccountListState();
    list.setRows([row(1, 'a'), row(2, 'b'), row(3, 'c')]);
    list.move(2);
    expect(list.selected()?.name).toBe('c');
    list.setRows([row(3, 'c'), row(1, 'a')]);
    expect(list.selected()?.name).toBe('c');
    list.setRows([row(1, 'a')]);
    expect(list.selected()?.name).toBe('a');
    list.setRows([]);
    expect(list.selected()).toBeUndefined();
    list.move(1);
    expect(list.cursor).toBe(0);
  });

  it('shows the balance field only for virtual accounts and the key fields by credential source', () => {
    const create = createForm();
    expect(create.fields().map((f) => f.key)).toEqual(['name', 'kind', 'balance']);
    create.move(1);
    create.cycle(1);
    expect(create.values().kind).toBe('binance');
    expect(create.fields().map((f) => f.key)).toEqual(['name', 'kind']);
    expect(create.atLast()).toBe(true);
    create.cycle(-2);
    expect(create.values().kind).toBe('testnet');

    const activate = activateForm();
    expect(activate.fields().map((f) => f.key)).toEqual(['source', 'apiKey', 'apiSecret', 'passphrase']);
    activate.cycle(1);
    expect(activate.fields().map((f) => f.key)).toEqual(['source', 'keyFile', 'passphrase']);
  });

  it('types into text fields, never into a choice, masks secrets and forgets them on wipe', () => {
    const form = activateForm();
    form.type('x'); // the source choice: unchanged
    expect(form.values().source).toBe('typed');
    form.move(1);
    form.type('key1');
    form.backspace();
    expect(form.values().apiKey).toBe('key');
    form.move(1);
    form.type('s3cr3t');
    const secret = form.selected()!;
    expect(FormState.shown(secret)).toBe('••••••');
    form.clear();
    expect(form.values().apiSecret).toBe('');
    form.type('again');
    form.wipe();
    expect(form.values().apiSecret).toBe('');
    expect(form.values().apiKey).toBe('key');
  });

  it('says what will trade in one line', () => {
    expect(planText([
      { symbol: 'BTCUSDT', interval: '15m', strategy: 'sma-cross', leverage: 3, assumedRatio: 0.5 },
      { symbol: 'ETHUSDT', interval: '1h', strategy: 'rqpm', leverage: 2, assumedRatio: 0.5 },
    ])).toBe('BTCUSDT 15m x3 sma-cross, ETHUSDT 1h x2 rqpm');
    expect(planText([])).toBe('');
  });
});

describe('Account History page model', () => {
  it('turns the USDT balance history into equity with the drawdown from the running peak', () => {
    const p = (time: number, v: string, asset = 'USDT') => ({ time, asset, walletBalance: v, marginBalance: v });
    const h = equityHistory([p(1, '100'), p(2, '120'), p(2, '5', 'BNB'), p(3, '90'), p(4, '130')]);
    expect(h.time).toEqual([1, 2, 3, 4]);
    expect(h.equity).toEqual([100, 120, 90, 130]);
    expect(h.drawdownPct).toEqual([0, 0, 25, 0]);
  });

  it('opens the trade log on its newest page and keeps a scrolled window inside the log', () => {
    expect(tradeWindow(100, 10, undefined)).toBe(90);
    expect(tradeWindow(5, 10, undefined)).toBe(0);
    expect(tradeWindow(100, 10, 95)).toBe(90);
    expect(tradeWindow(100, 10, 20)).toBe(20);
  });

  it('adds up realised PnL and fees exactly', () => {
    const t = (pnl: string, fee: string) => ({ time: 0, symbol: 'X', side: 'BUY' as const, positionSide: 'BOTH' as const, orderType: 'MARKET', price: '1', quantity: '1', fee, feeAsset: 'USDT', realizedPnl: pnl });
    expect(tradeTotals([t('10.5', '0.1'), t('-3', '0.2')])).toEqual({ count: 2, pnl: '7.5', fees: '0.3' });
    expect(tradeTotals([t('1', '0.1'), t('oops', '0.2')])).toEqual({ count: 2, pnl: '1', fees: '0.1' });
  });
});
