import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { App } from '../../core/app.js';
import { ArchiveError } from '../../core/market/archive.js';
import { FundingService, type FundingCoverage, type FundingImportSummary } from '../../core/market/funding.js';
import { listArchiveFiles } from '../../core/market/importer.js';
import { exportArchive } from '../../core/market/export.js';
import { isoMinute, parseInterval, type Interval } from '../../core/market/klines.js';
import { verifyKlines } from '../../core/market/verify.js';
import { AtmError, EXIT_STATUS } from '../../core/errors.js';
import { confirmDestructive, UserError, withApp } from '../context.js';
import { importDeepFiles } from './deepImport.js';
import { gapLine, viewLine } from './collect.js';

/**
 * `atm data download|import|status|export|verify`: the market data store, headless. The same
 * App facade (`app.market`) the Market page uses.
 */

/** Parses a time argument: YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], ISO 8601, or epoch ms. UTC. */
export function parseTime(text: string, option: string): number {
  const s = text.trim();
  if (/^\d{10,}$/.test(s)) return Number(s);
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(?:Z)?$/.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, se] = m;
    const t = Date.UTC(Number(y), Number(mo) - 1, Number(d ?? 1), Number(h ?? 0), Number(mi ?? 0), Number(se ?? 0));
    if (!Number.isNaN(t) && Number(mo) >= 1 && Number(mo) <= 12) return t;
  }
  throw new UserError(`${option} ${JSON.stringify(text)} is not a time: use YYYY-MM-DD, "YYYY-MM-DD HH:MM" (UTC) or epoch milliseconds`);
}

/** `--interval` (or `option`) as an Interval; an unknown one is a user error naming the option. */
export function intervalOption(text: string, option?: string): Interval;
export function intervalOption(text: string | undefined, option?: string): Interval | undefined;
export function intervalOption(text: string | undefined, option = '--interval'): Interval | undefined {
  if (text === undefined) return undefined;
  try {
    return parseInterval(text);
  } catch (error) {
    throw new UserError(`${option}: ${(error as Error).message}`);
  }
}

function symbolOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const s = text.trim().toUpperCase();
  if (!/^[A-Z0-9_]{2,30}$/.test(s)) throw new UserError(`--symbol ${JSON.stringify(text)} is not a symbol (letters and digits, e.g. BTCUSDT)`);
  return s;
}

