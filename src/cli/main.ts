import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { isUserError } from './context.js';
import { packageRoot } from '../core/paths.js';

export function buildProgram(): Command {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  const program = new Command();
  program
    .name('atm')
    .description('Auto Trade Machine: automated trading on Binance USD-M Futures, in the terminal')
    .version(pkg.version, '-V, --version')
    .option('--home <dir>', 'data directory (default: $ATM_HOME, else $XDG_DATA_HOME/atm, else ~/.local/share/atm)')
    .option('--config <file>', 'user configuration file (default: <home>/config.yaml)')
    .option('--log-level <level>', 'log level for this run: trace, debug, info, warn, error, fatal')
    .option('--exchange <mode>', 'exchange mode for this run: auto, binance, testnet, sim')
    .option('--readonly', 'read-only: no command that places orders or enables live trading is available')
    .showHelpAfterError('(run `atm --help` for the commands)')
    .enablePositionalOptions(false);
  for (const command of COMMANDS) command.register(program);
  return program;
}

/** A reader that goes away (`atm data status --json | head -c1`) ends atm quietly, as Unix tools do. */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
}

/** Runs the command line; user errors print one line and exit with status 2. */
export async function run(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isUserError(error)) {
      process.stderr.write(`atm: ${(error as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`atm: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
