import { isZero, type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * +DI, -DI and ADX with Wilder smoothing, exactly as TA-Lib's PLUS_DI, MINUS_DI and ADX
 * (ta_PLUS_DI.c, ta_MINUS_DI.c, ta_ADX.c, unstable period 0):
 * - klines 1..n-1: +DM, -DM and TR are summed;
 * - from kline n on: X = X - X/n + x (Wilder); +DI = 100·(+DM)/TR (0 when TR is zero), first at n;
 * - DX = 100·|+DI - -DI| / (+DI + -DI); ADX = mean of the n DX values of klines n..2n-1 (first at
 *   2n-1), then ADX = (ADX·(n-1) + DX)/n. A kline whose TR or DI sum is zero (|x| < 1e-8,
 *   TA_IS_ZERO) adds no DX.
 * +DM = up move if up > 0 and up > down; -DM = down move if down > 0 and down > up (a tie gives
 * neither). TR = max(high - low, |high - prevClose|, |low - prevClose|).
 *
 * Extra lines: signal = (+DI - -DI)·ADX/100 in [-100, 100], and norm = signal divided by the
 * largest |signal| seen so far (its all-time high), in [-1, 1].
 */
export class DmiStreamer implements Streamer {
  private count = 0;
  private prevHigh = 0;
  private prevLow = 0;
  private prevClose = 0;
  private plusDM = 0;
  private minusDM = 0;
  private tr = 0;
  private sumDX = 0;
  private adx = NaN;
  private ath = 0;

  constructor(private readonly n: number) {}

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const n = this.n;
    const c = this.count++;
    const high = k.high[t];
    const low = k.low[t];
    if (c === 0) {
      this.prevHigh = high;
      this.prevLow = low;
      this.prevClose = k.close[t];
      out[0][r] = out[1][r] = out[2][r] = out[3][r] = out[4][r] = NaN;
      return;
    }
    const diffP = high - this.prevHigh;
    const diffM = this.prevLow - low;
    this.prevHigh = high;
    this.prevLow = low;
    let pdm = 0;
    let mdm = 0;
    if (diffM > 0 && diffP < diffM) mdm = diffM;
    else if (diffP > 0 && diffP > diffM) pdm = diffP;
    let tr = high - low;
    const t2 = Math.abs(high - this.prevClose);
    if (t2 > tr) tr = t2;
    const t3 = Math.abs(low - this.prevClose);
    if (t3 > tr) tr = t3;
    this.prevClose = k.close[t];
    if (c < n) {
      this.plusDM += pdm;
      this.minusDM += mdm;
      this.tr += tr;
      out[0][r] = out[1][r] = out[2][r] = out[3][r] = out[4][r] = NaN;
      return;
    }
    this.plusDM = this.plusDM - this.plusDM / n + pdm;
    this.minusDM = this.minusDM - this.minusDM / n + mdm;
    this.tr = this.tr - this.tr / n + tr;
    let plusDI = 0;
    let minusDI = 0;
    let dx = NaN;
    if (!isZero(this.tr)) {
      plusDI = 100 * (this.plusDM / this.tr);
      minusDI = 100 * (this.minusDM / this.tr);
      const sum = minusDI + plusDI;
      if (!isZero(sum)) dx = 100 * (Math.abs(minusDI - plusDI) / sum);
    }
    out[0][r] = plusDI;
    out[1][r] = minusDI;
    if (c < 2 * n - 1) {
      if (dx === dx) this.sumDX += dx;
      out[2][r] = out[3][r] = out[4][r] = NaN;
      return;
    }
    if (c === 2 * n - 1) {
      if (dx === dx) this.sumDX += dx;
      this.adx = this.sumDX / n;
    } else if (dx === dx) {
      this.adx = (this.adx * (n - 1) + dx) / n;
    }
    const signal = ((plusDI - minusDI) * this.adx) / 100;
    const mag = Math.abs(signal);
    if (mag > this.ath) this.ath = mag;
    out[2][r] = this.adx;
    out[3][r] = signal;
    out[4][r] = this.ath > 0 ? signal / this.ath : 0;
  }
}

export const DMIXADX: IndicatorSpec = {
  type: 'DMIXADX',
  lines: ['plusDI', 'minusDI', 'adx', 'signal', 'norm'],
  overlay: false,
  summary: '+DI, -DI and ADX (Wilder), with a combined signal normalised against its all-time high',
  params: [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: 14, description: 'Wilder smoothing period' }],
  create: (p: Params) => new DmiStreamer(p.n),
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as DmiStreamer | undefined) ?? new DmiStreamer(p.n);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchDmi(s, k, from, to, cols);
  },
};

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchDmi(s: DmiStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
