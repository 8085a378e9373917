import type { App } from '../core/app.js';
import type { ExchangeConnectionState } from '../core/events.js';
import type { ExchangeStats } from '../core/exchange/port.js';
import type { TFunction } from '../core/i18n.js';
import type { ThemeRole } from './theme.js';

/**
 * The two exchange calls the screens make, in one place. They go through `app.exchange` until the
 * App facade offers `connectExchange()` and `exchangeStats()`; then only these bodies change.
 */

/** Connects the configured exchange (the TUI does it after its first frame). */
export async function connectExchange(app: App): Promise<void> {
  await app.exchange.start();
}

/** Websocket, REST weight and order book figures of the connected exchange, or undefined. */
export function exchangeStats(app: App): ExchangeStats | undefined {
  return app.exchange.stats();
}

/** The exchange connection in words, and how it is coloured (status bar and Dashboard). */
export function exchangeStateText(ex: ExchangeConnectionState, t: TFunction): { text: string; role?: ThemeRole } {
  if (ex.kind === 'none') return { text: t('status.exchange.none') };
  if (ex.kind === 'connecting') return { text: t('status.exchange.connecting', { venue: ex.venue }) };
  if (ex.kind === 'connected') return ex.simulated ? { text: t('status.exchange.simulated'), role: 'warn' } : { text: t('status.exchange.connected', { venue: ex.venue }) };
  return { text: t('status.exchange.disconnected', { venue: ex.venue, reason: ex.reason }), role: 'error' };
}
