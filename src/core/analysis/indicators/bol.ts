import { type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Bollinger bands: middle = SMA(n), upper/lower = middle ± k·σ (population σ); first at n-1.
 *
 * Rolling mean and population variance over the last n closes, from sums shifted by an anchor c:
 * S1 = Σ(x - c), S2 = Σ(x - c)², mean = c + S1/n, var = S2/n - (S1/n)² (a negative rounding
 * result is taken as 0). Every n klines the sums are recomputed exactly and c moves to the window
 * mean, so there is no catastrophic cancellation (prices ~1e4 with a spread ~1 keep full precision)
 * and no drift beyond one window. c starts at the first close.
 */
export class BolStreamer implements Streamer {
  private readonly ring: Float64Array;
  private idx = 0;
  private count = 0;
  private c = 0;
  private s1 = 0;
  private s2 = 0;
  private sinceExact = 0;

  constructor(private readonly n: number, private readonly k: number) {
    this.ring = new Float64Array(n);
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const close = k.close;
    const upper = out[0];
    const middle = out[1];
    const lower = out[2];
    const ring = this.ring;
    const n = this.n;
    const width = this.k;
    let idx = this.idx;
    let count = this.count;
    let c = this.c;
    let s1 = this.s1;
    let s2 = this.s2;
    let sinceExact = this.sinceExact;
    for (let i = from; i < to; i++) {
      const x = close[i];
      if (count < n) {
        if (count === 0) c = x;
        ring[idx] = x;
        idx = idx + 1 === n ? 0 : idx + 1;
        const d = x - c;
        s1 += d;
        s2 += d * d;
        count++;
        if (count < n) {
          upper[i] = NaN;
          middle[i] = NaN;
          lower[i] = NaN;
          continue;
        }
      } else {
        const old = ring[idx];
        ring[idx] = x;
        idx = idx + 1 === n ? 0 : idx + 1;
        if (++sinceExact >= n) {
          sinceExact = 0;
          let s = 0;
          for (let j = 0; j < n; j++) s += ring[j];
          c = s / n;
          s1 = 0;
          s2 = 0;
          for (let j = 0; j < n; j++) {
            const d = ring[j] - c;
            s1 += d;
            s2 += d * d;
          }
        } else {
          const dOld = old - c;
          const dNew = x - c;
          s1 += dNew - dOld;
          s2 += dNew * dNew - dOld * dOld;
        }
      }
      const mid = c + s1 / n;
      const m = s1 / n;
      const v = s2 / n - m * m;
      const dev = width * Math.sqrt(v > 0 ? v : 0);
      upper[i] = mid + dev;
      middle[i] = mid;
      lower[i] = mid - dev;
    }
    this.idx = idx;
    this.count = count;
    this.c = c;
    this.s1 = s1;
    this.s2 = s2;
    this.sinceExact = sinceExact;
  }
}

export const BOL: IndicatorSpec = {
  type: 'BOL',
  lines: ['upper', 'middle', 'lower'],
  overlay: true,
  summary: 'Bollinger bands (SMA ± k population standard deviations)',
  params: [
    { name: 'n', kind: 'int', min: 2, max: 100_000, default: 20, description: 'number of klines in the average' },
    { name: 'k', kind: 'number', min: 0, minExclusive: true, max: 10, default: 2, description: 'width in standard deviations' },
  ],
  create: (p: Params) => new BolStreamer(p.n, p.k),
};

