import type { AnalysisResult } from '../../core/analysis/engine.js';
import type { StoredCac } from '../../core/analysis/repository.js';
import { cacWarmup } from '../../core/analysis/warmup.js';
import type { App } from '../../core/app.js';
import type { Interval, Klines } from '../../core/market/klines.js';

/** A temporary analysis drawn on the chart (never stored). */
export interface TempAnalysis {
  symbol: string;
  interval: Interval;
  cac: StoredCac;
  /** Open times of the first and last analysed candle (the visible range when it was run). */
  fromTime: number;
  toTime: number;
  /** Output rows, including the warm-up klines before `fromTime`. */
  rows: AnalysisResult;
  /** The analysed candles as chart indices [from, to) (set when drawn). */
  from: number;
  to: number;
  omitted: string[];
}

/** The CAC picker of the temporary analysis: entry 0 is "none: clear", then the stored CACs. */
export interface Picker {
  cursor: number;
  cacs?: StoredCac[];
  error?: string;
}

export interface Running {
  cacName: string;
  candles: number;
  warmup: number;
}

/**
 * The Market page's temporary analysis: a stored CAC run over the candles on screen (started
 * earlier by the CAC's warm-up when the klines allow) in the analysis worker pool, and the picker
 * that chooses it. A newer run or a clear makes an older run's result stale (it is dropped).
 */
export class TempAnalysisState {
  temp?: TempAnalysis;
  running?: Running;
  error?: string;
  picker?: Picker;
  private token = 0;
  private disposed = false;

  constructor(
    private readonly analysis: Pick<App['analysis'], 'runBatch' | 'listCacs'>,
    /** Called when an asynchronous step changed the state. */
    private readonly onChange: () => void,
  ) {}

  /** True when the chart shows a status line for it. */
  get shown(): boolean {
    return this.temp !== undefined || this.running !== undefined || this.error !== undefined;
  }

  clear(): void {
    this.temp = undefined;
    this.error = undefined;
    this.running = undefined;
    this.token++;
  }

  /** Drops the analysis when the chart shows another series. */
  keepFor(symbol: string | undefined, interval: Interval): void {
    if (this.temp && (this.temp.symbol !== symbol || this.temp.interval !== interval)) this.clear();
  }

  /** True when candles in `view` (chart indices) lie outside the analysed range. */
  outside(view: { from: number; to: number } | undefined): boolean {
    return this.temp !== undefined && view !== undefined && (view.from < this.temp.from || view.to > this.temp.to);
  }

  /** Runs `stored` over the closed candles `k` in `view` [from, to), plus its warm-up before. */
  async run(stored: StoredCac, symbol: string, interval: Interval, k: Klines, view: { from: number; to: number }): Promise<void> {
    const to = Math.min(view.to, k.length);
    const from = Math.max(0, Math.min(view.from, to - 1));
    const start = Math.max(0, from - cacWarmup(stored.cac));
    const token = ++this.token;
    this.running = { cacName: stored.cac.name, candles: to - from, warmup: from - start };
    this.error = undefined;
    const cut = (a: Float64Array) => a.slice(start, to);
    const columns = {
      length: to - start, openTime: cut(k.openTime), open: cut(k.open), high: cut(k.high), low: cut(k.low), close: cut(k.close),
      volume: cut(k.volume), takerBuyVolume: cut(k.takerBuyVolume),
    };
    const current = () => token === this.token && !this.disposed;
    try {
      const rows = await this.analysis.runBatch(stored.cac, columns);
      if (!current()) return;
      this.temp = { symbol, interval, cac: stored, fromTime: k.openTime[from], toTime: k.openTime[to - 1], rows, from, to, omitted: [] };
    } catch (error) {
      if (!current()) return;
      this.error = (error as Error).message;
    }
    this.running = undefined;
    this.onChange();
  }

  /** Opens the picker on the last used CAC (or the first) once the stored CACs are listed. */
  openPicker(): void {
    const p: Picker = { cursor: 0 };
    this.picker = p;
    this.analysis.listCacs().then(
      (cacs) => {
        p.cacs = cacs;
        const last = this.temp ? cacs.findIndex((c) => c.id === this.temp!.cac.id) : -1;
        p.cursor = last >= 0 ? last + 1 : cacs.length > 0 ? 1 : 0;
      },
      (error: unknown) => {
        p.error = (error as Error).message;
      },
    ).finally(() => {
      if (this.picker === p && !this.disposed) this.onChange();
    });
  }

  /** Moves the picker's cursor (clamped to its entries). */
  movePicker(by: number): void {
    const p = this.picker;
    if (!p) return;
    const count = 1 + (p.cacs?.length ?? 0);
    p.cursor = Math.max(0, Math.min(count - 1, p.cursor + by));
  }

  /**
   * Enter in the picker: closes it and returns the CAC to run, or 'cleared' when "none" was
   * chosen (and something was shown), or undefined when nothing is to be done.
   */
  choose(): StoredCac | 'cleared' | undefined {
    const p = this.picker;
    if (!p || !p.cacs) return undefined;
    this.picker = undefined;
    if (p.cursor > 0) return p.cacs[p.cursor - 1];
    const had = this.temp !== undefined || this.running !== undefined;
    this.clear();
    return had ? 'cleared' : undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.token++;
  }
}
