import type { Command } from 'commander';
import { startExchangeSim, type SimOptions } from '../../main/exchangeSim.js';

/**
 * `atm exchange-sim`: runs the local exchange alone, so any Binance client (this program's own or
 * a third-party library) can be developed and tested against http://127.0.0.1:<port> and
 * ws://127.0.0.1:<port>. Needs no data directory and no database.
 */
export function register(program: Command): void {
  program
    .command('exchange-sim')
    .description('run the built-in Binance USD-M compatible local exchange on 127.0.0.1 (REST + websockets, fault injection)')
    .option('--port <n>', 'port to listen on (0: a free port)', '8765')
    .option('--data <dir>', 'replay 1m klines from Binance archive files (SYMBOL-1m-DATE.csv|zip) in this directory instead of generating')
    .option('--seed <n>', 'seed of the market generator', '1')
    .option('--speed <x>', 'market speed: 1 is real time, 60 makes a minute pass each second', '1')
    .option('--faults <spec>', 'fault injection, e.g. "drop=500,depth-gap@0.01,429@0.005,slow=300@0.1" (see docs/exchange.md)')
    .option('--api-key <key>', 'API key the exchange accepts (default: a printed demo key)')
    .option('--api-secret <secret>', 'HMAC secret for --api-key (or an Ed25519 public key PEM)')
    .option('--usdt <amount>', 'test USDT the account starts with', '100000')
    .option('--symbols <list>', 'comma-separated symbols to list (default: all)')
    .option('--history <days>', 'days of generated 1m history before now', '3')
    .action(async (options: SimOptions) => {
      const sim = await startExchangeSim(options);
      process.stdout.write(sim.banner.join('\n') + '\n');
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await sim.close();
    });
}
