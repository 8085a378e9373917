import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { TFunction } from 'i18next';
import { parseYamlText } from '../../core/config/load.js';
import { EXAMPLE_CONFIG, type NnModelInfo, type NnTestResult, type NnVersion } from '../../core/nn/model.js';
import type { EpochRecord } from '../../core/nn/train.js';
import { featureNames } from '../../core/nn/features.js';
import { openApp } from '../../main/compose.js';
import { UserError, appOptions, confirmDestructive, globalOptions, withApp } from '../context.js';
import { intervalOption, parseTime } from './data.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const fixed = (v: number | null | undefined, d = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const pct = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(d)}%`);

function symbolOption(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const s = text.trim().toUpperCase();
  if (!/^[A-Z0-9_]{2,30}$/.test(s)) throw new UserError(`--symbol ${JSON.stringify(text)} is not a symbol (letters and digits, e.g. BTCUSDT)`);
  return s;
}

function versionOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UserError(`--version ${JSON.stringify(text)}: give a version number (atm nn show lists them)`);
  return Number(text);
}

function epochLine(t: TFunction, r: EpochRecord, planned: number): string {
  return t('nn.epoch', { epoch: r.epoch, planned, loss: fixed(r.loss), valLoss: fixed(r.valLoss), accuracy: pct(r.accuracy), valAccuracy: pct(r.valAccuracy) });
}

function testLines(t: TFunction, test: NnTestResult): string {
  return [
    t('nn.test.range', { symbol: test.range.symbol, interval: test.range.interval, from: iso(test.range.from), to: iso(test.range.to), rows: test.rows }),
    t('nn.test.accuracy', { accuracy: pct(test.accuracy), logLoss: fixed(test.logLoss) }),
    t('nn.test.trading', { net: test.strategyReturnPct.toFixed(2), gross: test.grossReturnPct.toFixed(2), hold: test.buyAndHoldPct.toFixed(2), trades: test.trades, fee: (test.feeRate * 100).toFixed(2) }),
  ].join('\n');
}

function describeModel(t: TFunction, m: NnModelInfo, v: NnVersion | undefined): string {
  const c = m.config;
  const layers = [String(featureNames(c.features).length), ...(c.type === 'mlp' ? c.hidden.map((h) => `${h.size} ${h.activation}`) : []), c.target.kind === 'sign' ? '1 sigmoid' : '1 linear'];
  const out = [
    t('nn.show.title', { name: m.name, type: c.type, versions: m.versions }),
    t('nn.show.layers', { layers: layers.join(' → '), init: c.init, seed: c.seed }),
    t('nn.show.features', { lines: c.features.lines.join(', ') || '-', lags: c.features.lags, returns: c.features.returns }),
    t('nn.show.target', { kind: c.target.kind, horizon: c.target.horizon }),
    t('nn.show.training', { ...c.training, validation: pct(c.training.validation, 0) }),
  ];
  if (!v) out.push(t('nn.show.untrained'));
  else {
    const r = v.record;
    out.push(t('nn.show.version', { version: v.version, state: r.finished ? (r.stoppedEarly ? t('nn.state.early') : t('nn.state.finished')) : t('nn.state.stopped'), epochs: r.history.length, best: r.bestEpoch, valLoss: fixed(r.bestValLoss) }));
    out.push(t('nn.show.data', { symbol: r.range.symbol, interval: r.range.interval, from: iso(r.range.from), to: iso(r.range.to), train: r.trainRows, val: r.valRows }));
    for (const h of r.history) out.push('  ' + epochLine(t, h, c.training.epochs));
    out.push(v.test ? testLines(t, v.test) : t('nn.show.untested', { name: m.name }));
  }
  return out.join('\n') + '\n';
}

