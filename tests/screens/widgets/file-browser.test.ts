import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBrowser } from '../../../src/screens/widgets/file-browser.js';
import { tempHome } from '../../helpers/app.js';

describe('FileBrowser (the import file browser, as data over a real directory)', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function tree(): string {
    const tmp = tempHome('atm-browser-');
    cleanups.push(tmp.cleanup);
    const root = join(tmp.home, 'data');
    mkdirSync(join(root, 'near', 'deep'), { recursive: true });
    mkdirSync(join(root, 'btc'));
    writeFileSync(join(root, 'b.zip'), 'x');
    writeFileSync(join(root, 'a.csv'), 'x');
    writeFileSync(join(root, 'notes.txt'), 'x'); // not an archive file: not offered
    writeFileSync(join(root, '.hidden.zip'), 'x');
    writeFileSync(join(root, 'near', 'NEARUSDT-1m-2024-11-01.zip'), 'x');
    return root;
  }

  it('lists .. first, then folders, then archive files, each by name', () => {
    const root = tree();
    const b = new FileBrowser(root);
    expect(b.entries.map((e) => `${e.kind}:${e.name}`)).toEqual(['up:..', 'dir:btc', 'dir:near', 'file:a.csv', 'file:b.zip']);
    expect(b.chosen()).toEqual([root]); // nothing selected: the folder itself
  });

  it('Enter descends into a folder and .. comes back with the cursor on it; space selects files', () => {
    const root = tree();
    const b = new FileBrowser(root);
    b.move(2); // near
    expect(b.current()?.name).toBe('near');
    expect(b.enter()).toBe(true);
    expect(b.dir).toBe(join(root, 'near'));
    expect(b.entries.map((e) => e.name)).toEqual(['..', 'deep', 'NEARUSDT-1m-2024-11-01.zip']);
    b.move(-5); // clamped at the top
    expect(b.enter()).toBe(true); // ..
    expect(b.dir).toBe(root);
    expect(b.current()?.name).toBe('near');
    b.move(1); // a.csv
    b.toggle(); // selects a.csv, moves to b.zip
    b.toggle();
    expect(b.chosen()).toEqual([join(root, 'a.csv'), join(root, 'b.zip')]);
    b.toggle(); // the cursor stayed on the last row, b.zip: unselected
    expect(b.chosen()).toEqual([join(root, 'a.csv')]);
    // a folder cannot be selected
    b.cursor = 1;
    b.toggle();
    expect(b.chosen()).toEqual([join(root, 'a.csv')]);
  });

  it('says when a folder cannot be read', () => {
    const root = tree();
    const b = new FileBrowser(join(root, 'gone'));
    expect(b.error).toBe('ENOENT');
    expect(b.entries.map((e) => e.name)).toEqual(['..']);
  });
});
