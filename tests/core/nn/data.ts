import type { Klines } from '../../../src/core/market/klines.js';
import { Rng } from '../../../src/core/random.js';

export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;

/**
 * 1m klines whose log return follows r_t = phi·r_{t−1} + noise: the sign of the next return is
 * predictable from the last one (accuracy about 0.5 + asin(phi)/π for a one-kline horizon), so a
 * model can learn it and a test can tell a learnt model from an untrained one.
 */
export function momentumKlines(n: number, seed = 1, phi = 0.6, start = T0): Klines {
  const rng = new Rng(seed);
  const k: Klines = {
    length: n, openTime: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n),
    volume: new Float64Array(n), quoteVolume: new Float64Array(n), trades: new Float64Array(n), takerBuyVolume: new Float64Array(n), takerBuyQuoteVolume: new Float64Array(n),
  };
  let price = 20_000;
  let r = 0;
  for (let i = 0; i < n; i++) {
    r = phi * r + 0.001 * rng.normal();
    const open = price;
    const close = Math.round(open * Math.exp(r) * 10) / 10;
    k.openTime[i] = start + i * MIN;
    k.open[i] = open;
    k.close[i] = close;
    k.high[i] = Math.max(open, close) + Math.round(rng.next() * 50) / 10;
    k.low[i] = Math.min(open, close) - Math.round(rng.next() * 50) / 10;
    k.volume[i] = 1 + Math.round(rng.next() * 1000) / 100;
    k.quoteVolume[i] = k.volume[i] * close;
    k.trades[i] = 10;
    k.takerBuyVolume[i] = k.volume[i] / 2;
    k.takerBuyQuoteVolume[i] = k.quoteVolume[i] / 2;
    price = close;
  }
  return k;
}

/** A small model configuration reading the last returns (and an MFI line) of momentumKlines. */
export function smallConfig(name = 'M1', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type: 'mlp',
    features: { indicators: ['MFI:n=14'], lines: ['MFI.norm'], lags: 1, returns: 3 },
    target: { kind: 'sign', horizon: 1 },
    hidden: [{ size: 8, activation: 'tanh' }],
    init: 'xavier',
    seed: 3,
    training: { epochs: 8, batchSize: 32, learningRate: 0.01, optimizer: 'adam', patience: 0, validation: 0.2 },
    ...extra,
  };
}
