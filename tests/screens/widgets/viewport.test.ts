import { describe, expect, it } from 'vitest';
import { ChartViewport } from '../../../src/screens/widgets/viewport.js';

/** A viewport over `n` candles, `width` columns wide, as the chart sets it up after a render. */
function viewport(n: number, width: number) {
  const state = { n };
  const v = new ChartViewport(() => state.n);
  v.plotWidth = width;
  v.reset();
  return { v, state };
}

describe('ChartViewport: zoom, pan and cursor without a terminal', () => {
  it('shows the newest candles one per column, contiguous, ending at the last', () => {
    const { v } = viewport(1000, 50);
    const cols = v.bounds(50);
    expect(cols).toHaveLength(50);
    expect(cols[49]).toEqual({ a: 999, b: 1000 });
    expect(cols[0]).toEqual({ a: 950, b: 951 });
    expect(v.visibleRange(1000)).toEqual({ from: 950, to: 1000 });
    expect(v.visibleRange(999)).toEqual({ from: 950, to: 999 }); // the forming candle is not closed
    expect(v.cursorColumn(cols)).toBe(49);
  });

  it('zooming out doubles the candles per column up to all on screen; in halves them down to one', () => {
    const { v } = viewport(1000, 50);
    const spans: number[] = [];
    for (let i = 0; i < 8; i++) {
      v.zoom(-1);
      spans.push(v.span);
    }
    expect(spans).toEqual([2, 4, 8, 16, 32, 32, 32, 32]); // 1000 / 50 = 20 → capped at the next power of two
    const cols = v.bounds(50);
    expect(cols[0].a).toBe(0);
    expect(cols[cols.length - 1].b).toBe(1000);
    for (let i = 1; i < cols.length; i++) expect(cols[i].a).toBe(cols[i - 1].b); // no gaps, no overlap
    for (let i = 0; i < 10; i++) v.zoom(1);
    expect(v.span).toBe(1);
    v.zoomToFit();
    expect(v.span).toBe(20);
    expect(v.bounds(50).length).toBe(50);
  });

  it('zoom keeps the cursor candle in view', () => {
    const { v } = viewport(1000, 50);
    v.pan(-100); // view ends at 900
    v.moveCursor(-10);
    const at = v.cursorIndex;
    expect(at).toBe(889);
    v.zoom(-1);
    const cols = v.bounds(50);
    expect(cols[0].a).toBeLessThanOrEqual(at);
    expect(cols[cols.length - 1].b).toBeGreaterThan(at);
    expect(v.cursorIndex).toBe(at);
  });

  it('pans by whole columns, clamped at the oldest and the newest candle; following resumes at the end', () => {
    const { v, state } = viewport(1000, 50);
    v.pan(-30);
    expect(v.follow).toBe(false);
    expect(v.bounds(50)[49].b).toBe(970);
    state.n = 1001; // a new candle does not move a view that looks back
    v.grew();
    expect(v.bounds(50)[49].b).toBe(970);
    v.pan(-5000);
    expect(v.bounds(50)[0].a).toBe(0);
    expect(v.bounds(50)).toHaveLength(50);
    v.pan(5000);
    expect(v.follow).toBe(true);
    state.n = 1002;
    v.grew();
    expect(v.bounds(50)[49].b).toBe(1002);
  });

  it('the cursor moves by columns, pans past the edges and never leaves the candles', () => {
    const { v } = viewport(100, 20);
    v.moveCursor(-3);
    expect(v.cursorIndex).toBe(96);
    v.moveCursor(-30); // past the left edge: the view pans back
    expect(v.bounds(20)[0].a).toBeLessThan(80);
    expect(v.cursorColumn(v.bounds(20))).toBe(0);
    v.home();
    expect(v.cursorIndex).toBe(0);
    v.moveCursor(-5); // at the oldest candle: stays
    expect(v.cursorIndex).toBe(0);
    expect(v.bounds(20)[0].a).toBe(0);
    v.end();
    v.moveCursor(5); // at the newest: stays on the last column
    expect(v.cursorIndex).toBe(-1);
    expect(v.cursorColumn(v.bounds(20))).toBe(19);
  });

  it('fewer candles than columns, and none', () => {
    const { v } = viewport(7, 50);
    expect(v.bounds(50)).toHaveLength(7);
    v.zoom(-1);
    expect(v.span).toBe(1); // already all on screen
    v.pan(-3);
    expect(v.bounds(50)[6].b).toBe(7);
    const empty = viewport(0, 50).v;
    expect(empty.bounds(50)).toEqual([]);
    expect(empty.visibleRange(0)).toBeUndefined();
    empty.moveCursor(1);
    expect(empty.cursorIndex).toBe(-1);
  });
});
