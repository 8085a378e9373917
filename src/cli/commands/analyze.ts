import { createWriteStream, existsSync, openSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { AnalysisParamError, cacToJson, parseIndicatorArg, validateCac, validateIndicator, validatePip, type Cac } from '../../core/analysis/cac.js';
import type { AnalysisResult } from '../../core/analysis/engine.js';
import type { App } from '../../core/app.js';
import { ArchiveError, parseArchiveFileName, readArchiveFile } from '../../core/market/archive.js';
import { concatKlines, type Klines } from '../../core/market/klines.js';
import { confirmDestructive, UserError, withApp } from '../context.js';
import { intervalOption, withIsoTimes } from './data.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Turns parameter and archive errors into one-line user errors. */
async function userErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AnalysisParamError || error instanceof ArchiveError) throw new UserError(error.message);
    throw error;
  }
}

/** A time given as milliseconds, or an ISO date/time read as UTC ("2024-01-01", "2024-01-01T12:00"). */
export function parseTime(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : value.length <= 10 ? `${value}T00:00:00Z` : `${value}Z`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new UserError(`${option} ${JSON.stringify(value)} is not a time: give milliseconds or an ISO date such as 2024-01-01 or 2024-01-01T12:00 (UTC)`);
  return t;
}

/** `--from` after `--to` is a mistake to name, not an empty range. */
export function checkRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && from > to) {
    throw new UserError(`--from ${new Date(from).toISOString()} is later than --to ${new Date(to).toISOString()}`);
  }
}

/** Reads a CAC file (YAML or JSON); `option` names the option that gave the path. */
export function readCacFile(path: string, option = '--cac'): Cac {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`${option} ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UserError(`${option} ${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  try {
    return validateCac(data, path);
  } catch (error) {
    if (error instanceof AnalysisParamError) throw new UserError(`${path}: ${error.message}`);
    throw error;
  }
}

/** Builds the CAC from `--indicator` arguments (`PIP[:k=v,...]` adds PIP). */
export function cacFromArgs(args: string[], name = ''): Cac {
  const indicators = [];
  let pip = null;
  for (const arg of args) {
    const { type, params } = parseIndicatorArg(arg);
    if (type === 'PIP') pip = validatePip(params);
    else indicators.push(validateIndicator(type, params));
  }
  if (indicators.length === 0 && !pip) throw new AnalysisParamError('--indicator', undefined, 'give at least one indicator, e.g. --indicator SMA:n=20');
  return { name, indicators, pip };
}

/** Writes the result as one JSON object, column by column, without building the whole text. */
async function writeResult(result: AnalysisResult, format: 'json' | 'csv', out: string | undefined): Promise<void> {
  const stream = out ? createWriteStream(out, { fd: openOutput(out) }) : process.stdout;
  let failure: Error | undefined;
  const onError = (error: Error) => (failure = error);
  stream.on('error', onError);
  const write = async (chunk: string): Promise<void> => {
    if (failure) throw new UserError(`cannot write ${out ?? 'the output'}: ${failure.message}`);
    if (!stream.write(chunk)) {
      // wait for room, or for the error that means there will never be any
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          resolve();
        };
        stream.once('drain', done);
        stream.once('error', done);
      });
    }
  };
  // 15 significant digits drop float noise (3.4758500000000003 -> 3.47585) and keep every digit the
  // input prices and volumes carry
  const num = (v: number) => (v === v ? String(Number(v.toPrecision(15))) : format === 'json' ? 'null' : '');
  const n = result.openTime.length;
  const CHUNK = 8192;
  if (format === 'json') {
    // openTimeIso (the UTC dates of openTime) sits right after openTime; the rest are numbers
    const iso = (v: number) => JSON.stringify(new Date(v).toISOString());
    const columns: [string, Float64Array, (v: number) => string][] = [
      ['openTime', result.openTime, num],
      ['openTimeIso', result.openTime, iso],
      ...result.columns.map((c, i): [string, Float64Array, (v: number) => string] => [c, result.values[i], num]),
    ];
    await write('{');
    for (let c = 0; c < columns.length; c++) {
      const [name, values, format] = columns[c];
      await write(`${c ? ',' : ''}\n  ${JSON.stringify(name)}: [`);
      for (let i = 0; i < n; i += CHUNK) {
        const parts: string[] = [];
        for (let j = i; j < Math.min(n, i + CHUNK); j++) parts.push(format(values[j]));
        await write((i ? ',' : '') + parts.join(','));
      }
      await write(']');
    }
    await write('\n}\n');
  } else {
    await write(['openTime', 'openTimeIso', ...result.columns].join(',') + '\n');
    for (let i = 0; i < n; i += CHUNK) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(n, i + CHUNK); j++) {
        let line = `${result.openTime[j]},${new Date(result.openTime[j]).toISOString()}`;
        for (const col of result.values) line += ',' + num(col[j]);
        lines.push(line);
      }
      await write(lines.join('\n') + '\n');
    }
  }
  if (out) await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
  stream.off('error', onError);
  if (failure) throw new UserError(`cannot write ${out ?? 'the output'}: ${(failure as Error).message}`);
}

