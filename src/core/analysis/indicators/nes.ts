import { EmaCore } from './ma.js';
import type { Bar, IndicatorSpec, Params, Streamer } from './types.js';

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
  update(bar: Bar, out: Float64Array, offset: number): void {
    const net = this.net.push(2 * bar.takerBuyVolume - bar.volume);
    const vol = this.vol.push(bar.volume);
    if (!this.vol.ready) {
      out[offset] = out[offset + 1] = NaN;
      return;
    }
    out[offset] = vol > 0 ? net / vol : 0;
    out[offset + 1] = net;
  }
}

export const NES: IndicatorSpec = {
  type: 'NES',
  lines: ['value', 'net'],
  overlay: false,
  summary: 'net execution strength: taker buy minus taker sell volume, smoothed',
  params: [{ name: 'interval', kind: 'int', min: 1, max: 100_000, default: 20, description: 'EMA period in klines' }],
  create: (p: Params) => new NesStreamer(p.interval),
};
