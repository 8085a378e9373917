import type { LeverageBracketTier } from '../exchange/port.js';
import { Dec } from './decimal.js';

/**
 * USD-M futures accounting shared by the local exchange and the future simulator. Every formula
 * here is stated in docs/futures-accounting.md and tested in tests/core/futures.
 * Values are exact decimals (Dec); division truncates at 18 decimals.
 */

/** VIP0 fee rates. */
export const MAKER_FEE_RATE = '0.0002';
export const TAKER_FEE_RATE = '0.0005';

/** fee = price × qty × rate (always positive; the caller subtracts it from the wallet). */
export function tradeFee(price: Dec | string, qty: Dec | string, rate: Dec | string): Dec {
  return Dec.of(price).mul(Dec.of(qty).abs()).mul(rate);
}

export interface BracketRow {
  /** notional floor in USDT */
  floor: number;
  maintMarginRatio: string;
  initialLeverage: number;
}

/**
 * Builds a bracket table with `cum` (maintenance amount) so MM is continuous across tiers:
 * cum_0 = 0, cum_n = cum_{n−1} + floor_n × (mmr_n − mmr_{n−1}). Caps are the next floor.
 */
export function buildBrackets(rows: BracketRow[], lastCap = 1_000_000_000): LeverageBracketTier[] {
  const out: LeverageBracketTier[] = [];
  let cum = Dec.ZERO;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (i > 0) cum = cum.add(Dec.fromInt(r.floor).mul(Dec.parse(r.maintMarginRatio).sub(rows[i - 1].maintMarginRatio)));
    out.push({
      bracket: i + 1,
      initialLeverage: r.initialLeverage,
      notionalCap: i + 1 < rows.length ? rows[i + 1].floor : lastCap,
      notionalFloor: r.floor,
      maintMarginRatio: Number(r.maintMarginRatio),
      cum: cum.toNumber(),
    });
  }
  return out;
}

/** The BTCUSDT-like table the local exchange uses (floors/MMR from Binance's published table). */
export const DEFAULT_BRACKETS: LeverageBracketTier[] = buildBrackets([
  { floor: 0, maintMarginRatio: '0.004', initialLeverage: 125 },
  { floor: 50_000, maintMarginRatio: '0.005', initialLeverage: 100 },
  { floor: 250_000, maintMarginRatio: '0.01', initialLeverage: 50 },
  { floor: 3_000_000, maintMarginRatio: '0.025', initialLeverage: 20 },
  { floor: 20_000_000, maintMarginRatio: '0.05', initialLeverage: 10 },
  { floor: 40_000_000, maintMarginRatio: '0.1', initialLeverage: 5 },
  { floor: 100_000_000, maintMarginRatio: '0.125', initialLeverage: 4 },
  { floor: 200_000_000, maintMarginRatio: '0.15', initialLeverage: 3 },
  { floor: 300_000_000, maintMarginRatio: '0.25', initialLeverage: 2 },
  { floor: 500_000_000, maintMarginRatio: '0.5', initialLeverage: 1 },
]);

/** The tier whose [floor, cap) holds |notional| (the last tier beyond the last cap). */
export function bracketFor(brackets: readonly LeverageBracketTier[], notional: Dec | string | number): LeverageBracketTier {
  const n = Dec.of(notional).abs();
  for (const b of brackets) if (n.gte(b.notionalFloor) && n.lt(b.notionalCap)) return b;
  return brackets[brackets.length - 1];
}

/** MM = |notional at mark| × mmr − cum, with the tier holding the notional. */
export function maintenanceMargin(brackets: readonly LeverageBracketTier[], notional: Dec | string | number): Dec {
  const n = Dec.of(notional).abs();
  const b = bracketFor(brackets, n);
  return n.mul(Dec.fromNumber(b.maintMarginRatio)).sub(Dec.fromNumber(b.cum));
}

/** The largest leverage allowed for a notional (the tier's initialLeverage). */
export function maxLeverageFor(brackets: readonly LeverageBracketTier[], notional: Dec | string | number): number {
  return bracketFor(brackets, notional).initialLeverage;
}

