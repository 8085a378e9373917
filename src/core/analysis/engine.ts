import { INDICATORS, columnsLength, oneRow, setRow, type Bar, type BatchRunner, type KlineColumns, type Streamer } from './indicators/index.js';
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
 * Runs a CAC one closed kline at a time: every indicator, then PIP on their lines. `update`
 * returns one row (NaN = null), shared and overwritten by the next call.
 */
export class AnalysisEngine {
  readonly columns: string[];
  readonly row: Float64Array;
  private readonly streamers: Streamer[];
  private readonly offsets: Int32Array;
  private readonly pip: PipStreamer | undefined;
  private readonly pipOffset: number;
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
    this.offsets = Int32Array.from(offsets);
    this.pipOffset = offset;
    this.pip = cac.pip ? new PipStreamer(cac.pip, components, woiOffset) : undefined;
  }

  private readonly one = oneRow();

  update(bar: Bar): Float64Array {
    const row = this.row;
    const one = this.one;
    setRow(one, bar);
    const streamers = this.streamers;
    for (let i = 0; i < streamers.length; i++) streamers[i].update(one, 0, row, this.offsets[i]);
    if (this.pip) this.pip.update(one, 0, row, this.pipOffset);
    this.count++;
    this.lastOpenTime = bar.openTime;
    return row;
  }
}

export interface AnalysisResult {
  columns: string[];
  openTime: Float64Array;
  /** One Float64Array per column, NaN = null. */
  values: Float64Array[];
}

/**
 * Batch run over columns: each indicator runs over the whole range in its own loop (the same state
 * machine as streaming, so the values are identical), then PIP runs over their columns.
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
  const runners: { run: BatchRunner; cols: Float64Array[] }[] = [];
  for (const ind of cac.indicators) {
    const spec = INDICATORS[ind.type];
    const width = spec.lines.length;
    runners.push({ run: spec.batch(ind.params), cols: values.slice(offset, offset + width) });
    const component = componentFor(ind.type, offset, spec.lines);
    if (component) components.push(component);
    if (ind.type === 'WOI' && woiOffset < 0) woiOffset = offset;
    offset += width;
  }
  const pip = cac.pip ? new PipStreamer(cac.pip, components, woiOffset) : undefined;
  // PIP reads only its components' lines: copy just those into a scratch row per kline.
  const needed = new Set<number>();
  for (const c of components) {
    needed.add(c.offset);
    if (c.kind === 'bol') needed.add(c.offset + 1);
  }
  if (woiOffset >= 0) needed.add(woiOffset);
  const reads = Int32Array.from(needed);
  const row = new Float64Array(columns.length);
  const pipCols = values.slice(offset, offset + PIP_LINES.length);
  // Blocks of klines: every indicator over the block, then PIP over it, while the block's lines
  // are still in cache.
  for (let from = 0; from < n; from += BLOCK) {
    const to = Math.min(n, from + BLOCK);
    for (const r of runners) r.run(klines, from, to, r.cols);
    if (pip) pipBlock(pip, klines, from, to, values, reads, row, offset, pipCols);
  }
  return { columns, openTime: klines.openTime.slice(0, n), values };
}

/** Klines per batch block (its output lines stay within the L2 cache). */
const BLOCK = 1024;

function pipBlock(pip: PipStreamer, klines: KlineColumns, from: number, to: number, values: Float64Array[], reads: Int32Array, row: Float64Array, offset: number, outCols: Float64Array[]): void {
  const w = outCols.length;
  for (let i = from; i < to; i++) {
    for (let j = 0; j < reads.length; j++) row[reads[j]] = values[reads[j]][i];
    pip.update(klines, i, row, offset);
    for (let c = 0; c < w; c++) outCols[c][i] = row[offset + c];
  }
}

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
