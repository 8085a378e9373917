import type { App } from '../core/app.js';
import { LANGUAGES, LOG_LEVELS, THEMES, type Language, type LogLevelName, type ThemeName } from '../core/config/schema.js';
import { PAGE_IDS, type PageId } from './page.js';

/**
 * The command palette's commands are data, like the key bindings: the help overlay and Tab
 * completion are generated from this list, and `--readonly` drops every command marked dangerous.
 * A new command is one more entry (with its `palette.commands.<name>` text in both locales).
 */

/** What a palette command may do (the shell provides it). */
export interface PaletteHost {
  app: App;
  goTo(page: PageId): void;
  quit(): void;
  help(): void;
  toast(message: string, kind?: 'info' | 'error'): void;
}

export interface PaletteCommand {
  name: string;
  /** Other names that run it (not offered by completion). */
  aliases?: readonly string[];
  /** The arguments completion offers (`name arg` each); none: the command takes no argument. */
  args?: () => readonly string[];
  /** i18n key of its help line, also shown as the usage when its argument is not understood. */
  label: string;
  /** Places orders or enables live trading: dropped under --readonly. */
  dangerous?: boolean;
  /** Runs it; false when the argument is not understood. */
  action(host: PaletteHost, arg: string | undefined): boolean;
}

/** A page from its id, number (1..9, 0) or title, case-insensitive. */
export function resolvePage(name: string | undefined, title: (id: PageId) => string): PageId | undefined {
  if (!name) return undefined;
  const lower = name.toLowerCase();
  if (/^[0-9]$/.test(lower)) return PAGE_IDS[lower === '0' ? 9 : Number(lower) - 1];
  return PAGE_IDS.find((id) => id === lower || title(id).toLowerCase().replace(/\s+/g, '') === lower.replace(/\s+/g, ''));
}

const pageOf = (host: PaletteHost, name: string | undefined) => resolvePage(name, (id) => host.app.t(`pages.${id}.title`));
const oneOf = <T extends string>(list: readonly T[], arg: string | undefined): arg is T => (list as readonly string[]).includes(arg ?? '');

export const PALETTE_COMMANDS: readonly PaletteCommand[] = [
  {
    name: 'go', label: 'palette.commands.go', args: () => PAGE_IDS,
    action: (host, arg) => {
      const id = pageOf(host, arg);
      if (id) host.goTo(id);
      return id !== undefined;
    },
  },
  { name: 'quit', aliases: ['q'], label: 'palette.commands.quit', action: (host) => (host.quit(), true) },
  { name: 'help', label: 'palette.commands.help', action: (host) => (host.help(), true) },
  {
    name: 'log', label: 'palette.commands.log', args: () => LOG_LEVELS,
    action: (host, arg) => oneOf(LOG_LEVELS, arg) && (host.app.setLogLevel(arg as LogLevelName), true),
  },
  {
    name: 'lang', label: 'palette.commands.lang', args: () => LANGUAGES,
    action: (host, arg) => {
      if (!oneOf(LANGUAGES, arg)) return false;
      void host.app.setLanguage(arg as Language).catch((e) => host.toast(String(e), 'error'));
      return true;
    },
  },
  {
    name: 'theme', label: 'palette.commands.theme', args: () => THEMES,
    action: (host, arg) => oneOf(THEMES, arg) && (host.app.setTheme(arg as ThemeName), true),
  },
];

/** The commands available: all, or without the dangerous ones in read-only mode. */
export function availableCommands(readonly: boolean, commands: readonly PaletteCommand[] = PALETTE_COMMANDS): PaletteCommand[] {
  return commands.filter((c) => !(readonly && c.dangerous));
}

/** Every complete command line completion offers, in list order. */
export function paletteCompletions(commands: readonly PaletteCommand[] = PALETTE_COMMANDS): string[] {
  return commands.flatMap((c) => (c.args ? c.args().map((a) => `${c.name} ${a}`) : [c.name]));
}

/** Completions for typed text: those starting with it, else those containing it. */
export function paletteSuggestions(input: string, commands: readonly PaletteCommand[] = PALETTE_COMMANDS): string[] {
  const typed = input.trim().toLowerCase();
  const all = paletteCompletions(commands);
  if (!typed) return all;
  const prefix = all.filter((c) => c.startsWith(typed));
  if (prefix.length > 0) return prefix;
  return all.filter((c) => c.includes(typed));
}

/** The outcome of a typed command line. */
export type PaletteResult = { kind: 'ran' } | { kind: 'usage'; label: string } | { kind: 'unknown' } | { kind: 'empty' };

/**
 * Runs a typed command line: `<name> [arg]`, or a page's name or number alone (opens it). A
 * command not in `commands` (e.g. dangerous under --readonly) is unknown.
 */
export function runPaletteCommand(line: string, host: PaletteHost, commands: readonly PaletteCommand[] = PALETTE_COMMANDS): PaletteResult {
  const [verb, arg] = line.trim().split(/\s+/, 2);
  if (!verb) return { kind: 'empty' };
  const command = commands.find((c) => c.name === verb || c.aliases?.includes(verb));
  if (command) return command.action(host, arg) ? { kind: 'ran' } : { kind: 'usage', label: command.label };
  const page = pageOf(host, verb);
  if (!page) return { kind: 'unknown' };
  host.goTo(page);
  return { kind: 'ran' };
}
