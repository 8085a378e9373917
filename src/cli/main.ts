import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { EXIT_STATUS, errorKind } from '../core/errors.js';
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
    .enablePositionalOptions(false)
    // throw instead of exiting, in every subcommand too (they copy this setting when created),
    // so that run() maps every outcome to its exit status
    .exitOverride();
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

/**
 * Runs the command line. The one place outcomes become exit statuses (src/core/errors.ts): 0 ok,
 * 1 internal error (with its stack), 2 user error (bad option, bad input, refused: one line),
 * 3 exchange unreachable (one line).
 */
export async function run(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitStatusOf(error);
    if (error instanceof CommanderError) return; // commander has printed its message already
    const kind = errorKind(error);
    if (kind === 'internal') process.stderr.write(`atm: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    else process.stderr.write(`atm: ${(error as Error).message}\n`);
  }
}

/** The exit status for an error thrown by a command (or by commander while parsing). */
export function exitStatusOf(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version end with status 0; every parsing error is a usage error
    return error.exitCode === 0 ? EXIT_STATUS.ok : EXIT_STATUS.user;
  }
  return EXIT_STATUS[errorKind(error)];
}
