import { describe, expect, it } from 'vitest';
import { CLIENT_ID_PATTERN, accountPrefix, clientOrderId, isAccountClientId, parseClientOrderId, type OrderPurpose } from '../../../src/core/trading/clientIds.js';

describe('client order ids', () => {
  const openTime = Date.UTC(2026, 10, 27, 3, 0);

  it('the same decision always gives the same id, a different one a different id', () => {
    const key = { openTime, sequence: 0, purpose: 'entry' as const };
    const a = clientOrderId(1, 0, key);
    expect(clientOrderId(1, 0, { ...key })).toBe(a);
    const others = [
      clientOrderId(2, 0, key), clientOrderId(1, 1, key), clientOrderId(1, 0, { ...key, openTime: openTime + 60_000 }),
      clientOrderId(1, 0, { ...key, sequence: 1 }), clientOrderId(1, 0, { ...key, purpose: 'exit' }),
    ];
    expect(new Set([a, ...others]).size).toBe(6);
  });

  it('fits Binance: at most 36 characters of [.A-Z:/a-z0-9_-], even for large numbers', () => {
    const purposes: OrderPurpose[] = ['entry', 'exit', 'stop', 'take', 'kill', 'adjust'];
    for (const purpose of purposes) {
      const id = clientOrderId(2 ** 31, 9999, { openTime: Date.UTC(2099, 11, 31), sequence: 99_999, purpose });
      expect(id.length).toBeLessThanOrEqual(36);
      expect(id).toMatch(CLIENT_ID_PATTERN);
    }
  });

  it('parses back to its parts and tells this account from others and from foreign ids', () => {
    const id = clientOrderId(42, 3, { openTime, sequence: 2, purpose: 'stop' });
    expect(parseClientOrderId(id)).toEqual({ accountId: 42, positionIndex: 3, key: { openTime, sequence: 2, purpose: 'stop' } });
    expect(id.startsWith(accountPrefix(42))).toBe(true);
    expect(isAccountClientId(42, id)).toBe(true);
    expect(isAccountClientId(4, id)).toBe(false);
    expect(parseClientOrderId('sim_abcdef')).toBeUndefined();
    expect(parseClientOrderId('atm.1.0.x.0.zz')).toBeUndefined();
  });

  it('refuses what cannot be an id', () => {
    expect(() => clientOrderId(-1, 0, { openTime, sequence: 0, purpose: 'entry' })).toThrow(RangeError);
    expect(() => clientOrderId(1, 0.5, { openTime, sequence: 0, purpose: 'entry' })).toThrow(/position index/);
    expect(() => clientOrderId(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, { openTime: Number.MAX_SAFE_INTEGER, sequence: 0, purpose: 'entry' })).toThrow(/longer than 36/);
    expect(() => clientOrderId(1, 0, { openTime, sequence: 0, purpose: 'bogus' as OrderPurpose })).toThrow(/purpose/);
  });
});
