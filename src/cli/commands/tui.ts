import type { Command } from 'commander';
import { openApp } from '../../main/compose.js';
import { appOptions, globalOptions, UserError } from '../context.js';

export function register(program: Command): void {
  program
    .command('tui', { isDefault: true })
    .description('open the full-screen terminal interface (the default command)')
    .option('--page <name>', 'page to open first (dashboard, accounts, autotrade, analysis, history, market, simulation, result, neural, settings)')
    // `atm frobnicate` lands here (tui is the default command): say the command is unknown
    .allowExcessArguments(true)
    .action(async (options: { page?: string }, command: Command) => {
      if (command.args.length > 0) {
        const known = (command.parent?.commands ?? []).map((c) => c.name()).join(', ');
        throw new UserError(`unknown command '${command.args[0]}': the commands are ${known} (atm --help)`);
      }
      if (!process.stdout.isTTY || !process.stdin.isTTY) {
        throw new UserError('the terminal interface needs an interactive terminal; run a headless command instead (see `atm --help`)');
      }
      const app = await openApp(appOptions(globalOptions(command)));
      const { startTui } = await import('../../screens/tui.js');
      await startTui(app, { initialPage: options.page });
    });
}
