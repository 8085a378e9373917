import type { SymbolInfo } from '../../core/exchange/port.js';

/** A contract the local exchange lists. Prices and quantities are kept as integer ticks/steps. */
export interface SimSymbol {
  symbol: string;
  baseAsset: string;
  /** Tick and step as decimal strings, powers of ten. */
  tickSize: string;
  stepSize: string;
  priceDecimals: number;
  qtyDecimals: number;
  minQty: string;
  maxQty: string;
  marketMaxQty: string;
  minNotional: string;
  /** Starting price for the generator. */
  startPrice: number;
  /** Yearly volatility for the generator (e.g. 0.6 = 60 %). */
  annualVol: number;
  /** Mean trades per second at speed 1. */
  tradeRate: number;
  /** Typical trade size, in base units. */
  tradeSize: number;
  onboardDate: number;
}

const ONBOARD = 1_569_398_400_000; // 2019-09-25

export const SIM_SYMBOLS: SimSymbol[] = [
  { symbol: 'BTCUSDT', baseAsset: 'BTC', tickSize: '0.1', stepSize: '0.001', priceDecimals: 1, qtyDecimals: 3, minQty: '0.001', maxQty: '1000', marketMaxQty: '120', minNotional: '100', startPrice: 65000, annualVol: 0.55, tradeRate: 40, tradeSize: 0.05, onboardDate: ONBOARD },
  { symbol: 'ETHUSDT', baseAsset: 'ETH', tickSize: '0.01', stepSize: '0.001', priceDecimals: 2, qtyDecimals: 3, minQty: '0.001', maxQty: '10000', marketMaxQty: '2000', minNotional: '20', startPrice: 3200, annualVol: 0.7, tradeRate: 30, tradeSize: 0.8, onboardDate: ONBOARD },
  { symbol: 'BNBUSDT', baseAsset: 'BNB', tickSize: '0.01', stepSize: '0.01', priceDecimals: 2, qtyDecimals: 2, minQty: '0.01', maxQty: '100000', marketMaxQty: '2000', minNotional: '5', startPrice: 580, annualVol: 0.6, tradeRate: 8, tradeSize: 2, onboardDate: ONBOARD },
  { symbol: 'SOLUSDT', baseAsset: 'SOL', tickSize: '0.01', stepSize: '1', priceDecimals: 2, qtyDecimals: 0, minQty: '1', maxQty: '1000000', marketMaxQty: '5000', minNotional: '5', startPrice: 150, annualVol: 0.9, tradeRate: 15, tradeSize: 20, onboardDate: ONBOARD },
  { symbol: 'XRPUSDT', baseAsset: 'XRP', tickSize: '0.0001', stepSize: '0.1', priceDecimals: 4, qtyDecimals: 1, minQty: '0.1', maxQty: '10000000', marketMaxQty: '2000000', minNotional: '5', startPrice: 0.6, annualVol: 0.8, tradeRate: 10, tradeSize: 3000, onboardDate: ONBOARD },
];

/**
 * A generated contract for a USDT symbol the list above lacks (`--symbols S001USDT,...`), so tests
 * and benchmarks can list many symbols (the collector's 200): XRP-like filters, a start price,
 * volatility and a low trade rate (0.5 to 1.5 a second, so hundreds stay cheap to generate) derived
 * from the name (the same name always gives the same market).
 */
export function generatedSymbol(symbol: string): SimSymbol | undefined {
  const m = /^([A-Z0-9]{2,20})USDT$/.exec(symbol);
  if (!m) return undefined;
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619) >>> 0;
  const unit = (h % 10_000) / 10_000;
  return {
    symbol, baseAsset: m[1], tickSize: '0.0001', stepSize: '0.1', priceDecimals: 4, qtyDecimals: 1, minQty: '0.1', maxQty: '10000000', marketMaxQty: '2000000', minNotional: '5',
    startPrice: Number((1 + 99 * unit).toFixed(4)), annualVol: 0.5 + unit, tradeRate: Math.round((0.5 + unit) * 10) / 10, tradeSize: Math.round(100 / (1 + 99 * unit)) + 1, onboardDate: ONBOARD,
  };
}

