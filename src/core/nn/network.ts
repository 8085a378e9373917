import { Rng } from '../random.js';

/**
 * The neural network models: a multilayer perceptron (dense layers) and logistic regression (an
 * MLP with no hidden layer and a sigmoid output). All parameters live in one Float64Array
 * (`params`), layer by layer: the weights of layer l as a row per output unit ([out][in]), then its
 * biases. Forward and backward passes work on a mini-batch held in preallocated buffers, so
 * training allocates nothing per sample or per batch.
 */
export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const INITS = ['xavier', 'he', 'uniform'] as const;
export type Init = (typeof INITS)[number];
/** `bce`: binary cross-entropy on a sigmoid output (targets 0/1); `mse`: mean squared error on a linear output. */
export type Loss = 'bce' | 'mse';

export interface LayerSpec {
  size: number;
  activation: Activation;
}

export interface NetworkSpec {
  inputs: number;
  /** Hidden layers (none for logistic regression). */
  hidden: LayerSpec[];
  /** The loss, which fixes the output unit: sigmoid for `bce`, linear for `mse`. */
  loss: Loss;
}

const ACT_CODE: Record<Activation, number> = { relu: 0, tanh: 1, sigmoid: 2, linear: 3 };

/** Number of parameters of a network. */
export function paramCount(spec: NetworkSpec): number {
  let n = 0;
  let prev = spec.inputs;
  for (const l of [...spec.hidden, { size: 1 }]) {
    n += l.size * prev + l.size;
    prev = l.size;
  }
  return n;
}

export class Network {
  readonly params: Float64Array;
  readonly grad: Float64Array;
  /** Units per layer, input first, output (1) last. */
  readonly sizes: Int32Array;
  /** Activation code per layer after the input (sizes.length - 1 entries). */
  readonly acts: Int32Array;
  /** Offset of each layer's weights in params (biases follow the weights). */
  readonly wOff: Int32Array;
  readonly bOff: Int32Array;
  readonly layers: number;
  /** Batch capacity of the buffers. */
  private cap = 0;
  /** Per layer (0 = input copy not kept; the input matrix is read directly): activations, deltas. */
  private a: Float64Array[] = [];
  private d: Float64Array[] = [];
  private single: Float64Array[] = [];

  constructor(readonly spec: NetworkSpec, params?: Float64Array) {
    const sizes = [spec.inputs, ...spec.hidden.map((h) => h.size), 1];
    this.sizes = Int32Array.from(sizes);
    this.layers = sizes.length - 1;
    this.acts = Int32Array.from([...spec.hidden.map((h) => ACT_CODE[h.activation]), spec.loss === 'bce' ? ACT_CODE.sigmoid : ACT_CODE.linear]);
    this.wOff = new Int32Array(this.layers);
    this.bOff = new Int32Array(this.layers);
    let off = 0;
    for (let l = 0; l < this.layers; l++) {
      this.wOff[l] = off;
      off += sizes[l + 1] * sizes[l];
      this.bOff[l] = off;
      off += sizes[l + 1];
    }
    if (params && params.length !== off) throw new Error(`network needs ${off} parameters, got ${params.length}`);
    this.params = params ? Float64Array.from(params) : new Float64Array(off);
    this.grad = new Float64Array(off);
    this.single = sizes.slice(1).map((s) => new Float64Array(s));
  }

  /** Fills the weights from the seeded generator (biases 0). */
  init(method: Init, seed: number): void {
    const rng = new Rng(seed);
    const p = this.params;
    for (let l = 0; l < this.layers; l++) {
      const fanIn = this.sizes[l];
      const fanOut = this.sizes[l + 1];
      const limit = method === 'xavier' ? Math.sqrt(6 / (fanIn + fanOut)) : method === 'he' ? Math.sqrt(6 / fanIn) : 1 / Math.sqrt(fanIn);
      for (let i = this.wOff[l]; i < this.bOff[l]; i++) p[i] = (2 * rng.next() - 1) * limit;
      for (let i = this.bOff[l]; i < this.bOff[l] + fanOut; i++) p[i] = 0;
    }
  }

