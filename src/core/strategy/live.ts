import type { Cac } from '../analysis/cac.js';
import { AnalysisEngine, outputColumns } from '../analysis/engine.js';
import { INDICATORS, emptyBar, type Bar, type KlineColumns } from '../analysis/indicators/index.js';
import { alignOpenTime, nextOpenTime, type Interval } from '../market/klines.js';
import { ColumnSeries, Cursor, createRunner, resolveIndicators, type LoadedStrategy, type RunOptions, type StrategyRunner } from './runtime.js';
import { StrategyError, fail, ok, type KlineView, type ParamValues, type Result, type Series } from './types.js';

/**
 * Strategy inputs for live trading: the batch form (prepareRun) computes every indicator over all
 * klines before the loop; here the kline columns and the indicator/CAC columns have spare capacity
 * and grow by one closed kline at a time, the indicators advanced by the streaming AnalysisEngine
 * (the same kernels as batch: streaming equals batch on every prefix). The views are the same
 * bounded ColumnSeries, rebound to the new arrays when they grow, so reading a later kline still
 * throws a LookaheadError.
 *
 * A position on a higher interval is fed 1m klines and aggregates them as the backtester does
 * (first open, max high, min low, last close, summed volumes): the strategy kline closes with its
 * final 1m kline. When that minute never comes (a hole the exchange never filled), the bucket
 * closes when the next bucket's first kline arrives, one minute later than the backtest would.
 */

const FIELDS = ['openTime', 'open', 'high', 'low', 'close', 'volume', 'takerBuyVolume'] as const;
type Field = (typeof FIELDS)[number];

/** A growable column with the ColumnSeries that read it. */
interface Column {
  data: Float64Array;
  series: ColumnSeries[];
}

const MIN_CAPACITY = 1024;
const MINUTE = 60_000;

/** One position's growable inputs and its runner. */
export class LiveRun {
  /** Strategy klines so far (on the position's interval). */
  length = 0;
  private capacity: number;
  private readonly klineCols: Record<Field, Column>;
  private readonly indicatorEngine: AnalysisEngine | undefined;
  private readonly indicatorCols: Column[];
  private readonly cacEngine: AnalysisEngine | undefined;
  /** The CAC engine's row positions kept (the spec's cacLines, or all). */
  private readonly cacKept: number[];
  private readonly cacCols: Column[];
  /** The runner's `columns` record (rebound entries on growth). */
  private readonly named: Record<string, Float64Array>;
  private readonly namedCols: [string, Column][] = [];
  private readonly bar: Bar = emptyBar();
  /** The forming strategy kline of a higher interval (NaN open time: none). */
  private bucket = NaN;
  private bucketDone = true;
  private readonly forming: Bar = emptyBar();
  readonly runner: StrategyRunner;

  private constructor(
    readonly interval: Interval,
    parts: {
      runner: (self: LiveRun) => Result<StrategyRunner>;
      klineCols: Record<Field, Column>;
      indicatorEngine?: AnalysisEngine;
      indicatorCols: Column[];
      cacEngine?: AnalysisEngine;
      cacKept: number[];
      cacCols: Column[];
      named: Record<string, Float64Array>;
      namedCols: [string, Column][];
      capacity: number;
    },
  ) {
    this.capacity = parts.capacity;
    this.klineCols = parts.klineCols;
    this.indicatorEngine = parts.indicatorEngine;
    this.indicatorCols = parts.indicatorCols;
    this.cacEngine = parts.cacEngine;
    this.cacKept = parts.cacKept;
    this.cacCols = parts.cacCols;
    this.named = parts.named;
    this.namedCols = parts.namedCols;
    const r = parts.runner(this);
    if (!r.ok) throw r.error;
    this.runner = r.value;
  }

