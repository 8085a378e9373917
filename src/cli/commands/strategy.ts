import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../core/paths.js';
import { readTemplate, strategiesDir } from '../../core/strategy/loader.js';
import { STRATEGY_NAME, parseParamArgs } from '../../core/strategy/params.js';
import { StrategyRegistry, paramInfo } from '../../core/strategy/registry.js';
import { checkInWorker } from '../../core/strategy/sandbox.js';
import { UserError, withApp } from '../context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function intOption(t: (key: string, o?: Record<string, unknown>) => string, option: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min || v > max) throw new UserError(t('strategy.badOption', { option, value: JSON.stringify(value), allowed: `an integer from ${min} to ${max}` }));
  return v;
}

export function register(program: Command): void {
  const strategy = program.command('strategy').description('list, create and check trade strategies (built-ins and files in <data dir>/strategies; docs/strategies.md)');

  strategy
    .command('list')
    .description('list strategies: built-ins and user files (a broken file is listed with its error)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const entries = new StrategyRegistry(strategiesDir(app.paths.home)).list();
        if (options.json) {
          const out = entries.map((e) => ({
            name: e.name,
            source: e.source,
            description: e.strategy?.spec.description ?? null,
            params: e.strategy ? paramInfo(e.strategy) : [],
            ...(e.error ? { error: e.error.toJSON() } : {}),
          }));
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        const rows = entries.map((e) => [
          e.name,
          e.source === 'builtin' ? t('strategy.builtin') : basename(e.source),
          e.strategy ? paramInfo(e.strategy).map((p) => `${p.name}=${p.default}`).join(' ') || t('strategy.noParams') : '',
          e.error ? t('strategy.error', { error: e.error.message }) : (e.strategy?.spec.description ?? ''),
        ]);
        const header = [t('strategy.col.name'), t('strategy.col.source'), t('strategy.col.params'), t('strategy.col.description')];
        const widths = [0, 1, 2].map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)));
        const line = (r: string[]) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ').trimEnd();
        process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
      });
    });

  strategy
    .command('new <name>')
    .description('write <data dir>/strategies/<name>.ts from the commented template (it compiles and runs as it is); never overwrites')
    .action(async (name: string, _options: unknown, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        if (!STRATEGY_NAME.test(name)) throw new UserError(t('strategy.badName', { name: JSON.stringify(name) }));
        if (StrategyRegistry.builtinNames().includes(name)) throw new UserError(t('strategy.builtinName', { name }));
        const dir = strategiesDir(app.paths.home);
        const file = join(dir, `${name}.ts`);
        for (const f of [file, join(dir, `${name}.js`)]) if (existsSync(f)) throw new UserError(t('strategy.exists', { file: f }));
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, readTemplate(packageRoot()), { flag: 'wx' });
        process.stdout.write(t('strategy.created', { file, name }) + '\n');
      });
    });

  strategy
    .command('check <name-or-file>')
    .description('load a strategy, validate its parameters and run it over a generated series in a worker; errors name the file and line (exit 2)')
    .option('--param <name=value>', 'a parameter value; repeatable (default: the defaults)', collect)
    .option('--klines <n>', 'generated 1m klines to run over', '2000')
    .option('--seed <n>', 'seed of the generated series', '1')
    .option('--time-limit <ms>', 'wall time allowed for the run (an endless loop is stopped and located)', '5000')
    .option('--json', 'print the report as JSON')
    .action(async (target: string, options: { param?: string[]; klines?: string; seed?: string; timeLimit?: string; json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const klines = intOption(t, '--klines', options.klines, 1, 1_000_000, 2000);
        const seed = intOption(t, '--seed', options.seed, 0, 2 ** 31 - 1, 1);
        const timeLimitMs = intOption(t, '--time-limit', options.timeLimit, 10, 3_600_000, 5000);
        const params = parseParamArgs(options.param ?? []);
        if (!params.ok) throw new UserError(params.error.message);
        const isFile = target.includes('/') || target.includes('\\') || /\.(ts|js)$/.test(target);
        if (isFile && !existsSync(target)) throw new UserError(t('strategy.noFile', { file: target }));
        const report = await checkInWorker(isFile ? { file: resolve(target) } : { name: target }, strategiesDir(app.paths.home), {
          params: params.value,
          klines,
          seed,
          timeLimitMs,
        });
        if (options.json) process.stdout.write(JSON.stringify(report) + '\n');
        if (report.error) throw new UserError(report.error.message);
        if (!options.json) {
          const lines = [
            t('strategy.checkOk', {
              strategy: report.strategy, klines: report.klines, decisions: report.decisions, changes: report.targetChanges,
              long: report.long, short: report.short, flat: report.flat, stops: report.withStops, ms: report.elapsedMs,
            }),
            t('strategy.checkSource', { source: report.source === 'builtin' ? t('strategy.builtin') : report.source }),
            t('strategy.checkParams', { params: Object.entries(report.params ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || t('strategy.noParams') }),
          ];
          process.stdout.write(lines.join('\n') + '\n');
        }
      });
    });
}