/** Opens `--out` for writing now, so a bad path is one clear line before any work is done. */
function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'no permission' : (error as Error).message;
    throw new UserError(`--out ${path}: cannot write the file (${why})`);
  }
}

function readInputs(files: string[], symbol?: string, interval?: string): Klines {
  const parts: Klines[] = [];
  const wanted = intervalOption(interval);
  for (const file of files) {
    // the file name's interval is what the rows are; --interval may only say it where the name does not
    const named = parseArchiveFileName(file)?.interval;
    if (wanted && named && named !== wanted) {
      throw new UserError(`--interval ${wanted} does not match ${basename(file)}, which holds ${named} klines (leave --interval out, or give ${wanted} files)`);
    }
    for (const f of readArchiveFile(file, { symbol, interval: named ?? wanted })) parts.push(f.klines);
  }
  const all = concatKlines(parts);
  for (let i = 1; i < all.length; i++) {
    if (all.openTime[i] <= all.openTime[i - 1]) {
      throw new UserError(`--input: klines are not in time order at ${new Date(all.openTime[i]).toISOString()} (give the files oldest first, without overlap)`);
    }
  }
  return all;
}

interface AnalyzeOptions {
  input?: string[];
  indicator?: string[];
  cac?: string;
  symbol?: string;
  interval?: string;
  from?: string;
  to?: string;
  format?: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('analyze')
    .description('run a currency analysis headless over an archive file or stored klines and print every indicator line')
    .option('--input <file>', 'Binance archive kline file (.csv or .zip); repeat for several, oldest first', collect)
    .option('--indicator <spec>', 'TYPE[:param=value,...], e.g. SMA:n=20, BOL:n=20,k=2, PIP:mode=classical; repeatable', collect)
    .option('--cac <file|name>', 'a CAC file (YAML or JSON), or the name of a stored CAC')
    .option('--symbol <symbol>', 'symbol (reads the database unless --input is given)')
    .option('--interval <interval>', 'kline interval, e.g. 1m, 15m, 1h')
    .option('--from <time>', 'first open time: ms or ISO date (UTC)')
    .option('--to <time>', 'last open time: ms or ISO date (UTC)')
    .option('--format <format>', 'json or csv', 'json')
    .option('--out <file>', 'write to a file instead of standard output')
    .addHelpText('after', '\nOutput (json): { "openTime": [ms...], "openTimeIso": [UTC date...], "<TYPE>.<line>": [value or null during warm-up...] }.\nIndicators: SMA EMA WMA PSAR BOL IVP MMACD MMACDSHORT MMACDLONG DMIXADX MFI WOI NES, and PIP. See docs/indicators.md.')
    .action(async (options: AnalyzeOptions, command: Command) => {
      const format = options.format === 'csv' ? 'csv' : options.format === 'json' ? 'json' : undefined;
      if (!format) throw new UserError(`--format ${JSON.stringify(options.format)} is not valid: allowed values are json, csv`);
      if (!options.input && !options.symbol) throw new UserError('give --input <archive file> or --symbol <symbol> --interval <interval> (stored klines)');
      if (options.cac && options.indicator) throw new UserError('give either --cac or --indicator, not both');
      if (!options.cac && !options.indicator) throw new UserError('give --indicator TYPE[:param=value,...] (repeatable) or --cac <file>');
      const from = parseTime('--from', options.from);
      const to = parseTime('--to', options.to);
      checkRange(from, to);
      await userErrors(async () => {
        // the batch runs on the analysis worker pool, the same path as the TUI's analyses
        await withApp(command, async (app: App) => {
          let cac: Cac;
          if (options.cac) {
            if (existsSync(options.cac)) cac = readCacFile(options.cac);
            else {
              const stored = await app.analysis.getCac(options.cac);
              if (!stored) throw new UserError(`--cac ${options.cac}: no such file and no stored CAC of that name`);
              cac = stored.cac;
            }
          } else cac = cacFromArgs(options.indicator ?? []);
          let klines: Klines;
          if (options.input) {
            klines = readInputs(options.input, options.symbol, options.interval);
            if (from !== undefined || to !== undefined) {
              const keep = (t: number) => (from === undefined || t >= from) && (to === undefined || t <= to);
              let a = 0;
              while (a < klines.length && !keep(klines.openTime[a])) a++;
              let b = a;
              while (b < klines.length && keep(klines.openTime[b])) b++;
              klines = sub(klines, a, b);
            }
          } else {
            if (!options.interval) throw new UserError('--interval is needed with --symbol');
            const interval = intervalOption(options.interval);
            klines = app.analysis.loadKlines(options.symbol!.toUpperCase(), interval, from, to);
            if (klines.length === 0) throw new UserError(`no stored klines for ${options.symbol!.toUpperCase()} ${interval} in that range (import or download them first)`);
          }
          await writeResult(await app.analysis.runBatch(cac, klines), format, options.out);
        });
      });
    });

