import { allocKlines, decimalScale, type Klines } from './klines.js';

/**
 * The packed columnar format of one kline chunk (codec name `sdv1`: scaled, delta, varint).
 *
 * Every column is stored as integers `m` with a per-column decimal scale `d` chosen so that
 * `m / 10^d` gives back the stored float64 bit for bit (the smallest such `d`, found per chunk).
 * Binance values are short decimals, so this is exact and small. Decoding is one division per
 * value, which is also the exact rounding `Number(text)` makes. A column where no scale up to 12
 * works (or the integers would pass 2^52) is stored raw as float64.
 *
 * Layout (all integers are LEB128 varints, signed ones zigzag-encoded):
 *
 *   count
 *   openTime:  mode, first, firstDelta, then delta-of-delta per row (1 byte for continuous data)
 *   prices:    mode, scale (one scale for open/high/low/close), then per row
 *                close - previous close, open - previous close,
 *                high - max(open, close), min(open, close) - low      (all signed)
 *   others:    per column (volume, quoteVolume, trades, takerBuyVolume, takerBuyQuoteVolume)
 *                mode, scale, then the value per row (signed)
 *
 * mode 0 = integer encoding as above, mode 1 = raw little-endian float64 for that column group.
 */
export const CODEC = 'sdv1';

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
const findScale = decimalScale;
/** Columns with integers at or above this magnitude are stored raw (see encodeChunk). */
const RAW_ABOVE = 2 ** 41;

