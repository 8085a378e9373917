import type { Generated } from 'kysely';

/**
 * Row types of every table, for kysely. Decimal money values that come from or go to the exchange
 * (prices, quantities, fees, balances) are TEXT holding the exchange's decimal string, never a
 * binary float, so nothing is rounded on the way through. Times are integer milliseconds, UTC.
 */
export interface AppStateTable {
  key: string;
  value: string; // JSON
  updated_at: number;
}

export interface SymbolTable {
  symbol: string;
  pair: string;
  contract_type: string;
  status: string;
  base_asset: string;
  quote_asset: string;
  margin_asset: string;
  price_precision: number;
  quantity_precision: number;
  tick_size: string;
  step_size: string;
  min_qty: string;
  max_qty: string;
  market_step_size: string;
  market_max_qty: string;
  min_notional: string;
  onboard_date: number | null;
  /** Open time of the symbol's first kline on the exchange, found once and stored. */
  first_kline_time: number | null;
  /** The exchange's full symbol object (filters, order types...), as JSON. */
  info_json: string;
  updated_at: number;
}

/**
 * Klines are stored in chunks: one row holds up to a fixed span of consecutive klines of one
 * symbol and interval, packed column by column in `data` (format given by `codec`). A chunk is
 * read straight into typed arrays; this is what makes years of 1m klines load in milliseconds.
 */
export interface KlineChunkTable {
  symbol: string;
  interval: string;
  /** Start of the span this chunk covers (aligned), ms. */
  chunk_start: number;
  first_open_time: number;
  last_open_time: number;
  count: number;
  codec: string;
  data: Buffer;
}

export interface KlineSeriesTable {
  symbol: string;
  interval: string;
  first_open_time: number | null;
  last_open_time: number | null;
  rows: number;
  updated_at: number;
  source: string;
  /** JSON of the decimals the archive files printed per column (migration 0006), or null. */
  decimals: string | null;
}

/** Named configurations: currency analysis (CAC), trade control (TCC) and account control (ACC). */
export interface NamedConfigTable {
  id: Generated<number>;
  kind: 'analysis' | 'trade_control' | 'account_control';
  name: string;
  /** The type within the kind, e.g. 'TS' or 'RQPM' for trade control. */
  type: string;
  params_json: string;
  created_at: number;
  updated_at: number;
}

export interface AnalysisTable {
  id: Generated<number>;
  config_id: number;
  symbol: string;
  interval: string;
  state: string;
  last_open_time: number | null;
  created_at: number;
  updated_at: number;
}

export interface AccountTable {
  id: Generated<number>;
  name: string;
  /** 'virtual' (paper), 'binance' or 'testnet'. */
  kind: string;
  /** Where the credentials are kept (an environment variable name or key-file path), never the secret. */
  credentials_ref: string | null;
  settings_json: string;
  created_at: number;
  updated_at: number;
}

export interface BalanceHistoryTable {
  account_id: number;
  time: number;
  asset: string;
  wallet_balance: string;
  margin_balance: string;
}

export interface TradeLogTable {
  id: Generated<number>;
  account_id: number | null;
  simulation_id: number | null;
  time: number;
  symbol: string;
  side: string;
  position_side: string;
  order_type: string;
  price: string;
  quantity: string;
  fee: string;
  fee_asset: string;
  realized_pnl: string;
  order_id: string | null;
  client_order_id: string | null;
  reason: string | null;
}

export interface SimulationTable {
  id: Generated<number>;
  name: string;
  state: string;
  params_json: string;
  result_json: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface SimulationBalanceTable {
  simulation_id: number;
  time: number;
  wallet_balance: number;
  margin_balance: number;
}

export interface NeuralModelTable {
  id: Generated<number>;
  name: string;
  params_json: string;
  weights: Buffer | null;
  metrics_json: string | null;
  created_at: number;
  updated_at: number;
}

/** One settled funding of a symbol (migration 0004). */
export interface FundingRateTable {
  symbol: string;
  funding_time: number;
  /** Exact decimal text, e.g. '0.00010000'. */
  rate: string;
  mark_price: string | null;
  /** The funding interval when the source states it (archive files), else null. */
  interval_hours: number | null;
  /** 'binance' | 'testnet' | 'local'; one source per symbol. */
  source: string;
}

/** A symbol's leverage brackets from /fapi/v1/leverageBracket (migration 0004). */
export interface LeverageBracketTable {
  symbol: string;
  /** JSON array of {bracket, initialLeverage, notionalCap, notionalFloor, maintMarginRatio, cum}. */
  brackets_json: string;
  notional_coef: number | null;
  source: string;
  updated_at: number;
}

/** A stored parameter sweep (migration 0005). */
export interface SweepTable {
  id: Generated<number>;
  name: string;
  config_json: string;
  plan_json: string;
  method: string;
  objective: string;
  trials: number;
  deflated_sharpe: number | null;
  walk_forward_json: string | null;
  created_at: number;
}

/** A ranked row of a sweep (migration 0005). */
export interface SweepRowTable {
  sweep_id: number;
  rank: number;
  params_json: string;
  summary_json: string;
}

export interface DB {
  app_state: AppStateTable;
  symbols: SymbolTable;
  kline_chunks: KlineChunkTable;
  kline_series: KlineSeriesTable;
  named_configs: NamedConfigTable;
  analyses: AnalysisTable;
  accounts: AccountTable;
  balance_history: BalanceHistoryTable;
  trade_logs: TradeLogTable;
  simulations: SimulationTable;
  simulation_balance: SimulationBalanceTable;
  neural_models: NeuralModelTable;
  funding_rates: FundingRateTable;
  leverage_brackets: LeverageBracketTable;
  sweeps: SweepTable;
  sweep_rows: SweepRowTable;
}