/**
 * A progress bar with ETA on stderr: redrawn in place on a terminal (at most 10 times a second),
 * a plain line every 5 seconds otherwise. Nothing is drawn for jobs that end within a second.
 */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number, detail = ''): void {
    const now = Date.now();
    const tty = this.stream.isTTY === true;
    if (now - this.started < 1000 && (done < total || !this.drawn)) return;
    if (now - this.lastDraw < (tty ? 100 : 5000) && done < total) return;
    this.lastDraw = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const elapsed = (now - this.started) / 1000;
    const eta = fraction > 0 && fraction < 1 ? (elapsed / fraction) * (1 - fraction) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label} ${bar} ${(fraction * 100).toFixed(1).padStart(5)}%  ${formatDuration(elapsed)} elapsed${fraction < 1 ? `, ETA ${formatDuration(eta)}` : ''}${detail ? `  ${detail}` : ''}`;
    if (tty) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(line + '\n');
    this.drawn = true;
  }

  done(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const time = (t: number | null | undefined) => (t === null || t === undefined ? '-' : isoMinute(t));

export function register(program: Command): void {
  const data = program.command('data').description('market data: download, import Binance archive files, status, export, verify');

  data
    .command('import')
    .description('import Binance public-archive kline, funding-rate, aggTrades and bookDepth files (.zip or .csv, monthly or daily, header or not; folders are searched)')
    .argument('<paths...>', 'files or folders')
    .option('--symbol <symbol>', 'symbol, instead of the one in the file name')
    .option('--interval <interval>', 'interval, instead of the one in the file name')
    .option('--replace', 'overwrite stored klines that differ from the file (default: keep what is stored)')
    .option('--json', 'print JSON')
    .action(async (paths: string[], options: { symbol?: string; interval?: string; replace?: boolean; json?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol);
      const interval = intervalOption(options.interval);
      await withApp(command, async (app) => {
        // aggTrades and bookDepth archive files go to the deep store (deepImport.ts)
        const deep = importDeepFiles(app, paths.map((p) => resolve(p)), { symbol, json: options.json });
        if (deep.imported && deep.rest.length === 0) return;
        // funding-rate archive files (SYMBOL-fundingRate-YYYY-MM) go to the funding store, the rest are klines
        const split = splitFundingFiles(deep.rest);
        const funding = split.funding.length > 0 ? app.funding.importArchives(split.funding, { symbol, replace: options.replace }) : undefined;
        if (funding) {
          if (funding.failed > 0) process.exitCode = EXIT_STATUS.user;
          if (split.klines.length === 0) {
            process.stdout.write(options.json ? JSON.stringify({ funding }, null, 2) + '\n' : fundingImportLines(app, funding).join('\n') + '\n');
            return;
          }
          if (!options.json) process.stdout.write(fundingImportLines(app, funding).join('\n') + '\n');
        }
        const bar = new ProgressBar(app.t('data.importing'));
        let summary;
        try {
          summary = app.market.importArchives(split.klines, {
            symbol,
            interval,
            replace: options.replace,
            onProgress: (done, total) => bar.update(done, total),
          });
        } catch (error) {
          if (error instanceof ArchiveError) throw new UserError(error.message);
          throw error;
        } finally {
          bar.done();
        }
        if (options.json) {
          process.stdout.write(JSON.stringify(funding ? { ...summary, funding } : summary, null, 2) + '\n');
        } else {
          const t = app.t;
          const lines: string[] = [];
          for (const f of summary.files) {
            const name = f.entry ? `${f.file} (${f.entry})` : f.file;
            if (f.error) lines.push(t('data.importFailed', { file: name, error: f.error }));
            else if (f.empty) lines.push(t('data.importEmpty', { file: name }));
            else
              lines.push(
                t('data.importFile', {
                  file: name,
                  rows: f.rows,
                  inserted: f.inserted,
                  duplicates: f.duplicates,
                  checksum: f.checksum === 'ok' ? t('data.checksumOk') : t('data.checksumAbsent'),
                }) +
                  (f.repeated > 0 ? ' ' + t('data.repeatedInFile', { count: f.repeated }) : '') +
                  (f.changed > 0 ? ' ' + t('data.changedKept', { count: f.changed }) : ''),
              );
          }
          lines.push(
            t('data.importTotal', {
              files: summary.files.length - summary.failed,
              rows: summary.rows,
              inserted: summary.inserted,
              duplicates: summary.duplicates,
              rate: Math.round(summary.rows / Math.max(0.001, summary.elapsedMs / 1000)),
            }),
          );
          for (const s of summary.series) {
            lines.push(
              t('data.seriesLine', { symbol: s.symbol, interval: s.interval, first: time(s.first), last: time(s.last) }) +
                ' ' +
                (s.gaps.length === 0 ? t('data.noGaps') : t('data.gapsFound', { gaps: s.gaps.length, missing: s.missing })),
            );
            for (const g of s.gaps.slice(0, 10)) lines.push('  ' + t('data.gapLine', { from: time(g.from), to: time(g.to), missing: g.missing }));
          }
          process.stdout.write(lines.join('\n') + '\n');
        }
        // empty files only: nothing was imported, and the user should hear it (exit status 2)
        if (summary.rows === 0 && summary.failed === 0) throw new UserError(app.t('data.nothingImported', { paths: paths.join(', ') }));
        if (summary.failed > 0) process.exitCode = EXIT_STATUS.user; // a refused file is bad input
      });
    });

  data
    .command('status')
    .description('stored klines per symbol and interval: first and last kline, rows, gaps, size on disk')
    .option('--symbol <symbol>', 'only this symbol')
    .option('--funding', 'funding rates only: first and last funding time, count, gaps in the funding grid')
    .option('--json', 'print JSON')
    .action(async (options: { symbol?: string; json?: boolean; funding?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol);
      await withApp(command, async (app) => {
        if (options.funding) {
          const coverage = app.funding.coverage(symbol);
          process.stdout.write((options.json ? JSON.stringify(coverage.map((c) => withIsoTimes(c, ['first', 'last'])), null, 2) : fundingStatusText(app, coverage)) + '\n');
          return;
        }
        const fundingCoverage = options.json ? [] : app.funding.coverage(symbol);
        if (fundingCoverage.length > 0) process.stdout.write(fundingStatusText(app, fundingCoverage) + '\n\n');
        // the collector's view of each 1m series: the live edge, backfill progress, every gap with its cause
        const collected = new Map(app.collector.dataStatus(symbol).map((c) => [c.symbol, c]));
        const series = app.market.series(symbol).map((s) => {
          const c = s.interval === '1m' ? collected.get(s.symbol) : undefined;
          return {
            ...s,
            gaps: s.missing > 0 ? app.market.gaps(s.symbol, s.interval).length : 0,
            ...(c ? { liveEdge: c.last ?? null, backfill: c.backfill ?? null, collectorGaps: c.gaps.map((g) => withIsoTimes({ ...g, to: g.to ?? null, filledAt: g.filledAt ?? null }, ['from', 'to', 'filledAt'])) } : {}),
          };
        });
        if (options.json) {
          process.stdout.write(JSON.stringify(series.map((s) => withIsoTimes(s, ['first', 'last'])), null, 2) + '\n');
          return;
        }
        const view = app.collector.view();
        const withGaps = [...collected.values()].filter((c) => c.gaps.length > 0 || (c.rows > 0 && c.backfill));
        if (series.length === 0) {
          process.stdout.write(app.t('data.nothingStored') + '\n');
          if (view.role !== 'none') process.stdout.write(viewLine(app, view) + '\n');
          return;
        }
        const t = app.t;
        const header = [t('data.col.symbol'), t('data.col.interval'), t('data.col.source'), t('data.col.first'), t('data.col.last'), t('data.col.rows'), t('data.col.gaps'), t('data.col.missing'), t('data.col.size')];
        const rows = series.map((s) => [s.symbol, s.interval, s.source, time(s.first), time(s.last), String(s.rows), String(s.gaps), String(s.missing), bytes(s.bytes)]);
        process.stdout.write(table([header, ...rows]) + '\n');
        if (view.role === 'none' && withGaps.length === 0) return;
        process.stdout.write('\n' + viewLine(app, view) + '\n');
        if (withGaps.length === 0) return;
        const cHeader = [t('collector.col.symbol'), t('collector.col.liveEdge'), t('collector.col.backfill'), t('collector.col.gaps'), t('collector.col.open')];
        const cRows = withGaps.map((c) => [c.symbol, time(c.last), c.backfill ? `${(c.backfill.fraction * 100).toFixed(1)}%` : '-', String(c.gaps.length), String(c.gaps.filter((g) => g.filledAt === undefined).length)]);
        process.stdout.write(table([cHeader, ...cRows]) + '\n');
        const allGaps = withGaps.flatMap((c) => c.gaps);
        if (allGaps.length > 0) process.stdout.write(t('collector.gapsTitle') + '\n' + allGaps.map((g) => '  ' + gapLine(app, g)).join('\n') + '\n');
      });
    });

  data
    .command('verify')
    .description('check stored klines: continuity (gaps) and OHLC sanity; exit status 1 when a problem is found')
    .option('--symbol <symbol>', 'only this symbol')
    .option('--interval <interval>', 'only this interval')
    .option('--json', 'print JSON')
    .action(async (options: { symbol?: string; interval?: string; json?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol);
      const interval = intervalOption(options.interval);
      await withApp(command, async (app) => {
        const results = app.market
          .series(symbol)
          .filter((s) => !interval || s.interval === interval)
          .map((s) => verifyKlines(s.symbol, s.interval, app.market.storedKlines(s.symbol, s.interval)));
        const ok = results.every((r) => r.ok);
        if (options.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
        else {
          const t = app.t;
          const lines: string[] = [];
          if (results.length === 0) lines.push(t('data.nothingStored'));
          for (const r of results) {
            const problems = Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ');
            lines.push(
              `${r.symbol} ${r.interval}: ` +
                (r.ok ? t('data.verifyOk', { rows: r.rows }) : t('data.verifyBad', { rows: r.rows, gaps: r.gaps.length, missing: r.missing, problems: problems || '-' })),
            );
            for (const g of r.gaps.slice(0, 10)) lines.push('  ' + t('data.gapLine', { from: time(g.from), to: time(g.to), missing: g.missing }));
            for (const p of r.examples.slice(0, 10)) lines.push(`  ${time(p.openTime)} ${p.kind}: ${p.detail}`);
          }
          process.stdout.write(lines.join('\n') + '\n');
        }
        if (!ok) process.exitCode = EXIT_STATUS.user; // the stored data failed its checks
      });
    });

  data
    .command('export')
    .description('write stored klines in the Binance archive layout (monthly or daily zip + .CHECKSUM, or csv)')
    .requiredOption('--symbol <symbol>', 'symbol')
    .option('--interval <interval>', 'interval (higher ones are aggregated from 1m when not stored)', '1m')
    .option('--from <time>', 'first open time (UTC)')
    .option('--to <time>', 'last open time (UTC)')
    .option('--out <dir>', 'output folder', '.')
    .option('--daily', 'one file per day instead of per month')
    .option('--csv', 'plain .csv files instead of .zip with .CHECKSUM')
    .action(async (options: { symbol: string; interval: string; from?: string; to?: string; out: string; daily?: boolean; csv?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol)!;
      const interval = intervalOption(options.interval)!;
      const from = options.from ? parseTime(options.from, '--from') : undefined;
      const to = options.to ? parseTime(options.to, '--to') : undefined;
      await withApp(command, async (app) => {
        const k = app.market.storedKlines(symbol, interval, from, to);
        if (k.length === 0) throw new UserError(app.t('data.nothingInRange', { symbol, interval }));
        const files = exportArchive(k, symbol, interval, resolve(options.out), { period: options.daily ? 'daily' : 'monthly', csv: options.csv, decimals: app.market.archiveDecimals(symbol, interval) });
        process.stdout.write(app.t('data.exported', { rows: k.length, files: files.length, dir: resolve(options.out) }) + '\n');
      });
    });

  data
    .command('delete')
    .description('delete stored klines of a symbol (one interval, or all with --all-intervals)')
    .requiredOption('--symbol <symbol>', 'symbol')
    .option('--interval <interval>', 'interval')
    .option('--all-intervals', 'every stored interval of the symbol')
    .option('--yes', 'do not ask (needed when there is no terminal to ask on)')
    .action(async (options: { symbol: string; interval?: string; allIntervals?: boolean; yes?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol)!;
      const interval = intervalOption(options.interval);
      if (!interval && !options.allIntervals) throw new UserError('give --interval, or --all-intervals to delete every stored interval of the symbol');
      await withApp(command, async (app) => {
        const targets = app.market.series(symbol).filter((s) => options.allIntervals || s.interval === interval);
        if (targets.length === 0) throw new UserError(app.t('data.nothingInRange', { symbol, interval: interval ?? '*' }));
        const what = targets.map((s) => app.t('data.deleteWhat', { interval: s.interval, rows: s.rows })).join(', ');
        if (!(await confirmDestructive(app.t('data.confirmDelete', { symbol, what }), options.yes))) {
          process.stdout.write(app.t('data.keptAll') + '\n');
          return;
        }
        for (const s of targets) {
          const rows = app.market.deleteSeries(s.symbol, s.interval);
          process.stdout.write(app.t('data.deleted', { symbol: s.symbol, interval: s.interval, rows: s.rows, chunks: rows }) + '\n');
        }
      });
    });

  data
    .command('download')
    .description('download kline history from the exchange (resumable: fetches only what is not stored)')
    .requiredOption('--symbol <symbol>', 'symbol, e.g. BTCUSDT')
    .option('--interval <interval>', 'interval', '1m')
    .option('--from <time>', 'first open time (UTC; default: the symbol\'s first kline)')
    .option('--to <time>', 'last open time (UTC; default: the last closed kline)')
    .option('--funding', 'funding-rate history (/fapi/v1/fundingRate) instead of klines; --from/--to bound the funding times')
    .option('--json', 'print JSON')
    .action(async (options: { symbol: string; interval: string; from?: string; to?: string; json?: boolean; funding?: boolean }, command: Command) => {
      if (options.funding) return downloadFundingCommand(options, command);
      const symbol = symbolOption(options.symbol)!;
      const interval = intervalOption(options.interval)!;
      const from = options.from ? parseTime(options.from, '--from') : undefined;
      const to = options.to ? parseTime(options.to, '--to') : undefined;
      await withApp(command, async (app) => {
        const venue = await connectForData(app);
        if (venue.simulated && app.exchangeMode !== 'sim') {
          // auto mode fell back to the local exchange: never store its klines by accident
          throw new UserError(app.t('data.simulatedFallback'));
        }
        const bar = new ProgressBar(app.t('data.downloading', { symbol, interval }));
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        try {
          const report = await app.market.download({
            symbol,
            interval,
            from,
            to,
            signal: controller.signal,
            onProgress: (p) => bar.update(p.done, p.total, app.t('data.downloadDetail', { stored: p.stored, requests: p.requests, at: time(p.cursor) })),
          });
          bar.done();
          if (options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
          else {
            const t = app.t;
            const lines = [
              t('data.downloaded', { symbol, interval, stored: report.stored, requests: report.requests, from: time(report.from), to: time(report.to) }),
              t('data.firstKline', { time: time(report.firstKlineTime) }),
            ];
            if (report.missingBefore === 0) lines.push(t('data.alreadyComplete'));
            for (const g of report.exchangeGaps.slice(0, 10)) lines.push('  ' + t('data.exchangeGap', { from: time(g.from), to: time(g.to) }));
            if (report.cancelled) lines.push(t('data.cancelled'));
            process.stdout.write(lines.join('\n') + '\n');
          }
          if (report.cancelled) process.exitCode = 130;
        } catch (error) {
          bar.done();
          throw error;
        } finally {
          process.off('SIGINT', onSignal);
        }
      });
    });
}

/** A table with columns padded to their widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

/**
 * The exchange for `data download`: the app's exchange connection (started on demand). A venue
 * that cannot be reached ends the command with its reason (exit 3); the service's background retry
 * (every 30 s, meant for the TUI) is not waited for, and nothing is left to end the process silently.
 */
async function connectForData(app: App): Promise<{ venue: string; simulated: boolean }> {
  let off: (() => void) | undefined;
  const unreachable = new Promise<never>((_, reject) => {
    off = app.bus.on('exchange.state', (state) => {
      if (state.kind === 'disconnected') reject(new Error(state.reason));
    });
  });
  try {
    return await Promise.race([app.connectExchange(), unreachable]);
  } catch (error) {
    throw new AtmError('exchange', app.t('data.noExchange', { reason: (error as Error).message }));
  } finally {
    off?.();
  }
}

/** Funding-rate archive files among the given paths (folders searched), and everything else. */
function splitFundingFiles(paths: string[]): { funding: string[]; klines: string[] } {
  const funding: string[] = [];
  const klines: string[] = [];
  for (const path of paths) {
    let listed: string[];
    try {
      listed = listArchiveFiles([path]);
    } catch {
      klines.push(path); // the kline import reports the bad path
      continue;
    }
    const own = listed.filter((f) => FundingService.isFundingFile(f));
    if (own.length === 0) klines.push(path);
    else {
      funding.push(...own);
      klines.push(...listed.filter((f) => !FundingService.isFundingFile(f)));
    }
  }
  return { funding, klines };
}

function fundingImportLines(app: App, summary: FundingImportSummary): string[] {
  const t = app.t;
  const lines: string[] = [];
  for (const f of summary.files) {
    const name = f.entry ? `${f.file} (${f.entry})` : f.file;
    if (f.error) lines.push(t('data.importFailed', { file: name, error: f.error }));
    else
      lines.push(
        t('data.funding.importFile', { file: name, rows: f.rows, inserted: f.inserted, duplicates: f.duplicates, checksum: f.checksum === 'ok' ? t('data.checksumOk') : t('data.checksumAbsent') }) +
          (f.changed > 0 ? ' ' + t('data.funding.changedKept', { count: f.changed }) : ''),
      );
  }
  lines.push(t('data.funding.importTotal', { files: summary.files.length - summary.failed, rows: summary.rows, inserted: summary.inserted, duplicates: summary.duplicates }));
  for (const c of summary.coverage) lines.push(...fundingCoverageLines(app, c));
  return lines;
}

function fundingCoverageLines(app: App, c: FundingCoverage): string[] {
  const t = app.t;
  const lines = [
    t('data.funding.coverageLine', { symbol: c.symbol, source: c.source, hours: c.intervalHours, first: time(c.first), last: time(c.last), count: c.count }) +
      ' ' +
      (c.gaps.length === 0 ? t('data.noGaps') : t('data.funding.gapsFound', { gaps: c.gaps.length, missing: c.missing })),
  ];
  for (const g of c.gaps.slice(0, 10)) lines.push('  ' + t('data.funding.gapLine', { after: time(g.after), before: time(g.before), missing: g.missing }));
  return lines;
}

function fundingStatusText(app: App, coverage: FundingCoverage[]): string {
  const t = app.t;
  if (coverage.length === 0) return t('data.funding.nothingStored');
  const header = [t('data.col.symbol'), t('data.col.source'), t('data.funding.col.interval'), t('data.col.first'), t('data.col.last'), t('data.funding.col.count'), t('data.col.gaps'), t('data.col.missing')];
  const rows = coverage.map((c) => [c.symbol, c.source, String(c.intervalHours), time(c.first), time(c.last), String(c.count), String(c.gaps.length), String(c.missing)]);
  return t('data.funding.title') + '\n' + table([header, ...rows]);
}

/** `atm data download --funding`: the funding history of one symbol, resumable; the exchange's rules stored on the way. */
async function downloadFundingCommand(options: { symbol: string; from?: string; to?: string; json?: boolean }, command: Command): Promise<void> {
  const symbol = symbolOption(options.symbol)!;
  const from = options.from ? parseTime(options.from, '--from') : undefined;
  const to = options.to ? parseTime(options.to, '--to') : undefined;
  await withApp(command, async (app) => {
    const venue = await connectForData(app);
    if (venue.simulated && app.exchangeMode !== 'sim') throw new UserError(app.t('data.funding.simulatedFallback'));
    const bar = new ProgressBar(app.t('data.funding.downloading', { symbol }));
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    try {
      const result = await app.funding.download({
        symbol,
        from,
        to,
        signal: controller.signal,
        onProgress: (p) => bar.update(p.cursor - p.from, p.to - p.from, app.t('data.funding.downloadDetail', { stored: p.stored, requests: p.requests, at: time(p.cursor) })),
      });
      bar.done();
      if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        const t = app.t;
        const r = result.funding;
        const lines = [t('data.funding.downloaded', { symbol, stored: r.stored, requests: r.requests, from: time(r.from), to: time(r.to) })];
        if (r.resumedFrom > r.from) lines.push(t('data.funding.resumed', { at: time(r.resumedFrom - 1) }));
        if ('error' in result.rules) lines.push(t('data.funding.rulesFailed', { error: result.rules.error }));
        else
          lines.push(
            t('data.funding.rulesStored', {
              venue: result.rules.venue,
              symbols: result.rules.symbols,
              brackets: result.rules.brackets.stored ? t('data.funding.bracketsStored') : t('data.funding.bracketsSkipped', { reason: result.rules.brackets.reason ?? '-' }),
            }),
          );
        if (result.coverage) lines.push(...fundingCoverageLines(app, result.coverage));
        if (r.cancelled) lines.push(t('data.cancelled'));
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (result.funding.cancelled) process.exitCode = 130;
    } catch (error) {
      bar.done();
      throw error; // its kind says the exit status (an unreachable exchange: 3)
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

/**
 * A copy of `row` with `<key>Iso` (the UTC date, ISO 8601, or null) right after each epoch-millisecond
 * field named in `keys`, so JSON a person reads shows the date beside the number it came from.
 */
export function withIsoTimes<T extends object>(row: T, keys: readonly (keyof T & string)[]): T & Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = value;
    if ((keys as readonly string[]).includes(key)) out[`${key}Iso`] = typeof value === 'number' && Number.isFinite(value) ? new Date(value).toISOString() : null;
  }
  return out as T & Record<string, unknown>;
}
