import type { IndicatorView, Series } from '../api.js';

/**
 * What the PIP trade controls (`rqpm`, `ts`) share: the parameters of a cycle (side, FSL, exit
 * gates), the PIP lines they read and the exit-gate test. docs/strategies.md states the math.
 * A helper module like a user's `strategies/lib/` file: it imports only ../api.js.
 */

export const CYCLE_PARAMS = {
  side: { kind: 'choice', default: 'both', choices: ['both', 'long', 'short'], description: 'which PIP impulses may open a cycle' },
  fslImmediate: { kind: 'float', default: 0, min: 0, max: 0.99, step: 0.001, description: 'FSL immediate: stop-loss at this fraction of the reference price against the position, inside the kline (0 = off)' },
  fslClose: { kind: 'float', default: 0, min: 0, max: 0.99, step: 0.001, description: 'FSL on close: exit when a close is this fraction of the reference price against the position (0 = off)' },
  eoi: { kind: 'float', default: -1, min: -1, max: 1, step: 0.01, description: 'EOI gate: exit only when side·cs <= -eoi (-1 = off)' },
  eoa: { kind: 'float', default: -1, min: -1, max: 1, step: 0.001, description: 'EOA gate: exit only on a kline that moved at least eoa in the position\'s favour (-1 = off)' },
  eop: { kind: 'float', default: -1, min: -1, max: 1, step: 0.001, description: 'EOP gate: exit only when the price delta from the reference price is at least eop (-1 = off)' },
} as const;

/** The CAC columns the trade controls read (all that a run keeps of the CAC). */
export const PIP_CYCLE_LINES = ['PIP.direction', 'PIP.impulse', 'PIP.cs'] as const;

/** The PIP lines a trade control reads; throws (kind `create`) when the CAC has no PIP. */
export function pipLines(ind: IndicatorView): { direction: Series; impulse: Series; cs: Series } {
  const direction = ind['PIP.direction'];
  const impulse = ind['PIP.impulse'];
  const cs = ind['PIP.cs'];
  if (!direction || !impulse || !cs) throw new Error("the position's CAC has no PIP; add `pip:` to the CAC (docs/indicators.md)");
  return { direction, impulse, cs };
}

const clip = (x: number): number => (x > 1 ? 1 : x < -1 ? -1 : x);

/**
 * The exit gates on kline i of a cycle with side `side` and reference price `ref`: EOI σ·cs ≤ −eoi,
 * EOA σ·clip(close/open − 1) ≥ eoa, EOP σ·clip(close/ref − 1) ≥ eop; a gate at −1 is off.
 */
export function gatesPass(side: number, ref: number, cs: number, open: number, close: number, eoi: number, eoa: number, eop: number): boolean {
  if (eoi > -1 && !(side * cs <= -eoi)) return false;
  if (eoa > -1 && !(side * clip(close / open - 1) >= eoa)) return false;
  if (eop > -1 && !(side * clip(close / ref - 1) >= eop)) return false;
  return true;
}

/** Whether `side` (a choice value) lets an impulse m (±1) open a cycle. */
export const sideAllows = (side: string, m: number): boolean => side === 'both' || (side === 'long' ? m > 0 : m < 0);
