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

  constructor(periods: number[], signal: number, mult: number) {
    const eff = periods.map((p) => p * mult);
    const slow = eff[eff.length - 1];
    this.emas = eff.map((p) => new EmaCore(p));
    this.starts = Int32Array.from(eff.map((p) => slow - p));
    this.signal = new EmaCore(signal * mult);
  }

  update(k: KlineColumns, t: number, out: Float64Array[], r: number): void {
    const c = this.count++;
    const x = k.close[t];
    const emas = this.emas;
    const m = emas.length;
    for (let i = 0; i < m; i++) if (c >= this.starts[i]) emas[i].push(x);
    const slow = emas[m - 1];
    if (!slow.ready) {
      out[0][r] = out[1][r] = out[2][r] = out[3][r] = NaN;
      return;
    }
    let acc = 0;
    for (let i = 0; i < m - 1; i++) acc += emas[i].value - slow.value;
    const macd = m === 2 ? acc : acc / (m - 1);
    const sig = this.signal.push(macd);
    if (!this.signal.ready) {
      out[0][r] = out[1][r] = out[2][r] = out[3][r] = NaN;
      return;
    }
    const hist = macd - sig;
    const mag = Math.abs(hist);
    if (mag > this.ath) this.ath = mag;
    out[0][r] = macd;
    out[1][r] = sig;
    out[2][r] = hist;
    out[3][r] = this.ath > 0 ? hist / this.ath : 0;
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
  batch: (p: Params, existing?: Streamer) => {
    const s = (existing as MmacdStreamer | undefined) ?? new MmacdStreamer(mmacdPeriods(p), p.signal, p.mult);
    return (k: KlineColumns, from: number, to: number, cols: Float64Array[]) => batchMmacd(s, k, from, to, cols);
  },
  };
}

export const MMACD = spec('MMACD', 1, 'MACD over up to six EMAs with a signal line and an interval multiplier');
export const MMACDSHORT = spec('MMACDSHORT', 1, 'MMACD, the short-horizon instance (multiplier 1 by default)');
export const MMACDLONG = spec('MMACDLONG', 4, 'MMACD, the long-horizon instance (multiplier 4 by default)');

/** Batch over klines [from, to): the streaming state machine in a loop of its own (a monomorphic call). */
function batchMmacd(s: MmacdStreamer, k: KlineColumns, from: number, to: number, cols: Float64Array[]): void {
  for (let i = from; i < to; i++) s.update(k, i, cols, i);
}