  private ensure(batch: number): void {
    if (batch <= this.cap) return;
    this.cap = batch;
    this.a = [];
    this.d = [];
    for (let l = 0; l < this.layers; l++) {
      this.a.push(new Float64Array(batch * this.sizes[l + 1]));
      this.d.push(new Float64Array(batch * this.sizes[l + 1]));
    }
  }

  /**
   * Forward pass of rows [start, start + n) of `x` (row-major, `inputs` columns); returns the
   * output buffer (n values, valid until the next call).
   */
  forward(x: Float64Array, start: number, n: number, rows?: Int32Array): Float64Array {
    this.ensure(n);
    const p = this.params;
    const sizes = this.sizes;
    for (let l = 0; l < this.layers; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const out = this.a[l];
      const wo = this.wOff[l];
      const bo = this.bOff[l];
      const act = this.acts[l];
      const src = l === 0 ? x : this.a[l - 1];
      for (let s = 0; s < n; s++) {
        const inBase = l === 0 ? (rows ? rows[start + s] : start + s) * nin : s * nin;
        const outBase = s * nout;
        for (let j = 0; j < nout; j++) {
          out[outBase + j] = activate(act, p[bo + j] + dot(p, wo + j * nin, src, inBase, nin));
        }
      }
    }
    return this.a[this.layers - 1];
  }

  /** One sample's output (the inference path: no batch buffers). */
  predictOne(x: Float64Array, base = 0): number {
    const p = this.params;
    const sizes = this.sizes;
    let src = x;
    let inBase = base;
    for (let l = 0; l < this.layers; l++) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const out = this.single[l];
      const wo = this.wOff[l];
      const bo = this.bOff[l];
      const act = this.acts[l];
      // four outputs per pass over the inputs: each input is read once for four weight rows
      let j = 0;
      for (; j + 3 < nout; j += 4) {
        const w0 = wo + j * nin;
        const w1 = w0 + nin;
        const w2 = w1 + nin;
        const w3 = w2 + nin;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let i = 0; i < nin; i++) {
          const v = src[inBase + i];
          s0 += p[w0 + i] * v;
          s1 += p[w1 + i] * v;
          s2 += p[w2 + i] * v;
          s3 += p[w3 + i] * v;
        }
        out[j] = activate(act, p[bo + j] + s0);
        out[j + 1] = activate(act, p[bo + j + 1] + s1);
        out[j + 2] = activate(act, p[bo + j + 2] + s2);
        out[j + 3] = activate(act, p[bo + j + 3] + s3);
      }
      for (; j < nout; j++) out[j] = activate(act, p[bo + j] + dot(p, wo + j * nin, src, inBase, nin));
      src = out;
      inBase = 0;
    }
    return src[0];
  }

  /**
   * Forward and backward over one mini-batch: fills `grad` with the gradient of the mean loss over
   * the batch plus `l2`/2·Σw² (weights only, not biases) and returns that loss.
   */
  backprop(x: Float64Array, y: Float64Array, rows: Int32Array | undefined, start: number, n: number, l2: number): number {
    const out = this.forward(x, start, n, rows);
    const L = this.layers;
    const p = this.params;
    const g = this.grad;
    g.fill(0);
    const sizes = this.sizes;
    const bce = this.spec.loss === 'bce';
    // Output delta: dLoss/dz of the output unit, divided by n (mean loss).
    let loss = 0;
    const dOut = this.d[L - 1];
    const inv = 1 / n;
    for (let s = 0; s < n; s++) {
      const target = y[rows ? rows[start + s] : start + s];
      const o = out[s];
      if (bce) {
        const q = o < 1e-15 ? 1e-15 : o > 1 - 1e-15 ? 1 - 1e-15 : o;
        loss -= target * Math.log(q) + (1 - target) * Math.log(1 - q);
        dOut[s] = (o - target) * inv;
      } else {
        const e = o - target;
        loss += e * e;
        dOut[s] = 2 * e * inv;
      }
    }
    loss *= inv;
    for (let l = L - 1; l >= 0; l--) {
      const nin = sizes[l];
      const nout = sizes[l + 1];
      const wo = this.wOff[l];
      const bo = this.bOff[l];
      const delta = this.d[l];
      const src = l === 0 ? x : this.a[l - 1];
      const prevDelta = l > 0 ? this.d[l - 1] : undefined;
      const prevAct = l > 0 ? this.acts[l - 1] : 0;
      for (let s = 0; s < n; s++) {
        const inBase = l === 0 ? (rows ? rows[start + s] : start + s) * nin : s * nin;
        const dBase = s * nout;
        for (let j = 0; j < nout; j++) {
          const dj = delta[dBase + j];
          if (dj === 0) continue;
          g[bo + j] += dj;
          axpy(g, wo + j * nin, dj, src, inBase, nin);
        }
        if (prevDelta) {
          // delta of the layer below: (Wᵀ δ) ⊙ f'(z), with f' from the activation's value.
          for (let i = 0; i < nin; i++) prevDelta[inBase + i] = 0;
          for (let j = 0; j < nout; j++) {
            const dj = delta[dBase + j];
            if (dj === 0) continue;
            axpy(prevDelta, inBase, dj, p, wo + j * nin, nin);
          }
          for (let i = 0; i < nin; i++) prevDelta[inBase + i] *= derivative(prevAct, src[inBase + i]);
        }
      }
    }
    if (l2 > 0) {
      let sq = 0;
      for (let l = 0; l < L; l++) {
        for (let i = this.wOff[l]; i < this.bOff[l]; i++) {
          sq += p[i] * p[i];
          g[i] += l2 * p[i];
        }
      }
      loss += 0.5 * l2 * sq;
    }
    return loss;
  }

  /** Mean loss (without L2) of rows [0, n) of x, y. */
  loss(x: Float64Array, y: Float64Array, n: number): number {
    const bce = this.spec.loss === 'bce';
    const nin = this.sizes[0];
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const o = this.predictOne(x, s * nin);
      sum += pointLoss(bce, o, y[s]);
    }
    return n > 0 ? sum / n : NaN;
  }
}

