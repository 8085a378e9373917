import type { AnalysisView } from '../../core/analysis/service.js';
import type { StoredCac } from '../../core/analysis/repository.js';
import { emptyKlines, getKline, INTERVALS, pushKline, type Interval, type Klines } from '../../core/market/klines.js';
import { aggregateKlines, canAggregate } from '../../core/market/aggregate.js';
import type { AnalysisRows } from '../analysis-overlays.js';

/**
 * The Currency Analysis page's view model, free of any terminal: the two lists and their cursors,
 * the CAC and apply forms, and the charted analysis (its candles and output rows, appended to as
 * closed klines are analysed).
 */

/** Output rows the chart loads: the newest ones, as kept by the analysis' worker. */
export const CHART_ROWS = 4096;

// ---- lists ----

export type Focus = 'cacs' | 'analyses';

/** The CAC list and the analysis list, one of them focused, a cursor in each. */
export class AnalysisLists {
  cacs: StoredCac[] = [];
  analyses: AnalysisView[] = [];
  focus: Focus = 'cacs';
  cacCursor = 0;
  listCursor = 0;

  /** New contents; the cursors stay inside them. */
  set(cacs: StoredCac[], analyses: AnalysisView[]): void {
    this.cacs = cacs;
    this.analyses = analyses;
    this.cacCursor = Math.min(this.cacCursor, Math.max(0, cacs.length - 1));
    this.listCursor = Math.min(this.listCursor, Math.max(0, analyses.length - 1));
  }

  /** Moves the focused list's cursor (clamped). */
  move(by: number): void {
    if (this.focus === 'cacs') this.cacCursor = Math.max(0, Math.min(Math.max(0, this.cacs.length - 1), this.cacCursor + by));
    else this.listCursor = Math.max(0, Math.min(Math.max(0, this.analyses.length - 1), this.listCursor + by));
  }

  toggleFocus(): void {
    this.focus = this.focus === 'cacs' ? 'analyses' : 'cacs';
  }

  selectedCac(): StoredCac | undefined {
    return this.cacs[this.cacCursor];
  }

  selectedAnalysis(): AnalysisView | undefined {
    return this.analyses[this.listCursor];
  }

  analysis(id: number | undefined): AnalysisView | undefined {
    return id === undefined ? undefined : this.analyses.find((a) => a.id === id);
  }
}

// ---- forms ----

export interface FormField {
  key: string;
  value: string;
}

export interface Form {
  kind: 'cac' | 'apply';
  fields: FormField[];
  cursor: number;
  error?: string;
  /** The CAC being edited (cac form) or applied (apply form). */
  cacId?: number;
}

/** The indicators a new CAC form starts with. */
const NEW_CAC = { indicators: 'EMA:n=20 BOL:n=20,k=2 DMIXADX:n=14 MFI:n=14', pip: 'mode=classical' };

/** The CAC form: a new CAC, or `edit` with its indicators and PIP as text. */
export function cacForm(edit?: StoredCac): Form {
  const text = edit ? cacToFormText(edit.cac) : NEW_CAC;
  return {
    kind: 'cac', cursor: 0, cacId: edit?.id,
    fields: [{ key: 'name', value: edit?.cac.name ?? '' }, { key: 'indicators', value: text.indicators }, { key: 'pip', value: text.pip }],
  };
}

/** The form that applies CAC `cac` to a symbol and interval. */
export function applyForm(cac: StoredCac): Form {
  return { kind: 'apply', cursor: 0, cacId: cac.id, fields: [{ key: 'symbol', value: 'BTCUSDT' }, { key: 'interval', value: '1m' }] };
}

export function formValue(form: Form, key: string): string {
  return form.fields.find((x) => x.key === key)!.value;
}

/** A key typed in a form (blessed's full key name and the character). */
export type FormKey = { full: string; ch?: string; ctrl?: boolean; meta?: boolean };

/**
 * Edits `form` for one typed key: arrows and Tab move between fields, Backspace and Ctrl-U edit,
 * printable characters are added. Returns 'submit' (Enter), 'close' (Esc), 'changed', or
 * 'ignored' for a key the form does not use.
 */
export function typeInForm(form: Form, key: FormKey): 'submit' | 'close' | 'changed' | 'ignored' {
  const field = form.fields[form.cursor];
  const n = form.fields.length;
  switch (key.full) {
    case 'return':
      return 'ignored'; // blessed sends 'return' and 'enter' for one press: 'enter' submits
    case 'enter':
      return 'submit';
    case 'escape':
      return 'close';
    case 'up':
    case 'S-tab':
      form.cursor = (form.cursor + n - 1) % n;
      break;
    case 'down':
    case 'tab':
      form.cursor = (form.cursor + 1) % n;
      break;
    case 'backspace':
      field.value = field.value.slice(0, -1);
      break;
    case 'C-u':
      field.value = '';
      break;
    default:
      if (key.ch && key.ch.length === 1 && key.ch >= ' ' && !key.ctrl && !key.meta) field.value += key.ch;
      else return 'ignored';
  }
  form.error = undefined;
  return 'changed';
}

