import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError, confirmDestructive, withApp } from '../context.js';
import { decimalText, summaryTable } from './backtest.js';
import { ProgressBar, parseTime } from './data.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.map((c) => (typeof c === 'string' && /[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : String(c))).join(',')).join('\n') + '\n';
}

/** `atm sim`: the stored simulations (what `atm backtest --save` and `atm sweep --save-best` store). */
export function register(program: Command): void {
  const sim = program.command('sim').description('list, show, export and delete stored simulations (docs/backtesting.md)');

  sim
    .command('list')
    .description('list stored simulations with their return, drawdown and trades')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const rows = app.backtest.saved().map((s) => ({ ...s, summary: app.backtest.savedOne(s.id)?.summary }));
        if (options.json) {
          process.stdout.write(JSON.stringify(rows.map((r) => ({ id: r.id, name: r.name, state: r.state, createdAt: r.createdAt, finishedAt: r.finishedAt, returnPct: r.summary?.returnPct ?? null, maxDrawdownPct: r.summary?.maxDrawdownPct ?? null, sharpe: r.summary?.sharpe ?? null, trades: r.summary?.trades ?? null }))) + '\n');
          return;
        }
        if (rows.length === 0) {
          process.stdout.write(t('sim.none') + '\n');
          return;
        }
        const header = [t('sim.col.id'), t('sim.col.name'), t('sim.col.finished'), t('sim.col.returnPct'), t('sim.col.maxDrawdownPct'), t('sim.col.sharpe'), t('sim.col.trades')];
        const table = rows.map((r) => [String(r.id), r.name, iso(r.finishedAt), r.summary ? decimalText(r.summary.returnPct, 2) : '-', r.summary ? decimalText(r.summary.maxDrawdownPct, 2) : '-', r.summary ? decimalText(r.summary.sharpe, 3) : '-', r.summary ? String(r.summary.trades) : '-']);
        const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r[c].length)));
        const line = (r: string[]) => r.map((cell, c) => (c === 1 || c === 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
        process.stdout.write([line(header), ...table.map(line)].join('\n') + '\n');
      });
    });

  sim
    .command('show <ref>')
    .description('show a stored simulation (by id or name): summary and configuration')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const found = app.backtest.find(ref);
        const one = app.backtest.savedOne(found.id)!;
        if (options.json) {
          process.stdout.write(JSON.stringify({ ...one.simulation, summary: one.summary, config: one.config, balancePoints: one.balancePoints, fills: one.fills }) + '\n');
          return;
        }
        let out = `${t('sim.title', { id: found.id, name: found.name })}\n`;
        out += summaryTable(one.summary, t);
        out += `${t('sim.positions')}\n`;
        for (const p of one.config.positions) out += `  ${p.symbol} ${p.interval} x${p.leverage} ${p.strategy.name} ${Object.entries(p.strategy.params).map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
        process.stdout.write(out);
      });
    });

  sim
    .command('export <ref>')
    .description('write summary.json, config.json, balance.csv and trades.csv of a stored simulation')
    .requiredOption('--out <dir>', 'the folder to write into (created when missing)')
    .action(async (ref: string, options: { out: string }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const found = app.backtest.find(ref);
        const one = app.backtest.savedOne(found.id)!;
        const history = app.backtest.history(found.id)!;
        const trades = app.backtest.trades(found.id) ?? [];
        const dir = resolve(options.out);
        mkdirSync(dir, { recursive: true });
        const balance: (string | number)[][] = [['time_utc', 'time_ms', 'equity', 'drawdown_pct']];
        for (let i = 0; i < history.time.length; i++) balance.push([iso(history.time[i]), history.time[i], decimalText(history.equity[i]), decimalText(history.drawdownPct[i], 6)]);
        const rows: (string | number)[][] = [['symbol', 'side', 'entry_time_utc', 'entry_time_ms', 'exit_time_utc', 'exit_time_ms', 'qty', 'entry_price', 'exit_price', 'pnl', 'fees', 'return_pct', 'exit_reason']];
        for (const x of trades) rows.push([x.symbol, x.side, iso(x.entryTime), x.entryTime, iso(x.exitTime), x.exitTime, x.qty, x.entryPrice, x.exitPrice, x.pnl, x.fees, decimalText(x.returnPct, 6), x.exitReason]);
        const files: [string, string][] = [
          [join(dir, 'summary.json'), JSON.stringify({ ...one.simulation, summary: one.summary }, null, 2) + '\n'],
          [join(dir, 'config.json'), JSON.stringify(one.config, null, 2) + '\n'],
          [join(dir, 'balance.csv'), csv(balance)],
          [join(dir, 'trades.csv'), csv(rows)],
        ];
        for (const [file, text] of files) writeFileSync(file, text);
        process.stdout.write(files.map(([f]) => t('backtest.exported', { file: f })).join('\n') + '\n');
      });
    });

  sim
    .command('delete <ref>')
    .description('delete a stored simulation (asks on a terminal; --yes otherwise)')
    .option('--yes', 'delete without asking')
    .action(async (ref: string, options: { yes?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const found = app.backtest.find(ref);
        if (!(await confirmDestructive(t('sim.confirmDelete', { id: found.id, name: found.name }), options.yes))) {
          process.stdout.write(t('sim.kept') + '\n');
          return;
        }
        app.backtest.remove(found.id);
        process.stdout.write(t('sim.deleted', { id: found.id, name: found.name }) + '\n');
      });
    });

  sim
    .command('sweeps')
    .description('list stored parameter sweeps (atm sweep stores every sweep)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const sweeps = app.backtest.sweeps();
        if (options.json) {
          process.stdout.write(JSON.stringify(sweeps) + '\n');
          return;
        }
        if (sweeps.length === 0) {
          process.stdout.write(t('sim.noSweeps') + '\n');
          return;
        }
        const header = [t('sim.col.id'), t('sim.col.name'), t('sim.col.method'), t('sim.col.objective'), t('sim.col.trials'), t('sim.col.dsr')];
        const rows = sweeps.map((s) => [String(s.id), s.name, s.method, s.objective, String(s.trials), s.deflatedSharpe === null ? '-' : decimalText(s.deflatedSharpe, 4)]);
        const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
        const line = (r: string[]) => r.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
        process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
      });
    });

  sim
    .command('from-sweep <sweep> <rank>')
    .description('re-run a stored sweep row as a full simulation on the stored klines and store it')
    .option('--name <name>', 'the simulation name (default: the sweep name and the rank)')
    .option('--from <time>', 'first kline open time (default: all stored)')
    .option('--to <time>', 'last kline open time')
    .option('--json', 'print the summary as one JSON object')
    .action(async (sweep: string, rank: string, options: { name?: string; from?: string; to?: string; json?: boolean }, command: Command) => {
      if (!/^\d+$/.test(sweep)) throw new UserError(`sweep ${JSON.stringify(sweep)}: expected a sweep id (atm sim sweeps)`);
      if (!/^[1-9]\d*$/.test(rank)) throw new UserError(`rank ${JSON.stringify(rank)}: expected a rank from 1`);
      const from = options.from === undefined ? undefined : parseTime(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTime(options.to, '--to');
      await withApp(command, async (app) => {
        const t = app.t;
        const row = app.backtest.sweepRowConfig(Number(sweep), Number(rank));
        const bar = new ProgressBar(t('backtest.running'));
        const result = await app.backtest.run(row.config, { from, to, onProgress: (done, total) => bar.update(done, total, t('backtest.klines', { done, total })) }).finally(() => bar.done());
        const id = app.backtest.save(result, row.config, options.name ?? `${row.sweep.name} #${rank}`);
        if (options.json) {
          process.stdout.write(JSON.stringify({ ...result.summary, savedId: id }) + '\n');
          return;
        }
        process.stdout.write(summaryTable(result.summary, t) + t('backtest.saved', { id }) + '\n');
      });
    });
}