  const cac = program.command('cac').description('manage currency analysis configurations (CACs) and apply them to symbols');
  cac
    .command('list')
    .description('list stored CACs')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const all = await app.analysis.listCacs();
        if (options.json) process.stdout.write(JSON.stringify(all.map((c) => ({ id: c.id, name: c.cac.name, ...cacToJson(c.cac), ...withIsoTimes({ createdAt: c.createdAt, updatedAt: c.updatedAt }, ['createdAt', 'updatedAt']) })), null, 2) + '\n');
        else {
          // the name column is as wide as the longest name, so long names do not push the indicators out of line
          const nameWidth = Math.max(4, ...all.map((c) => c.cac.name.length));
          process.stdout.write((all.length ? all.map((c) => `${String(c.id).padStart(4)}  ${c.cac.name.padEnd(nameWidth)}  ${c.cac.indicators.map((i) => i.type).join(' ')}${c.cac.pip ? ' +PIP' : ''}`) : ['no CACs stored']).join('\n') + '\n');
        }
      });
    });
  cac
    .command('show <name>')
    .description('print a stored CAC as YAML-compatible JSON (usable with --cac)')
    .action(async (name: string, _o: unknown, command: Command) => {
      await withApp(command, async (app) => {
        const c = await app.analysis.getCac(name);
        if (!c) throw new UserError(`no stored CAC named ${JSON.stringify(name)}`);
        process.stdout.write(JSON.stringify({ name: c.cac.name, ...cacToJson(c.cac) }, null, 2) + '\n');
      });
    });
  cac
    .command('save')
    .description('store a CAC from --indicator arguments or a file; a blank name becomes CAC_<n>')
    .option('--name <name>', 'name (default: CAC_<n>)')
    .option('--indicator <spec>', 'TYPE[:param=value,...]; repeatable; PIP[:...] adds PIP', collect)
    .option('--file <file>', 'a CAC file (YAML or JSON)')
    .action(async (options: { name?: string; indicator?: string[]; file?: string }, command: Command) => {
      await userErrors(() =>
        withApp(command, async (app) => {
          const base = options.file ? readCacFile(options.file, '--file') : cacFromArgs(options.indicator ?? []);
          const saved = await app.analysis.saveCac({ name: options.name ?? base.name, ...cacToJson(base) });
          process.stdout.write(`saved ${saved.cac.name} (id ${saved.id})\n`);
        }),
      );
    });
  cac
    .command('delete <name>')
    .description('delete a stored CAC and its analyses (asks first, or --yes)')
    .option('--yes', 'do not ask (needed when there is no terminal to ask on)')
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const c = await app.analysis.getCac(name);
        if (!c) throw new UserError(`no stored CAC named ${JSON.stringify(name)}`);
        const going = (await app.analysis.list()).filter((a) => a.configId === c.id);
        const question = going.length === 0
          ? `Delete the CAC ${name}?`
          : `Delete the CAC ${name} and its ${going.length} analyses (${going.map((a) => `#${a.id} ${a.symbol} ${a.interval}`).join(', ')})?`;
        if (!(await confirmDestructive(question, options.yes))) {
          process.stdout.write('nothing deleted\n');
          return;
        }
        await app.analysis.deleteCac(c.id);
        process.stdout.write(`deleted ${name}\n`);
      });
    });
  cac
    .command('apply <name>')
    .description('apply a stored CAC to a symbol: creates a currency analysis (it runs while atm runs, resuming from stored klines)')
    .requiredOption('--symbol <symbol>', 'symbol, e.g. BTCUSDT')
    .requiredOption('--interval <interval>', 'kline interval, e.g. 1m')
    .action(async (name: string, options: { symbol: string; interval: string }, command: Command) => {
      await userErrors(() =>
        withApp(command, async (app) => {
          const c = await app.analysis.getCac(name);
          if (!c) throw new UserError(`no stored CAC named ${JSON.stringify(name)}`);
          const interval = intervalOption(options.interval);
          const view = await app.analysis.createAnalysis(c.id, options.symbol, interval);
          process.stdout.write(`analysis ${view.id}: ${c.cac.name} on ${view.symbol} ${view.interval}, ${view.count} stored klines analysed, state ${view.liveState}\n`);
        }),
      );
    });
  program
    .command('analyses')
    .description('list currency analyses (the AutoTrade page list, headless)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const all = await app.analysis.list();
        if (options.json) process.stdout.write(JSON.stringify(all.map((a) => withIsoTimes(a, ['lastOpenTime', 'createdAt', 'updatedAt'])), null, 2) + '\n');
        else {
          const rows = all.map((a) => `${String(a.id).padStart(4)}  ${a.cacName.padEnd(16)} ${a.symbol.padEnd(12)} ${a.interval.padEnd(4)} ${a.state.padEnd(9)} last ${a.lastOpenTime === null ? '-' : new Date(a.lastOpenTime).toISOString()}`);
          process.stdout.write((rows.length ? rows : ['no analyses']).join('\n') + '\n');
        }
      });
    });
}

function sub(k: Klines, a: number, b: number): Klines {
  return {
    length: b - a, openTime: k.openTime.subarray(a, b), open: k.open.subarray(a, b), high: k.high.subarray(a, b), low: k.low.subarray(a, b),
    close: k.close.subarray(a, b), volume: k.volume.subarray(a, b), quoteVolume: k.quoteVolume.subarray(a, b), trades: k.trades.subarray(a, b),
    takerBuyVolume: k.takerBuyVolume.subarray(a, b), takerBuyQuoteVolume: k.takerBuyQuoteVolume.subarray(a, b),
  };
}
