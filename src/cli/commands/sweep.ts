import { basename, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadBacktestConfig, validateStrategies } from '../../core/backtest/config.js';
import { OBJECTIVES, applyTrial, parseParamRange, planTrials, type Objective, type SweepMethod, type SweepPlan, type SweepReport } from '../../core/backtest/sweep.js';
import { strategiesDir } from '../../core/strategy/loader.js';
import { StrategyRegistry } from '../../core/strategy/registry.js';
import { openApp } from '../../main/compose.js';
import { UserError, appOptions, globalOptions } from '../context.js';
import { decimalText } from './backtest.js';
import { ProgressBar, parseTime } from './data.js';

interface SweepOptions {
  config?: string;
  param?: string[];
  method: string;
  trials?: string;
  seed?: string;
  objective: string;
  constraint?: string;
  walkForward?: string;
  top: string;
  json?: boolean;
  from?: string;
  to?: string;
  input?: string[];
  saveBest?: string | boolean;
}

type T = (key: string, o?: Record<string, unknown>) => string;

const collect = (value: string, previous: string[] = []) => [...previous, value];
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z').replace('T', ' ');
const METHODS: SweepMethod[] = ['grid', 'random', 'tpe'];

function wholeNumber(option: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${option} ${JSON.stringify(text)}: expected a whole number of at least ${min}`);
  return n;
}

const paramText = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');
const scoreText = (x: number) => (Number.isFinite(x) ? decimalText(x, 4) : String(x));

function table(header: string[], rows: string[][], left: number[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The ranked rows and the best one with the number of trials and the deflated Sharpe ratio. */
export function sweepText(report: SweepReport, top: number, t: T): string {
  let out = t('sweep.headline', { trials: report.trials, method: report.method, objective: report.objective, seconds: decimalText(report.elapsedMs / 1000, 1) }) + '\n';
  if (report.failed > 0) out += t('sweep.failed', { failed: report.failed, error: report.firstError ?? '' }) + '\n';
  if (report.walkForward) {
    const wf = report.walkForward;
    const rows = wf.folds.map((f) => [String(f.fold), `${iso(f.inSampleWindow.from)} .. ${iso(f.inSampleWindow.to)}`, `${iso(f.outOfSampleWindow.from)} .. ${iso(f.outOfSampleWindow.to)}`, paramText(f.params), scoreText(f.inSampleScore), scoreText(f.outOfSampleScore), decimalText(f.outOfSample.returnPct, 2)]);
    out += table([t('sweep.col.fold'), t('sweep.col.inSample'), t('sweep.col.outOfSample'), t('sweep.col.params'), t('sweep.col.isScore'), t('sweep.col.oosScore'), t('sweep.col.oosReturnPct')], rows, [1, 2, 3]);
    out += t('sweep.walkForward', { is: scoreText(wf.meanInSample), oos: scoreText(wf.meanOutOfSample), ratio: wf.ratio === null ? '-' : decimalText(wf.ratio, 3), ret: decimalText(wf.outOfSampleReturnPct, 2) }) + '\n';
    return out;
  }
  const shown = report.rows.slice(0, top);
  const rows = shown.map((r) => [String(r.rank), paramText(r.params), scoreText(r.score), decimalText(r.summary.returnPct, 2), decimalText(r.summary.maxDrawdownPct, 2), decimalText(r.summary.sharpe, 3), String(r.summary.trades), r.summary.tradeListHash.slice(0, 12)]);
  out += table([t('sweep.col.rank'), t('sweep.col.params'), report.objective, t('sweep.col.returnPct'), t('sweep.col.maxDrawdownPct'), t('sweep.col.sharpe'), t('sweep.col.trades'), t('sweep.col.hash')], rows, [1]);
  const best = report.rows[0];
  const dsr = report.deflatedSharpe;
  out += t('sweep.best', { params: paramText(best.params), objective: report.objective, score: scoreText(best.score), trials: report.trials }) + '\n';
  if (dsr) out += t('sweep.deflated', { dsr: dsr.dsr === null ? '-' : decimalText(dsr.dsr, 4), sr0: decimalText(dsr.sr0 * Math.sqrt(365), 3), trials: dsr.trials }) + '\n';
  return out;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('parameter sweep: backtest a configuration over ranges of strategy parameters on every simulation worker, ranked; walk-forward folds (docs/backtesting.md)')
    .option('--config <file>', 'the backtest configuration (YAML or JSON; atm backtest --example)')
    .option('--param <name=from..to:step>', 'a swept strategy parameter (repeatable); with several positions positions.N.name=...; also name=a,b,c', collect)
    .option('--method <method>', 'grid (every combination), random (--trials N, --seed S) or tpe (Bayesian: --trials N, --seed S)', 'grid')
    .option('--trials <n>', 'random and tpe: how many trials (default 100)')
    .option('--seed <n>', 'random and tpe: the seed (the same seed gives the same trials)', '1')
    .option('--objective <name>', `what to maximise (${OBJECTIVES.join(', ')}; maxDrawdownPct is minimised)`, 'sharpe')
    .option('--constraint <expr>', 'trials must satisfy it, e.g. "fast < slow" (+ - * / %, comparisons, && || !, parentheses)')
    .option('--walk-forward <k>', 'K folds in time: optimise on each in-sample part, evaluate the best on the next part')
    .option('--top <n>', 'rows shown', '10')
    .option('--json', 'print the report as one JSON object (the last line of standard output)')
    .option('--from <time>', 'first kline open time (YYYY-MM-DD, "YYYY-MM-DD HH:MM" UTC, or epoch ms)')
    .option('--to <time>', 'last kline open time')
    .option('--input <paths...>', 'Binance archive files or folders, imported into a temporary store')
    .option('--save-best [name]', 're-run the best row as a full simulation and store it (atm sim show)')
    .action(async (options: SweepOptions, command: Command) => {
      const globals = globalOptions(command);
      const configFile = options.config ?? globals.config;
      if (!configFile) throw new UserError('atm sweep needs --config <file> (atm backtest --example prints one to start from)');
      if (!METHODS.includes(options.method as SweepMethod)) throw new UserError(`--method ${JSON.stringify(options.method)}: allowed values are ${METHODS.join(', ')}`);
      if (!(OBJECTIVES as readonly string[]).includes(options.objective)) throw new UserError(`--objective ${JSON.stringify(options.objective)}: allowed values are ${OBJECTIVES.join(', ')}`);
      const top = wholeNumber('--top', options.top, 1)!;
      const trials = wholeNumber('--trials', options.trials, 1);
      const seed = wholeNumber('--seed', options.seed, 0);
      const walkForward = wholeNumber('--walk-forward', options.walkForward, 2);
      if (walkForward !== undefined && options.saveBest !== undefined) throw new UserError('--save-best needs one ranking: leave out --walk-forward (each fold has its own best)');
      const from = options.from === undefined ? undefined : parseTime(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTime(options.to, '--to');
      if (from !== undefined && to !== undefined && from > to) throw new UserError(`--from ${options.from} is after --to ${options.to}`);
      const app = await openApp(appOptions({ ...globals, config: undefined }, { logSync: true }));
      try {
        const t = app.t;
        const file = resolve(configFile);
        const loaded = loadBacktestConfig(file);
        const registry = new StrategyRegistry(strategiesDir(app.paths.home));
        validateStrategies(loaded, registry);
        const config = loaded.config;
        const ranges = (options.param ?? []).map((p) => parseParamRange(p, config.positions.length));
        const plan: SweepPlan = { ranges, method: options.method as SweepMethod, objective: options.objective as Objective, ...(trials !== undefined ? { trials } : {}), ...(seed !== undefined ? { seed } : {}), ...(options.constraint !== undefined ? { constraint: options.constraint } : {}), ...(walkForward !== undefined ? { walkForward } : {}) };
        // every planned trial's parameters are checked against the strategy's schema before any runs
        for (const trial of planTrials(config, plan)) {
          const c = applyTrial(config, ranges, trial.params);
          c.positions.forEach((p, i) => {
            const r = registry.validateParams(p.strategy.name, p.strategy.params);
            if (!r.ok) {
              const key = ranges.find((x) => x.position === i && x.name === r.error.param)?.key;
              if (key) throw new UserError(`--param ${key}=${p.strategy.params[r.error.param!]}: ${r.error.reason}`);
              throw new UserError(`trial ${paramText(trial.params)}: ${r.error.reason}; leave such combinations out with --constraint`);
            }
          });
        }
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once('SIGINT', onSignal);
        const importBar = new ProgressBar(t('backtest.importing'));
        const bar = new ProgressBar(t('sweep.running'));
        const input = options.input?.map((p) => resolve(p));
        let report: SweepReport;
        try {
          report = await app.backtest.sweep(config, plan, {
            from, to, input, signal: controller.signal,
            onImportProgress: (done, total) => importBar.update(done, total),
            onProgress: (done, total) => bar.update(done, total, t('sweep.trials', { done, total })),
          });
        } finally {
          process.removeListener('SIGINT', onSignal);
          importBar.done();
          bar.done();
        }
        const name = `${basename(file, extname(file))} ${new Date(app.clock.now()).toISOString().replace('.000Z', 'Z')}`;
        const sweepId = app.backtest.saveSweep(report, config, plan, name);
        let savedId: number | undefined;
        if (options.saveBest !== undefined && options.saveBest !== false) {
          const best = app.backtest.sweepRowConfig(sweepId, 1);
          const result = await app.backtest.run(best.config, { from, to, input });
          if (result.summary.tradeListHash !== report.rows[0].summary.tradeListHash) throw new UserError(`the best row re-run gave another trade list (${result.summary.tradeListHash.slice(0, 12)} instead of ${report.rows[0].summary.tradeListHash.slice(0, 12)})`);
          savedId = app.backtest.save(result, best.config, typeof options.saveBest === 'string' ? options.saveBest : `${name} best`);
        }
        if (options.json) {
          const { rows, ...rest } = report;
          process.stdout.write(JSON.stringify({ sweepId, ...rest, rows: rows.slice(0, top), ...(savedId !== undefined ? { savedId } : {}) }) + '\n');
          return;
        }
        let out = sweepText(report, top, t);
        out += t('sweep.stored', { id: sweepId }) + '\n';
        if (savedId !== undefined) out += t('backtest.saved', { id: savedId }) + '\n';
        process.stdout.write(out);
      } finally {
        await app.close();
      }
    });
}
