import type { Clock } from '../clock.js';
import { ExchangeError, type ExchangePort, type LeverageBracket, type LeverageBracketTier, type SymbolInfo } from '../exchange/port.js';
import { sourceOfPort } from '../market/download.js';
import type { FundingRates, FundingRepository } from '../market/funding.js';
import type { SymbolRepository } from '../market/repository.js';
import type { SymbolRulesConfig } from '../config/schema.js';
import type { MarginType, SymbolSetup } from './account.js';
import { buildBrackets } from './accounting.js';
import { Dec } from './decimal.js';

/**
 * Symbol rules offline: a symbol's filters (tick, step, quantities, market lot, min notional),
 * liquidation clearance fee and leverage brackets, for the backtester and the order checks.
 *
 * From the stored exchange data when present (exchangeInfo in the `symbols` table, stored
 * whenever an exchange is reached; `/fapi/v1/leverageBracket` in `leverage_brackets`, stored when
 * an exchange is reached with API credentials), else from the configuration (`symbolRules`:
 * `default`, overridden per symbol by `symbols.<SYMBOL>`). Each part says where it came from.
 */

export type RulesSource = 'exchange' | 'config';

export interface StoredBrackets {
  symbol: string;
  brackets: LeverageBracketTier[];
  notionalCoef: number | null;
  /** The venue they came from: 'binance' | 'testnet' | 'local'. */
  source: string;
  updatedAt: number;
}

/** The stored exchange data the resolver reads (src/db/rulesStore.ts). */
export interface ExchangeRulesRepository {
  /** The stored exchangeInfo of a symbol as SymbolInfo, or undefined when none is stored. */
  symbolInfo(symbol: string): SymbolInfo | undefined;
  brackets(symbol: string): StoredBrackets | undefined;
  /** Stores one symbol's brackets (replacing what was stored) in an IMMEDIATE transaction. */
  putBrackets(brackets: LeverageBracket, source: string, now: number): void;
}

export interface SymbolRules {
  symbol: string;
  info: SymbolInfo;
  brackets: LeverageBracketTier[];
  /** Liquidation clearance fee rate (exact decimal text). */
  liquidationFeeRate: string;
  /** Where each part came from. */
  source: { filters: RulesSource; brackets: RulesSource };
  /** The venue stored brackets came from ('binance' | 'testnet' | 'local'), when from the exchange. */
  bracketsVenue?: string;
  /** The highest leverage the first bracket allows. */
  maxLeverage: number;
}

/** Rules for a symbol: stored exchange data first, the configuration for what is missing. */
export function resolveSymbolRules(repo: ExchangeRulesRepository, config: SymbolRulesConfig, symbol: string): SymbolRules {
  const fallback = { ...config.default, ...(config.symbols[symbol] ?? {}) };
  const stored = repo.symbolInfo(symbol);
  const info = stored ?? configSymbolInfo(symbol, fallback);
  const storedBrackets = repo.brackets(symbol);
  const brackets = storedBrackets && storedBrackets.brackets.length > 0 ? storedBrackets.brackets : buildBrackets(fallback.brackets);
  const liquidationFeeRate = stored ? stored.liquidationFee ?? fallback.liquidationFee : fallback.liquidationFee;
  return {
    symbol,
    info: { ...info, liquidationFee: liquidationFeeRate },
    brackets,
    liquidationFeeRate,
    source: { filters: stored ? 'exchange' : 'config', brackets: storedBrackets && storedBrackets.brackets.length > 0 ? 'exchange' : 'config' },
    maxLeverage: brackets[0]?.initialLeverage ?? 1,
    ...(storedBrackets && storedBrackets.brackets.length > 0 ? { bracketsVenue: storedBrackets.source } : {}),
  };
}

/** What the futures account takes for a symbol (src/core/futures/account.ts). */
export function symbolSetup(rules: SymbolRules, leverage: number, marginType: MarginType): SymbolSetup {
  return { info: rules.info, brackets: rules.brackets, leverage, marginType, liquidationFeeRate: rules.liquidationFeeRate };
}

