import { INDICATORS, columnsLength, emptyBar, readBar, type Bar, type KlineColumns, type Streamer } from './indicators/index.js';
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

  update(bar: Bar): Float64Array {
    const row = this.row;
    const streamers = this.streamers;
    for (let i = 0; i < streamers.length; i++) streamers[i].update(bar, row, this.offsets[i]);
    if (this.pip) this.pip.update(bar, row, this.pipOffset);
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

/** Batch run over columns: the same engine, one kline after another. */
export function analyzeBatch(cac: Cac, klines: KlineColumns, engine = new AnalysisEngine(cac)): AnalysisResult {
  const n = columnsLength(klines);
  const width = engine.columns.length;
  const values = engine.columns.map(() => new Float64Array(n));
  const bar = emptyBar();
  for (let i = 0; i < n; i++) {
    const row = engine.update(readBar(klines, i, bar));
    for (let c = 0; c < width; c++) values[c][i] = row[c];
  }
  return { columns: engine.columns, openTime: klines.openTime.slice(0, n), values };
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
