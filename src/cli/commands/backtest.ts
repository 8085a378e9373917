import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT_STATUS } from '../../core/errors.js';
import { Dec } from '../../core/futures/decimal.js';
import type { LookaheadReport } from '../../core/backtest/lookahead.js';
import { EXAMPLE_CONFIG, loadBacktestConfig, validateStrategies } from '../../core/backtest/config.js';
import type { BacktestResult, BacktestSummary } from '../../core/backtest/engine.js';
import { strategiesDir } from '../../core/strategy/loader.js';
import { StrategyRegistry } from '../../core/strategy/registry.js';
import type { App } from '../../core/app.js';
import { openApp } from '../../main/compose.js';
import { UserError, appOptions, globalOptions } from '../context.js';
import { ProgressBar, parseTime } from './data.js';

interface BacktestOptions {
  config?: string;
  example?: boolean;
  input?: string[];
  from?: string;
  to?: string;
  json?: boolean;
  export?: string;
  save?: string | boolean;
  lookaheadCheck?: boolean;
  checks?: string;
  intrabar?: string;
}

type T = (key: string, o?: Record<string, unknown>) => string;

/** A float as short decimal text: at most 8 decimals, no float noise (0.30000000000000004 → 0.3). */
export function decimalText(x: number, decimals = 8): string {
  if (!Number.isFinite(x)) return '';
  const s = x.toFixed(decimals);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.map((c) => (typeof c === 'string' && /[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : String(c))).join(',')).join('\n') + '\n';
}

/** Writes balance.csv, trades.csv and fills.csv into `dir`; returns their paths. */
export function exportResult(result: BacktestResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const b = result.balance;
  const balance: (string | number)[][] = [['time_utc', 'time_ms', 'equity', 'wallet']];
  for (let i = 0; i < b.time.length; i++) balance.push([iso(b.time[i]), b.time[i], decimalText(b.equity[i]), decimalText(b.wallet[i])]);
  const trades: (string | number)[][] = [['symbol', 'side', 'entry_time_utc', 'entry_time_ms', 'exit_time_utc', 'exit_time_ms', 'qty', 'entry_price', 'exit_price', 'pnl', 'fees', 'return_pct', 'exit_reason']];
  for (const t of result.trades) trades.push([t.symbol, t.side, iso(t.entryTime), t.entryTime, iso(t.exitTime), t.exitTime, t.qty, t.entryPrice, t.exitPrice, t.pnl, t.fees, decimalText(t.returnPct, 6), t.exitReason]);
  const fills: (string | number)[][] = [['time_utc', 'time_ms', 'symbol', 'side', 'type', 'qty', 'price', 'fee', 'realized_pnl', 'position_after', 'reason']];
  for (const f of result.fills) fills.push([iso(f.time), f.time, f.symbol, f.side, f.type, f.qty, f.price, f.fee, f.realizedPnl, f.positionAfter, f.reason]);
  const files = [join(dir, 'balance.csv'), join(dir, 'trades.csv'), join(dir, 'fills.csv')];
  writeFileSync(files[0], csv(balance));
  writeFileSync(files[1], csv(trades));
  writeFileSync(files[2], csv(fills));
  return files;
}