type RuleFields = SymbolRulesConfig['default'];

/** A SymbolInfo from configured rules: a USDT-margined perpetual; precisions from the tick and step. */
export function configSymbolInfo(symbol: string, r: RuleFields): SymbolInfo {
  const quote = /(USDT|USDC|BUSD)$/.exec(symbol)?.[1] ?? 'USDT';
  return {
    symbol,
    pair: symbol,
    contractType: 'PERPETUAL',
    status: 'TRADING',
    baseAsset: symbol.slice(0, symbol.length - quote.length) || symbol,
    quoteAsset: quote,
    marginAsset: quote,
    pricePrecision: Dec.parse(r.tickSize).decimals(),
    quantityPrecision: Dec.parse(r.stepSize).decimals(),
    tickSize: r.tickSize,
    minPrice: r.tickSize,
    maxPrice: '0',
    stepSize: r.stepSize,
    minQty: r.minQty,
    maxQty: r.maxQty,
    marketStepSize: r.marketStepSize,
    marketMinQty: r.minQty,
    marketMaxQty: r.marketMaxQty,
    minNotional: r.minNotional,
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    liquidationFee: r.liquidationFee,
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

/** Stored columns of a `symbols` row, plus its JSON (Binance's raw exchangeInfo object or a SymbolInfo). */
export interface StoredSymbolRow {
  symbol: string;
  pair: string;
  contractType: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  marginAsset: string;
  pricePrecision: number;
  quantityPrecision: number;
  tickSize: string;
  stepSize: string;
  minQty: string;
  maxQty: string;
  marketStepSize: string;
  marketMaxQty: string;
  minNotional: string;
  onboardDate: number | null;
  infoJson: string;
}

/**
 * A SymbolInfo from a stored `symbols` row: the filter columns, and from the JSON what has no
 * column (min/max price, market min quantity, PERCENT_PRICE, liquidation fee...). The JSON is
 * Binance's exchangeInfo symbol object (with `filters`) or already a SymbolInfo.
 */
export function symbolInfoFromStored(row: StoredSymbolRow): SymbolInfo {
  let raw: Record<string, any> = {};
  try {
    raw = JSON.parse(row.infoJson) as Record<string, any>;
  } catch {
    raw = {};
  }
  const filters = Array.isArray(raw.filters) ? (raw.filters as Record<string, any>[]) : undefined;
  const filter = (type: string): Record<string, any> => filters?.find((f) => f.filterType === type) ?? {};
  const price = filters ? filter('PRICE_FILTER') : raw;
  const mlot = filters ? filter('MARKET_LOT_SIZE') : { minQty: raw.marketMinQty };
  const pct = filters ? filter('PERCENT_PRICE') : raw;
  const text = (v: unknown, d: string) => (v === undefined || v === null ? d : String(v));
  return {
    symbol: row.symbol,
    pair: row.pair,
    contractType: row.contractType,
    status: row.status,
    baseAsset: row.baseAsset,
    quoteAsset: row.quoteAsset,
    marginAsset: row.marginAsset,
    pricePrecision: row.pricePrecision,
    quantityPrecision: row.quantityPrecision,
    tickSize: row.tickSize,
    minPrice: text(price.minPrice, '0'),
    maxPrice: text(price.maxPrice, '0'),
    stepSize: row.stepSize,
    minQty: row.minQty,
    maxQty: row.maxQty,
    marketStepSize: row.marketStepSize,
    marketMinQty: text(mlot.minQty, row.minQty),
    marketMaxQty: row.marketMaxQty,
    minNotional: row.minNotional,
    multiplierUp: pct.multiplierUp === undefined ? undefined : String(pct.multiplierUp),
    multiplierDown: pct.multiplierDown === undefined ? undefined : String(pct.multiplierDown),
    maxNumOrders: filters ? filter('MAX_NUM_ORDERS').limit : raw.maxNumOrders,
    maxNumAlgoOrders: filters ? filter('MAX_NUM_ALGO_ORDERS').limit : raw.maxNumAlgoOrders,
    maintMarginPercent: text(raw.maintMarginPercent, '0'),
    requiredMarginPercent: text(raw.requiredMarginPercent, '0'),
    liquidationFee: raw.liquidationFee === undefined ? undefined : String(raw.liquidationFee),
    onboardDate: row.onboardDate ?? undefined,
    deliveryDate: raw.deliveryDate,
    orderTypes: Array.isArray(raw.orderTypes) ? raw.orderTypes : [],
    timeInForce: Array.isArray(raw.timeInForce) ? raw.timeInForce : [],
  };
}

export interface RulesRefreshDeps {
  port: ExchangePort;
  symbols: SymbolRepository;
  rules: ExchangeRulesRepository;
  clock: Clock;
}

export interface RulesRefreshReport {
  venue: string;
  /** Symbols whose exchangeInfo was stored. */
  symbols: number;
  /** Whether the symbol's leverage brackets were stored; when not, why (no API key, refused...). */
  brackets: { stored: boolean; reason?: string };
}

/**
 * Stores what the connected exchange says about the rules: every symbol's exchangeInfo (the
 * `symbols` table) and this symbol's leverage brackets (`/fapi/v1/leverageBracket`, signed: only
 * with API credentials; without them the brackets are skipped and the reason given, nothing fails).
 */
export async function refreshExchangeRules(deps: RulesRefreshDeps, symbol: string): Promise<RulesRefreshReport> {
  const info = await deps.port.exchangeInfo();
  const raw: Record<string, unknown> = {};
  const rawSymbols = (info.raw as { symbols?: { symbol: string }[] } | undefined)?.symbols;
  if (Array.isArray(rawSymbols)) for (const s of rawSymbols) raw[s.symbol] = s;
  const now = deps.clock.now();
  // the simulated local exchange never overwrites what a real venue said: it only fills in symbols not stored
  const simulated = deps.port.simulated;
  const infos = simulated ? info.symbols.filter((s) => !deps.symbols.get(s.symbol)) : info.symbols;
  const count = infos.length > 0 ? deps.symbols.upsertAll(infos, raw, now) : 0;
  const report: RulesRefreshReport = { venue: deps.port.venue, symbols: count, brackets: { stored: false } };
  const kept = deps.rules.brackets(symbol);
  if (simulated && kept && kept.source !== 'local') {
    report.brackets = { stored: false, reason: `brackets from ${kept.source} are kept` };
    return report;
  }
  try {
    const b = await deps.port.leverageBrackets(symbol);
    if (b && Array.isArray(b.brackets) && b.brackets.length > 0) {
      deps.rules.putBrackets({ ...b, symbol }, sourceOfPort(deps.port), now);
      report.brackets = { stored: true };
    } else report.brackets = { stored: false, reason: 'the exchange sent no brackets' };
  } catch (error) {
    if (!(error instanceof ExchangeError)) throw error;
    report.brackets = { stored: false, reason: `${error.code} ${error.exchangeMessage}` };
  }
  return report;
}

/**
 * The market data a backtest reads besides klines, from the stores: a symbol's rules (with their
 * source) and its funding rates in [from, to]. The backtester's input port is built from this.
 */
export interface StoredMarketInputs {
  rules(symbol: string): SymbolRules;
  funding(symbol: string, from: number, to: number): FundingRates;
}

export function storedMarketInputs(rules: ExchangeRulesRepository, funding: FundingRepository, config: SymbolRulesConfig): StoredMarketInputs {
  return {
    rules: (symbol) => resolveSymbolRules(rules, config, symbol),
    funding: (symbol, from, to) => funding.loadRange(symbol, from, to),
  };
}
