import type { TFunction } from '../../core/i18n.js';
import type { PositionChain, TradedAccount } from '../../core/trading/index.js';

/**
 * The AutoTrade page's view model, without a terminal: the accounts being traded (here, by another
 * process, or not at all) as table cells, and each position's chain as lines of text.
 */

const signed = (x: number) => (x > 0 ? '+' : x < 0 ? '−' : ' ') + Math.abs(x).toFixed(2);

function shortTime(ms: number): string {
  return new Date(ms).toISOString().slice(5, 16).replace('T', ' ');
}

function num(x: number | null): string {
  if (x === null) return '-';
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(1) : a >= 1 ? x.toFixed(3) : x.toPrecision(4);
}

/** One account row: name, kind, automation, trader, equity, positions, last snapshot. */
export function accountCells(a: TradedAccount, t: TFunction): string[] {
  const trader = !a.trader ? t('autotrade.trader.none') : a.trader.here ? t('autotrade.trader.here') : t('autotrade.trader.other', { pid: a.trader.pid, label: a.trader.label });
  const snap = a.snapshot;
  const equity = snap ? Number(snap.marginBalance).toFixed(2) : '-';
  return [a.name, a.kind, t(`autotrade.automation.${a.automation}`), trader, equity, snap ? String(snap.positions.length) : '-', snap ? shortTime(snap.time) : '-'];
}

/** The chain of one position as lines: kline → values → target → orders → fills, and why no order. */
export function chainLines(c: PositionChain, t: TFunction, width: number): string[] {
  const clip = (s: string) => (s.length > width ? s.slice(0, Math.max(0, width - 1)) + '…' : s);
  const lines: string[] = [];
  lines.push(clip(`${c.symbol} ${c.interval} · ${c.strategy}`));
  lines.push(clip(`  ${t('autotrade.chain.kline')}: ${c.kline ? `${shortTime(c.kline.openTime)} O ${num(c.kline.open)} H ${num(c.kline.high)} L ${num(c.kline.low)} C ${num(c.kline.close)}` : t('autotrade.chain.noKline')}`));
  if (c.values.length > 0) lines.push(clip(`  ${t('autotrade.chain.values')}: ${c.values.map((v) => `${v.name} ${num(v.value)}`).join('  ')}`));
  lines.push(clip(`  ${t('autotrade.chain.target')}: ${t('autotrade.chain.decided')} ${signed(c.decided)}  ${t('autotrade.chain.held')} ${signed(c.held)}${c.pending ? `  ${t('autotrade.chain.pending')}` : ''}`));
  const o = c.orders[c.orders.length - 1];
  lines.push(clip(`  ${t('autotrade.chain.orders')}: ${o ? `${shortTime(o.time)} ${o.side} ${o.type} ${o.qty ?? o.stopPrice ?? ''} (${o.reason ?? ''}) ${o.status === 'sent' ? t('autotrade.chain.sent') : t('autotrade.chain.rejected', { code: o.code, message: o.message })}` : '-'}`));
  const f = c.fills[c.fills.length - 1];
  lines.push(clip(`  ${t('autotrade.chain.fills')}: ${f ? `${shortTime(f.time)} ${f.side} ${f.qty} @ ${f.price} (${f.reason})` : '-'}`));
  if (c.why) lines.push(clip(`  ${t('autotrade.chain.why')}: ${c.why}`));
  return lines;
}
