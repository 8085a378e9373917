import { INDICATORS } from '../analysis/indicators/index.js';
import type { KlineColumns, Streamer } from '../analysis/indicators/types.js';
import type { NnModelData } from './model.js';
import { NnPredictor } from './predictor.js';
import { FeatureWindow } from './window.js';

/** Klines per pass (PIP's chunk length). */
const CHUNK = 1024;

/**
 * A model's signal kline by kline, for PIP: the model's own indicators (its training inputs, with
 * its parameters) run on the klines PIP is given, one FeatureWindow builds the row, the predictor
 * gives the signal in [-1, 1] (NaN until every input has a value). The same kernels for a block and
 * for one kline, so streaming equals batch.
 */
export class NnStreamer {
  private readonly streamers: Streamer[];
  private readonly perStreamer: Float64Array[][];
  private readonly cols: Float64Array[];
  private readonly offsets: Int32Array;
  private readonly window: FeatureWindow;
  private readonly predictor: NnPredictor;

  constructor(readonly model: NnModelData) {
    const f = model.config.features;
    const names: string[] = [];
    const seen = new Map<string, number>();
    this.streamers = [];
    this.perStreamer = [];
    this.cols = [];
    for (const ind of f.indicators) {
      const spec = INDICATORS[ind.type];
      const n = (seen.get(ind.type) ?? 0) + 1;
      seen.set(ind.type, n);
      const label = n === 1 ? ind.type : `${ind.type}#${n}`;
      const own = spec.lines.map(() => new Float64Array(CHUNK));
      for (const line of spec.lines) names.push(`${label}.${line}`);
      this.cols.push(...own);
      this.perStreamer.push(own);
      this.streamers.push(spec.create(ind.params));
    }
    this.offsets = Int32Array.from(f.lines.map((l) => names.indexOf(l)));
    this.window = new FeatureWindow(f.lines.length, f.lags, f.returns);
    this.predictor = new NnPredictor(model);
  }

  /** Signals of klines [from, to) of `k` (to − from ≤ 1024) into out[0 .. to − from). */
  run(k: KlineColumns, from: number, to: number, out: Float64Array): void {
    const len = to - from;
    const view: KlineColumns =
      from === 0
        ? k
        : {
            length: len, openTime: k.openTime.subarray(from, to), open: k.open.subarray(from, to), high: k.high.subarray(from, to), low: k.low.subarray(from, to),
            close: k.close.subarray(from, to), volume: k.volume.subarray(from, to), takerBuyVolume: k.takerBuyVolume.subarray(from, to), books: k.books?.slice(from, to),
          };
    for (let s = 0; s < this.streamers.length; s++) this.streamers[s].run(view, 0, len, this.perStreamer[s]);
    const close = view.close;
    const w = this.window;
    const p = this.predictor;
    for (let j = 0; j < len; j++) out[j] = w.push(this.cols, this.offsets, j, close[j]) ? p.signal(w.out, 0) : NaN;
  }
}
