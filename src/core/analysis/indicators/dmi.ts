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

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const high = k.high;
    const low = k.low;
    const close = k.close;
    const oPlus = out[0];
    const oMinus = out[1];
    const oAdx = out[2];
    const oSignal = out[3];
    const oNorm = out[4];
    const n = this.n;
    let count = this.count;
    let prevHigh = this.prevHigh;
    let prevLow = this.prevLow;
    let prevClose = this.prevClose;
    let plusDM = this.plusDM;
    let minusDM = this.minusDM;
    let trSum = this.tr;
    let sumDX = this.sumDX;
    let adx = this.adx;
    let ath = this.ath;
    for (let i = from; i < to; i++) {
      const c = count++;
      const h = high[i];
      const l = low[i];
      if (c === 0) {
        prevHigh = h;
        prevLow = l;
        prevClose = close[i];
        oPlus[i] = oMinus[i] = oAdx[i] = oSignal[i] = oNorm[i] = NaN;
        continue;
      }
      const diffP = h - prevHigh;
      const diffM = prevLow - l;
      prevHigh = h;
      prevLow = l;
      let pdm = 0;
      let mdm = 0;
      if (diffM > 0 && diffP < diffM) mdm = diffM;
      else if (diffP > 0 && diffP > diffM) pdm = diffP;
      let tr = h - l;
      const t2 = Math.abs(h - prevClose);
      if (t2 > tr) tr = t2;
      const t3 = Math.abs(l - prevClose);
      if (t3 > tr) tr = t3;
      prevClose = close[i];
      if (c < n) {
        plusDM += pdm;
        minusDM += mdm;
        trSum += tr;
        oPlus[i] = oMinus[i] = oAdx[i] = oSignal[i] = oNorm[i] = NaN;
        continue;
      }
      plusDM = plusDM - plusDM / n + pdm;
      minusDM = minusDM - minusDM / n + mdm;
      trSum = trSum - trSum / n + tr;
      let plusDI = 0;
      let minusDI = 0;
      let dx = NaN;
      if (!isZero(trSum)) {
        plusDI = 100 * (plusDM / trSum);
        minusDI = 100 * (minusDM / trSum);
        const sum = minusDI + plusDI;
        if (!isZero(sum)) dx = 100 * (Math.abs(minusDI - plusDI) / sum);
      }
      oPlus[i] = plusDI;
      oMinus[i] = minusDI;
      if (c < 2 * n - 1) {
        if (dx === dx) sumDX += dx;
        oAdx[i] = oSignal[i] = oNorm[i] = NaN;
        continue;
      }
      if (c === 2 * n - 1) {
        if (dx === dx) sumDX += dx;
        adx = sumDX / n;
      } else if (dx === dx) {
        adx = (adx * (n - 1) + dx) / n;
      }
      const signal = ((plusDI - minusDI) * adx) / 100;
      const mag = Math.abs(signal);
      if (mag > ath) ath = mag;
      oAdx[i] = adx;
      oSignal[i] = signal;
      oNorm[i] = ath > 0 ? signal / ath : 0;
    }
    this.count = count;
    this.prevHigh = prevHigh;
    this.prevLow = prevLow;
    this.prevClose = prevClose;
    this.plusDM = plusDM;
    this.minusDM = minusDM;
    this.tr = trSum;
    this.sumDX = sumDX;
    this.adx = adx;
    this.ath = ath;
  }
}

export const DMIXADX: IndicatorSpec = {
  type: 'DMIXADX',
  lines: ['plusDI', 'minusDI', 'adx', 'signal', 'norm'],
  overlay: false,
  summary: '+DI, -DI and ADX (Wilder), with a combined signal normalised against its all-time high',
  params: [{ name: 'n', kind: 'int', min: 2, max: 100_000, default: 14, description: 'Wilder smoothing period' }],
  create: (p: Params) => new DmiStreamer(p.n),
};

