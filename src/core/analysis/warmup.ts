import type { Cac, CacIndicator } from './cac.js';

/**
 * Klines an indicator consumes before its first value (its warm-up), from its parameters. The
 * exponentially smoothed ones (EMA, MMACD, DMIXADX's Wilder sums, NES, WOI) get three times that:
 * after 2n more klines the SMA seed weighs about e^-4 ≈ 2 % in an EMA(n), so the values no longer
 * depend on where the run started. PSAR needs 2 klines; IVP its `interval` (minimum samples).
 */
export function indicatorWarmup(ind: CacIndicator): number {
  const p = ind.params;
  switch (ind.type) {
    case 'SMA':
    case 'WMA':
    case 'BOL':
      return p.n;
    case 'EMA':
      return 3 * p.n;
    case 'PSAR':
      return 2;
    case 'IVP':
      return p.interval;
    case 'MMACD':
    case 'MMACDSHORT':
    case 'MMACDLONG': {
      const periods = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((k) => p[k] ?? 0).filter((x) => x > 0);
      const slowest = Math.max(1, ...periods) * p.mult;
      return 3 * (slowest + p.signal * p.mult);
    }
    case 'DMIXADX':
      return 3 * 2 * p.n;
    case 'MFI':
      return p.n + 1;
    case 'NES':
    case 'WOI':
      return 3 * p.interval;
    default:
      // an indicator added later: its largest integer parameter is the best guess of its window
      return Math.max(0, ...Object.values(p).filter((x) => Number.isInteger(x)));
  }
}

/**
 * Klines to analyse before the first kline one wants meaningful values for: the slowest
 * indicator's warm-up, plus (with PIP) the csNSamples filtered samples PIP needs before it may act
 * and the 2·swing klines of a swing window. ATH-normalised lines (`norm`) divide by the largest
 * value seen since the start, so they always depend on the start; the warm-up only makes that
 * history longer.
 */
export function cacWarmup(cac: Cac): number {
  let w = 0;
  for (const ind of cac.indicators) w = Math.max(w, indicatorWarmup(ind));
  if (cac.pip) w += (cac.pip.params.csNSamples ?? 0) + 2 * (cac.pip.params.swing ?? 0);
  return w;
}
