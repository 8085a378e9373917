import type { SymbolInfo } from '../core/exchange/port.js';
import type { SymbolRepository, StoredSymbol } from '../core/market/repository.js';
import { writeTransaction, type Database } from './database.js';

/** The `symbols` table: exchange metadata, plus each symbol's first kline time once found. */
export class SymbolStore implements SymbolRepository {
  constructor(readonly db: Database) {}

  /** Inserts or updates every symbol of an exchangeInfo answer in one transaction (keeps first_kline_time). */
  upsertAll(symbols: readonly SymbolInfo[], raw: Record<string, unknown> = {}, now = Date.now()): number {
    const stmt = this.db.sqlite.prepare(
      `INSERT INTO symbols (symbol, pair, contract_type, status, base_asset, quote_asset, margin_asset, price_precision,
         quantity_precision, tick_size, step_size, min_qty, max_qty, market_step_size, market_max_qty, min_notional,
         onboard_date, first_kline_time, info_json, updated_at)
       VALUES (@symbol, @pair, @contractType, @status, @baseAsset, @quoteAsset, @marginAsset, @pricePrecision,
         @quantityPrecision, @tickSize, @stepSize, @minQty, @maxQty, @marketStepSize, @marketMaxQty, @minNotional,
         @onboardDate, NULL, @info, @now)
       ON CONFLICT (symbol) DO UPDATE SET pair = excluded.pair, contract_type = excluded.contract_type,
         status = excluded.status, base_asset = excluded.base_asset, quote_asset = excluded.quote_asset,
         margin_asset = excluded.margin_asset, price_precision = excluded.price_precision,
         quantity_precision = excluded.quantity_precision, tick_size = excluded.tick_size, step_size = excluded.step_size,
         min_qty = excluded.min_qty, max_qty = excluded.max_qty, market_step_size = excluded.market_step_size,
         market_max_qty = excluded.market_max_qty, min_notional = excluded.min_notional,
         onboard_date = excluded.onboard_date, info_json = excluded.info_json, updated_at = excluded.updated_at`,
    );
    writeTransaction(this.db.sqlite, () => {
      for (const s of symbols) {
        stmt.run({
          symbol: s.symbol,
          pair: s.pair,
          contractType: s.contractType,
          status: s.status,
          baseAsset: s.baseAsset,
          quoteAsset: s.quoteAsset,
          marginAsset: s.marginAsset,
          pricePrecision: s.pricePrecision,
          quantityPrecision: s.quantityPrecision,
          tickSize: s.tickSize,
          stepSize: s.stepSize,
          minQty: s.minQty,
          maxQty: s.maxQty,
          marketStepSize: s.marketStepSize,
          marketMaxQty: s.marketMaxQty,
          minNotional: s.minNotional,
          onboardDate: s.onboardDate ?? null,
          info: JSON.stringify(raw[s.symbol] ?? s),
          now,
        });
      }
    });
    return symbols.length;
  }

  get(symbol: string): StoredSymbol | undefined {
    const r = this.db.sqlite
      .prepare('SELECT symbol, status, base_asset AS baseAsset, quote_asset AS quoteAsset, tick_size AS tickSize, price_precision AS pricePrecision, onboard_date AS onboardDate, first_kline_time AS firstKlineTime FROM symbols WHERE symbol = ?')
      .get(symbol) as StoredSymbol | undefined;
    return r;
  }

  list(): StoredSymbol[] {
    return this.db.sqlite
      .prepare('SELECT symbol, status, base_asset AS baseAsset, quote_asset AS quoteAsset, tick_size AS tickSize, price_precision AS pricePrecision, onboard_date AS onboardDate, first_kline_time AS firstKlineTime FROM symbols ORDER BY symbol')
      .all() as StoredSymbol[];
  }

  setFirstKlineTime(symbol: string, time: number): void {
    this.db.sqlite.prepare('UPDATE symbols SET first_kline_time = ? WHERE symbol = ?').run(time, symbol);
  }
}