class Writer {
  buf: Uint8Array;
  pos = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }
  private grow(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  /** Unsigned integer up to 2^53. */
  u(v: number): void {
    this.grow(8);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }
  /** Signed integer (zigzag). */
  s(v: number): void {
    this.u(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  byte(v: number): void {
    this.grow(1);
    this.buf[this.pos++] = v;
  }
  raw(values: Float64Array, start: number, end: number): void {
    const n = end - start;
    this.grow(n * 8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n * 8);
    for (let i = 0; i < n; i++) view.setFloat64(i * 8, values[start + i], true);
    this.pos += n * 8;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Encodes rows [start, end) of `k` (sorted by open time) into one chunk blob. */
export function encodeChunk(k: Klines, start = 0, end = k.length): Uint8Array {
  const n = end - start;
  const w = new Writer(n * 24 + 64);
  w.u(n);
  // open times: delta of delta
  const t = k.openTime;
  const tScale = findScale(t, start, end);
  if (tScale !== 0) {
    w.byte(1);
    w.raw(t, start, end);
  } else {
    w.byte(0);
    if (n > 0) {
      w.s(t[start]);
      let prevDelta = n > 1 ? t[start + 1] - t[start] : 0;
      if (n > 1) w.s(prevDelta);
      for (let i = start + 2; i < end; i++) {
        const delta = t[i] - t[i - 1];
        w.s(delta - prevDelta);
        prevDelta = delta;
      }
    }
  }
  // prices
  const { open, high, low, close } = k;
  const ps = Math.max(findScale(open, start, end), findScale(high, start, end), findScale(low, start, end), findScale(close, start, end));
  const priceRaw = [open, high, low, close].some((c) => findScale(c, start, end) < 0);
  if (priceRaw) {
    w.byte(1);
    w.raw(close, start, end);
    w.raw(open, start, end);
    w.raw(high, start, end);
    w.raw(low, start, end);
  } else {
    w.byte(0);
    w.byte(ps);
    const p = POW10[ps];
    let prevClose = 0;
    for (let i = start; i < end; i++) {
      const c = Math.round(close[i] * p);
      const o = Math.round(open[i] * p);
      const h = Math.round(high[i] * p);
      const l = Math.round(low[i] * p);
      w.s(c - prevClose);
      w.s(o - prevClose);
      w.s(h - (o > c ? o : c));
      w.s((o < c ? o : c) - l);
      prevClose = c;
    }
  }
  for (const col of [k.volume, k.quoteVolume, k.trades, k.takerBuyVolume, k.takerBuyQuoteVolume]) {
    let d = findScale(col, start, end);
    if (d >= 0) {
      // integers of 7+ byte varints decode slower than a raw float64 copy and save little
      const p = POW10[d];
      for (let i = start; i < end; i++) {
        if (Math.abs(col[i] * p) >= RAW_ABOVE) {
          d = -1;
          break;
        }
      }
    }
    if (d < 0) {
      w.byte(1);
      w.raw(col, start, end);
    } else {
      w.byte(0);
      w.byte(d);
      const p = POW10[d];
      for (let i = start; i < end; i++) w.s(Math.round(col[i] * p));
    }
  }
  return w.bytes();
}

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

/**
 * Decodes a chunk blob into `out` starting at row `at` (out must have room: use `chunkCount`
 * to size it). Returns the number of rows written.
 */
export function decodeChunk(blob: Uint8Array, out: Klines, at: number): number {
  const b = blob;
  const len = b.length;
  let pos = 0;
  // row count
  let n = 0;
  for (let mult = 1; ; mult *= 0x80) {
    if (pos >= len) throw new CodecError('kline chunk truncated');
    const byte = b[pos++];
    n += (byte & 0x7f) * mult;
    if (byte < 0x80) break;
  }
  if (at + n > out.openTime.length) throw new CodecError(`no room for ${n} rows at ${at}`);
  const scratch = scratchOf(4 * n);
  const raw = (dst: Float64Array): void => {
    if (pos + n * 8 > len) throw new CodecError('kline chunk truncated');
    // copy the bytes to an aligned buffer, then copy as doubles (both are memcpy)
    const aligned = alignedOf(n * 8);
    aligned.set(b.subarray(pos, pos + n * 8));
    dst.set(new Float64Array(aligned.buffer, 0, n), at);
    pos += n * 8;
  };
  const t = out.openTime;
  if (b[pos++] === 1) raw(t);
  else if (n > 0) {
    pos = readSigned(b, pos, n, scratch);
    let v = scratch[0];
    t[at] = v;
    if (n > 1) {
      let delta = scratch[1];
      v += delta;
      t[at + 1] = v;
      for (let i = 2; i < n; i++) {
        delta += scratch[i];
        v += delta;
        t[at + i] = v;
      }
    }
  }
  const { open, high, low, close } = out;
  if (b[pos++] === 1) {
    raw(close);
    raw(open);
    raw(high);
    raw(low);
  } else {
    const p = POW10[b[pos++]];
    pos = readSigned(b, pos, 4 * n, scratch);
    let c = 0;
    for (let i = 0, x = 0; i < n; i++, x += 4) {
      const prevClose = c;
      c = prevClose + scratch[x];
      const o = prevClose + scratch[x + 1];
      const h = (o > c ? o : c) + scratch[x + 2];
      const l = (o < c ? o : c) - scratch[x + 3];
      close[at + i] = c / p;
      open[at + i] = o / p;
      high[at + i] = h / p;
      low[at + i] = l / p;
    }
  }
  for (const col of [out.volume, out.quoteVolume, out.trades, out.takerBuyVolume, out.takerBuyQuoteVolume]) {
    if (b[pos++] === 1) raw(col);
    else {
      const p = POW10[b[pos++]];
      pos = readSigned(b, pos, n, scratch);
      if (p === 1) col.set(scratch.subarray(0, n), at);
      else for (let i = 0; i < n; i++) col[at + i] = scratch[i] / p;
    }
  }
  return n;
}

let alignedBuffer = new Uint8Array(8 * 4096);
function alignedOf(size: number): Uint8Array {
  if (alignedBuffer.length < size) alignedBuffer = new Uint8Array(Math.max(size, alignedBuffer.length * 2));
  return alignedBuffer;
}

let scratchBuffer = new Float64Array(4096);
function scratchOf(size: number): Float64Array {
  if (scratchBuffer.length < size) scratchBuffer = new Float64Array(Math.max(size, scratchBuffer.length * 2));
  return scratchBuffer;
}

/**
 * Reads `count` zigzag varints from `b` at `pos` into `dst`; returns the position after them.
 * Up to 4 bytes (28 bits) in int32 arithmetic, longer ones in float64 (exact up to 2^53).
 */
export function readSigned(b: Uint8Array, pos: number, count: number, dst: Float64Array): number {
  for (let i = 0; i < count; i++) {
    let byte = b[pos++];
    if (byte < 0x80) {
      dst[i] = (byte >>> 1) ^ -(byte & 1);
      continue;
    }
    let z = byte & 0x7f;
    byte = b[pos++];
    z |= (byte & 0x7f) << 7;
    if (byte < 0x80) {
      dst[i] = (z >>> 1) ^ -(z & 1);
      continue;
    }
    byte = b[pos++];
    z |= (byte & 0x7f) << 14;
    if (byte < 0x80) {
      dst[i] = (z >>> 1) ^ -(z & 1);
      continue;
    }
    byte = b[pos++];
    z |= (byte & 0x7f) << 21;
    if (byte < 0x80) {
      dst[i] = (z >>> 1) ^ -(z & 1);
      continue;
    }
    // the zigzag sign is the lowest bit, already in z
    const negative = z & 1;
    let zf = z;
    let mult = 0x10000000;
    do {
      byte = b[pos++];
      zf += (byte & 0x7f) * mult;
      mult *= 0x80;
    } while (byte >= 0x80);
    dst[i] = negative ? -(zf + 1) * 0.5 : zf * 0.5;
  }
  // reading past the end gives undefined (no endless loop): check once
  if (pos > b.length) throw new CodecError('kline chunk truncated');
  return pos;
}

/** Decodes only the open times of a chunk (gap scans). */
export function decodeOpenTimes(blob: Uint8Array): Float64Array {
  const n = chunkCount(blob);
  const t = new Float64Array(n);
  // open times come first in the blob, so only they are decoded
  let pos = 0;
  const u = (): number => {
    let result = 0;
    let mult = 1;
    for (;;) {
      const byte = blob[pos++];
      result += (byte & 0x7f) * mult;
      if (byte < 0x80) return result;
      mult *= 0x80;
    }
  };
  const s = (): number => {
    const z = u();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  };
  u();
  if (blob[pos++] === 1) {
    const view = new DataView(blob.buffer, blob.byteOffset + pos, n * 8);
    for (let i = 0; i < n; i++) t[i] = view.getFloat64(i * 8, true);
    return t;
  }
  if (n > 0) {
    let v = s();
    t[0] = v;
    if (n > 1) {
      let delta = s();
      v += delta;
      t[1] = v;
      for (let i = 2; i < n; i++) {
        delta += s();
        v += delta;
        t[i] = v;
      }
    }
  }
  return t;
}

/** Row count stored at the head of a chunk blob. */
export function chunkCount(blob: Uint8Array): number {
  let result = 0;
  let mult = 1;
  for (let pos = 0; pos < blob.length; pos++) {
    const byte = blob[pos];
    result += (byte & 0x7f) * mult;
    if (byte < 0x80) return result;
    mult *= 0x80;
  }
  throw new CodecError('kline chunk truncated');
}

/** Convenience: a whole blob into fresh klines. */
export function decodeChunkToKlines(blob: Uint8Array): Klines {
  const k = allocKlines(chunkCount(blob));
  k.length = decodeChunk(blob, k, 0);
  return k;
}
