import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { Theme } from './theme.js';
import { styles } from './theme.js';

/** Escapes text for a tagged blessed element. */
export const esc = (text: string): string => blessed.escape(text);

/** Display width of a string (CJK characters take two cells). */
export function textWidth(text: string): number {
  return (blessed as any).unicode.strWidth(text);
}

/** Pads or cuts `text` to exactly `width` cells. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = textWidth(ch);
    if (w + cw > width) break;
    out += ch;
    w += cw;
  }
  const pad = ' '.repeat(width - w);
  return align === 'left' ? out + pad : pad + out;
}

/** A bordered box with a label, styled from the theme. Borders are drawn with plain Unicode. */
export function panel(parent: Widgets.Node, options: Widgets.BoxOptions & { theme: Theme }): Widgets.BoxElement {
  const { theme, ...rest } = options;
  const box = blessed.box({
    parent,
    tags: true,
    border: { type: 'line' },
    style: styles(theme).box,
    ...rest,
  });
  return box;
}

/** Re-applies theme colours to a bordered box (after a theme change). */
export function restyle(box: Widgets.BoxElement, theme: Theme): void {
  const s = styles(theme).box;
  const style = box.style as any;
  style.fg = s.fg;
  style.bg = s.bg;
  style.border = { ...(style.border ?? {}), fg: s.border.fg };
  style.label = { ...(style.label ?? {}), fg: s.label.fg };
}

/** `[Nd ]HH:MM[:SS]`. */
export function formatDuration(ms: number, withSeconds = true): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}` + (withSeconds ? `:${String(sec).padStart(2, '0')}` : '');
  return d > 0 ? `${d}d ${hms}` : hms;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** UTC time as `YYYY-MM-DD HH:MM:SS`. */
export function formatUtc(ms: number, withSeconds = true): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, withSeconds ? 19 : 16);
}

/** Word-wraps `text` to lines of at most `width` display cells (Hangul takes two). */
export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && textWidth(line + ' ' + word) > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/** A selected line in the theme's selection colours (inverse without colour). */
export function selectedLine(theme: Theme, text: string): string {
  return theme.color ? `{${theme.colors.selectedBg}-bg}{${theme.colors.selectedFg}-fg}${text}{/${theme.colors.selectedFg}-fg}{/${theme.colors.selectedBg}-bg}` : `{inverse}${text}{/inverse}`;
}

/** A table column: its width, alignment and priority (0 always shows; higher numbers drop first). */
export interface Column {
  width: number;
  align?: 'left' | 'right';
  priority: number;
}

/**
 * The columns that fit in `width` cells (one space between columns): whole columns by priority,
 * so a narrow terminal drops the least important ones instead of wrapping rows.
 */
export function visibleColumns(columns: readonly Column[], width: number): number[] {
  const order = columns.map((_, i) => i).sort((a, b) => columns[a].priority - columns[b].priority || a - b);
  const kept: number[] = [];
  let used = -1;
  for (const i of order) {
    if (used + 1 + columns[i].width > width && columns[i].priority > 0) continue;
    kept.push(i);
    used += 1 + columns[i].width;
  }
  return kept.sort((a, b) => a - b);
}

/** One table row of the kept columns, each cell padded or cut to its column. */
export function tableRow(columns: readonly Column[], kept: readonly number[], cells: readonly string[]): string {
  return kept.map((i) => fit(cells[i] ?? '', columns[i].width, columns[i].align ?? 'left')).join(' ');
}
