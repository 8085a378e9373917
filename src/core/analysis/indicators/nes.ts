import { EmaCore } from './ma.js';
import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Net execution strength. net = taker-buy volume - taker-sell volume = 2·takerBuy - volume per
 * kline (from aggregated trades live, from the klines' taker-buy volume for stored history; both
 * give the same number for a closed kline). Lines: net = EMA(n) of net; value = EMA(n) of net divided
 * by EMA(n) of volume, in [-1, 1] (0 when the volume average is 0). EMAs are TA-Lib style (seeded
 * with the SMA of the first n); first values at kline n-1.
 */
export class NesStreamer implements Streamer {
  private readonly net: EmaCore;
  private readonly vol: EmaCore;
  constructor(n: number) {
    this.net = new EmaCore(n);
    this.vol = new EmaCore(n);
  }
  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const net = this.net.push(2 * k.takerBuyVolume[t] - k.volume[t]);
    const vol = this.vol.push(k.volume[t]);
    if (!this.vol.ready) {
      out[0][r] = out[1][r] = NaN;
      return;
    }
    out[0][r] = vol > 0 ? net / vol : 0;
    out[1][r] = net;
  }
}

export const NES: IndicatorSpec = {
  type: 'NES',
  lines: ['value', 'net'],
  overlay: false,
  summary: 'net execution strength: taker buy minus taker sell volume, smoothed',
  params: [{ name: 'interval', kind: 'int', min: 1, max: 100_000, default: 20, description: 'EMA period in klines' }],
  create: (p: Params) => new NesStreamer(p.interval),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as NesStreamer | undefined) ?? new NesStreamer(p.interval);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchNes(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchNes(s: NesStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
