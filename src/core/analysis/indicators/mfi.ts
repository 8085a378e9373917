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

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const tp = (k.high[t] + k.low[t] + k.close[t]) / 3;
    const c = this.count++;
    if (c === 0) {
      this.prevTP = tp;
      out[0][r] = out[1][r] = NaN;
      return;
    }
    const diff = tp - this.prevTP;
    this.prevTP = tp;
    const flow = tp * k.volume[t];
    const p = diff > 0 ? flow : 0;
    const m = diff < 0 ? flow : 0;
    const n = this.n;
    const i = this.idx;
    const oldP = this.pos[i];
    const oldM = this.neg[i];
    this.pos[i] = p;
    this.neg[i] = m;
    this.idx = i + 1 === n ? 0 : i + 1;
    if (c <= n) {
      this.posSum += p;
      this.negSum += m;
      if (c < n) {
        out[0][r] = out[1][r] = NaN;
        return;
      }
    } else if (++this.sinceExact >= n) {
      this.sinceExact = 0;
      let sp = 0;
      let sm = 0;
      for (let j = 0; j < n; j++) {
        sp += this.pos[j];
        sm += this.neg[j];
      }
      this.posSum = sp;
      this.negSum = sm;
    } else {
      this.posSum += p - oldP;
      this.negSum += m - oldM;
    }
    const total = this.posSum + this.negSum;
    const mfi = total < 1 ? 0 : 100 * (this.posSum / total);
    const dev = Math.abs(mfi - 50);
    if (dev > this.ath) this.ath = dev;
    out[0][r] = mfi;
    out[1][r] = this.ath > 0 ? (mfi - 50) / this.ath : 0;
  }
}

export const MFI: IndicatorSpec = {
  type: 'MFI',
  lines: ['value', 'norm'],
  overlay: false,
  summary: 'money flow index, with an ATH-normalised form',
  params: [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: 14, description: 'number of money flows summed' }],
  create: (p: Params) => new MfiStreamer(p.n),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as MfiStreamer | undefined) ?? new MfiStreamer(p.n);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchMfi(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchMfi(s: MfiStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
