import { EmaCore } from './ma.js';
import { type BookSnapshot, type IndicatorSpec, type Params, type Streamer, type KlineColumns } from './types.js';

/**
 * Weighted order-book imbalance of one book snapshot, in [-1, 1]:
 * mid = (best bid + best ask)/2, w(p) = exp(-½·((p - mid)/(σ·mid))²),
 * WOI = (Σ w·bidQty - Σ w·askQty) / (Σ w·bidQty + Σ w·askQty). NaN for an empty or crossed-empty
 * book, 0 when every weight underflows.
 */
export function bookImbalance(book: BookSnapshot, sigma: number): number {
  if (book.bidPrice.length === 0 || book.askPrice.length === 0) return NaN;
  const mid = (book.bidPrice[0] + book.askPrice[0]) / 2;
  const scale = sigma * mid;
  let bid = 0;
  let ask = 0;
  for (let i = 0; i < book.bidPrice.length; i++) {
    const z = (book.bidPrice[i] - mid) / scale;
    bid += Math.exp(-0.5 * z * z) * book.bidQty[i];
  }
  for (let i = 0; i < book.askPrice.length; i++) {
    const z = (book.askPrice[i] - mid) / scale;
    ask += Math.exp(-0.5 * z * z) * book.askQty[i];
  }
  const total = bid + ask;
  return total > 0 ? (bid - ask) / total : 0;
}

/**
 * WOI per kline: the imbalance of the book at each kline's close, smoothed by an EMA over
 * `interval` klines (seeded with the SMA of the first `interval` samples). A kline without a
 * book (stored history, a gap in the live book) gives null and restarts the average: there is no
 * honest way to invent a book, so batch runs over stored klines give null throughout.
 */
export class WoiStreamer implements Streamer {
  private readonly ema: EmaCore;
  constructor(private readonly interval: number, private readonly sigma: number) {
    this.ema = new EmaCore(interval);
  }
  run(k: KlineColumns, from: number, to: number, out: Float64Array[]): void {
    const o = out[0];
    const books = k.books;
    const ema = this.ema;
    if (!books) {
      // No book anywhere in the range (stored history): null throughout, the average restarts.
      if (ema.started) ema.reset();
      o.fill(NaN, from, to);
      return;
    }
    for (let i = from; i < to; i++) {
      const book = books[i];
      const sample = book ? bookImbalance(book, this.sigma) : NaN;
      if (sample !== sample) {
        if (ema.started) ema.reset();
        o[i] = NaN;
      } else {
        o[i] = ema.push(sample);
      }
    }
  }
}

export const WOI: IndicatorSpec = {
  type: 'WOI',
  lines: ['value'],
  overlay: false,
  summary: 'weighted order-book imbalance (needs the live local order book; null over stored history)',
  params: [
    { name: 'interval', kind: 'int', min: 1, max: 100_000, default: 10, description: 'EMA period in klines' },
    { name: 'sigma', kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.005, description: 'width of the price weighting, as a fraction of the mid price' },
  ],
  create: (p: Params) => new WoiStreamer(p.interval, p.sigma),
};

