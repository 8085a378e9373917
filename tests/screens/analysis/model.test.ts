import { describe, expect, it } from 'vitest';
import type { AnalysisView } from '../../../src/core/analysis/service.js';
import type { StoredCac } from '../../../src/core/analysis/repository.js';
import { getKline, rangeOf, sliceKlines } from '../../../src/core/market/klines.js';
import { AnalysisLists, AnalysisSeries, applyForm, cacForm, cacToFormText, formValue, parsePip, typeInForm } from '../../../src/screens/analysis/model.js';
import { makeKlines } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const cac = (id: number, name: string): StoredCac => ({
  id, createdAt: 0, updatedAt: 0,
  cac: { name, indicators: [{ type: 'EMA', params: { n: 20 } }, { type: 'BOL', params: { n: 20, k: 2 } }], pip: { mode: 'classical', params: { swing: 5 } } },
} as unknown as StoredCac);
const view = (id: number): AnalysisView => ({ id, cacName: 'C', symbol: 'BTCUSDT', interval: '1m', liveState: 'running' } as AnalysisView);

describe('AnalysisSeries: the chart appends analysed klines instead of reloading', () => {
  const columns = ['EMA.value', 'BOL.upper'];
  const loaded = (n: number) => {
    const all = makeKlines(T0, n + 50, '1m', 3);
    const k = sliceKlines(all, 0, n);
    const rows = { columns, openTime: k.openTime.slice(0, n), values: [new Float64Array(n).map((_, i) => i), new Float64Array(n).map((_, i) => 2 * i)] };
    const s = new AnalysisSeries();
    s.load(7, rows, k);
    return { s, all };
  };

  it('appends the next kline with its row, many times past the initial room', () => {
    const { s, all } = loaded(10);
    for (let i = 10; i < 40; i++) {
      const t = T0 + i * MIN;
      expect(s.append(7, rangeOf(all, s.lastOpenTime! + 1, t), t, columns, new Float64Array([i, 2 * i]))).toBe(true);
    }
    const rows = s.rows();
    expect(rows.openTime.length).toBe(40);
    expect(s.klines.length).toBe(40);
    expect([...rows.values[0]]).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(rows.values[1][39]).toBe(78);
    expect(getKline(s.klines, 39)).toEqual(getKline(all, 39));
    expect(s.lastOpenTime).toBe(T0 + 39 * MIN);
  });

  it('refuses (so the page reloads) after a gap, a replayed kline, other columns or another analysis', () => {
    const { s, all } = loaded(10);
    const row = new Float64Array([1, 2]);
    const next = T0 + 10 * MIN;
    const gapTo = T0 + 12 * MIN; // two klines stored since the newest row: one was missed
    expect(s.append(7, rangeOf(all, s.lastOpenTime! + 1, gapTo), gapTo, columns, row)).toBe(false);
    expect(s.append(7, rangeOf(all, T0 + 9 * MIN, T0 + 9 * MIN), T0 + 9 * MIN, columns, row)).toBe(false); // already held
    expect(s.append(7, rangeOf(all, next, next), next, ['EMA.value', 'X'], row)).toBe(false);
    expect(s.append(8, rangeOf(all, next, next), next, columns, row)).toBe(false);
    expect(s.append(7, rangeOf(all, next, next), next, columns, new Float64Array([1]))).toBe(false);
    expect(s.rows().openTime.length).toBe(10);
    expect(s.append(7, rangeOf(all, next, next), next, columns, row)).toBe(true);
    s.clear();
    expect(s.lastOpenTime).toBeUndefined();
    expect(s.append(7, rangeOf(all, T0 + 11 * MIN, T0 + 11 * MIN), T0 + 11 * MIN, columns, row)).toBe(false);
  });
});

describe('AnalysisLists', () => {
  it('moves the focused cursor within its list and keeps cursors inside new contents', () => {
    const l = new AnalysisLists();
    l.set([cac(1, 'A'), cac(2, 'B'), cac(3, 'C')], [view(1), view(2)]);
    l.move(5);
    expect(l.selectedCac()!.id).toBe(3);
    l.move(-9);
    expect(l.cacCursor).toBe(0);
    l.toggleFocus();
    l.move(1);
    l.move(1);
    expect([l.focus, l.listCursor, l.cacCursor]).toEqual(['analyses', 1, 0]);
    l.set([cac(1, 'A')], []);
    expect([l.cacCursor, l.listCursor]).toEqual([0, 0]);
    expect(l.selectedAnalysis()).toBeUndefined();
    l.move(1);
    expect(l.listCursor).toBe(0);
    expect(l.analysis(undefined)).toBeUndefined();
  });
});

describe('forms', () => {
  it('the CAC form edits fields with arrows, Tab, Backspace, Ctrl-U and typed text; Enter submits, Esc closes', () => {
    const f = cacForm(cac(4, 'MINE'));
    expect(f.fields.map((x) => x.value)).toEqual(['MINE', 'EMA:n=20 BOL:n=20,k=2', 'mode=classical,swing=5']);
    f.error = 'old';
    expect(typeInForm(f, { full: 'x', ch: 'x' })).toBe('changed');
    expect(f.error).toBeUndefined();
    expect(formValue(f, 'name')).toBe('MINEx');
    expect(typeInForm(f, { full: 'backspace' })).toBe('changed');
    expect(typeInForm(f, { full: 'up' })).toBe('changed');
    expect(f.cursor).toBe(2); // wraps to the last field
    expect(typeInForm(f, { full: 'C-u' })).toBe('changed');
    expect(formValue(f, 'pip')).toBe('');
    expect(typeInForm(f, { full: 'tab' })).toBe('changed');
    expect(f.cursor).toBe(0);
    expect(typeInForm(f, { full: 'C-a', ch: '\x01', ctrl: true })).toBe('ignored');
    expect(typeInForm(f, { full: 'return' })).toBe('ignored');
    expect(typeInForm(f, { full: 'enter' })).toBe('submit');
    expect(typeInForm(f, { full: 'escape' })).toBe('close');
    expect(formValue(f, 'name')).toBe('MINE');
    const a = applyForm(cac(4, 'MINE'));
    expect([a.kind, a.cacId, formValue(a, 'symbol'), formValue(a, 'interval')]).toEqual(['apply', 4, 'BTCUSDT', '1m']);
    expect(cacForm().cacId).toBeUndefined();
  });

  it('PIP text: off or blank is none; pairs become parameters; a part without = is kept for the validator to name', () => {
    expect(parsePip('off')).toBeNull();
    expect(parsePip('  ')).toBeNull();
    expect(parsePip('mode=classical, swing = 5')).toEqual({ mode: 'classical', swing: '5' });
    expect(parsePip('mode=classical,oops')).toEqual({ mode: 'classical', oops: '' });
    expect(cacToFormText({ name: 'X', indicators: [], pip: null } as unknown as StoredCac['cac']).pip).toBe('off');
  });
});
