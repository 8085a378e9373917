import type { LeverageBracket, SymbolInfo } from '../core/exchange/port.js';
import { symbolInfoFromStored, type ExchangeRulesRepository, type StoredBrackets, type StoredSymbolRow } from '../core/futures/rules.js';
import type { Database } from './database.js';

/**
 * The stored exchange rules: a symbol's exchangeInfo (the `symbols` table, written by
 * SymbolStore) read back as SymbolInfo, and the `leverage_brackets` table (migration 0004).
 */
export class RulesStore implements ExchangeRulesRepository {
  constructor(readonly db: Database) {}

  symbolInfo(symbol: string): SymbolInfo | undefined {
    const row = this.db.sqlite
      .prepare(
        `SELECT symbol, pair, contract_type AS contractType, status, base_asset AS baseAsset, quote_asset AS quoteAsset,
           margin_asset AS marginAsset, price_precision AS pricePrecision, quantity_precision AS quantityPrecision,
           tick_size AS tickSize, step_size AS stepSize, min_qty AS minQty, max_qty AS maxQty,
           market_step_size AS marketStepSize, market_max_qty AS marketMaxQty, min_notional AS minNotional,
           onboard_date AS onboardDate, info_json AS infoJson
         FROM symbols WHERE symbol = ?`,
      )
      .get(symbol) as StoredSymbolRow | undefined;
    return row ? symbolInfoFromStored(row) : undefined;
  }

  brackets(symbol: string): StoredBrackets | undefined {
    const row = this.db.sqlite
      .prepare('SELECT symbol, brackets_json AS json, notional_coef AS coef, source, updated_at AS updatedAt FROM leverage_brackets WHERE symbol = ?')
      .get(symbol) as { symbol: string; json: string; coef: number | null; source: string; updatedAt: number } | undefined;
    if (!row) return undefined;
    return { symbol: row.symbol, brackets: JSON.parse(row.json), notionalCoef: row.coef, source: row.source, updatedAt: row.updatedAt };
  }

  putBrackets(brackets: LeverageBracket, source: string, now: number): void {
    const stmt = this.db.sqlite.prepare(
      `INSERT INTO leverage_brackets (symbol, brackets_json, notional_coef, source, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (symbol) DO UPDATE SET brackets_json = excluded.brackets_json, notional_coef = excluded.notional_coef,
         source = excluded.source, updated_at = excluded.updated_at`,
    );
    const tiers = brackets.brackets.map((b) => ({
      bracket: Number(b.bracket),
      initialLeverage: Number(b.initialLeverage),
      notionalCap: Number(b.notionalCap),
      notionalFloor: Number(b.notionalFloor),
      maintMarginRatio: Number(b.maintMarginRatio),
      cum: Number(b.cum),
    }));
    this.db.sqlite.transaction(() => stmt.run(brackets.symbol, JSON.stringify(tiers), brackets.notionalCoef ?? null, source, now)).immediate();
  }
}