/** Unrealized PnL = size × (mark − entry), size signed (+ long, − short). */
export function unrealizedPnl(size: Dec | string, entry: Dec | string, mark: Dec | string): Dec {
  return Dec.of(size).mul(Dec.of(mark).sub(entry));
}

/** Initial margin = |size| × price / leverage. */
export function initialMargin(size: Dec | string, price: Dec | string, leverage: number): Dec {
  return Dec.of(size).abs().mul(price).div(Dec.fromInt(leverage));
}

/**
 * Isolated-margin liquidation price of a one-way position (Binance's formula with TMM₁ = UPNL₁ = 0):
 *   long  LP = (WB + cum − pos·EP) / (pos·MMR − pos)
 *   short LP = (WB + cum + pos·EP) / (pos·MMR + pos)
 * WB = isolated wallet (margin) of the position, pos = |size|, EP = entry price. MMR and cum come
 * from the tier of the notional at LP, found by iterating from the tier at entry (at most one pass
 * per tier). Returns undefined when LP ≤ 0 (shown as "--").
 * For cross margin pass WB = cross wallet balance − other positions' MM + their uPnL.
 */
export function liquidationPrice(
  brackets: readonly LeverageBracketTier[],
  side: 'LONG' | 'SHORT',
  size: Dec | string,
  entry: Dec | string,
  wallet: Dec | string,
): Dec | undefined {
  const pos = Dec.of(size).abs();
  if (pos.isZero()) return undefined;
  const ep = Dec.of(entry);
  const wb = Dec.of(wallet);
  let tier = bracketFor(brackets, pos.mul(ep));
  let lp: Dec = Dec.ZERO;
  for (let i = 0; i <= brackets.length; i++) {
    const mmr = Dec.fromNumber(tier.maintMarginRatio);
    const cum = Dec.fromNumber(tier.cum);
    lp = side === 'LONG'
      ? wb.add(cum).sub(pos.mul(ep)).div(pos.mul(mmr).sub(pos))
      : wb.add(cum).add(pos.mul(ep)).div(pos.mul(mmr).add(pos));
    if (lp.lte(Dec.ZERO)) return undefined;
    const next = bracketFor(brackets, pos.mul(lp));
    if (next.bracket === tier.bracket) break;
    tier = next;
  }
  return lp;
}

/**
 * Funding payment for one position at a funding time: payment = size × mark × rate, size signed.
 * The result is what the position PAYS (positive: wallet decreases). rate > 0 → longs pay shorts.
 */
export function fundingPayment(size: Dec | string, mark: Dec | string, rate: Dec | string): Dec {
  return Dec.of(size).mul(mark).mul(rate);
}

/**
 * Funding rate from the average premium index: F = P + clamp(I − P, −0.05 %, +0.05 %), then
 * clamped to [floor, cap] (interest I defaults to 0.01 % per 8 h).
 */
export function fundingRate(avgPremium: Dec | string, interest: Dec | string = '0.0001', cap: Dec | string = '0.003', floor: Dec | string = '-0.003'): Dec {
  const p = Dec.of(avgPremium);
  let diff = Dec.of(interest).sub(p);
  const lim = Dec.parse('0.0005');
  if (diff.gt(lim)) diff = lim;
  if (diff.lt(lim.neg())) diff = lim.neg();
  let f = p.add(diff);
  if (f.gt(cap)) f = Dec.of(cap);
  if (f.lt(floor)) f = Dec.of(floor);
  return f;
}

/** Next funding time (ms) after `now` for a schedule of `intervalHours` aligned to 00:00 UTC. */
export function nextFundingTime(now: number, intervalHours = 8): number {
  const period = intervalHours * 3_600_000;
  return Math.floor(now / period) * period + period;
}

/** New average entry price when adding `addQty` at `price` to a position of `size` at `entry` (same side). */
export function averageEntry(size: Dec, entry: Dec, addQty: Dec, price: Dec): Dec {
  const total = size.abs().add(addQty.abs());
  if (total.isZero()) return Dec.ZERO;
  return size.abs().mul(entry).add(addQty.abs().mul(price)).div(total);
}