/** `atm nn`: neural network models (docs/neural-network.md). */
export function register(program: Command): void {
  const nn = program.command('nn').description('neural network models: create, train, test, list, show, delete (docs/neural-network.md)');

  nn.command('create')
    .description('create a model from a YAML configuration (a blank name becomes NN_<n>)')
    .option('--config <file>', 'the model configuration (YAML or JSON)')
    .option('--example', 'print a complete, commented configuration to start from')
    .action(async (options: { config?: string; example?: boolean }, command: Command) => {
      if (options.example) {
        process.stdout.write(EXAMPLE_CONFIG);
        return;
      }
      // `--config` is also the program's option (see atm backtest): here it names the model file.
      const globals = globalOptions(command);
      const file = options.config ?? globals.config;
      if (!file) throw new UserError('atm nn create needs --config <file> (atm nn create --example prints one to start from)');
      let text: string;
      try {
        text = readFileSync(resolve(file), 'utf8');
      } catch (error) {
        throw new UserError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      const data = parseYamlText(text, file).doc.toJS() as unknown;
      const app = await openApp(appOptions({ ...globals, config: undefined }, { logSync: true }));
      try {
        const model = app.nn.create(data, file);
        process.stdout.write(app.t('nn.created', { name: model.name }) + '\n');
      } finally {
        await app.close();
      }
    });

  nn.command('train <name>')
    .description('train a model on stored klines in a worker (Ctrl-C stops and stores a resumable version)')
    .option('--symbol <symbol>', 'the symbol whose stored klines to train on')
    .option('--interval <interval>', 'kline interval (default 1m)')
    .option('--from <time>', 'first kline open time (YYYY-MM-DD, "YYYY-MM-DD HH:MM" UTC, or epoch ms; default: all stored)')
    .option('--to <time>', 'last kline open time')
    .option('--resume', 'continue the latest version, stopped before its end, on its own klines')
    .option('--json', 'print the training summary as one JSON object (the last line of standard output)')
    .action(async (name: string, options: { symbol?: string; interval?: string; from?: string; to?: string; resume?: boolean; json?: boolean }, command: Command) => {
      const symbol = symbolOption(options.symbol);
      const interval = intervalOption(options.interval);
      const from = options.from === undefined ? undefined : parseTime(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTime(options.to, '--to');
      if (from !== undefined && to !== undefined && from > to) throw new UserError(`--from ${options.from} is after --to ${options.to}`);
      if (options.resume && (symbol || interval || from !== undefined || to !== undefined)) throw new UserError('--resume trains on the stopped version\'s own klines: leave out --symbol, --interval, --from and --to');
      await withApp(command, async (app) => {
        const t = app.t;
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        const tty = process.stderr.isTTY === true;
        try {
          const summary = await app.nn.train(name, {
            symbol, interval, from, to, resume: options.resume, signal: controller.signal,
            onEpoch: (r, planned) => {
              if (tty) process.stderr.write(`\r\x1b[2K${epochLine(t, r, planned)}`);
            },
          });
          if (tty) process.stderr.write('\n');
          if (options.json) {
            process.stdout.write(JSON.stringify(summary) + '\n');
            return;
          }
          const state = summary.finished ? (summary.stoppedEarly ? t('nn.state.early') : t('nn.state.finished')) : t('nn.state.stopped');
          process.stdout.write(t('nn.trained', { name, version: summary.version, state, epochs: summary.epochs, best: summary.bestEpoch, valLoss: fixed(summary.bestValLoss), train: summary.trainRows, val: summary.valRows, seconds: summary.seconds.toFixed(1) }) + '\n');
          if (!summary.finished) process.stdout.write(t('nn.resumeHint', { name }) + '\n');
        } finally {
          process.removeListener('SIGINT', stop);
        }
      });
    });

  nn.command('test <name>')
    .description('out-of-sample test of a model on a range after its training data: accuracy, log loss, trading its sign with fees')
    .requiredOption('--from <time>', 'first kline open time of the test range (after the training data)')
    .option('--to <time>', 'last kline open time (default: the last stored)')
    .option('--symbol <symbol>', 'another symbol than the one trained on')
    .option('--interval <interval>', 'another interval than the one trained on')
    .option('--version <n>', 'the version to test (default: the latest)')
    .option('--json', 'print the result as one JSON object')
    .action(async (name: string, options: { from: string; to?: string; symbol?: string; interval?: string; version?: string; json?: boolean }, command: Command) => {
      const from = parseTime(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTime(options.to, '--to');
      if (to !== undefined && from > to) throw new UserError(`--from ${options.from} is after --to ${options.to}`);
      const version = versionOption(options.version);
      await withApp(command, async (app) => {
        const test = await app.nn.test(name, { from, to, symbol: symbolOption(options.symbol), interval: intervalOption(options.interval), version });
        process.stdout.write((options.json ? JSON.stringify(test) : testLines(app.t, test)) + '\n');
      });
    });

  nn.command('list')
    .description('list the models with their latest version and test')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const models = app.nn.list();
        if (options.json) {
          process.stdout.write(JSON.stringify(models.map((m) => ({ name: m.name, type: m.type, versions: m.versions, latest: m.latest, createdAt: m.createdAt, updatedAt: m.updatedAt }))) + '\n');
          return;
        }
        if (models.length === 0) {
          process.stdout.write(t('nn.none') + '\n');
          return;
        }
        const header = [t('nn.col.name'), t('nn.col.type'), t('nn.col.versions'), t('nn.col.epochs'), t('nn.col.valLoss'), t('nn.col.testAccuracy'), t('nn.col.testReturn')];
        const rows = models.map((m) => [m.name, m.type, String(m.versions), m.latest ? String(m.latest.epochs) : '-', fixed(m.latest?.valLoss), pct(m.latest?.test?.accuracy), m.latest?.test ? m.latest.test.strategyReturnPct.toFixed(2) : '-']);
        const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
        const line = (r: string[]) => r.map((cell, c) => (c <= 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
        process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
      });
    });

  nn.command('show <name>')
    .description('show a model: structure, inputs, training record and out-of-sample test')
    .option('--version <n>', 'the version to show (default: the latest)')
    .option('--json', 'print JSON (configuration, training record and test; no weights)')
    .action(async (name: string, options: { version?: string; json?: boolean }, command: Command) => {
      const version = versionOption(options.version);
      await withApp(command, async (app) => {
        const m = app.nn.get(name);
        if (!m) throw new UserError(`no model named ${name} (atm nn list shows them)`);
        const v = app.nn.version(name, version);
        if (version !== undefined && !v) throw new UserError(`model ${name} has no version ${version}`);
        if (options.json) {
          process.stdout.write(JSON.stringify({ name: m.name, type: m.type, versions: m.versions, config: m.config, version: v ? { version: v.version, inputs: v.inputs, record: v.record, test: v.test, createdAt: v.createdAt } : null }) + '\n');
          return;
        }
        process.stdout.write(describeModel(app.t, m, v));
      });
    });

  nn.command('delete <name>')
    .description('delete a model and all its versions (asks on a terminal; --yes otherwise)')
    .option('--yes', 'delete without asking')
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const m = app.nn.get(name);
        if (!m) throw new UserError(`no model named ${name} (atm nn list shows them)`);
        if (!(await confirmDestructive(t('nn.confirmDelete', { name, versions: m.versions }), options.yes))) {
          process.stdout.write(t('nn.kept') + '\n');
          return;
        }
        app.nn.remove(name);
        process.stdout.write(t('nn.deleted', { name }) + '\n');
      });
    });
}
