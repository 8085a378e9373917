/** What front ends read of trading (plain data types). */
export type { PositionChain, TraderEvent, TraderStatus } from './trader.js';
export type { KillResult, TradedAccount } from './service.js';
