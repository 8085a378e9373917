import { defineStrategy, UNCHANGED } from '../api.js';
import { CYCLE_PARAMS, gatesPass, PIP_CYCLE_LINES, pipLines, sideAllows } from './pip-cycle.js';

/**
 * TS, the trade scenario (the original program's trade control): a PIP impulse opens a cycle at
 * step 1's quantity; later steps, reached in order when the close has moved their price delta from
 * the entry close, set the quantity to hold (scale in, scale out, partial stops; 0 ends it). WR caps
 * the quantity once a price is reached, RAF closes after the price reached one level and fell back
 * to another, PIP going flat exits (gated by EOI/EOA/EOP), and FSL immediate / on close stop it.
 * Exact rules: docs/strategies.md, "ts".
 */
export default defineStrategy({
  name: 'ts',
  description: 'PIP trade control: enter on a PIP impulse, then follow up to 5 steps of (price delta, quantity) from the entry close; WR, RAF, FSL; exit when PIP goes flat (gated by EOI/EOA/EOP)',
  usesCac: true,
  cacLines: PIP_CYCLE_LINES,
  params: {
    ...CYCLE_PARAMS,
    steps: { kind: 'integer', default: 1, min: 1, max: 5, description: 'steps of the scenario in use (step 1 is the entry)' },
    qd1: { kind: 'float', default: 1, min: 0.01, max: 1, step: 0.01, description: 'step 1 (entry): quantity as a fraction of the allocation' },
    pd2: { kind: 'float', default: 0.01, min: -0.99, max: 10, step: 0.001, description: 'step 2: price delta from the entry close (< 0: against the position)' },
    qd2: { kind: 'float', default: 0.5, min: 0, max: 1, step: 0.01, description: 'step 2: quantity to hold (0 ends the cycle)' },
    pd3: { kind: 'float', default: 0.02, min: -0.99, max: 10, step: 0.001, description: 'step 3: price delta' },
    qd3: { kind: 'float', default: 0.25, min: 0, max: 1, step: 0.01, description: 'step 3: quantity' },
    pd4: { kind: 'float', default: 0.03, min: -0.99, max: 10, step: 0.001, description: 'step 4: price delta' },
    qd4: { kind: 'float', default: 0.1, min: 0, max: 1, step: 0.01, description: 'step 4: quantity' },
    pd5: { kind: 'float', default: 0.04, min: -0.99, max: 10, step: 0.001, description: 'step 5: price delta' },
    qd5: { kind: 'float', default: 0, min: 0, max: 1, step: 0.01, description: 'step 5: quantity' },
    wrReach: { kind: 'float', default: 0, min: 0, max: 10, step: 0.001, description: 'WR: price delta (by the kline\'s extreme) that caps the quantity (0 = off)' },
    wrTo: { kind: 'float', default: 0.5, min: 0, max: 1, step: 0.01, description: 'WR: the cap' },
    rafReach: { kind: 'float', default: 0, min: 0, max: 0.99, step: 0.001, description: 'RAF: price delta (by the extremes) that arms it (0 = off)' },
    rafFall: { kind: 'float', default: 0, min: 0, max: 0.99, step: 0.001, description: 'RAF: armed, exit when the price falls back to this delta' },
  },
  check: (p) => (p.rafReach > 0 && !(p.rafFall < p.rafReach) ? `rafFall (${p.rafFall}) must be less than rafReach (${p.rafReach})` : undefined),
  create: ({ params: p, klines: k, ind }) => {
    const { direction, impulse, cs } = pipLines(ind);
    const { open, high, low, close } = k;
    const side = p.side;
    const fslI = p.fslImmediate;
    const fslC = p.fslClose;
    const { eoi, eoa, eop, wrReach, wrTo, rafReach, rafFall } = p;
    const nSteps = p.steps;
    // Steps 1..5: price delta (step 1: none) and quantity.
    const pd = Float64Array.of(0, 0, p.pd2, p.pd3, p.pd4, p.pd5);
    const qd = Float64Array.of(0, p.qd1, p.qd2, p.qd3, p.qd4, p.qd5);

    let sigma = 0;
    let begin = -1;
    let ref = NaN;
    let step = 0;
    let cap = 1;
    let wrDone = false;
    let rafArmed = false;
    /** The most favourable extreme since the entry kline (long: highest high; short: lowest low). */
    let extreme = NaN;
    let stopInForce = NaN;
    /** What the last kline returned (the runner starts at 0, no stop). */
    let lastTarget = 0;
    const out = { target: 0, stopLoss: NaN, takeProfit: NaN };
    const end = () => {
      sigma = 0;
      lastTarget = NaN; // the engine may hold 0 already (a stop, a liquidation): say 0 again
    };

    return {
      onKline(i) {
        const c = close.at(i);
        // 1. A stop (FSL immediate or RAF) fired inside this kline.
        if (sigma !== 0 && stopInForce === stopInForce && (sigma > 0 ? low.at(i) <= stopInForce : high.at(i) >= stopInForce)) end();
        // 2. Impulse.
        const m = impulse.at(i);
        if (sigma !== 0 && m === -sigma) end();
        if (sigma === 0 && m !== 0 && m === m && sideAllows(side, m)) {
          sigma = m;
          begin = i;
          ref = c;
          step = 1;
          cap = 1;
          wrDone = false;
          rafArmed = false;
          extreme = NaN;
        }
        // 3. Inside the cycle, after its first kline.
        if (sigma !== 0 && i > begin) {
          const delta = sigma * (c / ref - 1);
          const favourable = sigma > 0 ? high.at(i) : low.at(i);
          if (extreme !== extreme || (sigma > 0 ? favourable > extreme : favourable < extreme)) extreme = favourable;
          if (fslC > 0 && delta <= -fslC) end();
          else if (rafReach > 0 && (rafArmed || (rafArmed = sigma * (extreme / ref - 1) >= rafReach)) && delta <= rafFall) end();
          else if (direction.at(i) !== sigma && gatesPass(sigma, ref, cs.at(i), open.at(i), c, eoi, eoa, eop)) end();
          else {
            while (step < nSteps) {
              const want = pd[step + 1];
              if (want >= 0 ? delta >= want : delta <= want) step++;
              else break;
            }
            if (wrReach > 0 && !wrDone && sigma * (favourable / ref - 1) >= wrReach) {
              wrDone = true;
              cap = wrTo;
            }
          }
        }
        // 4. Output ('unchanged' when it is what the last kline returned: no work for the engine).
        const held = sigma !== 0 ? Math.min(qd[step], cap) : 0;
        if (held === 0) sigma = 0;
        let stop = sigma !== 0 && fslI > 0 ? ref * (1 - sigma * fslI) : NaN;
        if (sigma !== 0 && rafArmed) {
          const r = ref * (1 + sigma * rafFall);
          if (stop !== stop || (sigma > 0 ? r > stop : r < stop)) stop = r;
        }
        const target = sigma * held;
        if (target === lastTarget && (stop === stopInForce || (stop !== stop && stopInForce !== stopInForce))) return UNCHANGED;
        lastTarget = target;
        stopInForce = stop;
        if (sigma === 0) return 0;
        out.target = target;
        out.stopLoss = stop;
        return out;
      },
      onEvent(event) {
        if (event.kind === 'liquidation') end();
      },
    };
  },
});
