/**
 * Deterministic client order ids: the same decision always gives the same id, so a retry or a
 * restart can never send one decision twice under two names.
 *
 * Format (at most 36 characters, Binance's `^[.A-Z:/a-z0-9_-]{1,36}$`):
 *
 *   atm.<account>.<position>.<openTime>.<sequence>.<purpose>
 *
 * - `atm.` marks the orders atm placed; `atm.<account>.` is the account's prefix (reconciliation
 *   adopts exchange orders with it that the journal does not know);
 * - account id, position index, the decision's kline open time (ms) and its sequence number are
 *   written in base 36 (lower case), so an open time of 2026 takes 8 characters;
 * - purpose: `en` entry, `ex` exit, `sl` stop-loss, `tp` take-profit, `ks` kill-switch close,
 *   `aj` adjustment (a target changed size without changing side).
 *
 * Example: account 1, position 0, kline open 2026-11-27T03:00Z, first order, entry →
 * `atm.1.0.mwye8dc0.0.en` (21 characters).
 */

export type OrderPurpose = 'entry' | 'exit' | 'stop' | 'take' | 'kill' | 'adjust';

const PURPOSE_CODE: Record<OrderPurpose, string> = { entry: 'en', exit: 'ex', stop: 'sl', take: 'tp', kill: 'ks', adjust: 'aj' };
const CODE_PURPOSE: Record<string, OrderPurpose> = Object.fromEntries(Object.entries(PURPOSE_CODE).map(([p, c]) => [c, p as OrderPurpose]));

/** What a decision is: which kline closed, which order of that decision, and what it is for. */
export interface DecisionKey {
  /** Open time (ms) of the closed kline the decision was taken on. */
  openTime: number;
  /** The order's number within the decision (0, 1, ...). */
  sequence: number;
  purpose: OrderPurpose;
}

export const CLIENT_ID_MAX_LENGTH = 36;
export const CLIENT_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;

function nonNegativeInt(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
  return value.toString(36);
}

/** The prefix every client id of this account starts with. */
export function accountPrefix(accountId: number): string {
  return `atm.${nonNegativeInt(accountId, 'account id')}.`;
}

/** The client order id of one decision's order (throws RangeError when it cannot fit in 36 characters). */
export function clientOrderId(accountId: number, positionIndex: number, key: DecisionKey): string {
  const code = PURPOSE_CODE[key.purpose];
  if (!code) throw new RangeError(`unknown order purpose ${JSON.stringify(key.purpose)}`);
  const id = `${accountPrefix(accountId)}${nonNegativeInt(positionIndex, 'position index')}.${nonNegativeInt(key.openTime, 'open time')}.${nonNegativeInt(key.sequence, 'sequence')}.${code}`;
  if (id.length > CLIENT_ID_MAX_LENGTH) throw new RangeError(`client order id ${id} is longer than ${CLIENT_ID_MAX_LENGTH} characters`);
  return id;
}

export interface ParsedClientId {
  accountId: number;
  positionIndex: number;
  key: DecisionKey;
}

/** The parts of one of atm's client ids, or undefined for any other id. */
export function parseClientOrderId(id: string): ParsedClientId | undefined {
  const m = /^atm\.([0-9a-z]+)\.([0-9a-z]+)\.([0-9a-z]+)\.([0-9a-z]+)\.([a-z]{2})$/.exec(id);
  if (!m) return undefined;
  const purpose = CODE_PURPOSE[m[5]];
  if (!purpose) return undefined;
  const [accountId, positionIndex, openTime, sequence] = [m[1], m[2], m[3], m[4]].map((s) => parseInt(s, 36));
  if (![accountId, positionIndex, openTime, sequence].every(Number.isSafeInteger)) return undefined;
  return { accountId, positionIndex, key: { openTime, sequence, purpose } };
}

/** True when `id` is one of this account's client ids. */
export function isAccountClientId(accountId: number, id: string): boolean {
  return parseClientOrderId(id)?.accountId === accountId;
}
