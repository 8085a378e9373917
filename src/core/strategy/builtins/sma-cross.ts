import { defineStrategy, UNCHANGED } from '../api.js';

/**
 * Moving-average cross: on a kline where both SMAs of the close exist, long (+1) when the fast one
 * is above the slow one, short (−1) when below, unchanged when equal; flat (0) before both exist.
 */
export default defineStrategy({
  name: 'sma-cross',
  description: 'long when SMA(fast) of the close is above SMA(slow), short when below, unchanged when equal, flat before both exist',
  params: {
    fast: { kind: 'integer', default: 10, min: 2, max: 100_000, description: 'klines in the fast average' },
    slow: { kind: 'integer', default: 30, min: 3, max: 100_000, description: 'klines in the slow average' },
  },
  check: (p) => (p.fast < p.slow ? undefined : `fast (${p.fast}) must be less than slow (${p.slow})`),
  indicators: (p) => ({ fast: { type: 'SMA', params: { n: p.fast } }, slow: { type: 'SMA', params: { n: p.slow } } }),
  create: ({ ind }) => {
    const fast = ind.fast;
    const slow = ind.slow;
    return {
      onKline(i) {
        const f = fast.at(i);
        const s = slow.at(i);
        if (f !== f || s !== s) return 0; // NaN: an average does not exist yet
        return f > s ? 1 : f < s ? -1 : UNCHANGED;
      },
    };
  },
});