  /**
   * Builds the inputs (empty) and the strategy instance. Errors come back as values, as prepareRun's.
   * `capacity` is the first size of the columns (grown by doubling).
   */
  static create(strategy: LoadedStrategy, params: ParamValues, interval: Interval, options: RunOptions & { capacity?: number } = {}): Result<LiveRun> {
    const resolved = resolveIndicators(strategy, params);
    if (!resolved.ok) return resolved;
    const { names, indicators } = resolved.value;
    const capacity = Math.max(MIN_CAPACITY, options.capacity ?? 0);
    const cursor = new Cursor();
    const column = (): Column => ({ data: new Float64Array(capacity).fill(NaN), series: [] });
    const seriesOf = (c: Column): ColumnSeries => {
      const s = new ColumnSeries(c.data, cursor);
      c.series.push(s);
      return s;
    };
    const klineCols = Object.fromEntries(FIELDS.map((f) => [f, column()])) as Record<Field, Column>;
    const view = Object.fromEntries(FIELDS.map((f) => [f, seriesOf(klineCols[f])])) as unknown as KlineView;
    const ind: Record<string, Series> = {};
    const named: Record<string, Float64Array> = {};
    const namedCols: [string, Column][] = [];
    const indicatorCols: Column[] = [];
    let indicatorEngine: AnalysisEngine | undefined;
    if (indicators.length > 0) {
      indicatorEngine = new AnalysisEngine({ name: strategy.name, indicators, pip: null });
      names.forEach((name, n) => {
        INDICATORS[indicators[n].type].lines.forEach((line, l) => {
          const c = column();
          indicatorCols.push(c);
          const series = seriesOf(c);
          ind[`${name}.${line}`] = series;
          if (l === 0) ind[name] = series;
          named[`${name}.${line}`] = c.data;
          namedCols.push([`${name}.${line}`, c]);
        });
      });
    }
    let cacEngine: AnalysisEngine | undefined;
    const cacKept: number[] = [];
    const cacCols: Column[] = [];
    if (strategy.spec.usesCac) {
      const cac: Cac | undefined = options.cac;
      if (!cac) return fail(new StrategyError({ kind: 'indicators', strategy: strategy.name, reason: 'this strategy reads a CAC (usesCac); give the position a CAC', file: strategy.source === 'builtin' ? undefined : strategy.source }));
      cacEngine = new AnalysisEngine(cac);
      const all = outputColumns(cac).columns;
      const lines = strategy.spec.cacLines;
      all.forEach((name, i) => {
        if (lines && !lines.includes(name)) return;
        if (ind[name]) return;
        cacKept.push(i);
        const c = column();
        cacCols.push(c);
        ind[name] = seriesOf(c);
        named[name] = c.data;
        namedCols.push([name, c]);
      });
      const clash = all.find((name, i) => ind[name] && !cacKept.includes(i) && (!lines || lines.includes(name)));
      if (clash) return fail(new StrategyError({ kind: 'indicators', strategy: strategy.name, reason: `indicators(): ${clash} is also a CAC column; rename the indicator`, file: strategy.source === 'builtin' ? undefined : strategy.source }));
    }
    try {
      return ok(
        new LiveRun(interval, {
          runner: () => createRunner(strategy, params, view, ind, named, cursor, { ...options, interval: options.interval ?? interval }),
          klineCols, indicatorEngine, indicatorCols, cacEngine, cacKept, cacCols, named, namedCols, capacity,
        }),
      );
    } catch (error) {
      if (error instanceof StrategyError) return fail(error);
      throw error;
    }
  }

  /** The strategy klines so far as columns (views of the growable arrays; valid until the next append). */
  columns(): KlineColumns & { length: number } {
    const c = this.klineCols;
    const n = this.length;
    return {
      length: n,
      openTime: c.openTime.data.subarray(0, n), open: c.open.data.subarray(0, n), high: c.high.data.subarray(0, n), low: c.low.data.subarray(0, n),
      close: c.close.data.subarray(0, n), volume: c.volume.data.subarray(0, n), takerBuyVolume: c.takerBuyVolume.data.subarray(0, n),
    };
  }

