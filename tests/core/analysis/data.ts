import type { KlineColumns } from '../../../src/core/analysis/indicators/index.js';
import { seededUniform } from '../../../src/core/random.js';

/** Deterministic PRNG (the program's one seeded generator). */
export const rng = seededUniform;

/**
 * A realistic 1m kline series: a random walk on a 0.1 tick around `start`, with repeated closes
 * (ties), flat klines (open = high = low = close) and zero-volume klines sprinkled in.
 */
export function generateKlines(n: number, seed = 1, start = 20_000): KlineColumns {
  const r = rng(seed);
  const k: KlineColumns = {
    openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n),
    close: new Float64Array(n), volume: new Float64Array(n), takerBuyVolume: new Float64Array(n),
  };
  const tick = 0.1;
  let price = start;
  for (let i = 0; i < n; i++) {
    k.openTime[i] = 1_700_000_000_000 + i * 60_000;
    const open = price;
    const kind = r();
    let close: number;
    let high: number;
    let low: number;
    if (kind < 0.05) {
      close = high = low = open; // flat kline
    } else {
      const drift = (r() - 0.5) * 40;
      close = kind < 0.1 ? open : Math.max(tick, Math.round((open + drift) / tick) * tick); // some ties
      high = Math.round((Math.max(open, close) + r() * 15) / tick) * tick;
      low = Math.max(tick, Math.round((Math.min(open, close) - r() * 15) / tick) * tick);
    }
    const zero = r() < 0.04;
    const volume = zero ? 0 : Math.round(r() * 500 * 1000) / 1000;
    k.open[i] = open;
    k.high[i] = high;
    k.low[i] = low;
    k.close[i] = close;
    k.volume[i] = volume;
    k.takerBuyVolume[i] = zero ? 0 : Math.round(volume * r() * 1000) / 1000;
    price = close;
  }
  return k;
}

/** Relative closeness with an absolute floor of `tol` for values near zero. */
export function near(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Asserts `actual` equals `expected` (NaN = no value) at every index, returning the first mismatch. */
export function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) !== Number.isNaN(a)) return `index ${i}: got ${a}, expected ${e}`;
    if (!Number.isNaN(e) && !near(a, e, tol)) return `index ${i}: got ${a}, expected ${e}`;
  }
  return undefined;
}

/** The same series in the market layer's `Klines` shape (for the kline store). */
export function toKlines(k: KlineColumns): import('../../../src/core/market/klines.js').Klines {
  const n = k.close.length;
  return {
    length: n, openTime: k.openTime, open: k.open, high: k.high, low: k.low, close: k.close, volume: k.volume,
    quoteVolume: k.volume.map((v, i) => Math.round(v * k.close[i] * 100) / 100), trades: k.volume.map((v) => Math.round(v)),
    takerBuyVolume: k.takerBuyVolume, takerBuyQuoteVolume: k.takerBuyVolume.map((v, i) => Math.round(v * k.close[i] * 100) / 100),
  };
}

/** The first `n` rows. */
export function head(k: KlineColumns, n: number): KlineColumns {
  return {
    openTime: k.openTime.slice(0, n), open: k.open.slice(0, n), high: k.high.slice(0, n), low: k.low.slice(0, n),
    close: k.close.slice(0, n), volume: k.volume.slice(0, n), takerBuyVolume: k.takerBuyVolume.slice(0, n),
  };
}
