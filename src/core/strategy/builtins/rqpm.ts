import { defineStrategy, UNCHANGED } from '../api.js';
import { CYCLE_PARAMS, gatesPass, PIP_CYCLE_LINES, pipLines, sideAllows } from './pip-cycle.js';

/**
 * RQPM, the remaining quantity percentage map (the original program's trade control): a PIP
 * impulse opens a cycle at the whole allocation; the held fraction then follows the
 * ROTATIONALGAUSSIAN map of (klines since entry, price delta from the entry close), never growing,
 * reduced only on klines where the exit gates EOI/EOA/EOP pass; FSL immediate (a stop-loss price)
 * and FSL on close end it. Exact rules: docs/strategies.md, "rqpm".
 */
export default defineStrategy({
  name: 'rqpm',
  description: 'PIP trade control: enter on a PIP impulse, then hold the fraction a rotational Gaussian map of time and price since entry gives (reduce-only, gated by EOI/EOA/EOP), with FSL',
  usesCac: true,
  cacLines: PIP_CYCLE_LINES,
  params: {
    ...CYCLE_PARAMS,
    function: { kind: 'choice', default: 'ROTATIONALGAUSSIAN', choices: ['ROTATIONALGAUSSIAN'], description: 'the RQP map' },
    theta: { kind: 'float', default: 0.5, min: 0, max: 1, step: 0.01, description: 'rotation: angle (theta + 0.5)·π' },
    alpha: { kind: 'float', default: 0.5, min: 0.0001, max: 100, step: 0.01, description: 'width along the rotated time axis' },
    beta0: { kind: 'float', default: 0.5, min: 0.0001, max: 100, step: 0.01, description: 'width on the negative side of the rotated price axis' },
    beta1: { kind: 'float', default: 0.5, min: 0.0001, max: 100, step: 0.01, description: 'width on the positive side of the rotated price axis' },
    gamma: { kind: 'integer', default: 1, min: 1, max: 10, description: 'flatness: exp(-q^gamma)' },
    timeUnit: { kind: 'integer', default: 10_000, min: 1, max: 10_000_000, description: 'klines per unit of the time axis' },
    reduceStep: { kind: 'float', default: 0.01, min: 0, max: 1, step: 0.01, description: 'reduce only when the map is at least this much below the held fraction' },
    exitBelow: { kind: 'float', default: 0.05, min: 0, max: 1, step: 0.01, description: 'end the cycle when the map falls below this' },
  },
  create: ({ params: p, klines: k, ind }) => {
    const { impulse, cs } = pipLines(ind);
    const { open, high, low, close } = k;
    const side = p.side;
    const fslI = p.fslImmediate;
    const fslC = p.fslClose;
    const { eoi, eoa, eop, gamma, exitBelow, reduceStep } = p;
    const phi = (p.theta + 0.5) * Math.PI;
    const cosPhi = Math.cos(phi);
    const sinPhi = Math.sin(phi);
    const ax = 1 / (2 * p.alpha * p.alpha);
    const b0 = 1 / (2 * p.beta0 * p.beta0);
    const b1 = 1 / (2 * p.beta1 * p.beta1);
    const invUnit = 1 / p.timeUnit;

    // The cycle: side σ (0 = none), start kline, reference price, held fraction.
    let sigma = 0;
    let begin = -1;
    let ref = NaN;
    let held = 0;
    let rqp = 1;
    /** The stop-loss returned on the previous kline (in force during this one). */
    let stopInForce = NaN;
    /** What the last kline returned (the runner starts at 0, no stop). */
    let lastTarget = 0;
    const out = { target: 0, stopLoss: NaN, takeProfit: NaN };

    const end = () => {
      sigma = 0;
      held = 0;
      lastTarget = NaN; // the engine may hold 0 already (a stop, a liquidation): say 0 again
    };

    return {
      onKline(i) {
        const c = close.at(i);
        // 1. A stop fired inside this kline.
        if (sigma !== 0 && stopInForce === stopInForce && (sigma > 0 ? low.at(i) <= stopInForce : high.at(i) >= stopInForce)) end();
        // 2. Impulse: against the cycle ends it; outside a cycle an allowed one opens one.
        const m = impulse.at(i);
        if (sigma !== 0 && m === -sigma) end();
        if (sigma === 0 && m !== 0 && m === m && sideAllows(side, m)) {
          sigma = m;
          begin = i;
          ref = c;
          held = 1;
          rqp = 1;
        }
        // 3. Inside the cycle, after its first kline.
        if (sigma !== 0 && i > begin) {
          const pd = sigma * (c / ref - 1);
          if (fslC > 0 && pd <= -fslC) end();
          else {
            // The ROTATIONALGAUSSIAN map, non-increasing within the cycle.
            const x = (i - begin) * invUnit;
            const u = cosPhi * x + sinPhi * pd;
            const v = -sinPhi * x + cosPhi * pd;
            const q = u * u * ax + v * v * (v < 0 ? b0 : b1);
            const g = Math.exp(-(gamma === 1 ? q : Math.pow(q, gamma)));
            if (g < rqp) rqp = g;
            if (held - rqp >= reduceStep && rqp < held && gatesPass(sigma, ref, cs.at(i), open.at(i), c, eoi, eoa, eop)) {
              held = rqp;
              if (held < exitBelow || held === 0) end();
            }
          }
        }
        // 4. Output ('unchanged' when it is what the last kline returned: no work for the engine).
        const target = sigma === 0 ? 0 : sigma * held;
        const stop = sigma !== 0 && fslI > 0 ? ref * (1 - sigma * fslI) : NaN;
        if (target === lastTarget && (stop === stopInForce || (stop !== stop && stopInForce !== stopInForce))) return UNCHANGED;
        lastTarget = target;
        stopInForce = stop;
        if (sigma === 0) return 0;
        out.target = target;
        out.stopLoss = stop;
        return out;
      },
      onEvent(event) {
        // A liquidation cannot be seen in the klines; a stop is (step 1).
        if (event.kind === 'liquidation') end();
      },
    };
  },
});
