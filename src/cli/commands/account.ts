import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { App } from '../../core/app.js';
import type { AccountView } from '../../core/accounts/service.js';
import { passphraseFromEnv, PASSPHRASE_ENV } from '../../core/accounts/secrets.js';
import type { AccountKind, RiskLimits } from '../../core/accounts/types.js';
import { openApp } from '../../main/compose.js';
import { UserError, appOptions, confirmDestructive, globalOptions, withApp } from '../context.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Reads one line from the terminal without echoing it (a passphrase, an API secret). Refuses
 * without a terminal: a service manager gives the passphrase in ATM_PASSPHRASE instead.
 */
export async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  if (!input.isTTY || !output.isTTY) throw new UserError(`${question.replace(/:\s*$/, '')}: no terminal to ask on (set ${PASSPHRASE_ENV} for a passphrase, or use --key-file)`);
  output.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  try {
    return await new Promise<string>((done, fail) => {
      let text = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            input.off('data', onData);
            return done(text);
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            return fail(new UserError('cancelled'));
          }
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else if (ch >= ' ') text += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    output.write('\n');
  }
}

/** Reads one visible line from the terminal (the API key). */
async function promptLine(question: string): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UserError(`${question.replace(/:\s*$/, '')}: no terminal to ask on (use --key-file)`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** The passphrase: ATM_PASSPHRASE, else asked on the terminal (twice when it is new). */
async function passphrase(app: App, confirm: boolean): Promise<string> {
  const fromEnv = passphraseFromEnv();
  if (fromEnv !== undefined) return fromEnv;
  const first = await promptHidden(app.t('account.cli.passphrase'));
  if (confirm) {
    const again = await promptHidden(app.t('account.cli.passphraseAgain'));
    if (again !== first) throw new UserError(app.t('account.cli.passphraseMismatch'));
  }
  return first;
}

function table(header: string[], rows: string[][], left: number[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (left.includes(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** What `list --json` and `show --json` print for an account (never a secret). */
function accountJson(v: AccountView) {
  return {
    id: v.account.id,
    name: v.account.name,
    kind: v.account.kind,
    wallet: v.wallet ?? null,
    equity: v.equity ?? null,
    risk: v.snapshot?.risk ?? 'ACTIVE',
    automation: v.account.settings.automation,
    credentials: v.account.credentials,
    trader: v.trader ?? null,
    settings: v.account.settings,
    snapshot: v.snapshot ?? null,
    createdAt: v.account.createdAt,
    updatedAt: v.account.updatedAt,
  };
}

function traderText(app: App, v: AccountView): string {
  return v.trader ? app.t('account.cli.tradedBy', { label: v.trader.label, pid: v.trader.pid }) : '-';
}

function showText(app: App, v: AccountView): string {
  const t = app.t;
  const a = v.account;
  const s = a.settings;
  const lines = [
    t('account.cli.title', { name: a.name, kind: t(`account.kind.${a.kind}`) }),
    `  ${t('account.cli.wallet')}: ${v.wallet ?? '-'} USDT   ${t('account.cli.equity')}: ${v.equity ?? '-'} USDT`,
    `  ${t('account.cli.risk')}: ${v.snapshot?.risk ?? 'ACTIVE'}${v.snapshot?.riskReason ? ` (${v.snapshot.riskReason})` : ''}   ${t('account.cli.automation')}: ${t(`account.automation.${s.automation}`)}   ${t('account.cli.trader')}: ${traderText(app, v)}`,
  ];
  if (a.kind !== 'virtual') {
    const c = a.credentials;
    lines.push(`  ${t('account.cli.credentials')}: ${c.stored ? t('account.cli.credentialsStored', { hint: c.apiKeyHint ?? '?', type: c.keyType ?? '?' }) : t('account.cli.credentialsNone')}`);
  } else {
    lines.push(`  ${t('account.cli.initialBalance')}: ${s.account.initialBalance} USDT`);
  }
  const limits = Object.entries(s.risk).map(([k, val]) => `${k}=${val}`).join(' ');
  lines.push(`  ${t('account.cli.limits')}: ${limits || t('account.cli.noLimits')}`);
  lines.push(`  ${t('account.cli.source')}: ${s.source ?? '-'}`);
  lines.push(`  ${t('account.cli.positions', { count: s.positions.length })}`);
  for (const p of s.positions) {
    const live = v.snapshot?.positions.find((x) => x.symbol === p.symbol);
    const params = Object.entries(p.strategy.params).map(([k, val]) => `${k}=${val}`).join(' ');
    lines.push(`    ${p.symbol} ${p.interval} x${p.leverage} ${p.strategy.name}${params ? ` ${params}` : ''} ratio=${p.control.assumedRatio}${live ? `  ${t('account.cli.holding', { amount: live.amount, entry: live.entryPrice, pnl: live.unrealizedPnl })}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** A fraction option (`--max-drawdown 0.2`), or `none` to remove the limit. */
function limitValue(option: string, value: string | undefined, integer = false): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UserError(`${option} ${JSON.stringify(value)} is not valid: expected ${integer ? 'an integer' : 'a number'}, or none to remove the limit`);
  return n;
}

/** `atm account`: virtual and Binance accounts, headless (docs/accounts.md). */
export function register(program: Command): void {
  const account = program.command('account').description('virtual and Binance accounts: add, list, show, configure, activate, risk limits, history (docs/accounts.md)');

  account
    .command('add <name>')
    .description('add a virtual (paper) account or an actual Binance USD-M account')
    .option('--virtual', 'paper trading on live prices with the backtester\'s account model')
    .option('--binance', 'an actual Binance USD-M futures account (activate it with atm account activate)')
    .option('--testnet', 'with --binance: the Binance futures testnet')
    .option('--balance <usdt>', 'initial wallet of a virtual account (default 10000)')
    .action(async (name: string, options: { virtual?: boolean; binance?: boolean; testnet?: boolean; balance?: string }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        if (options.virtual === options.binance) throw new UserError(t('account.cli.kindRequired'));
        if (options.testnet && !options.binance) throw new UserError(t('account.cli.testnetNeedsBinance'));
        const kind: AccountKind = options.virtual ? 'virtual' : options.testnet ? 'testnet' : 'binance';
        const created = app.accounts.create(name, kind, { balance: options.balance });
        process.stdout.write(t(kind === 'virtual' ? 'account.cli.addedVirtual' : 'account.cli.addedActual', { name: created.name, kind: t(`account.kind.${kind}`), balance: created.settings.account.initialBalance }) + '\n');
      });
    });

  account
    .command('list')
    .description('list accounts: kind, wallet, equity, risk state, automation and the process trading each')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const views = app.accounts.list();
        if (options.json) {
          process.stdout.write(JSON.stringify(views.map(accountJson)) + '\n');
          return;
        }
        if (views.length === 0) {
          process.stdout.write(t('account.cli.none') + '\n');
          return;
        }
        const header = ['name', 'kind', 'wallet', 'equity', 'risk', 'automation', 'positions', 'trader'].map((c) => t(`account.col.${c}`));
        const rows = views.map((v) => [v.account.name, t(`account.kind.${v.account.kind}`), v.wallet ?? '-', v.equity ?? '-', v.snapshot?.risk ?? 'ACTIVE', t(`account.automation.${v.account.settings.automation}`), String(v.account.settings.positions.length), traderText(app, v)]);
        process.stdout.write(table(header, rows, [0, 1, 4, 5, 7]));
      });
    });

  account
    .command('show <name>')
    .description("show an account: balances, risk, automation, credentials (the key's last 4 characters only), positions")
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const v = app.accounts.get(name);
        process.stdout.write(options.json ? JSON.stringify(accountJson(v)) + '\n' : showText(app, v));
      });
    });

  account
    .command('remove <name>')
    .description('remove an account with its balance history, trade log and stored secret (asks on a terminal, or --yes)')
    .option('--yes', 'do not ask')
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const v = app.accounts.get(name);
        const trades = app.accounts.trades(v.account.id).length;
        if (!(await confirmDestructive(t('account.cli.removeQuestion', { name, trades }), options.yes))) {
          process.stdout.write(t('account.cli.notRemoved') + '\n');
          return;
        }
        app.accounts.remove(v.account.id);
        process.stdout.write(t('account.cli.removed', { name }) + '\n');
      });
    });

  account
    .command('activate <name>')
    .description(`store an actual account's API key and secret, encrypted with a passphrase (asked on the terminal, or ${PASSPHRASE_ENV})`)
    .option('--key-file <file>', 'read the key and secret from a file of mode 0600 (JSON {"apiKey","apiSecret"} or two lines; may be encrypted), e.g. on a USB drive removed afterwards')
    .action(async (name: string, options: { keyFile?: string }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        if (app.readonly) throw new UserError(t('account.cli.readonlyActivate'));
        const v = app.accounts.get(name);
        if (v.account.kind === 'virtual') throw new UserError(t('account.cli.virtualNoKey', { name }));
        let activated;
        if (options.keyFile) {
          const keyFile = resolve(options.keyFile);
          // the passphrase that encrypts the stored secret (and opens an encrypted key file)
          const pass = await passphrase(app, true);
          activated = app.accounts.activate(name, { keyFile, passphrase: pass, keyFilePassphrase: () => pass });
        } else {
          const apiKey = await promptLine(t('account.cli.apiKey'));
          const apiSecret = await promptHidden(t('account.cli.apiSecret'));
          const pass = await passphrase(app, true);
          activated = app.accounts.activate(name, { apiKey, apiSecret, passphrase: pass });
        }
        process.stdout.write(t('account.cli.activated', { name, hint: activated.credentials.apiKeyHint, type: activated.credentials.keyType }) + '\n');
      });
    });

  account
    .command('configure <name>')
    .description('set the positions: the positions part of a backtest configuration file (--config), or a saved simulation\'s (--from-simulation)')
    .option('--config <file>', 'a backtest configuration (YAML or JSON; see atm backtest --example); `account` is optional')
    .option('--from-simulation <id>', 'copy a saved simulation\'s positions and account control (atm sim list)')
    .action(async (name: string, options: { config?: string; fromSimulation?: string }, command: Command) => {
      // `--config` is also the program's option (the user configuration file), which commander
      // reads wherever it stands: here it names the backtest configuration (as for atm backtest)
      const globals = globalOptions(command);
      const configFile = options.config ?? globals.config;
      const app = await openApp(appOptions({ ...globals, config: undefined }, { logSync: true }));
      try {
        const t = app.t;
        if ((configFile === undefined) === (options.fromSimulation === undefined)) throw new UserError(t('account.cli.configureWhich'));
        const updated = configFile !== undefined
          ? await app.accounts.configure(name, resolve(configFile))
          : await app.accounts.fromSimulation(name, app.backtest.find(options.fromSimulation!).id);
        process.stdout.write(t('account.cli.configured', { name, count: updated.settings.positions.length, source: updated.settings.source }) + '\n');
        for (const p of app.accounts.plan(name)) process.stdout.write(`  ${p.symbol} ${p.interval} x${p.leverage} ${p.strategy} ratio=${p.assumedRatio}\n`);
      } finally {
        await app.close();
      }
    });

  account
    .command('automation <name> <state>')
    .description('turn automated trading on or off (on asks on a terminal, listing what will trade, or --yes; refused with --readonly)')
    .option('--yes', 'do not ask')
    .action(async (name: string, state: string, options: { yes?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        if (state !== 'on' && state !== 'off') throw new UserError(t('account.cli.badAutomation', { value: JSON.stringify(state) }));
        if (state === 'on') {
          if (app.readonly) throw new UserError(t('account.cli.readonlyAutomation'));
          const plan = app.accounts.plan(name).map((p) => `${p.symbol} ${p.interval} x${p.leverage} ${p.strategy}`).join(', ');
          if (!(await confirmDestructive(t('account.cli.automationQuestion', { name, plan: plan || '-' }), options.yes))) {
            process.stdout.write(t('account.cli.automationUnchanged') + '\n');
            return;
          }
        }
        app.accounts.setAutomation(name, state === 'on');
        process.stdout.write(t(`account.cli.automation_${state}`, { name }) + '\n');
      });
    });

  account
    .command('risk <name>')
    .description('set risk limits checked before every order (a value of none removes a limit)')
    .option('--max-drawdown <fraction>', 'halt when equity falls this fraction below its peak (0.2 = 20 %)')
    .option('--daily-loss <fraction>', "halt for the rest of the UTC day at this loss of the day's opening equity")
    .option('--max-notional <usdt>', 'largest notional of one position, USDT')
    .option('--max-leverage <n>', 'highest leverage')
    .option('--price-band <fraction>', 'refuse an order priced further than this from the mark price (default 0.05)')
    .option('--max-orders-per-minute <n>', 'orders per minute per account (default 30)')
    .action(async (name: string, o: { maxDrawdown?: string; dailyLoss?: string; maxNotional?: string; maxLeverage?: string; priceBand?: string; maxOrdersPerMinute?: string }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        const limits: { [K in keyof RiskLimits]?: RiskLimits[K] | null } = {
          maxDrawdown: limitValue('--max-drawdown', o.maxDrawdown),
          dailyLossLimit: limitValue('--daily-loss', o.dailyLoss),
          maxPositionNotional: o.maxNotional === undefined ? undefined : o.maxNotional === 'none' ? null : o.maxNotional.trim(),
          maxLeverage: limitValue('--max-leverage', o.maxLeverage, true),
          priceBand: limitValue('--price-band', o.priceBand),
          maxOrdersPerMinute: limitValue('--max-orders-per-minute', o.maxOrdersPerMinute, true),
        };
        const updated = app.accounts.setRisk(name, limits);
        const text = Object.entries(updated.settings.risk).map(([k, v]) => `${k}=${v}`).join(' ');
        process.stdout.write(t('account.cli.riskSet', { name, limits: text || t('account.cli.noLimits') }) + '\n');
      });
    });

  account
    .command('history <name>')
    .description('the balance history and the trade log; --csv prints the trade log as CSV')
    .option('--csv', 'print the trade log as CSV')
    .option('--json', 'print JSON ({ balance, trades })')
    .option('--limit <n>', 'the newest n trades and balance points (default 50; 0 = all)', '50')
    .action(async (name: string, options: { csv?: boolean; json?: boolean; limit?: string }, command: Command) => {
      await withApp(command, async (app) => {
        const t = app.t;
        if (options.csv) {
          process.stdout.write(app.accounts.tradesCsv(name));
          return;
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new UserError(t('account.cli.badLimit', { value: JSON.stringify(options.limit) }));
        const balance = app.accounts.balanceHistory(name);
        const trades = app.accounts.trades(name, limit > 0 ? { limit } : {});
        const shownBalance = limit > 0 ? balance.slice(-limit) : balance;
        if (options.json) {
          process.stdout.write(JSON.stringify({ balance: shownBalance, trades }) + '\n');
          return;
        }
        let out = `${t('account.cli.balanceTitle', { count: balance.length })}\n`;
        if (shownBalance.length > 0) out += table(['time', 'asset', 'wallet', 'equity'].map((c) => t(`account.col.${c}`)), shownBalance.map((p) => [iso(p.time), p.asset, p.walletBalance, p.marginBalance]), [0, 1]);
        out += `${t('account.cli.tradesTitle', { count: trades.length })}\n`;
        if (trades.length > 0) {
          const header = ['time', 'symbol', 'side', 'type', 'price', 'quantity', 'fee', 'pnl', 'reason'].map((c) => t(`account.col.${c}`));
          out += table(header, trades.map((x) => [iso(x.time), x.symbol, x.side, x.orderType, x.price, x.quantity, x.fee, x.realizedPnl, x.reason ?? '']), [0, 1, 2, 3, 8]);
        }
        process.stdout.write(out);
      });
    });
}
