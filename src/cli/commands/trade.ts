import type { Command } from 'commander';
import { openApp } from '../../main/compose.js';
import { appOptions, confirmDestructive, globalOptions, UserError } from '../context.js';
import type { TraderEvent } from '../../core/trading/trader.js';
import { passphraseFromEnv } from '../../core/accounts/secrets.js';
import { promptHidden } from './account.js';

/** How long `--kill` waits for another process's trader to act on the request. */
const KILL_WAIT_MS = 10_000;

/**
 * `atm trade`: the trading loop of one account without the TUI (for a service manager), and the
 * kill switch. `--account` runs until SIGTERM or SIGINT, printing one line per event; a stop
 * releases the account's lease, writes its final snapshot and exits 0. A second `atm trade` on the
 * same account exits 2 naming the first.
 */
export function register(program: Command): void {
  program
    .command('trade')
    .description('trade an account headless until SIGTERM/SIGINT (--account), or pull its kill switch (--kill); docs/trader.md')
    .option('--account <name>', 'the account to trade (atm account list)')
    .option('--kill <account>', 'kill switch: cancel the account\'s open orders and stop its automation')
    .option('--close-positions', 'with --kill: also close every position with market orders')
    .option('--yes', 'with --kill: do not ask')
    .action(async (options: { account?: string; kill?: string; closePositions?: boolean; yes?: boolean }, command: Command) => {
      if ((options.account === undefined) === (options.kill === undefined)) throw new UserError('atm trade needs --account <name> (trade it) or --kill <account> (stop it), one of them');
      if (options.closePositions && options.kill === undefined) throw new UserError('--close-positions goes with --kill <account>');
      if (options.kill !== undefined) await kill(command, options.kill, options.closePositions === true, options.yes);
      else await trade(command, options.account!);
    });
}

function line(e: TraderEvent): string {
  return `${new Date(e.time).toISOString().replace(/\.\d{3}Z$/, 'Z')}  ${e.account}  ${e.kind.padEnd(9)} ${e.text}\n`;
}

async function trade(command: Command, account: string): Promise<void> {
  const app = await openApp(appOptions(globalOptions(command), { logSync: false }));
  const t = app.t;
  let stopping: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  const onSignal = () => stopping?.();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    app.accounts.get(account); // an unknown account is said before connecting to anything
    const { venue } = await app.connectExchange();
    process.stdout.write(t('trade.connected', { venue }) + '\n');
    const trader = await app.trading.start(account, {
      label: `atm trade --account ${account}`,
      onEvent: (e) => process.stdout.write(line(e)),
      // an actual account's stored secret opens with it (never logged)
      passphrase: async () => passphraseFromEnv() ?? (await promptHidden(t('account.cli.passphrase'))),
    });
    let failure: unknown;
    trader.onStop((error) => {
      failure = error;
      stopping?.();
    });
    await stopped;
    trader.stop();
    if (failure) throw failure;
    process.stdout.write(t('trade.stopped', { account }) + '\n');
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await app.close();
  }
}

async function kill(command: Command, account: string, closePositions: boolean, yes: boolean | undefined): Promise<void> {
  const app = await openApp(appOptions(globalOptions(command), { logSync: true }));
  const t = app.t;
  try {
    const question = t(closePositions ? 'trade.confirmKillClose' : 'trade.confirmKill', { account });
    if (!(await confirmDestructive(question, yes))) {
      process.stdout.write(t('trade.killKept') + '\n');
      return;
    }
    const result = app.trading.kill(account, { closePositions });
    if (result.where === 'here') return;
    if (result.where === 'none') {
      process.stdout.write(t('trade.killedIdle', { account: result.account }) + '\n');
      return;
    }
    const holder = result.holder!;
    const deadline = Date.now() + KILL_WAIT_MS;
    while (!app.trading.killHandled(account) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!app.trading.killHandled(account)) throw new UserError(t('trade.killNotSeen', { account: result.account, pid: holder.pid, label: holder.label, seconds: KILL_WAIT_MS / 1000 }));
    process.stdout.write(t('trade.killedOther', { account: result.account, pid: holder.pid, label: holder.label }) + '\n');
  } finally {
    await app.close();
  }
}
