/**
 * An atm strategy file. `atm strategy new <name>` wrote it to <data dir>/strategies/<name>.ts;
 * the file name is the strategy's name. It compiles and runs as it is: try
 * `atm strategy check <name>`, then edit. The whole interface is in docs/strategies.md.
 *
 * Rules of the game
 * - The engine calls onKline(i, k, ind) once per CLOSED kline i, in order. `k` (the klines) and
 *   `ind` (your indicators) show klines 0..i only: `k.close.at(i)` is the close just closed,
 *   `k.close.ago(1)` the one before; reading a later kline throws, so lookahead is impossible.
 * - Return the TARGET position as a fraction of the position's allocated balance, from -1 (all
 *   short) to +1 (all long); 0 is flat. The engine multiplies by the leverage and trades the
 *   difference at the next kline's open. Return 'unchanged' (UNCHANGED) to keep everything as is.
 *   To add a stop-loss / take-profit, return { target, stopLoss, takeProfit } (prices; NaN = none);
 *   a plain number cancels the stops.
 * - Keep onKline cheap and allocation-free (it runs millions of times): create objects in create(),
 *   reuse them. A throw, a wrong value (NaN, out of range) or a call that runs too long stops the
 *   run with an error naming this file and the line.
 * - Import only 'atm/strategy' and files of your own next to this one (put helpers in a
 *   subfolder, e.g. strategies/lib/, so they are not taken for strategies).
 */
import { defineStrategy, UNCHANGED } from 'atm/strategy';

export default defineStrategy({
  description: 'EMA trend with a percentage stop-loss and take-profit (the template)',

  // Typed parameters: integer, float or choice, each with a default; min/max are enforced,
  // step is the increment forms and sweeps use. Override with `--param fast=8`.
  params: {
    fast: { kind: 'integer', default: 12, min: 2, max: 1000, description: 'klines in the fast EMA' },
    slow: { kind: 'integer', default: 26, min: 3, max: 5000, description: 'klines in the slow EMA' },
    stopPct: { kind: 'float', default: 2, min: 0, max: 50, step: 0.5, description: 'stop-loss distance from the close, % (0 = none)' },
    side: { kind: 'choice', default: 'both', choices: ['both', 'long', 'short'], description: 'which side to trade' },
  },

  // A rule across parameters: return the problem in words, or undefined.
  check: (p) => (p.fast < p.slow ? undefined : `fast (${p.fast}) must be less than slow (${p.slow})`),

  // The indicators you need, by name. They are computed before the loop by atm's indicator
  // kernels (types and parameters: docs/indicators.md), e.g. 'SMA:n=20', { type: 'BOL', params:
  // { n: 20, k: 2 } }. `ind.<name>` is the first line, `ind['<name>.<line>']` any line.
  indicators: (p) => ({
    fast: { type: 'EMA', params: { n: p.fast } },
    slow: { type: 'EMA', params: { n: p.slow } },
  }),

  // Called once per position and run. ctx: params, klines, ind, position (what the engine holds:
  // target, entryPrice, stopLoss, takeProfit), symbol, interval.
  create(ctx) {
    const { params, ind, klines } = ctx;
    const fast = ind.fast;
    const slow = ind.slow;
    const close = klines.close;
    const stop = params.stopPct / 100;
    const out = { target: 0 as number | typeof UNCHANGED, stopLoss: NaN, takeProfit: NaN }; // reused every kline

    return {
      onKline(i) {
        const f = fast.at(i);
        const s = slow.at(i);
        if (Number.isNaN(f) || Number.isNaN(s)) return 0; // warm-up: stay flat
        let target = f > s ? 1 : f < s ? -1 : 0;
        if ((params.side === 'long' && target < 0) || (params.side === 'short' && target > 0)) target = 0;
        if (target === ctx.position.target) return UNCHANGED; // nothing new: keep the stops in force
        const c = close.at(i);
        out.target = target;
        out.stopLoss = stop > 0 && target !== 0 ? c * (1 - target * stop) : NaN;
        out.takeProfit = stop > 0 && target !== 0 ? c * (1 + 2 * target * stop) : NaN;
        return out;
      },

      // Optional: told about fills, stops, liquidations and rejected orders (with Binance's code).
      onEvent(event) {
        void event;
      },
    };
  },
});
