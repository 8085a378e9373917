import type { AutomationState, RiskState, StoredAccount } from '../accounts/types.js';
import type { EngineVenue } from '../backtest/engine.js';
import type { FuturesAccount } from '../futures/account.js';
import type { VenueEvent } from '../futures/fills.js';

/**
 * Where a trader's orders go. A virtual account trades on the FillSimulator (the backtester's fill
 * model on live klines); an actual account (Binance mainnet or testnet) through the order manager
 * (src/core/trading/orders.ts), which implements `EngineVenue` over the exchange port:
 *
 * - `submit(req)` answers at once with a local order id (the order is journaled and sent in the
 *   background with a deterministic client id) or with a rejection the order manager or the risk
 *   manager decided before sending (Binance's code and message where it applies);
 * - what the exchange reports later (fills from ORDER_TRADE_UPDATE, rejections, cancellations,
 *   liquidations, funding from ACCOUNT_UPDATE) comes back to `listener` as VenueEvents carrying that
 *   local id, with `account` (the engine's FuturesAccount) kept equal to the exchange's account by
 *   reconciliation, so the engine's allocation reads the real wallet and positions;
 * - `onKline` may ignore the klines (the exchange fills), `cancel` cancels by local id.
 *
 * The trader builds an actual account's venue with this factory; the composition root supplies it
 * once the order manager exists (absent: actual accounts are refused with a clear message).
 */
export type ActualVenueFactory = (account: StoredAccount) => (engineAccount: FuturesAccount, listener: (e: VenueEvent) => void) => ActualEngineVenue;

/**
 * What an actual account's venue (src/core/trading/exchangeVenue.ts) offers the trader beyond
 * EngineVenue: the decision kline of each position (for the client ids), the target to assume held
 * at start (the exchange's position), the automation state and the kill switch at the exchange.
 */
export interface ActualEngineVenue extends EngineVenue {
  setDecisionTime?(fn: (s: number) => number): void;
  heldAtStart?(s: number, decided: number): number | undefined;
  setAutomation?(state: AutomationState): void;
  /** The order manager's risk state, shown in the account's snapshot. */
  riskStatus?(): { state: RiskState; reason?: string };
  kill?(options: { closePositions: boolean; reason?: string }): Promise<unknown>;
  /** Orders are on their way whose fills the next minute's sizing needs; `whenIdle` calls back once they landed (or after a bound). */
  busy?(): boolean;
  whenIdle?(fn: () => void): void;
}
