import type { SymbolInfo } from '../../../src/core/exchange/port.js';

/** A symbol's exchangeInfo fields as the account reads them (BTCUSDT-like unless overridden). */
export function testSymbol(symbol: string, over: Partial<SymbolInfo> = {}): SymbolInfo {
  return {
    symbol, pair: symbol, contractType: 'PERPETUAL', status: 'TRADING', baseAsset: symbol.replace(/USDT$/, ''), quoteAsset: 'USDT', marginAsset: 'USDT',
    pricePrecision: 2, quantityPrecision: 3, tickSize: '0.1', minPrice: '0.1', maxPrice: '1000000',
    stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketStepSize: '0.001', marketMinQty: '0.001', marketMaxQty: '120',
    minNotional: '100', maintMarginPercent: '2.5', requiredMarginPercent: '5', liquidationFee: '0.0125',
    orderTypes: ['LIMIT', 'MARKET', 'STOP_MARKET', 'TAKE_PROFIT_MARKET'], timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
    ...over,
  };
}
