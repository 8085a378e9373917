import type { SymbolInfo } from '../exchange/port.js';
import { Dec, DecimalError } from './decimal.js';

/** A filter failure with the error code and message Binance USD-M returns for it. */
export interface FilterFailure {
  code: number;
  msg: string;
}

export interface OrderToCheck {
  type: 'LIMIT' | 'MARKET';
  side: 'BUY' | 'SELL';
  quantity: string;
  price?: string;
  reduceOnly?: boolean;
  /** Mark price, for MARKET min-notional and PERCENT_PRICE. */
  markPrice?: string;
}

/**
 * Checks an order against a symbol's filters with exact decimals, in the order Binance applies
 * them. Returns undefined when the order passes, else the Binance code and message.
 */
export function checkOrderFilters(info: SymbolInfo, order: OrderToCheck): FilterFailure | undefined {
  let qty: Dec;
  let price: Dec | undefined;
  try {
    qty = Dec.parse(order.quantity, 'quantity');
    if (order.price !== undefined) price = Dec.parse(order.price, 'price');
  } catch (error) {
    return { code: -1102, msg: `Mandatory parameter was not sent, was empty/null, or malformed. (${(error as DecimalError).message})` };
  }
  if (qty.lte(Dec.ZERO)) return { code: -4003, msg: 'Quantity less than or equal to zero.' };
  const market = order.type === 'MARKET';
  const minQty = Dec.parse(market ? info.marketMinQty : info.minQty);
  const maxQty = Dec.parse(market ? info.marketMaxQty : info.maxQty);
  const step = Dec.parse(market ? info.marketStepSize : info.stepSize);
  if (qty.lt(minQty)) return { code: -4004, msg: 'Quantity less than min quantity.' };
  if (!maxQty.isZero() && qty.gt(maxQty)) return { code: -4005, msg: 'Quantity greater than max quantity.' };
  if (!qty.sub(minQty).isMultipleOf(step)) return { code: -4023, msg: 'Quantity not increased by step size.' };
  if (!market) {
    if (price === undefined) return { code: -1102, msg: "Mandatory parameter 'price' was not sent, was empty/null, or malformed." };
    if (price.lte(Dec.ZERO)) return { code: -4001, msg: 'Price less than 0.' };
    const minPrice = Dec.parse(info.minPrice);
    const maxPrice = Dec.parse(info.maxPrice);
    if (!minPrice.isZero() && price.lt(minPrice)) return { code: -4013, msg: 'Price less than min price.' };
    if (!maxPrice.isZero() && price.gt(maxPrice)) return { code: -4002, msg: 'Price greater than max price.' };
    if (!price.sub(minPrice).isMultipleOf(info.tickSize)) return { code: -4014, msg: 'Price not increased by tick size.' };
    if (order.markPrice && info.multiplierUp && info.multiplierDown) {
      const mark = Dec.parse(order.markPrice);
      if (order.side === 'BUY' && price.gt(mark.mul(info.multiplierUp))) return { code: -4016, msg: `Limit price can't be higher than ${mark.mul(info.multiplierUp).floorTo(info.tickSize).toString()}.` };
      if (order.side === 'SELL' && price.lt(mark.mul(info.multiplierDown))) return { code: -4024, msg: `Limit price can't be lower than ${mark.mul(info.multiplierDown).floorTo(info.tickSize).toString()}.` };
    }
  }
  if (!order.reduceOnly) {
    const ref = market ? (order.markPrice ? Dec.parse(order.markPrice) : undefined) : price;
    if (ref && ref.mul(qty).lt(info.minNotional)) {
      return { code: -4164, msg: `Order's notional must be no smaller than ${Dec.parse(info.minNotional).toString()} (unless you choose reduce only).` };
    }
  }
  return undefined;
}

/** Rounds a price down to the tick grid (for callers building orders). */
export function roundPriceToTick(info: SymbolInfo, price: string): string {
  const min = Dec.parse(info.minPrice);
  return Dec.parse(price).sub(min).floorTo(info.tickSize).add(min).toString();
}

/** Rounds a quantity down to the step grid. */
export function roundQtyToStep(info: SymbolInfo, qty: string, market = false): string {
  return Dec.parse(qty).floorTo(market ? info.marketStepSize : info.stepSize).toString();
}

/**
 * Binance's precision check, before the filters: a quantity with more decimals than the symbol's
 * quantityPrecision, or a price with more than pricePrecision, is refused with -1111.
 */
export function checkPrecision(info: SymbolInfo, quantity: string, price?: string): FilterFailure | undefined {
  const msg = 'Precision is over the maximum defined for this asset.';
  try {
    if (Dec.parse(quantity, 'quantity').decimals() > info.quantityPrecision) return { code: -1111, msg };
    if (price !== undefined && Dec.parse(price, 'price').decimals() > info.pricePrecision) return { code: -1111, msg };
  } catch (error) {
    return { code: -1102, msg: `Mandatory parameter was not sent, was empty/null, or malformed. (${(error as DecimalError).message})` };
  }
  return undefined;
}