export function pointLoss(bce: boolean, o: number, target: number): number {
  if (bce) {
    const q = o < 1e-15 ? 1e-15 : o > 1 - 1e-15 ? 1 - 1e-15 : o;
    return -(target * Math.log(q) + (1 - target) * Math.log(1 - q));
  }
  const e = o - target;
  return e * e;
}

/** Σ a[ai + i]·b[bi + i] for i < n, four at a time. */
function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[ai + i] * b[bi + i];
    s1 += a[ai + i + 1] * b[bi + i + 1];
    s2 += a[ai + i + 2] * b[bi + i + 2];
    s3 += a[ai + i + 3] * b[bi + i + 3];
  }
  for (; i < n; i++) s0 += a[ai + i] * b[bi + i];
  return s0 + s1 + (s2 + s3);
}

/** y[yi + i] += k·x[xi + i] for i < n. */
function axpy(y: Float64Array, yi: number, k: number, x: Float64Array, xi: number, n: number): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    y[yi + i] += k * x[xi + i];
    y[yi + i + 1] += k * x[xi + i + 1];
    y[yi + i + 2] += k * x[xi + i + 2];
    y[yi + i + 3] += k * x[xi + i + 3];
  }
  for (; i < n; i++) y[yi + i] += k * x[xi + i];
}

function activate(act: number, z: number): number {
  switch (act) {
    case 0:
      return z > 0 ? z : 0;
    case 1:
      return Math.tanh(z);
    case 2:
      return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    default:
      return z;
  }
}

/** f'(z) written in terms of a = f(z). */
function derivative(act: number, a: number): number {
  switch (act) {
    case 0:
      return a > 0 ? 1 : 0;
    case 1:
      return 1 - a * a;
    case 2:
      return a * (1 - a);
    default:
      return 1;
  }
}
