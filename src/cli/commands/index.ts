import type { Command } from 'commander';
import * as tui from './tui.js';
import * as status from './status.js';
import * as config from './config.js';
import * as settings from './settings.js';
import * as keys from './keys.js';
import * as data from './data.js';
import * as analyze from './analyze.js';
import * as exchangeSim from './exchange-sim.js';
import * as strategy from './strategy.js';
import * as backtest from './backtest.js';
import * as sim from './sim.js';
import * as sweep from './sweep.js';
import * as account from './account.js';
import * as trade from './trade.js';

/**
 * Every `atm` subcommand. Each module exports `register(program)`; add yours here. Commands call
 * the same App facade the TUI uses.
 */
export const COMMANDS: { register(program: Command): void }[] = [tui, status, config, settings, keys, analyze, data, exchangeSim, strategy, backtest, sim, sweep, account, trade];
