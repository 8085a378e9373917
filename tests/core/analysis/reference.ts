/**
 * Straightforward reference implementations, written from the definitions (O(n·k), no running
 * sums), following TA-Lib's conventions: output index = input index, NaN before the lookback.
 */
const nan = (n: number) => new Float64Array(n).fill(NaN);
const isZero = (v: number) => v > -1e-8 && v < 1e-8;

export function sma(x: ArrayLike<number>, n: number): Float64Array {
  const out = nan(x.length);
  for (let i = n - 1; i < x.length; i++) {
    let s = 0;
    for (let j = i - n + 1; j <= i; j++) s += x[j];
    out[i] = s / n;
  }
  return out;
}

/** EMA seeded with the SMA of the first n values of x starting at `from`. */
export function ema(x: ArrayLike<number>, n: number, from = 0, k = 2 / (n + 1)): Float64Array {
  const out = nan(x.length);
  if (x.length - from < n) return out;
  let s = 0;
  for (let j = from; j < from + n; j++) s += x[j];
  let e = s / n;
  out[from + n - 1] = e;
  for (let i = from + n; i < x.length; i++) {
    e = (x[i] - e) * k + e;
    out[i] = e;
  }
  return out;
}

export function wma(x: ArrayLike<number>, n: number): Float64Array {
  const out = nan(x.length);
  const div = (n * (n + 1)) / 2;
  for (let i = n - 1; i < x.length; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (j + 1) * x[i - n + 1 + j];
    out[i] = s / div;
  }
  return out;
}

export function bbands(x: ArrayLike<number>, n: number, k: number): { upper: Float64Array; middle: Float64Array; lower: Float64Array } {
  const upper = nan(x.length);
  const middle = nan(x.length);
  const lower = nan(x.length);
  for (let i = n - 1; i < x.length; i++) {
    let s = 0;
    for (let j = i - n + 1; j <= i; j++) s += x[j];
    const m = s / n;
    let v = 0;
    for (let j = i - n + 1; j <= i; j++) v += (x[j] - m) * (x[j] - m);
    const sd = Math.sqrt(v / n);
    middle[i] = m;
    upper[i] = m + k * sd;
    lower[i] = m - k * sd;
  }
  return { upper, middle, lower };
}

/** Parabolic SAR after Wilder, with TA-Lib's start rule (direction from kline 1's -DM). */
export function sar(high: ArrayLike<number>, low: ArrayLike<number>, start: number, step: number, max: number): Float64Array {
  const n = high.length;
  const out = nan(n);
  if (n < 2) return out;
  const up = high[1] - high[0];
  const down = low[0] - low[1];
  let long = !(down > 0 && up < down);
  let ep = long ? high[1] : low[1];
  let s = long ? low[0] : high[0];
  let af = start;
  for (let t = 1; t < n; t++) {
    const ph = t === 1 ? high[1] : high[t - 1];
    const pl = t === 1 ? low[1] : low[t - 1];
    const h = high[t];
    const l = low[t];
    const penetrated = long ? l <= s : h >= s;
    if (penetrated) {
      // reverse: the SAR becomes the old extreme, kept outside the last two klines
      long = !long;
      s = long ? Math.min(ep, pl, l) : Math.max(ep, ph, h);
      out[t] = s;
      af = start;
      ep = long ? h : l;
    } else {
      out[t] = s;
      if (long ? h > ep : l < ep) {
        ep = long ? h : l;
        af = Math.min(af + step, max);
      }
    }
    s = s + af * (ep - s);
    s = long ? Math.min(s, pl, l) : Math.max(s, ph, h);
  }
  return out;
}

/** +DI, -DI, ADX with Wilder smoothing, from whole-series DM/TR arrays. */
export function dmi(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, n: number) {
  const len = high.length;
  const pdm = new Float64Array(len);
  const mdm = new Float64Array(len);
  const tr = new Float64Array(len);
  for (let i = 1; i < len; i++) {
    const upMove = high[i] - high[i - 1];
    const downMove = low[i - 1] - low[i];
    if (downMove > 0 && upMove < downMove) mdm[i] = downMove;
    else if (upMove > 0 && upMove > downMove) pdm[i] = upMove;
    tr[i] = Math.max(high[i] - low[i], Math.abs(high[i] - close[i - 1]), Math.abs(low[i] - close[i - 1]));
  }
  const plusDI = nan(len);
  const minusDI = nan(len);
  const adx = nan(len);
  const dx = nan(len);
  let sp = 0;
  let sm = 0;
  let st = 0;
  for (let i = 1; i < n && i < len; i++) {
    sp += pdm[i];
    sm += mdm[i];
    st += tr[i];
  }
  for (let i = n; i < len; i++) {
    sp = sp - sp / n + pdm[i];
    sm = sm - sm / n + mdm[i];
    st = st - st / n + tr[i];
    const p = isZero(st) ? 0 : (100 * sp) / st;
    const m = isZero(st) ? 0 : (100 * sm) / st;
    plusDI[i] = p;
    minusDI[i] = m;
    if (!isZero(st) && !isZero(p + m)) dx[i] = (100 * Math.abs(p - m)) / (p + m);
  }
  if (len > 2 * n - 1) {
    let s = 0;
    for (let i = n; i <= 2 * n - 1; i++) if (!Number.isNaN(dx[i])) s += dx[i];
    let a = s / n;
    adx[2 * n - 1] = a;
    for (let i = 2 * n; i < len; i++) {
      if (!Number.isNaN(dx[i])) a = (a * (n - 1) + dx[i]) / n;
      adx[i] = a;
    }
  }
  return { plusDI, minusDI, adx };
}

export function mfi(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, volume: ArrayLike<number>, n: number): Float64Array {
  const len = high.length;
  const out = nan(len);
  const tp = (i: number) => (high[i] + low[i] + close[i]) / 3;
  for (let i = n; i < len; i++) {
    let pos = 0;
    let neg = 0;
    for (let j = i - n + 1; j <= i; j++) {
      const d = tp(j) - tp(j - 1);
      if (d > 0) pos += tp(j) * volume[j];
      else if (d < 0) neg += tp(j) * volume[j];
    }
    out[i] = pos + neg < 1 ? 0 : (100 * pos) / (pos + neg);
  }
  return out;
}

/** TA-Lib MACD: both EMAs start at slow-1, the fast one seeded from its last `fast` values there. */
export function macd(x: ArrayLike<number>, fast: number, slow: number, signal: number) {
  const len = x.length;
  const f = ema(x, fast, slow - fast);
  const s = ema(x, slow);
  const line = nan(len);
  for (let i = slow - 1; i < len; i++) line[i] = f[i] - s[i];
  const sig = ema(line, signal, slow - 1);
  const start = slow - 1 + signal - 1;
  const outMacd = nan(len);
  const outSig = nan(len);
  const hist = nan(len);
  for (let i = start; i < len; i++) {
    outMacd[i] = line[i];
    outSig[i] = sig[i];
    hist[i] = line[i] - sig[i];
  }
  return { macd: outMacd, signal: outSig, hist };
}
