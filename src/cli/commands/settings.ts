import type { Command } from 'commander';
import { LANGUAGES, LOG_LEVELS, THEMES, type Language, type LogLevelName, type ThemeName } from '../../core/config/schema.js';
import { UserError, withApp } from '../context.js';

const KEYS = ['language', 'theme', 'bell.trade', 'bell.error', 'log.level'] as const;

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UserError(`${key}: ${JSON.stringify(value)} is not valid: allowed values are ${allowed.join(', ')}`);
  return value as T;
}

export function register(program: Command): void {
  const settings = program.command('settings').description('show or change the settings of the Settings page, headless');
  settings
    .command('show')
    .description('print the current settings')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withApp(command, async (app) => {
        const s = app.settings();
        if (options.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        else {
          // the keys and values as `settings set` takes them (bell.trade on), not the JSON names
          const onOff = (b: boolean) => (b ? 'on' : 'off');
          const rows: [(typeof KEYS)[number], string][] = [
            ['language', s.language], ['theme', s.theme], ['bell.trade', onOff(s.bellTrade)], ['bell.error', onOff(s.bellError)], ['log.level', s.logLevel],
          ];
          process.stdout.write(rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n') + '\n');
        }
      });
    });
  settings
    .command('set <key> <value>')
    .description(`change a setting and save it to the user configuration; keys: ${KEYS.join(', ')}`)
    .action(async (key: string, value: string, _options: unknown, command: Command) => {
      await withApp(command, async (app) => {
        const bool = (v: string) => {
          if (v === 'on' || v === 'true') return true;
          if (v === 'off' || v === 'false') return false;
          throw new UserError(`${key}: ${JSON.stringify(v)} is not valid: allowed values are on, off`);
        };
        switch (key) {
          case 'language':
            await app.setLanguage(oneOf<Language>(key, value, LANGUAGES));
            break;
          case 'theme':
            app.setTheme(oneOf<ThemeName>(key, value, THEMES));
            break;
          case 'bell.trade':
          case 'bell.error':
            app.setBell(key === 'bell.trade' ? 'trade' : 'error', bool(value));
            break;
          case 'log.level':
            app.setLogLevel(oneOf<LogLevelName>(key, value, LOG_LEVELS));
            break;
          default:
            throw new UserError(`unknown setting ${JSON.stringify(key)}; known settings: ${KEYS.join(', ')}`);
        }
        process.stdout.write(`${key} = ${value} (saved to ${app.userConfigFile})\n`);
      });
    });
}
