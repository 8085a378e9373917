import { INDICATORS, columnsLength, oneRow, setRow, type Bar, type KlineColumns, type Streamer } from './indicators/index.js';
import type { Cac } from './cac.js';
import { PIP_LINES, PipStreamer, componentFor, type PipComponent } from './pip.js';

/** The column names of a CAC's output, `<TYPE>.<line>` (a repeated type gets `#2`, `#3`...). */
export function outputColumns(cac: Cac): { columns: string[]; labels: string[] } {
  const columns: string[] = [];
  const labels: string[] = [];
  const seen = new Map<string, number>();
  for (const ind of cac.indicators) {
    const n = (seen.get(ind.type) ?? 0) + 1;
    seen.set(ind.type, n);
    const label = n === 1 ? ind.type : `${ind.type}#${n}`;
    labels.push(label);
    for (const line of INDICATORS[ind.type].lines) columns.push(`${label}.${line}`);
  }
  if (cac.pip) for (const line of PIP_LINES) columns.push(`PIP.${line}`);
  return { columns, labels };
}

/**
 * Runs a CAC one closed kline at a time: every indicator's kernel over that one kline, then PIP's
 * on their lines. `update` returns one row (NaN = null), shared and overwritten by the next call.
 * `advance` runs the same kernels, with the same state, over ranges of stored klines.
 */
export class AnalysisEngine {
  readonly columns: string[];
  readonly row: Float64Array;
  private readonly streamers: Streamer[];
  private readonly pip: PipStreamer | undefined;
  /** Klines consumed so far. */
  count = 0;
  lastOpenTime = NaN;

  constructor(readonly cac: Cac) {
    this.columns = outputColumns(cac).columns;
    this.row = new Float64Array(this.columns.length);
    this.streamers = [];
    const offsets: number[] = [];
    const components: PipComponent[] = [];
    let woiOffset = -1;
    let offset = 0;
    for (const ind of cac.indicators) {
      const spec = INDICATORS[ind.type];
      this.streamers.push(spec.create(ind.params));
      offsets.push(offset);
      const component = componentFor(ind.type, offset, spec.lines);
      if (component) components.push(component);
      if (ind.type === 'WOI' && woiOffset < 0) woiOffset = offset;
      offset += spec.lines.length;
    }
    this.views = this.columns.map((_, c) => this.row.subarray(c, c + 1));
    this.streamerViews = cac.indicators.map((ind, i) => this.views.slice(offsets[i], offsets[i] + INDICATORS[ind.type].lines.length));
    this.offsets = offsets;
    this.pip = cac.pip ? new PipStreamer(cac.pip, components, woiOffset, offset) : undefined;
  }

  private readonly offsets: number[];
  private block: { cols: Float64Array[]; perStreamer: Float64Array[][] } | undefined;

  /**
   * Consumes klines [from, to) of `k` in batch (block by block, the same kernels and state as
   * `update`, so continuing with `update` afterwards is seamless). After each block `onBlock` gets
   * the block's output columns (row i = kline from + i of that block). `row` ends as the last row.
   */
  advance(k: KlineColumns, from: number, to: number, onBlock?: (cols: Float64Array[], length: number, start: number) => void): void {
    if (!this.block) {
      const cols = this.columns.map(() => new Float64Array(BLOCK));
      this.block = { cols, perStreamer: this.cac.indicators.map((ind, i) => cols.slice(this.offsets[i], this.offsets[i] + INDICATORS[ind.type].lines.length)) };
    }
    const { cols, perStreamer } = this.block;
    for (let a = from; a < to; a += BLOCK) {
      const b = Math.min(to, a + BLOCK);
      const len = b - a;
      const view: KlineColumns = {
        length: len, openTime: k.openTime.subarray(a, b), open: k.open.subarray(a, b), high: k.high.subarray(a, b), low: k.low.subarray(a, b),
        close: k.close.subarray(a, b), volume: k.volume.subarray(a, b), takerBuyVolume: k.takerBuyVolume.subarray(a, b), books: k.books?.slice(a, b),
      };
      for (let i = 0; i < this.streamers.length; i++) this.streamers[i].run(view, 0, len, perStreamer[i]);
      this.pip?.run(view, 0, len, cols);
      onBlock?.(cols, len, a);
      for (let c = 0; c < cols.length; c++) this.row[c] = cols[c][len - 1];
      this.count += len;
      this.lastOpenTime = k.openTime[b - 1];
    }
  }

