import { readFileSync } from 'node:fs';
import blessed from 'blessed';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../core/paths.js';
import type { ThemeName } from '../core/config/schema.js';

export const THEME_ROLES = [
  'fg', 'bg', 'accent', 'muted', 'border', 'tabActiveFg', 'tabActiveBg', 'statusFg', 'statusBg',
  'up', 'down', 'warn', 'error', 'selectedFg', 'selectedBg',
] as const;
export type ThemeRole = (typeof THEME_ROLES)[number];

export interface Theme {
  name: string;
  /** False under NO_COLOR: every colour is the terminal default and emphasis uses inverse/bold. */
  color: boolean;
  colors: Record<ThemeRole, string>;
}

/**
 * blessed 0.1.81 maps '#rrggbb' to the nearest of its 256 colours through a cache, and while it
 * loads it fills that cache with nearest-of-8 answers for all 256 xterm colours (building its
 * 8-colour fallback table). Every theme colour that is exactly an xterm colour ('#4e4e4e' is 239)
 * then came out as one of the first 8: the dark theme's borders were SGR 30, black on black.
 * Emptying the cache once makes each colour map to its real 256-colour index.
 */
const blessedColors = (blessed as unknown as { colors: { _cache: Record<number, number> } }).colors;
blessedColors._cache = {};

/**
 * The theme to draw with on a terminal of `colors` colours: the 256-colour themes (dark, light)
 * fall back to basic16 on a 16- or 8-colour terminal, where blessed would fold their greys into
 * black.
 */
export function themeForTerminal(name: ThemeName, colors: number): ThemeName {
  return colors < 256 && name !== 'basic16' ? 'basic16' : name;
}

/** Loads config/themes/<name>.yaml. Themes are data: add a file to add a theme. */
export function loadTheme(name: ThemeName, env: NodeJS.ProcessEnv = process.env): Theme {
  const file = join(packageRoot(), 'config', 'themes', `${name}.yaml`);
  const data = parse(readFileSync(file, 'utf8')) as Record<string, string>;
  for (const role of THEME_ROLES) {
    if (typeof data[role] !== 'string') throw new Error(`${file}: '${role}' is missing; a theme sets every role: ${THEME_ROLES.join(', ')}`);
  }
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  if (noColor) {
    const colors = Object.fromEntries(THEME_ROLES.map((r) => [r, 'default'])) as Record<ThemeRole, string>;
    return { name, color: false, colors };
  }
  return { name, color: true, colors: data as Record<ThemeRole, string> };
}

/** Wraps text in a blessed colour tag for `role` (plain text without colour). Text must be escaped. */
export function paint(theme: Theme, role: ThemeRole, text: string, options: { bold?: boolean } = {}): string {
  let out = text;
  if (theme.color && theme.colors[role] !== 'default') out = `{${theme.colors[role]}-fg}${out}{/${theme.colors[role]}-fg}`;
  if (options.bold) out = `{bold}${out}{/bold}`;
  return out;
}

/** blessed style objects for the standard widget roles. */
export function styles(theme: Theme) {
  const c = theme.colors;
  const selected = theme.color ? { fg: c.selectedFg, bg: c.selectedBg } : { inverse: true };
  return {
    box: { fg: c.fg, bg: c.bg, border: { fg: c.border }, label: { fg: c.accent } },
    status: theme.color ? { fg: c.statusFg, bg: c.statusBg } : { inverse: true },
    header: { fg: c.fg, bg: c.bg },
    overlay: { fg: c.fg, bg: c.bg, border: { fg: c.accent } },
    selected,
  };
}
