import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig } from '../../core/config/load.js';
import { homePaths, resolveHome } from '../../core/paths.js';
import { globalOptions } from '../context.js';

export function register(program: Command): void {
  const config = program.command('config').description('check or show the configuration');
  config
    .command('check [file]')
    .description('validate a configuration file (default: the user file in effect) merged over the defaults')
    .action((file: string | undefined, _options: unknown, command: Command) => {
      const opts = globalOptions(command);
      const target = file ?? opts.config ?? homePaths(resolveHome(opts.home)).userConfig;
      loadConfig(target, { requireUserFile: file !== undefined || opts.config !== undefined });
      process.stdout.write(`${target}: valid\n`);
    });
  config
    .command('show')
    .description('print the effective configuration (defaults merged with the user file)')
    .action((_options: unknown, command: Command) => {
      const opts = globalOptions(command);
      const target = opts.config ?? homePaths(resolveHome(opts.home)).userConfig;
      const loaded = loadConfig(target, { requireUserFile: opts.config !== undefined });
      process.stdout.write(stringify(loaded.config));
    });
}
