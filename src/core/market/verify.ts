import { alignOpenTime, findGaps, type Gap, type Interval, type Klines } from './klines.js';

/**
 * `atm data verify`: continuity and OHLC sanity of stored klines. Per kline:
 *
 * - the open time is aligned to the interval (UTC boundaries, Monday weeks, calendar months);
 * - low <= min(open, close), high >= max(open, close) (so low <= high), all prices > 0;
 * - volume, quote volume, trades, taker buy volumes >= 0, trades an integer;
 * - taker buy volume <= volume and taker buy quote volume <= quote volume;
 * - with volume > 0, the average price quoteVolume / volume lies in [low, high], allowing
 *   1e-6 relative for the rounding of the published quote volume.
 *
 * and between klines: strictly increasing open times with no missing one (gaps).
 */
export type ProblemKind = 'unaligned' | 'ohlc' | 'price' | 'negative' | 'taker' | 'vwap' | 'order';

export interface Problem {
  kind: ProblemKind;
  openTime: number;
  detail: string;
}

export interface VerifyResult {
  symbol: string;
  interval: Interval;
  rows: number;
  first?: number;
  last?: number;
  gaps: Gap[];
  missing: number;
  /** Problem counts by kind. */
  counts: Partial<Record<ProblemKind, number>>;
  /** The first problems found (at most `maxExamples`). */
  examples: Problem[];
  ok: boolean;
}

export function verifyKlines(symbol: string, interval: Interval, k: Klines, maxExamples = 20): VerifyResult {
  const counts: Partial<Record<ProblemKind, number>> = {};
  const examples: Problem[] = [];
  const report = (kind: ProblemKind, openTime: number, detail: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    if (examples.length < maxExamples) examples.push({ kind, openTime, detail });
  };
  const { openTime, open, high, low, close, volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume } = k;
  let ordered = true;
  for (let i = 0; i < k.length; i++) {
    const t = openTime[i];
    if (alignOpenTime(t, interval) !== t) report('unaligned', t, `open time ${t} is not on a ${interval} boundary`);
    if (i > 0 && t <= openTime[i - 1]) {
      ordered = false;
      report('order', t, `open time ${t} does not follow ${openTime[i - 1]}`);
    }
    const o = open[i];
    const h = high[i];
    const l = low[i];
    const c = close[i];
    if (!(o > 0 && h > 0 && l > 0 && c > 0)) report('price', t, `non-positive price (o ${o} h ${h} l ${l} c ${c})`);
    if (!(l <= Math.min(o, c) && h >= Math.max(o, c) && l <= h)) report('ohlc', t, `OHLC out of order (o ${o} h ${h} l ${l} c ${c})`);
    const v = volume[i];
    const q = quoteVolume[i];
    if (!(v >= 0 && q >= 0 && trades[i] >= 0 && Number.isInteger(trades[i]) && takerBuyVolume[i] >= 0 && takerBuyQuoteVolume[i] >= 0)) {
      report('negative', t, `negative or non-integer volume fields`);
    }
    if (takerBuyVolume[i] > v || takerBuyQuoteVolume[i] > q) report('taker', t, `taker buy volume above the total (${takerBuyVolume[i]} > ${v} or ${takerBuyQuoteVolume[i]} > ${q})`);
    if (v > 0) {
      const avg = q / v;
      const tol = 1e-6 * avg;
      if (avg < l - tol || avg > h + tol) report('vwap', t, `average price ${avg} outside [${l}, ${h}]`);
    }
  }
  const gaps = ordered ? findGaps(k, interval) : [];
  const missing = gaps.reduce((a, g) => a + g.missing, 0);
  return {
    symbol,
    interval,
    rows: k.length,
    first: k.length > 0 ? openTime[0] : undefined,
    last: k.length > 0 ? openTime[k.length - 1] : undefined,
    gaps,
    missing,
    counts,
    examples,
    ok: examples.length === 0 && gaps.length === 0,
  };
}