/** "mode=classical,swing=5" → object; "off" or blank → null. */
export function parsePip(text: string): Record<string, string> | null {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'off') return null;
  const out: Record<string, string> = {};
  for (const part of t.split(',')) {
    const [k, v] = part.split('=');
    if (k.trim() === '' || v === undefined) {
      out[part.trim() || '?'] = '';
      continue;
    }
    out[k.trim()] = v.trim();
  }
  return out;
}

export function cacToFormText(c: StoredCac['cac']): { indicators: string; pip: string } {
  const indicators = c.indicators.map((i) => `${i.type}:${Object.entries(i.params).map(([k, v]) => `${k}=${v}`).join(',')}`).join(' ');
  const pip = c.pip ? [`mode=${c.pip.mode}`, ...Object.entries(c.pip.params).map(([k, v]) => `${k}=${v}`)].join(',') : 'off';
  return { indicators, pip };
}

// ---- the charted analysis ----

/**
 * The candles and output rows of the analysis on the chart. Loaded once (the worker's newest
 * rows and their stored klines); after that each analysed closed kline is appended, so a closed
 * kline costs one row, not a reload. Rows live in arrays with spare room (doubled when full).
 */
export class AnalysisSeries {
  id?: number;
  klines: Klines = emptyKlines();
  private columnNames: string[] = [];
  private times = new Float64Array(0);
  private values: Float64Array[] = [];
  private count = 0;

  /** Loads analysis `id`: output rows (oldest first) and the stored klines they cover. */
  load(id: number, rows: AnalysisRows, klines: Klines): void {
    this.id = id;
    this.columnNames = [...rows.columns];
    const n = rows.openTime.length;
    const room = Math.max(16, n * 2);
    this.times = new Float64Array(room);
    this.times.set(rows.openTime);
    this.values = rows.values.map((v) => {
      const a = new Float64Array(room);
      a.set(v.subarray(0, n));
      return a;
    });
    this.count = n;
    this.klines = klines;
  }

  clear(): void {
    this.id = undefined;
    this.count = 0;
  }

  /** Open time of the newest output row, or undefined when nothing is loaded. */
  get lastOpenTime(): number | undefined {
    return this.count > 0 ? this.times[this.count - 1] : undefined;
  }

  /** The output rows (views on the held arrays), as the chart layers read them. */
  rows(): AnalysisRows {
    return { columns: this.columnNames, openTime: this.times.subarray(0, this.count), values: this.values.map((v) => v.subarray(0, this.count)) };
  }

  /**
   * Appends the output row of a newly analysed kline. `stored` holds the stored klines after the
   * newest row held up to the analysed one: exactly that one kline when nothing was missed. False
   * when it cannot be appended (another analysis, other columns, a gap or a replay): reload then.
   */
  append(id: number, stored: Klines, openTime: number, columns: readonly string[], row: Float64Array): boolean {
    if (id !== this.id || this.count === 0 || row.length !== this.values.length) return false;
    if (columns.length !== this.columnNames.length || columns.some((c, i) => c !== this.columnNames[i])) return false;
    if (stored.length !== 1 || stored.openTime[0] !== openTime || openTime <= this.times[this.count - 1]) return false;
    if (this.count === this.times.length) this.grow();
    this.times[this.count] = openTime;
    for (let c = 0; c < this.values.length; c++) this.values[c][this.count] = row[c];
    this.count++;
    this.klines = pushKline(this.klines, getKline(stored, 0));
    return true;
  }

  private grow(): void {
    const room = this.times.length * 2;
    const grown = (a: Float64Array) => {
      const b = new Float64Array(room);
      b.set(a);
      return b;
    };
    this.times = grown(this.times);
    this.values = this.values.map(grown);
  }
}

// ---- another interval on an analysis chart ----

/** The intervals an analysis at `base` can be drawn at: itself and the longer ones its candles build. */
export function chartIntervals(base: Interval): Interval[] {
  return INTERVALS.filter((i) => i === base || canAggregate(base, i));
}

/**
 * An analysis's candles and output rows drawn at a longer interval: each candle of `interval`
 * aggregates the analysis's candles (as the Market chart does), and its row is the output at its
 * last analysed candle (the value at the candle's close); a PIP impulse anywhere in it is kept.
 */
export function rowsAtInterval(klines: Klines, rows: AnalysisRows, base: Interval, interval: Interval): { klines: Klines; rows: AnalysisRows } {
  if (interval === base) return { klines, rows };
  const shown = aggregateKlines(klines, base, interval, { partial: true });
  const n = shown.length;
  const openTime = new Float64Array(n);
  openTime.set(shown.openTime.subarray(0, n));
  const values = rows.values.map(() => new Float64Array(n).fill(NaN));
  const impulse = rows.columns.indexOf('PIP.impulse');
  let j = 0;
  for (let r = 0; r < rows.openTime.length; r++) {
    const t = rows.openTime[r];
    while (j + 1 < n && openTime[j + 1] <= t) j++;
    if (n === 0 || openTime[j] > t) continue;
    rows.values.forEach((v, c) => {
      if (c === impulse) {
        if (v[r] === 1 || v[r] === -1) values[c][j] = v[r];
        else if (!(values[c][j] === 1 || values[c][j] === -1)) values[c][j] = v[r];
      } else values[c][j] = v[r];
    });
  }
  return { klines: shown, rows: { columns: rows.columns, openTime, values } };
}