  private readonly one = oneRow();
  /** One-value views of `row`, one per column: what the streamers write into (r = 0). */
  private readonly views: Float64Array[];
  private readonly streamerViews: Float64Array[][];

  update(bar: Bar): Float64Array {
    const one = this.one;
    setRow(one, bar);
    const streamers = this.streamers;
    for (let i = 0; i < streamers.length; i++) streamers[i].run(one, 0, 1, this.streamerViews[i]);
    this.pip?.run(one, 0, 1, this.views);
    this.count++;
    this.lastOpenTime = bar.openTime;
    return this.row;
  }
}

export interface AnalysisResult {
  columns: string[];
  openTime: Float64Array;
  /** One Float64Array per column, NaN = null. */
  values: Float64Array[];
}

/**
 * Batch run over columns: block by block, each indicator's kernel over the block (the same kernels
 * as streaming, so the values are identical), then PIP's kernel over their columns.
 */
export function analyzeBatch(cac: Cac, klines: KlineColumns, options: { reuse?: AnalysisResult } = {}): AnalysisResult {
  const n = columnsLength(klines);
  const columns = outputColumns(cac).columns;
  // Reusing the arrays of an earlier result (same CAC, same length) saves allocating and first
  // touching fresh memory, which costs as much as the arithmetic here.
  const reuse = options.reuse;
  const values =
    reuse && reuse.columns.length === columns.length && reuse.values.every((v) => v.length === n)
      ? reuse.values
      : columns.map(() => new Float64Array(n));
  let offset = 0;
  const components: PipComponent[] = [];
  let woiOffset = -1;
  const streamers: { streamer: Streamer; cols: Float64Array[] }[] = [];
  for (const ind of cac.indicators) {
    const spec = INDICATORS[ind.type];
    const width = spec.lines.length;
    streamers.push({ streamer: spec.create(ind.params), cols: values.slice(offset, offset + width) });
    const component = componentFor(ind.type, offset, spec.lines);
    if (component) components.push(component);
    if (ind.type === 'WOI' && woiOffset < 0) woiOffset = offset;
    offset += width;
  }
  const pip = cac.pip ? new PipStreamer(cac.pip, components, woiOffset, offset) : undefined;
  // Blocks of klines: every indicator over the block, then PIP over it, while the block's lines
  // are still in cache.
  for (let from = 0; from < n; from += BLOCK) {
    const to = Math.min(n, from + BLOCK);
    for (const s of streamers) s.streamer.run(klines, from, to, s.cols);
    pip?.run(klines, from, to, values);
  }
  return { columns, openTime: klines.openTime.slice(0, n), values };
}

/** Klines per batch block (its output lines stay within the L2 cache). */
const BLOCK = 1024;

/** JSON form: `{ openTime: [...], "<TYPE>.<line>": [... null during warm-up] }`. */
export function resultToJson(result: AnalysisResult): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = { openTime: Array.from(result.openTime) };
  result.columns.forEach((name, c) => {
    const col = result.values[c];
    const arr = new Array<number | null>(col.length);
    for (let i = 0; i < col.length; i++) arr[i] = col[i] === col[i] ? col[i] : null;
    out[name] = arr;
  });
  return out;
}

/** CSV form: header `openTime,<columns>`, empty cells for null. */
export function resultToCsv(result: AnalysisResult): string {
  const lines = [['openTime', ...result.columns].join(',')];
  const n = result.openTime.length;
  for (let i = 0; i < n; i++) {
    const cells = [String(result.openTime[i])];
    for (const col of result.values) cells.push(col[i] === col[i] ? String(col[i]) : '');
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}
