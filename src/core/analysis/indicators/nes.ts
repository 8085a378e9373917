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
  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const takerBuy = k.takerBuyVolume;
    const volume = k.volume;
    const oValue = out[0];
    const oNet = out[1];
    const a = this.net;
    const b = this.vol;
    // Both EMAs have the same period, so they are seeded together: one count serves both.
    const n = a.n;
    const kf = a.k;
    let count = a.count;
    let netSeed = a.seedSum;
    let volSeed = b.seedSum;
    let net = a.value;
    let vol = b.value;
    let i = from;
    for (; i < to && count < n; i++) {
      netSeed += 2 * takerBuy[i] - volume[i];
      volSeed += volume[i];
      count++;
      if (count === n) {
        net = netSeed / n;
        vol = volSeed / n;
        oValue[i] = vol > 0 ? net / vol : 0;
        oNet[i] = net;
      } else {
        oValue[i] = oNet[i] = NaN;
      }
    }
    for (; i < to; i++) {
      const v = volume[i];
      net = (2 * takerBuy[i] - v - net) * kf + net;
      vol = (v - vol) * kf + vol;
      oValue[i] = vol > 0 ? net / vol : 0;
      oNet[i] = net;
    }
    a.count = b.count = count;
    a.seedSum = netSeed;
    b.seedSum = volSeed;
    a.value = net;
    b.value = vol;
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