/** The summary as a two-column table, labels through i18n. */
export function summaryTable(s: BacktestSummary, t: T): string {
  const pct = (x: number) => `${decimalText(x, 2)} %`;
  const num = (x: number) => decimalText(x, 3);
  // exact amounts, shown to the cent's hundredth (JSON and --export keep every digit)
  const usdt = (text: string) => (/\.\d{5,}$/.test(text) ? Dec.parse(text).round(4).toString(4) : text);
  const rows: [string, string][] = [
    [t('backtest.key.range'), `${iso(s.from)} .. ${iso(s.to)}`],
    [t('backtest.key.initialBalance'), usdt(s.initialBalance)],
    [t('backtest.key.finalBalance'), usdt(s.finalBalance)],
    [t('backtest.key.returnPct'), pct(s.returnPct)],
    [t('backtest.key.cagrPct'), pct(s.cagrPct)],
    [t('backtest.key.maxDrawdownPct'), pct(s.maxDrawdownPct)],
    [t('backtest.key.sharpe'), num(s.sharpe)],
    [t('backtest.key.sortino'), num(s.sortino)],
    [t('backtest.key.calmar'), num(s.calmar)],
    [t('backtest.key.profitFactor'), s.profitFactor === null ? '-' : num(s.profitFactor)],
    [t('backtest.key.winRatePct'), pct(s.winRatePct)],
    [t('backtest.key.expectancy'), usdt(s.expectancy)],
    [t('backtest.key.exposurePct'), pct(s.exposurePct)],
    [t('backtest.key.trades'), String(s.trades)],
    [t('backtest.key.fills'), String(s.fills)],
    [t('backtest.key.fees'), usdt(s.fees)],
    [t('backtest.key.fundingFees'), s.fundingDataMissing ? `${usdt(s.fundingFees)} (${t('backtest.fundingMissing')})` : usdt(s.fundingFees)],
    [t('backtest.key.liquidations'), String(s.liquidations)],
    [t('backtest.key.rejections'), String(s.rejections) + (s.rejections > 0 ? ` (${Object.entries(s.rejectionCodes).map(([c, n]) => `${c}: ${n}`).join(', ')})` : '')],
    [t('backtest.key.ambiguousBars'), String(s.ambiguousBars)],
    ...(s.intrabarTrades ? [[t('deep.intrabarKey'), t('deep.intrabarValue', s.intrabarTrades)] as [string, string]] : []),
    [t('backtest.key.klines'), String(s.klines)],
    [t('backtest.key.elapsedMs'), `${s.elapsedMs} ms`],
    [t('backtest.key.tradeListHash'), s.tradeListHash.slice(0, 16)],
  ];
  for (const [symbol, r] of Object.entries(s.buyAndHoldReturnPct)) rows.push([t('backtest.key.buyAndHold', { symbol }), pct(r)]);
  for (const [symbol, r] of Object.entries(s.rules)) rows.push([t('backtest.key.rules', { symbol }), t(`backtest.source.${r.source}`)]);
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

const num = (x: number) => (Number.isNaN(x) ? 'NaN' : String(x));

/** The lookahead check's report as lines, through i18n. */
export function lookaheadText(r: LookaheadReport, t: T): string {
  const lines: string[] = [];
  for (const f of r.failures) lines.push(t(f.kind === 'lookahead' ? 'backtest.lookahead.reads' : 'backtest.lookahead.failed', { symbol: f.symbol, position: f.position + 1, message: f.message }));
  for (const d of r.differences) {
    lines.push(t('backtest.lookahead.difference', { symbol: d.symbol, position: d.position + 1, column: d.column, index: d.index, time: iso(d.time), full: num(d.full), truncated: num(d.truncated), cut: d.cut }));
  }
  if (r.differenceCount > r.differences.length) lines.push(t('backtest.lookahead.more', { count: r.differenceCount - r.differences.length }));
  lines.push(r.clean ? t('backtest.lookahead.none', { checks: r.checks, klines: r.klines }) : t('backtest.lookahead.found', { count: r.differenceCount, failures: r.failures.length, checks: r.checks, klines: r.klines }));
  return lines.join('\n') + '\n';
}

function parseChecks(text: string | undefined): number {
  if (text === undefined) return 5;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UserError(`--checks ${text}: give a whole number from 1 to 1000`);
  return n;
}

export function register(program: Command): void {
  program
    .command('backtest')
    .description('backtest strategies on stored 1m klines (or archive files); docs/backtesting.md')
    .option('--config <file>', 'the backtest configuration (YAML or JSON)')
    .option('--example', 'print a complete, commented configuration to start from')
    .option('--input <paths...>', 'Binance archive files or folders, imported into a temporary store (nothing is written to the database)')
    .option('--from <time>', 'first kline open time (YYYY-MM-DD, "YYYY-MM-DD HH:MM" UTC, or epoch ms)')
    .option('--to <time>', 'last kline open time')
    .option('--json', 'print the summary as one JSON object (the last line of standard output)')
    .option('--export <dir>', 'write balance.csv, trades.csv and fills.csv into this folder')
    .option('--save [name]', 'store the simulation in the database (default name: the configuration file and the time)')
    .option('--lookahead-check', 're-run each strategy on truncated ranges and report any indicator value or decision that changes (exit 2 when one does)')
    .option('--checks <n>', 'truncated ranges for --lookahead-check (default 5)')
    .option('--intrabar <path>', 'the price path inside a 1m kline: ohlc (default) or trades (along the stored aggTrades, where there are some)')
    .action(async (options: BacktestOptions, command: Command) => {
      if (options.example) {
        process.stdout.write(EXAMPLE_CONFIG);
        return;
      }
      // `--config` is also the program's option (the user configuration file), which commander
      // reads wherever it stands: for `atm backtest` it names the backtest configuration, and the
      // user configuration is the data directory's config.yaml.
      const globals = globalOptions(command);
      const configFile = options.config ?? globals.config;
      if (!configFile) throw new UserError('atm backtest needs --config <file> (atm backtest --example prints one to start from)');
      const from = options.from === undefined ? undefined : parseTime(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTime(options.to, '--to');
      if (from !== undefined && to !== undefined && from > to) throw new UserError(`--from ${options.from} is after --to ${options.to}`);
      if (options.intrabar !== undefined && options.intrabar !== 'ohlc' && options.intrabar !== 'trades') throw new UserError(`--intrabar ${options.intrabar}: expected ohlc or trades`);
      const intrabar = options.intrabar as 'ohlc' | 'trades' | undefined;
      const withBacktestApp = async (fn: (app: App) => Promise<void>) => {
        const app = await openApp(appOptions({ ...globals, config: undefined }, { logSync: true }));
        try {
          await fn(app);
        } finally {
          await app.close();
        }
      };
      await withBacktestApp(async (app) => {
        const t = app.t;
        const file = resolve(configFile);
        const loaded = loadBacktestConfig(file);
        validateStrategies(loaded, new StrategyRegistry(strategiesDir(app.paths.home)));
        if (options.checks !== undefined && !options.lookaheadCheck) throw new UserError('--checks goes with --lookahead-check');
        if (options.lookaheadCheck) {
          const checks = parseChecks(options.checks);
          const importBar = new ProgressBar(t('backtest.importing'));
          let report: LookaheadReport;
          try {
            report = await app.backtest.lookaheadCheck(loaded.config, {
              from, to, checks,
              input: options.input?.map((p) => resolve(p)),
              onImportProgress: (done, total) => importBar.update(done, total),
            });
          } finally {
            importBar.done();
          }
          process.stdout.write(options.json ? JSON.stringify(report) + '\n' : lookaheadText(report, t));
          if (!report.clean) process.exitCode = EXIT_STATUS.user;
          return;
        }
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        const importBar = new ProgressBar(t('backtest.importing'));
        const bar = new ProgressBar(t('backtest.running'));
        let result: BacktestResult;
        try {
          result = await app.backtest.run(loaded.config, {
            from, to, signal: controller.signal, intrabar,
            input: options.input?.map((p) => resolve(p)),
            onImportProgress: (done, total) => importBar.update(done, total),
            onProgress: (done, total) => bar.update(done, total, t('backtest.klines', { done, total })),
          });
        } finally {
          process.removeListener('SIGINT', onSignal);
          importBar.done();
          bar.done();
        }
        let savedId: number | undefined;
        if (options.save !== undefined && options.save !== false) {
          const name = typeof options.save === 'string' ? options.save : `${basename(file, extname(file))} ${iso(app.clock.now())}`;
          savedId = app.backtest.save(result, loaded.config, name);
        }
        const exported = options.export ? exportResult(result, resolve(options.export)) : [];
        if (options.json) {
          process.stdout.write(JSON.stringify({ ...result.summary, ...(savedId !== undefined ? { savedId } : {}) }) + '\n');
          return;
        }
        let out = summaryTable(result.summary, t);
        for (const f of exported) out += t('backtest.exported', { file: f }) + '\n';
        if (savedId !== undefined) out += t('backtest.saved', { id: savedId }) + '\n';
        process.stdout.write(out);
      });
    });
}
