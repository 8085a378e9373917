import type { LeverageBracketTier, SymbolInfo } from '../exchange/port.js';
import { DEFAULT_BRACKETS } from '../futures/accounting.js';
import { Dec } from '../futures/decimal.js';
import type { SymbolRepository } from '../market/repository.js';
import type { SymbolRulesConfig } from './config.js';

/** Where a symbol's filters and brackets came from (the summary reports it). */
/**
 * `exchange`: stored exchangeInfo / leverage brackets; `config`: the configuration (a position's
 * `rules`, or `symbolRules`); `inferred`: the configuration's default rules fitted to the symbol's
 * prices (see inferRules);
 * `default`: built-in BTCUSDT-like rules (only without an app).
 */
export type RulesSource = 'exchange' | 'config' | 'inferred' | 'default';

/** A symbol's rules as plain data (crosses to the worker). */
export interface SymbolRules {
  info: SymbolInfo;
  brackets: LeverageBracketTier[];
  source: RulesSource;
}

/** Funding rates of one symbol: settlement times (ms, ascending) and decimal rates. */
export interface FundingSeries {
  times: number[];
  rates: string[];
}

/**
 * What a backtest needs from the market besides klines: a symbol's rules (stored exchangeInfo and
 * leverage brackets when an exchange was reached, else the configuration, else defaults) and the
 * funding rates of a range. The app layer implements it; `defaultMarketInputs` is the fallback
 * (configured or default rules, no funding).
 */
export interface MarketInputs {
  rules(symbol: string, configured?: SymbolRulesConfig, reference?: PriceReference): SymbolRules;
  funding(symbol: string, from: number, to: number): FundingSeries;
}

/** What the klines say about a symbol's prices, for rules inferred without exchange data. */
export interface PriceReference {
  /** A typical price (the first close). */
  price: number;
  /** Decimals of the prices (the most any of the first klines' prices has). */
  priceDecimals: number;
}

/** The decimals of a price read from a file or the store (at most 8). */
export function decimalsOfPrice(x: number): number {
  for (let d = 0; d <= 8; d++) {
    const scaled = x * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, Math.abs(scaled))) return d;
  }
  return 8;
}

/** The price reference of 1m klines: the first close and the decimals of the first 2000 klines' prices. */
export function priceReference(k: { length: number; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array }): PriceReference {
  let decimals = 0;
  for (let i = 0; i < Math.min(k.length, 2000); i++) {
    decimals = Math.max(decimals, decimalsOfPrice(k.open[i]), decimalsOfPrice(k.high[i]), decimalsOfPrice(k.low[i]), decimalsOfPrice(k.close[i]));
  }
  return { price: k.close[0], priceDecimals: decimals };
}

/**
 * The configured default rules (BTCUSDT's) fitted to a symbol's prices where they cannot serve it,
 * when nothing is stored or configured for the symbol: a tick finer than the default when the
 * klines' prices have more decimals (a $3 coin quoted to 0.001 against a 0.1 tick), and maximum
 * quantities raised to the step multiple nearest 10^9 / price when the default caps an order below
 * 1,000,000 USDT (1000 BTC is $20 M; 1000 of a $3 coin is $3,000). Step, minimum quantity, minimum
 * notional and brackets stay. `changed` says whether anything was fitted.
 */
export function inferRules(info: SymbolInfo, ref: PriceReference): { info: SymbolInfo; changed: boolean } {
  if (!(ref.price > 0)) return { info, changed: false };
  const out: SymbolInfo = { ...info };
  let changed = false;
  const tickDecimals = Math.min(8, ref.priceDecimals);
  if (tickDecimals > Dec.parse(info.tickSize).decimals()) {
    out.tickSize = out.minPrice = (10 ** -tickDecimals).toFixed(tickDecimals);
    out.pricePrecision = tickDecimals;
    changed = true;
  }
  const cap = Dec.parse(String(Math.max(1, Math.round(1e9 / ref.price)))).toString();
  for (const key of ['maxQty', 'marketMaxQty'] as const) {
    if (Number(info[key]) * ref.price < 1_000_000) {
      out[key] = cap;
      changed = true;
    }
  }
  return { info: out, changed };
}

/** Binance BTCUSDT-like filters, for symbols without stored or configured rules. */
export function defaultSymbolInfo(symbol: string): SymbolInfo {
  return {
    symbol, pair: symbol, contractType: 'PERPETUAL', status: 'TRADING', baseAsset: symbol.replace(/USDT$/, ''), quoteAsset: 'USDT', marginAsset: 'USDT',
    pricePrecision: 2, quantityPrecision: 3, tickSize: '0.1', minPrice: '0.1', maxPrice: '4529764',
    stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketStepSize: '0.001', marketMinQty: '0.001', marketMaxQty: '120',
    minNotional: '100', maintMarginPercent: '2.5000', requiredMarginPercent: '5.0000', liquidationFee: '0.012500',
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

const decimalsOf = (text: string) => Dec.parse(text).decimals();

/** Applies configured rules over a base: a changed step also sets the precision and the market step. */
export function applyRulesConfig(base: SymbolInfo, brackets: readonly LeverageBracketTier[], r: SymbolRulesConfig): { info: SymbolInfo; brackets: LeverageBracketTier[] } {
  const info: SymbolInfo = { ...base };
  if (r.tickSize) {
    info.tickSize = r.tickSize;
    info.minPrice = r.tickSize;
    info.pricePrecision = decimalsOf(r.tickSize);
  }
  if (r.stepSize) {
    info.stepSize = info.marketStepSize = r.stepSize;
    info.quantityPrecision = decimalsOf(r.stepSize);
  }
  if (r.minQty) info.minQty = info.marketMinQty = r.minQty;
  if (r.maxQty) info.maxQty = info.marketMaxQty = r.maxQty;
  if (r.minNotional !== undefined) info.minNotional = r.minNotional;
  if (r.pricePrecision !== undefined) info.pricePrecision = r.pricePrecision;
  if (r.quantityPrecision !== undefined) info.quantityPrecision = r.quantityPrecision;
  let out = brackets.map((b) => ({ ...b }));
  if (r.maxLeverage !== undefined) out = out.map((b) => ({ ...b, initialLeverage: Math.min(b.initialLeverage, r.maxLeverage!) }));
  return { info, brackets: out };
}

/**
 * The fallback inputs: rules from the configuration (source 'config') or Binance-like defaults
 * (source 'default', with the stored tick size and price precision when the symbol is stored), and
 * no funding (the summary then says `fundingDataMissing: true`).
 */
export function defaultMarketInputs(symbols?: SymbolRepository): MarketInputs {
  return {
    rules(symbol, configured) {
      let info = defaultSymbolInfo(symbol);
      const stored = symbols?.get(symbol);
      if (stored) info = { ...info, tickSize: stored.tickSize, minPrice: stored.tickSize, pricePrecision: stored.pricePrecision };
      if (configured && Object.keys(configured).length > 0) return { ...applyRulesConfig(info, DEFAULT_BRACKETS, configured), source: 'config' };
      return { info, brackets: DEFAULT_BRACKETS.map((b) => ({ ...b })), source: 'default' };
    },
    funding: () => ({ times: [], rates: [] }),
  };
}