/** Formats an integer count of units with `decimals` decimals exactly ("12345", 2 → "123.45"). */
export function fmtUnits(units: number, decimals: number): string {
  if (decimals === 0) return String(units);
  const neg = units < 0;
  const s = String(Math.abs(units)).padStart(decimals + 1, '0');
  const body = `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
  return neg ? `-${body}` : body;
}

/** Parses a decimal string into integer units of 10^-decimals; undefined when not on the grid. */
export function parseUnits(text: string, decimals: number): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) return undefined;
  return Number(m[1]) * 10 ** decimals + Number(frac.padEnd(decimals, '0') || '0');
}

/** The typed SymbolInfo of a listed contract. */
export function symbolInfo(s: SimSymbol): SymbolInfo {
  return {
    symbol: s.symbol,
    pair: s.symbol,
    contractType: 'PERPETUAL',
    status: 'TRADING',
    baseAsset: s.baseAsset,
    quoteAsset: 'USDT',
    marginAsset: 'USDT',
    pricePrecision: s.priceDecimals,
    quantityPrecision: s.qtyDecimals,
    tickSize: s.tickSize,
    minPrice: s.tickSize,
    maxPrice: '10000000',
    stepSize: s.stepSize,
    minQty: s.minQty,
    maxQty: s.maxQty,
    marketStepSize: s.stepSize,
    marketMinQty: s.minQty,
    marketMaxQty: s.marketMaxQty,
    minNotional: s.minNotional,
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    maxNumOrders: 200,
    maxNumAlgoOrders: MAX_NUM_ALGO_ORDERS,
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    liquidationFee: '0.012500',
    onboardDate: s.onboardDate,
    deliveryDate: 4_133_404_800_000,
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
  };
}

/** Open algo (conditional) orders per symbol and account (Binance's MAX_NUM_ALGO_ORDERS). */
export const MAX_NUM_ALGO_ORDERS = 10;
/** priceProtect: a trigger waits while |last − mark| / mark exceeds this. */
export const TRIGGER_PROTECT = '0.0500';

/** The exchangeInfo symbol object, with Binance's key order and string decimals. */
export function symbolJson(s: SimSymbol): Record<string, unknown> {
  const i = symbolInfo(s);
  return {
    symbol: i.symbol,
    pair: i.pair,
    contractType: i.contractType,
    deliveryDate: i.deliveryDate,
    onboardDate: i.onboardDate,
    status: i.status,
    maintMarginPercent: i.maintMarginPercent,
    requiredMarginPercent: i.requiredMarginPercent,
    baseAsset: i.baseAsset,
    quoteAsset: i.quoteAsset,
    marginAsset: i.marginAsset,
    pricePrecision: i.pricePrecision,
    quantityPrecision: i.quantityPrecision,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    settlePlan: 0,
    triggerProtect: TRIGGER_PROTECT,
    liquidationFee: i.liquidationFee,
    marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: i.minPrice, maxPrice: i.maxPrice, tickSize: i.tickSize },
      { filterType: 'LOT_SIZE', minQty: i.minQty, maxQty: i.maxQty, stepSize: i.stepSize },
      { filterType: 'MARKET_LOT_SIZE', minQty: i.marketMinQty, maxQty: i.marketMaxQty, stepSize: i.marketStepSize },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: i.maxNumAlgoOrders },
      { filterType: 'MIN_NOTIONAL', notional: i.minNotional },
      { filterType: 'PERCENT_PRICE', multiplierUp: i.multiplierUp, multiplierDown: i.multiplierDown, multiplierDecimal: '4' },
    ],
    orderTypes: i.orderTypes,
    timeInForce: i.timeInForce,
  };
}
