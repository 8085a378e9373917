import { EmaCore } from './ma.js';
import { type IndicatorSpec, type ParamSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Multi MACD. Periods p1 < p2 < ... < pk (2 ≤ k ≤ 6) of EMAs of the close, all multiplied by the
 * kline-interval multiplier m (m = 4 on 15m klines imitates 1h), as is the signal period.
 * macd = mean over i < k of (EMA(p_i·m) - EMA(p_k·m)); signal = EMA(signal·m) of macd;
 * hist = macd - signal; norm = hist / max|hist| so far (ATH-normalised, in [-1, 1]).
 *
 * Seeding follows TA-Lib MACD (ta_MACD.c): every EMA produces its first value at the slowest
 * EMA's first kline P - 1 (P = p_k·m), each seeded with the SMA of its own last p_i·m closes up to
 * that kline (so the fast EMA is not the stand-alone EMA: it starts later). The signal EMA is
 * seeded with the SMA of its first values; all lines start together at kline P - 1 + S - 1, as in
 * TA-Lib. With periods (12, 26), signal 9 and m = 1 this is TA-Lib MACD(12, 26, 9).
 */
export class MmacdStreamer implements Streamer {
  private readonly emas: EmaCore[];
  private readonly starts: Int32Array;
  private readonly signal: EmaCore;
  private count = 0;
  private ath = 0;
  /** Scratch for the running kernel with more than two averages: their values and factors. */
  private readonly values: Float64Array;
  private readonly factors: Float64Array;

  constructor(periods: number[], signal: number, mult: number) {
    const eff = periods.map((p) => p * mult);
    const slow = eff[eff.length - 1];
    this.emas = eff.map((p) => new EmaCore(p));
    this.starts = Int32Array.from(eff.map((p) => slow - p));
    this.signal = new EmaCore(signal * mult);
    this.values = new Float64Array(eff.length);
    this.factors = Float64Array.from(this.emas.map((e) => e.k));
  }

  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const close = k.close;
    const oMacd = out[0];
    const oSignal = out[1];
    const oHist = out[2];
    const oNorm = out[3];
    const emas = this.emas;
    const m = emas.length;
    const signal = this.signal;
    let i = from;
    // Warm-up (the first P + S - 1 klines): EMAs start one after another, nothing is output yet.
    for (; i < to && !signal.ready; i++) {
      const c = this.count++;
      const x = close[i];
      for (let e = 0; e < m; e++) if (c >= this.starts[e]) emas[e].push(x);
      const slow = emas[m - 1];
      if (slow.ready) {
        let acc = 0;
        for (let e = 0; e < m - 1; e++) acc += emas[e].value - slow.value;
        const macd = m === 2 ? acc : acc / (m - 1);
        const sig = signal.push(macd);
        if (signal.ready) {
          this.output(macd, sig, out, i);
          continue;
        }
      }
      oMacd[i] = oSignal[i] = oHist[i] = oNorm[i] = NaN;
    }
    if (i >= to) return;
    // Every average is running: the EMA steps inline, state in locals.
    this.count += to - i;
    const ks = signal.k;
    let sig = signal.value;
    let ath = this.ath;
    if (m === 2) {
      const fast = emas[0];
      const slow = emas[1];
      const kf = fast.k;
      const kslow = slow.k;
      let f = fast.value;
      let sl = slow.value;
      for (; i < to; i++) {
        const x = close[i];
        f = (x - f) * kf + f;
        sl = (x - sl) * kslow + sl;
        const macd = 0 + (f - sl);
        sig = (macd - sig) * ks + sig;
        const hist = macd - sig;
        const mag = Math.abs(hist);
        if (mag > ath) ath = mag;
        oMacd[i] = macd;
        oSignal[i] = sig;
        oHist[i] = hist;
        oNorm[i] = ath > 0 ? hist / ath : 0;
      }
      fast.value = f;
      slow.value = sl;
    } else {
      const values = this.values;
      const factors = this.factors;
      for (let e = 0; e < m; e++) values[e] = emas[e].value;
      const last = m - 1;
      for (; i < to; i++) {
        const x = close[i];
        for (let e = 0; e < m; e++) values[e] = (x - values[e]) * factors[e] + values[e];
        const sl = values[last];
        let acc = 0;
        for (let e = 0; e < last; e++) acc += values[e] - sl;
        const macd = acc / last;
        sig = (macd - sig) * ks + sig;
        const hist = macd - sig;
        const mag = Math.abs(hist);
        if (mag > ath) ath = mag;
        oMacd[i] = macd;
        oSignal[i] = sig;
        oHist[i] = hist;
        oNorm[i] = ath > 0 ? hist / ath : 0;
      }
      for (let e = 0; e < m; e++) emas[e].value = values[e];
    }
    signal.value = sig;
    this.ath = ath;
  }

  /** The lines of kline i once the signal exists (warm-up path). */
  private output(macd: number, sig: number, out: Float64Array[], i: number): void {
    const hist = macd - sig;
    const mag = Math.abs(hist);
    if (mag > this.ath) this.ath = mag;
    out[0][i] = macd;
    out[1][i] = sig;
    out[2][i] = hist;
    out[3][i] = this.ath > 0 ? hist / this.ath : 0;
  }
}

function mmacdParams(mult: number): ParamSpec[] {
  const periods: [number, number][] = [[1, 12], [2, 26], [3, 0], [4, 0], [5, 0], [6, 0]];
  return [
    ...periods.map(([i, def]): ParamSpec => ({
      name: `p${i}`, kind: 'int', min: i <= 2 ? 1 : 0, max: 10_000, default: def, zeroMeansOff: i > 2,
      description: i <= 2 ? `period of EMA ${i}` : `period of EMA ${i} (0 = unused)`,
    })),
    { name: 'signal', kind: 'int', min: 1, max: 10_000, default: 9, description: 'period of the signal EMA' },
    { name: 'mult', kind: 'int', min: 1, max: 1_000, default: mult, description: 'kline-interval multiplier applied to every period' },
  ];
}

export function mmacdPeriods(p: Params): number[] {
  const out: number[] = [];
  for (let i = 1; i <= 6; i++) if (p[`p${i}`] > 0) out.push(p[`p${i}`]);
  return out;
}

function check(p: Params): string | undefined {
  for (let i = 4; i <= 6; i++) if (p[`p${i}`] > 0 && !(p[`p${i - 1}`] > 0)) return `p${i} is set but p${i - 1} is not (use the periods in order)`;
  const periods = mmacdPeriods(p);
  for (let i = 1; i < periods.length; i++) {
    if (periods[i] <= periods[i - 1]) return `periods must increase strictly (p${i} = ${periods[i - 1]}, p${i + 1} = ${periods[i]})`;
  }
  return undefined;
}

function spec(type: string, mult: number, summary: string): IndicatorSpec {
  return {
    type, lines: ['macd', 'signal', 'hist', 'norm'], overlay: false, summary, params: mmacdParams(mult), check,
    create: (p: Params) => new MmacdStreamer(mmacdPeriods(p), p.signal, p.mult),
  };
}

export const MMACD = spec('MMACD', 1, 'MACD over up to six EMAs with a signal line and an interval multiplier');
export const MMACDSHORT = spec('MMACDSHORT', 1, 'MMACD, the short-horizon instance (multiplier 1 by default)');
export const MMACDLONG = spec('MMACDLONG', 4, 'MMACD, the long-horizon instance (multiplier 4 by default)');