  /** The value of an indicator or CAC column at strategy kline `i` (NaN when none). */
  value(name: string, i: number): number {
    const col = this.named[name];
    return col && i >= 0 && i < this.length ? col[i] : NaN;
  }

  /** The indicator and CAC column names, in order. */
  get valueNames(): string[] {
    return this.namedCols.map(([name]) => name);
  }

  /**
   * One closed 1m kline. Returns the index of the strategy kline it closes (append's index), or −1
   * when it closes none (inside a higher interval's bucket). Does not step the strategy.
   */
  append1m(bar: Bar): number {
    if (this.interval === '1m') return this.append(bar);
    const b = alignOpenTime(bar.openTime, this.interval);
    let closed = -1;
    if (b !== this.bucket) {
      // an unfinished bucket (its final minute never came) closes now
      if (!this.bucketDone) closed = this.append(this.forming);
      this.bucket = b;
      this.bucketDone = false;
      const f = this.forming;
      f.openTime = b;
      f.open = bar.open;
      f.high = bar.high;
      f.low = bar.low;
      f.close = bar.close;
      f.volume = bar.volume;
      f.takerBuyVolume = bar.takerBuyVolume;
    } else if (!this.bucketDone) {
      const f = this.forming;
      if (bar.high > f.high) f.high = bar.high;
      if (bar.low < f.low) f.low = bar.low;
      f.close = bar.close;
      f.volume += bar.volume;
      f.takerBuyVolume += bar.takerBuyVolume;
    } else return -1; // a late kline of a bucket already closed
    if (bar.openTime + MINUTE === nextOpenTime(b, this.interval)) {
      this.bucketDone = true;
      closed = this.append(this.forming);
    }
    return closed;
  }

  /** One closed strategy kline: the columns grow, the indicators advance. Returns its index. */
  append(bar: Bar): number {
    if (this.length === this.capacity) this.grow();
    const i = this.length;
    const k = this.klineCols;
    k.openTime.data[i] = bar.openTime;
    k.open.data[i] = bar.open;
    k.high.data[i] = bar.high;
    k.low.data[i] = bar.low;
    k.close.data[i] = bar.close;
    k.volume.data[i] = bar.volume;
    k.takerBuyVolume.data[i] = bar.takerBuyVolume;
    if (this.indicatorEngine) {
      const row = this.indicatorEngine.update(bar);
      const cols = this.indicatorCols;
      for (let c = 0; c < cols.length; c++) cols[c].data[i] = row[c];
    }
    if (this.cacEngine) {
      const row = this.cacEngine.update(bar);
      const kept = this.cacKept;
      for (let c = 0; c < kept.length; c++) this.cacCols[c].data[i] = row[kept[c]];
    }
    this.length = i + 1;
    return i;
  }

  /**
   * Warm-up: feeds stored 1m klines [from, to) and steps the strategy on each strategy kline they
   * close (no orders: the trader then moves to the strategy's decision at the next open).
   */
  warmUp(k: KlineColumns, from: number, to: number): void {
    const bar = this.bar;
    for (let j = from; j < to; j++) {
      bar.openTime = k.openTime[j];
      bar.open = k.open[j];
      bar.high = k.high[j];
      bar.low = k.low[j];
      bar.close = k.close[j];
      bar.volume = k.volume[j];
      bar.takerBuyVolume = k.takerBuyVolume[j];
      const idx = this.append1m(bar);
      if (idx >= 0) this.runner.step(idx);
    }
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const rebind = (c: Column) => {
      const data = new Float64Array(capacity).fill(NaN);
      data.set(c.data);
      c.data = data;
      for (const s of c.series) s.data = data;
    };
    for (const f of FIELDS) rebind(this.klineCols[f]);
    for (const c of this.indicatorCols) rebind(c);
    for (const c of this.cacCols) rebind(c);
    for (const [name, c] of this.namedCols) this.named[name] = c.data;
    this.capacity = capacity;
  }
}
