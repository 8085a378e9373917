/**
 * Exact decimals for money: a scaled bigint with 18 fractional digits. Prices and quantities
 * travel as strings; order validation (tick size, step size, min notional) and fee/PnL arithmetic
 * use this type so no float rounding ever decides whether an order is valid.
 */
export const SCALE_DIGITS = 18;
const SCALE = 10n ** 18n;
const DEC_RE = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;

export class DecimalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecimalError';
  }
}

export class Dec {
  private constructor(readonly raw: bigint) {}

  static readonly ZERO = new Dec(0n);
  static readonly ONE = new Dec(SCALE);

  /** Parses "123.45", "-0.001", ".5", "1e-3" is rejected (Binance never sends exponents). */
  static parse(text: string, what = 'value'): Dec {
    const m = DEC_RE.exec(text.trim());
    if (!m) throw new DecimalError(`${what} ${JSON.stringify(text)} is not a decimal number`);
    const sign = (m[1] ?? m[4]) === '-' ? -1n : 1n;
    const int = m[2] ?? '0';
    const frac = (m[3] ?? m[5] ?? '').replace(/0+$/, '');
    if (frac.length > SCALE_DIGITS) throw new DecimalError(`${what} ${JSON.stringify(text)} has more than ${SCALE_DIGITS} decimals`);
    return new Dec(sign * (BigInt(int) * SCALE + BigInt(frac.padEnd(SCALE_DIGITS, '0') || '0')));
  }

  /** From a JS number via its shortest round-trip string (for values that are already floats). */
  static fromNumber(n: number): Dec {
    if (!Number.isFinite(n)) throw new DecimalError(`${n} is not a finite number`);
    const s = n.toString();
    if (/e/i.test(s)) return Dec.parse(n.toFixed(SCALE_DIGITS));
    return Dec.parse(s);
  }

  static fromInt(n: number | bigint): Dec {
    return new Dec(BigInt(n) * SCALE);
  }

  /** Accepts a Dec, a decimal string or a number. */
  static of(v: Dec | string | number): Dec {
    return v instanceof Dec ? v : typeof v === 'string' ? Dec.parse(v) : Dec.fromNumber(v);
  }

  add(o: Dec | string | number): Dec {
    return new Dec(this.raw + Dec.of(o).raw);
  }
  sub(o: Dec | string | number): Dec {
    return new Dec(this.raw - Dec.of(o).raw);
  }
  /** Product, truncated toward zero at 18 decimals (exact when the digits fit). */
  mul(o: Dec | string | number): Dec {
    return new Dec((this.raw * Dec.of(o).raw) / SCALE);
  }
  /** Quotient truncated toward zero at 18 decimals. */
  div(o: Dec | string | number): Dec {
    const d = Dec.of(o).raw;
    if (d === 0n) throw new DecimalError('division by zero');
    return new Dec((this.raw * SCALE) / d);
  }
  neg(): Dec {
    return new Dec(-this.raw);
  }
  abs(): Dec {
    return this.raw < 0n ? new Dec(-this.raw) : this;
  }
  cmp(o: Dec | string | number): -1 | 0 | 1 {
    const r = Dec.of(o).raw;
    return this.raw < r ? -1 : this.raw > r ? 1 : 0;
  }
  eq(o: Dec | string | number): boolean {
    return this.cmp(o) === 0;
  }
  lt(o: Dec | string | number): boolean {
    return this.cmp(o) < 0;
  }
  lte(o: Dec | string | number): boolean {
    return this.cmp(o) <= 0;
  }
  gt(o: Dec | string | number): boolean {
    return this.cmp(o) > 0;
  }
  gte(o: Dec | string | number): boolean {
    return this.cmp(o) >= 0;
  }
  isZero(): boolean {
    return this.raw === 0n;
  }
  sign(): -1 | 0 | 1 {
    return this.raw < 0n ? -1 : this.raw > 0n ? 1 : 0;
  }
  min(o: Dec): Dec {
    return this.lte(o) ? this : o;
  }
  max(o: Dec): Dec {
    return this.gte(o) ? this : o;
  }
  /** True when this is an exact multiple of `step` (a zero step accepts anything). */
  isMultipleOf(step: Dec | string): boolean {
    const s = Dec.of(step).raw;
    if (s === 0n) return true;
    return this.raw % s === 0n;
  }
  /** Rounds toward zero to a multiple of `step`. */
  floorTo(step: Dec | string): Dec {
    const s = Dec.of(step).raw;
    if (s === 0n) return this;
    return new Dec((this.raw / s) * s);
  }
  /** Rounds to `digits` decimals, half away from zero. */
  round(digits: number): Dec {
    const unit = 10n ** BigInt(SCALE_DIGITS - digits);
    const half = unit / 2n;
    const q = this.raw >= 0n ? (this.raw + half) / unit : (this.raw - half) / unit;
    return new Dec(q * unit);
  }
  /** Number of significant fractional digits. */
  decimals(): number {
    let r = this.raw < 0n ? -this.raw : this.raw;
    let frac = r % SCALE;
    if (frac === 0n) return 0;
    let d = SCALE_DIGITS;
    while (frac % 10n === 0n) {
      frac /= 10n;
      d--;
    }
    return d;
  }
  toNumber(): number {
    return Number(this.toString());
  }
  /** Plain decimal text; with `digits`, exactly that many decimals (truncating). */
  toString(digits?: number): string {
    const neg = this.raw < 0n;
    const a = neg ? -this.raw : this.raw;
    const int = (a / SCALE).toString();
    let frac = (a % SCALE).toString().padStart(SCALE_DIGITS, '0');
    if (digits === undefined) frac = frac.replace(/0+$/, '');
    else frac = frac.slice(0, digits).padEnd(digits, '0');
    const body = frac.length > 0 ? `${int}.${frac}` : int;
    return neg && /[1-9]/.test(body) ? `-${body}` : body;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** Decimals of a step such as "0.001" → 3, "1" → 0, "0.10" → 1. */
export function stepDecimals(step: string): number {
  return Dec.parse(step).decimals();
}
