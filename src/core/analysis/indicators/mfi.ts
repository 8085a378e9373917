import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Money flow index, as TA-Lib MFI (ta_MFI.c): typical price tp = (high + low + close)/3, money
 * flow = tp·volume, positive when tp rose from the previous kline, negative when it fell, neither
 * when equal. MFI = 100·pos/(pos + neg) over the last n flows; first value at kline n. When
 * pos + neg < 1 (for instance n zero-volume klines) MFI is 0, as in TA-Lib; nothing divides by zero.
 * The window sums are recomputed exactly every n klines (no drift).
 *
 * Extra line: norm = (MFI - 50) / max|MFI - 50| so far (ATH-normalised, in [-1, 1]; 0 until the
 * maximum is positive).
 */
export class MfiStreamer implements Streamer {
  private readonly pos: Float64Array;
  private readonly neg: Float64Array;
  private idx = 0;
  private count = 0;
  private prevTP = NaN;
  private posSum = 0;
  private negSum = 0;
  private sinceExact = 0;
  private ath = 0;

  constructor(private readonly n: number) {
    this.pos = new Float64Array(n);
    this.neg = new Float64Array(n);
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const high = k.high;
    const low = k.low;
    const close = k.close;
    const volume = k.volume;
    const oValue = out[0];
    const oNorm = out[1];
    const pos = this.pos;
    const neg = this.neg;
    const n = this.n;
    let idx = this.idx;
    let count = this.count;
    let prevTP = this.prevTP;
    let posSum = this.posSum;
    let negSum = this.negSum;
    let sinceExact = this.sinceExact;
    let ath = this.ath;
    for (let t = from; t < to; t++) {
      const tp = (high[t] + low[t] + close[t]) / 3;
      const c = count++;
      if (c === 0) {
        prevTP = tp;
        oValue[t] = oNorm[t] = NaN;
        continue;
      }
      const diff = tp - prevTP;
      prevTP = tp;
      const flow = tp * volume[t];
      const p = diff > 0 ? flow : 0;
      const m = diff < 0 ? flow : 0;
      const i = idx;
      const oldP = pos[i];
      const oldM = neg[i];
      pos[i] = p;
      neg[i] = m;
      idx = i + 1 === n ? 0 : i + 1;
      if (c <= n) {
        posSum += p;
        negSum += m;
        if (c < n) {
          oValue[t] = oNorm[t] = NaN;
          continue;
        }
      } else if (++sinceExact >= n) {
        sinceExact = 0;
        let sp = 0;
        let sm = 0;
        for (let j = 0; j < n; j++) {
          sp += pos[j];
          sm += neg[j];
        }
        posSum = sp;
        negSum = sm;
      } else {
        posSum += p - oldP;
        negSum += m - oldM;
      }
      const total = posSum + negSum;
      const mfi = total < 1 ? 0 : 100 * (posSum / total);
      const dev = Math.abs(mfi - 50);
      if (dev > ath) ath = dev;
      oValue[t] = mfi;
      oNorm[t] = ath > 0 ? (mfi - 50) / ath : 0;
    }
    this.idx = idx;
    this.count = count;
    this.prevTP = prevTP;
    this.posSum = posSum;
    this.negSum = negSum;
    this.sinceExact = sinceExact;
    this.ath = ath;
  }
}

export const MFI: IndicatorSpec = {
  type: 'MFI',
  lines: ['value', 'norm'],
  overlay: false,
  summary: 'money flow index, with an ATH-normalised form',
  params: [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: 14, description: 'number of money flows summed' }],
  create: (p: Params) => new MfiStreamer(p.n),
};

