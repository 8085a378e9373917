import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { TFunction } from '../../core/i18n.js';
import { paint, type Theme } from '../theme.js';
import { esc, fit } from '../widgets.js';

/** One row of the browser: `..`, a folder, or a file it offers (archive files by default). */
export interface FileEntry {
  name: string;
  path: string;
  kind: 'up' | 'dir' | 'file';
}

/**
 * A small file browser's state: the rows of one directory (`..` first, then folders, then the
 * files `accept` lets through, each sorted by name), a cursor and the selected files. Enter on a
 * folder (or `..`) descends into it; space selects a file; `chosen()` is what to act on: the
 * selected files, or else the directory shown. The screen draws `lines()`; no widget is kept here,
 * so it is tested as plain data.
 */
export class FileBrowser {
  dir: string;
  entries: FileEntry[] = [];
  cursor = 0;
  readonly selected = new Set<string>();
  /** Set when the directory cannot be read (shown instead of rows). */
  error: string | undefined;

  constructor(dir: string, private readonly accept: (name: string) => boolean = (name) => /\.(zip|csv)$/i.test(name)) {
    this.dir = resolve(dir);
    this.read();
  }

  /** Reads the directory again (the cursor stays on the same name when it is still there). */
  read(): void {
    const keep = this.entries[this.cursor]?.name;
    const up: FileEntry[] = dirname(this.dir) !== this.dir ? [{ name: '..', path: dirname(this.dir), kind: 'up' }] : [];
    let names: string[] = [];
    this.error = undefined;
    try {
      names = readdirSync(this.dir).sort();
    } catch (error) {
      this.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
    const dirs: FileEntry[] = [];
    const files: FileEntry[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(this.dir, name);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue; // a dangling link or a file gone meanwhile
      }
      if (isDir) dirs.push({ name, path, kind: 'dir' });
      else if (this.accept(name)) files.push({ name, path, kind: 'file' });
    }
    this.entries = [...up, ...dirs, ...files];
    const again = keep === undefined ? -1 : this.entries.findIndex((e) => e.name === keep);
    this.cursor = again >= 0 ? again : Math.min(this.cursor, Math.max(0, this.entries.length - 1));
  }

  current(): FileEntry | undefined {
    return this.entries[this.cursor];
  }

  move(by: number): void {
    if (this.entries.length === 0) return;
    this.cursor = Math.max(0, Math.min(this.entries.length - 1, this.cursor + by));
  }

  /** Enter: into the folder under the cursor (or up on `..`); on a file, selects it. Returns true when the directory changed. */
  enter(): boolean {
    const e = this.current();
    if (!e) return false;
    if (e.kind === 'file') {
      this.toggle();
      return false;
    }
    const from = this.dir;
    this.dir = e.path;
    this.selected.clear();
    this.cursor = 0;
    this.entries = [];
    this.read();
    if (e.kind === 'up') {
      // back on the folder we came from
      const i = this.entries.findIndex((x) => x.path === from);
      if (i >= 0) this.cursor = i;
    }
    return true;
  }

  /** Space: selects or unselects the file under the cursor, then moves down. */
  toggle(): void {
    const e = this.current();
    if (!e || e.kind !== 'file') return;
    if (this.selected.has(e.path)) this.selected.delete(e.path);
    else this.selected.add(e.path);
    this.move(1);
  }

  /** What to act on: the selected files, in name order, or else the directory shown. */
  chosen(): string[] {
    return this.selected.size > 0 ? [...this.selected].sort() : [this.dir];
  }

  /** The browser's rows, `height` lines at most (the cursor kept in view), `width` columns each. */
  lines(t: TFunction, theme: Theme, width: number, height: number): string[] {
    const out: string[] = [paint(theme, 'muted', esc(fit(this.dir, width)))];
    if (this.error) return [...out, paint(theme, 'error', esc(fit(t('fileBrowser.unreadable', { error: this.error }), width)))];
    const rows = Math.max(1, height - 2);
    const top = Math.max(0, Math.min(this.cursor - Math.floor(rows / 2), this.entries.length - rows));
    for (let i = top; i < Math.min(this.entries.length, top + rows); i++) {
      const e = this.entries[i];
      const mark = e.kind === 'file' ? (this.selected.has(e.path) ? '[x] ' : '[ ] ') : '    ';
      const name = e.kind === 'file' ? e.name : `${e.name}/`;
      const text = esc(fit(`${i === this.cursor ? '>' : ' '} ${mark}${name}`, width));
      out.push(i === this.cursor ? paint(theme, 'accent', text) : e.kind === 'file' ? text : paint(theme, 'muted', text));
    }
    if (this.entries.length === 0) out.push(paint(theme, 'muted', esc(fit(t('fileBrowser.empty'), width))));
    const chosen = this.selected.size > 0 ? t('fileBrowser.selected', { count: this.selected.size }) : t('fileBrowser.wholeFolder', { name: basename(this.dir) || this.dir });
    out.push(paint(theme, 'muted', esc(fit(chosen, width))));
    return out;
  }
}
