import type { Command } from 'commander';
import type { App } from '../../core/app.js';
import type { CollectorGap, CollectorStatus, CollectorView } from '../../core/market/collector.js';
import { isoMinute } from '../../core/market/klines.js';
import { appOptions, globalOptions } from '../context.js';
import { openApp } from '../../main/compose.js';

/**
 * `atm collect`: the collector alone, headless, for a service manager. Holds the data directory's
 * `collector` lease (a second one exits 2 naming the first's pid), prints a status line with each
 * heartbeat, and stops cleanly on SIGTERM or SIGINT (the lease released, exit 0).
 */
export function register(program: Command): void {
  program
    .command('collect')
    .description("collect market data headless: keep market.collect's symbols current, backfill history, record gaps (one collector per data directory)")
    .action(async (_options: unknown, command: Command) => {
      const app = await openApp(appOptions(globalOptions(command), { logSync: true }));
      // the signal handlers are installed before anything slow, so a stop during startup is clean
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      // a pending promise does not keep Node alive: this timer does, until stopped
      const keepAlive = setInterval(() => undefined, 60_000);
      // an exchange that cannot be reached is waited for (the service retries), and said
      const offState = app.bus.on('exchange.state', (s) => {
        if (s.kind === 'disconnected') process.stdout.write(app.t('collector.waiting', { reason: s.reason }) + '\n');
      });
      try {
        const starting = app.collector.start('atm collect');
        // stopped during startup: the start then fails with 'stopped', which nobody awaits
        starting.catch(() => undefined);
        const status = await Promise.race([starting, stopped.then(() => undefined)]);
        if (status) {
          process.stdout.write(app.t('collector.started', { symbols: status.symbols, venue: status.venue ?? '-', pid: process.pid }) + '\n');
          const off = app.bus.on('collector.status', (s) => process.stdout.write(statusLine(app, s) + '\n'));
          await stopped;
          off();
        }
        await app.collector.stop();
        process.stdout.write(app.t('collector.stopped') + '\n');
      } finally {
        offState();
        clearInterval(keepAlive);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        await app.close();
      }
    });
}

/** One line of a collector's status (log lines of `atm collect`, `atm data status`). */
export function statusLine(app: App, s: CollectorStatus): string {
  return app.t('collector.statusLine', {
    symbols: s.symbols,
    stale: s.stale,
    rate: s.messagesPerSecond.toFixed(1),
    lag: Math.round(s.lagMs),
    rows: s.rowsToday,
    backfilled: s.backfilledToday,
    gaps: s.openGaps,
    backfill: (s.backfill.fraction * 100).toFixed(1),
    done: s.backfill.symbolsDone,
  });
}

/** Who collects, for people. */
export function viewLine(app: App, v: CollectorView): string {
  if (v.role === 'none') return app.t('collector.none');
  const who = v.role === 'self' ? app.t('collector.self') : app.t('collector.other', { label: v.holder?.label ?? '?', pid: v.holder?.pid ?? '?', age: Math.round((v.heartbeatAgeMs ?? 0) / 1000) });
  return v.status ? `${who}: ${statusLine(app, v.status)}` : who;
}

export function gapLine(app: App, g: CollectorGap): string {
  const missing = g.to !== undefined ? Math.round((g.to - g.from) / 60_000) + 1 : undefined;
  return app.t('collector.gapLine', {
    symbol: g.symbol,
    from: isoMinute(g.from),
    to: g.to !== undefined ? isoMinute(g.to) : app.t('collector.now'),
    missing: missing ?? '?',
    cause: app.t(`collector.cause.${g.cause}`),
    state: g.filledAt !== undefined ? app.t('collector.filledAt', { at: isoMinute(g.filledAt) }) : g.cause === 'exchange_missing' ? app.t('collector.notServed') : app.t('collector.open'),
  });
}
