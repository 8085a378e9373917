import type { Command } from 'commander';
import { withApp } from '../context.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('show the program status (data directory, database, worker pools, exchange): the Dashboard, headless')
    .option('--json', 'print JSON')
    .option('--check-workers', 'start one task on each worker pool and report the thread that ran it')
    .action(async (options: { json?: boolean; checkWorkers?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        let workers: Record<string, unknown> | undefined;
        if (options.checkWorkers) {
          workers = Object.fromEntries((await app.checkWorkers()).map((w) => [w.pool, { threadId: w.threadId }]));
        }
        const status = app.status();
        const out = {
          home: app.paths.home,
          database: status.databasePath,
          schemaVersion: status.schemaVersion,
          userConfig: app.userConfigFile,
          exchangeMode: app.exchangeMode,
          readonly: status.readonly,
          logLevel: status.logLevel,
          pools: status.pools.map((p) => ({ name: p.name, maxThreads: p.maxThreads })),
          ...(workers ? { workerCheck: workers } : {}),
        };
        if (options.json) {
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        const lines = [
          `data directory  ${out.home}`,
          `database        ${out.database} (schema ${out.schemaVersion ?? 'none'})`,
          `user config     ${out.userConfig}`,
          `exchange mode   ${out.exchangeMode}${out.readonly ? ' (read-only)' : ''}`,
          `log level       ${out.logLevel}`,
          ...out.pools.map((p) => `pool ${p.name.padEnd(10)} up to ${p.maxThreads} thread(s)`),
        ];
        if (workers) for (const [name, r] of Object.entries(workers)) lines.push(`worker check    ${name}: answered from thread ${(r as { threadId: number }).threadId}`);
        process.stdout.write(lines.join('\n') + '\n');
      });
    });
}
