import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config/load.js';
import type { SymbolRulesConfig } from '../../../src/core/config/schema.js';
import type { SymbolInfo } from '../../../src/core/exchange/port.js';
import { FuturesAccount } from '../../../src/core/futures/account.js';
import { DEFAULT_BRACKETS } from '../../../src/core/futures/accounting.js';
import { Dec } from '../../../src/core/futures/decimal.js';
import { resolveSymbolRules, storedMarketInputs, symbolSetup } from '../../../src/core/futures/rules.js';
import { migrate, openDatabase } from '../../../src/db/database.js';
import { FundingStore } from '../../../src/db/fundingStore.js';
import { RulesStore } from '../../../src/db/rulesStore.js';
import { SymbolStore } from '../../../src/db/symbolStore.js';
import { tempHome } from '../../helpers/app.js';

/** ETHUSDT as Binance's exchangeInfo gives it (the filters array), with its own numbers. */
const RAW_ETH = {
  symbol: 'ETHUSDT', pair: 'ETHUSDT', contractType: 'PERPETUAL', deliveryDate: 4133404800000, onboardDate: 1569398400000, status: 'TRADING',
  maintMarginPercent: '2.5000', requiredMarginPercent: '5.0000', baseAsset: 'ETH', quoteAsset: 'USDT', marginAsset: 'USDT',
  pricePrecision: 2, quantityPrecision: 3, baseAssetPrecision: 8, quotePrecision: 8, underlyingType: 'COIN', liquidationFee: '0.015000',
  marketTakeBound: '0.05',
  filters: [
    { filterType: 'PRICE_FILTER', minPrice: '39.86', maxPrice: '306177', tickSize: '0.01' },
    { filterType: 'LOT_SIZE', stepSize: '0.001', maxQty: '10000', minQty: '0.001' },
    { filterType: 'MARKET_LOT_SIZE', stepSize: '0.001', maxQty: '8000', minQty: '0.002' },
    { filterType: 'MAX_NUM_ORDERS', limit: 200 },
    { filterType: 'MIN_NOTIONAL', notional: '20' },
    { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
  ],
  orderTypes: ['LIMIT', 'MARKET'], timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
};

/** The typed form the adapter would make of it (what SymbolStore keeps in columns). */
const ETH_INFO: SymbolInfo = {
  symbol: 'ETHUSDT', pair: 'ETHUSDT', contractType: 'PERPETUAL', status: 'TRADING', baseAsset: 'ETH', quoteAsset: 'USDT', marginAsset: 'USDT',
  pricePrecision: 2, quantityPrecision: 3, tickSize: '0.01', minPrice: '39.86', maxPrice: '306177', stepSize: '0.001', minQty: '0.001', maxQty: '10000',
  marketStepSize: '0.001', marketMinQty: '0.002', marketMaxQty: '8000', minNotional: '20', multiplierUp: '1.0500', multiplierDown: '0.9500',
  maxNumOrders: 200, maintMarginPercent: '2.5000', requiredMarginPercent: '5.0000', liquidationFee: '0.015000', onboardDate: 1569398400000,
  deliveryDate: 4133404800000, orderTypes: ['LIMIT', 'MARKET'],
  timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
};

describe('symbol rules resolver', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function setup(userYaml?: string) {
    const tmp = tempHome('atm-rules-');
    cleanups.push(tmp.cleanup);
    const db = openDatabase(join(tmp.home, 'atm.sqlite'));
    cleanups.push(() => db.close());
    await migrate(db);
    const file = join(tmp.home, 'config.yaml');
    if (userYaml) (await import('node:fs')).writeFileSync(file, userYaml);
    const config: SymbolRulesConfig = loadConfig(file).config.symbolRules;
    return { db, config, rules: new RulesStore(db), symbols: new SymbolStore(db), funding: new FundingStore(db) };
  }

  it('without stored exchange data uses the configuration and says so', async () => {
    const { config, rules } = await setup('symbolRules:\n  symbols:\n    SOLUSDT: { tickSize: "0.0100", minNotional: "5" }\n');
    const btc = resolveSymbolRules(rules, config, 'BTCUSDT');
    expect(btc.source).toEqual({ filters: 'config', brackets: 'config' });
    expect(btc.bracketsVenue).toBeUndefined();
    expect(btc.info).toMatchObject({ symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', tickSize: '0.10', stepSize: '0.001', minQty: '0.001', maxQty: '1000', marketMaxQty: '120', minNotional: '100', pricePrecision: 1, quantityPrecision: 3 });
    expect(btc.liquidationFeeRate).toBe('0.0125');
    // the configured floors and ratios give Binance's table, cum included
    expect(btc.brackets).toEqual(DEFAULT_BRACKETS);
    expect(btc.maxLeverage).toBe(125);
    // a per-symbol override changes only its fields
    const sol = resolveSymbolRules(rules, config, 'SOLUSDT');
    expect(sol.info).toMatchObject({ tickSize: '0.0100', minNotional: '5', stepSize: '0.001', pricePrecision: 2 });
    expect(sol.source.filters).toBe('config');
  });

  it("takes stored exchangeInfo (Binance's raw object or a typed one) and stored brackets, and says so", async () => {
    const { config, rules, symbols } = await setup();
    symbols.upsertAll([ETH_INFO], { ETHUSDT: RAW_ETH });
    const eth = resolveSymbolRules(rules, config, 'ETHUSDT');
    expect(eth.source).toEqual({ filters: 'exchange', brackets: 'config' });
    expect(eth.info).toEqual(ETH_INFO);
    expect(eth.liquidationFeeRate).toBe('0.015000');
    // a typed SymbolInfo stored as JSON (no raw object) reads back the same
    symbols.upsertAll([{ ...ETH_INFO, symbol: 'ETHUSDC', pair: 'ETHUSDC', quoteAsset: 'USDC', marginAsset: 'USDC' }]);
    expect(resolveSymbolRules(rules, config, 'ETHUSDC').info).toEqual({ ...ETH_INFO, symbol: 'ETHUSDC', pair: 'ETHUSDC', quoteAsset: 'USDC', marginAsset: 'USDC' });

    const tiers = [
      { bracket: 1, initialLeverage: 100, notionalCap: 10000, notionalFloor: 0, maintMarginRatio: 0.005, cum: 0 },
      { bracket: 2, initialLeverage: 75, notionalCap: 100000, notionalFloor: 10000, maintMarginRatio: 0.0065, cum: 15 },
      { bracket: 3, initialLeverage: 1, notionalCap: 9e18, notionalFloor: 100000, maintMarginRatio: 0.5, cum: 49365 },
    ];
    rules.putBrackets({ symbol: 'ETHUSDT', notionalCoef: 1, brackets: tiers }, 'binance', 1000);
    const withBrackets = resolveSymbolRules(rules, config, 'ETHUSDT');
    expect(withBrackets.source).toEqual({ filters: 'exchange', brackets: 'exchange' });
    expect(withBrackets.bracketsVenue).toBe('binance');
    expect(withBrackets.brackets).toEqual(tiers);
    expect(withBrackets.maxLeverage).toBe(100);
    expect(rules.brackets('ETHUSDT')).toMatchObject({ source: 'binance', updatedAt: 1000, notionalCoef: 1 });
  });

  it('gives the futures account what it needs: its filters and brackets decide the orders', async () => {
    const { config, rules, symbols, funding } = await setup();
    symbols.upsertAll([ETH_INFO], { ETHUSDT: RAW_ETH });
    const inputs = storedMarketInputs(rules, funding, config);
    const account = new FuturesAccount({ initialBalance: '10000' }, [
      symbolSetup(inputs.rules('ETHUSDT'), 20, 'ISOLATED'),
      symbolSetup(inputs.rules('BTCUSDT'), 10, 'CROSSED'),
    ]);
    account.setMark(0, 2000);
    account.setMark(1, 40000);
    // ETHUSDT (exchange): 20 USDT minimum notional, 0.01 tick; BTCUSDT (config): 100 USDT
    expect(account.checkOrder(0, { side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '2000.00' })).toBeUndefined();
    expect(account.checkOrder(0, { side: 'BUY', type: 'LIMIT', quantity: '0.009', price: '2000.00' })?.code).toBe(-4164);
    expect(account.checkOrder(0, { side: 'BUY', type: 'LIMIT', quantity: '0.010', price: '2000.005' })?.code).toBe(-1111);
    expect(account.checkOrder(1, { side: 'BUY', type: 'LIMIT', quantity: '0.002', price: '40000.0' })?.code).toBe(-4164);
    expect(account.checkOrder(1, { side: 'BUY', type: 'LIMIT', quantity: '0.003', price: '40000.0' })).toBeUndefined();
    // the maintenance margin follows the configured brackets: 0.4 % below 50k notional
    expect(account.maintMargin(1, Dec.parse('40000')).toString()).toBe('160');
    // leverage above the first bracket's maximum is refused
    expect(account.setLeverage(1, 126)).toBeDefined();
    // no funding stored: an empty series
    expect(inputs.funding('ETHUSDT', 0, Date.UTC(2030, 0, 1)).length).toBe(0);
  });
});
