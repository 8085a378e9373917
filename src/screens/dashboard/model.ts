import type { SystemStatus } from '../../core/app.js';
import type { ExchangeStats } from '../../core/exchange/port.js';
import type { CollectorView } from '../../core/market/collector.js';
import type { LogRecord } from '../../core/events.js';
import { exchangeStateText } from '../exchange.js';
import type { TFunction } from '../../core/i18n.js';
import type { ThemeRole } from '../theme.js';
import { formatBytes, formatDuration, formatUtc } from '../widgets.js';
import type { JobInfo } from '../../core/jobs.js';
import { durationText, percentText, progressBar } from '../widgets/progress.js';

/**
 * The Dashboard's view model, free of any terminal: the process figures, the worker pools and
 * jobs, the exchange block and the log lines as plain rows, and the log panel's state.
 */

/** The process block: [label, value] rows. */
export function processRows(s: SystemStatus, mode: string, t: TFunction): [string, string][] {
  return [
    [t('dashboard.uptime'), `${formatDuration(s.uptimeMs, false)} (${formatUtc(s.startedAt, false)} UTC)`],
    [t('dashboard.memory'), formatBytes(s.rssBytes)],
    [t('dashboard.heap'), formatBytes(s.heapUsedBytes)],
    [t('dashboard.events'), t('dashboard.eventsValue', { rate: s.eventsPerSecond.toFixed(1), total: s.eventsTotal })],
    [t('dashboard.mode'), mode],
    [t('dashboard.exchange'), exchangeStateText(s.exchange, t).text],
    [t('dashboard.readonly'), s.readonly ? t('dashboard.yes') : t('dashboard.no')],
    [t('dashboard.database'), s.databasePath],
    [t('dashboard.schema'), s.schemaVersion ?? '-'],
  ];
}

/** The pools table: a header row, then one row per pool (name, threads, max, running, queued, completed, failed). */
export function poolRows(s: SystemStatus, t: TFunction): string[][] {
  return [
    [t('dashboard.pool'), t('dashboard.threads'), t('dashboard.max'), t('dashboard.running'), t('dashboard.queued'), t('dashboard.completed'), t('dashboard.failed')],
    ...s.pools.map((p) => [t(`dashboard.poolNames.${p.name}`), String(p.threads), String(p.maxThreads), String(p.running), String(p.queued), String(p.completed), String(p.failed)]),
  ];
}

/** The jobs shown under the pools (at most `max`). */
/**
 * The jobs list (app.jobs.list(), newest first): per job its label, state, a progress bar with
 * percent while running (the result or error once finished) and the ETA; `role` colours the state.
 */
export function jobRows(jobs: readonly JobInfo[], t: TFunction, barWidth = 12, max = 6): { cells: string[]; role: ThemeRole }[] {
  return jobs.slice(0, max).map((j) => {
    const running = j.state === 'running';
    const detail = running ? `${progressBar(j.done, j.total, barWidth)} ${percentText(j.done, j.total)}`.trimEnd() : (j.error ?? j.result ?? '');
    const role: ThemeRole = j.state === 'failed' ? 'error' : j.state === 'cancelled' ? 'warn' : j.state === 'done' ? 'up' : 'accent';
    return { cells: [j.label, t(`jobs.state.${j.state}`), detail, running ? durationText(j.etaMs) : ''], role };
  });
}

export function jobLabels(s: SystemStatus, max = 5): string[] {
  return s.jobs.slice(0, max).map((j) => j.label);
}

/** The exchange block's two lines (connection figures, order books), or undefined when offline. */
export function exchangeLines(st: ExchangeStats | undefined, t: TFunction): [string, string] | undefined {
  if (!st) return undefined;
  const line = t('exchange.dashboard.line', {
    venue: st.simulated ? t('exchange.dashboard.simulated') : st.venue,
    rate: st.messagesPerSecond.toFixed(0), lag: Math.round(st.lagMs), maxLag: Math.round(st.maxLagMs), reconnects: st.reconnects,
    streams: st.streams, connections: st.connections, weight: st.usedWeight, limit: st.weightLimit,
  });
  const books = st.books.length === 0
    ? t('exchange.dashboard.noBooks')
    : st.books.map((b) => t('exchange.dashboard.book', { symbol: b.symbol, state: t(`exchange.dashboard.bookState.${b.state}`), bid: b.bestBid ?? '-', ask: b.bestAsk ?? '-', resyncs: b.resyncs })).join('  ');
  return [line, books];
}

/**
 * The Collector block's three lines: who collects (this process, `atm collect` with its pid and
 * the age of its last heartbeat, or nobody), then the figures it published: symbols and how many
 * are behind, messages/s and lag, rows stored today, open gaps and backfill progress.
 */
export function collectorLines(v: CollectorView, t: TFunction): string[] {
  if (v.role === 'none') return [t('collector.panel.none')];
  const who = v.role === 'self'
    ? t('collector.panel.self')
    : `${t('collector.panel.other', { label: v.holder?.label ?? '?', pid: v.holder?.pid ?? '?' })} · ${t('collector.panel.heartbeat', { age: Math.round((v.heartbeatAgeMs ?? 0) / 1000) })}`;
  const s = v.status;
  if (!s) return [who];
  return [
    who,
    `${t('collector.panel.symbols', { symbols: s.symbols, stale: s.stale })} · ${t('collector.panel.gaps', { gaps: s.openGaps })} · ${t('collector.panel.backfill', { pct: (s.backfill.fraction * 100).toFixed(0), done: s.backfill.symbolsDone, symbols: s.backfill.symbols })}`,
    `${t('collector.panel.rate', { rate: s.messagesPerSecond.toFixed(0), lag: Math.round(s.lagMs) })} · ${t('collector.panel.rows', { rows: s.rowsToday, backfilled: s.backfilledToday })}`,
  ];
}

const LEVEL_ROLE: Record<string, ThemeRole> = { trace: 'muted', debug: 'muted', info: 'fg', warn: 'warn', error: 'error', fatal: 'error' };

/** One log line: UTC time of day, the level (padded, coloured by role) and `[component] message`. */
export function logRow(r: LogRecord): { time: string; level: string; role: ThemeRole; text: string } {
  return {
    time: new Date(r.time).toISOString().slice(11, 19),
    level: r.level.toUpperCase().padEnd(5).slice(0, 5),
    role: LEVEL_ROLE[r.level] ?? 'fg',
    text: `${r.component ? `[${r.component}] ` : ''}${r.msg}`,
  };
}

/** The log panel: shown or hidden, and whether it follows the newest line. */
export class LogPanelState {
  follow = true;
  constructor(public shown: boolean) {}

  toggle(): void {
    this.shown = !this.shown;
  }

  /** A scroll by the user: following stops going up, resumes at the bottom. */
  scrolled(atBottom: boolean): void {
    this.follow = atBottom;
  }
}
