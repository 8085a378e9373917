import type { ExchangeConnectionState } from '../core/events.js';
import type { TFunction } from '../core/i18n.js';
import type { ThemeRole } from './theme.js';

/** The exchange connection in words, and how it is coloured (status bar and Dashboard). */
export function exchangeStateText(ex: ExchangeConnectionState, t: TFunction): { text: string; role?: ThemeRole } {
  if (ex.kind === 'none') return { text: t('status.exchange.none') };
  if (ex.kind === 'connecting') return { text: t('status.exchange.connecting', { venue: ex.venue }) };
  if (ex.kind === 'connected') return ex.simulated ? { text: t('status.exchange.simulated'), role: 'warn' } : { text: t('status.exchange.connected', { venue: ex.venue }) };
  return { text: t('status.exchange.disconnected', { venue: ex.venue, reason: ex.reason }), role: 'error' };
}
