import type { NnConfig, NnModelData } from './model.js';
import { Network, type NetworkSpec } from './network.js';
import { featureNames } from './window.js';

export function networkSpec(config: NnConfig): NetworkSpec {
  return { inputs: featureNames(config.features).length, hidden: config.type === 'logreg' ? [] : config.hidden, loss: config.target.kind === 'sign' ? 'bce' : 'mse' };
}

/**
 * A loaded model for inference: standardises a raw row with the training statistics and runs the
 * network. `signal` is PIP's nn input in [-1, 1]: 2p − 1 for a sign model, tanh(ŷ / sd of the
 * training labels) for a size model.
 */
export class NnPredictor {
  readonly net: Network;
  private readonly mean: Float64Array;
  private readonly sd: Float64Array;
  private readonly scratch: Float64Array;
  private readonly bce: boolean;
  private readonly ySd: number;

  constructor(readonly data: NnModelData) {
    this.net = new Network(networkSpec(data.config), data.params);
    this.mean = Float64Array.from(data.mean);
    this.sd = Float64Array.from(data.sd);
    this.scratch = new Float64Array(this.mean.length);
    this.bce = data.config.target.kind === 'sign';
    this.ySd = data.ySd > 0 ? data.ySd : 1;
  }

  /** The network's output for a raw row (row-major matrix `x`, row starting at `base`). */
  predict(x: Float64Array, base = 0): number {
    const s = this.scratch;
    const mean = this.mean;
    const sd = this.sd;
    for (let j = 0; j < s.length; j++) s[j] = (x[base + j] - mean[j]) / sd[j];
    return this.net.predictOne(s, 0);
  }

  signal(x: Float64Array, base = 0): number {
    const o = this.predict(x, base);
    return this.bce ? 2 * o - 1 : Math.tanh(o / this.ySd);
  }
}

