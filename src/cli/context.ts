import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { App } from '../core/app.js';
import { openApp } from '../main/compose.js';
import { LOG_LEVELS, EXCHANGE_MODES, type ExchangeMode, type LogLevelName } from '../core/config/schema.js';
import { resolveHome } from '../core/paths.js';
import { UserError } from '../core/errors.js';

export { UserError };

export interface GlobalOptions {
  home?: string;
  config?: string;
  logLevel?: string;
  readonly?: boolean;
  exchange?: string;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function appOptions(opts: GlobalOptions, extra: { logSync?: boolean } = {}) {
  if (opts.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) {
    throw new UserError(`--log-level ${JSON.stringify(opts.logLevel)} is not valid: allowed values are ${LOG_LEVELS.join(', ')}`);
  }
  if (opts.exchange !== undefined && !(EXCHANGE_MODES as readonly string[]).includes(opts.exchange)) {
    throw new UserError(`--exchange ${JSON.stringify(opts.exchange)} is not valid: allowed values are ${EXCHANGE_MODES.join(', ')}`);
  }
  return {
    home: resolveHome(opts.home),
    configFile: opts.config,
    logLevel: opts.logLevel as LogLevelName | undefined,
    readonly: opts.readonly ?? false,
    exchangeMode: opts.exchange as ExchangeMode | undefined,
    logSync: extra.logSync,
  };
}

/**
 * Asks before a destructive action: proceeds with `--yes`; on a terminal asks `question [y/N]`;
 * with no terminal to ask on, refuses (a user error naming --yes). Returns false when the answer
 * is no (the caller says nothing was changed).
 */
export async function confirmDestructive(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UserError(`${question} Refused without a terminal to ask on: add --yes to confirm`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Opens the app for a headless command, runs `fn`, and always closes it. */
export async function withApp<T>(command: Command, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp(appOptions(globalOptions(command), { logSync: true }));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
