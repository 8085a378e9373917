import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';
import { ShellHarness } from '../../helpers/shell.js';
import { waitFor } from '../../helpers/screen.js';
import { makeRows, toCsv, writeZip } from '../../core/market/fixtures.js';

const T0 = Date.UTC(2024, 2, 1);

/**
 * Long work from the Market page, headless: the archive import picked in the file browser and
 * the kline download, both run as jobs with progress; cancel asks first; the Dashboard lists them.
 */
describe('Market page jobs: import and download (headless)', () => {
  let h: ShellHarness | undefined;
  const cwd = process.cwd();
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    process.chdir(cwd);
    await h?.dispose();
    h = undefined;
    for (const c of cleanups.splice(0)) c();
  });

  /** A folder `archive` of `days` daily XRPUSDT 1m zips; the working directory is its parent. */
  function archives(days: number): string {
    const tmp = tempHome('atm-jobs-');
    cleanups.push(tmp.cleanup);
    const dir = join(tmp.home, 'archive');
    mkdirSync(dir);
    const rows = makeRows(T0, days * 1440, '1m', 21);
    for (let d = 0; d < days; d++) writeZip(dir, `XRPUSDT-1m-2024-03-${String(d + 1).padStart(2, '0')}`, toCsv(rows.slice(d * 1440, (d + 1) * 1440), '1m', true));
    process.chdir(tmp.home);
    return dir;
  }

  it('i opens the file browser; Enter descends, space selects, i imports as a job with its result; the Dashboard lists it', async () => {
    const dir = archives(3);
    h = await new ShellHarness().start({ width: 160, height: 40 });
    h.press('6');
    let screen = h.press('i');
    expect(screen).toContain('Import archive files');
    expect(screen).toMatch(/> +\.\.\//); // the cursor on ..
    expect(screen).toContain('archive/');
    h.press('j');
    screen = h.press('\r'); // into archive/
    expect(screen).toContain(dir);
    expect(screen).toContain('[ ] XRPUSDT-1m-2024-03-01.zip');
    h.press('j');
    screen = h.press(' '); // select the first file
    expect(screen).toContain('[x] XRPUSDT-1m-2024-03-01.zip');
    screen = h.press(' '); // and the second
    expect(screen).toContain('2 file(s) selected');
    const progress: string[] = [];
    h.app.bus.on('job.progress', (e) => progress.push(`${e.done}/${e.total}`));
    screen = h.press('i');
    expect(screen).not.toContain('Import archive files');
    // running: the label and an empty bar under the symbols (no file imported before the first yield)
    expect(screen).toContain('import 2 files');
    expect(screen).toMatch(/\[\.{10,}\] 0%/);
    screen = await h.until('done: 2 file(s)'); // the result, cut to the symbol list's width
    // progress in bytes: once at the start, then after each file, up to the whole size
    expect(progress.length).toBe(3);
    const [first, second, third] = progress.map((p) => p.split('/').map(Number));
    expect(first[0]).toBe(0);
    expect(second[0]).toBeGreaterThan(0);
    expect(second[0]).toBeLessThan(second[1]);
    expect(third[0]).toBe(third[1]);
    expect(screen).toContain('import 2 files');
    expect(screen).toContain('XRPUSDT · 1m'); // the first klines stored are charted
    const job = h.app.jobs.list()[0];
    expect(job).toMatchObject({ state: 'done', label: 'import 2 files' });
    expect(job.done).toBe(job.total); // progress reached the whole size
    expect(job.total).toBeGreaterThan(0);
    expect(h.parts.klines.loadRange('XRPUSDT', '1m').length).toBe(2880);
    // the Dashboard's jobs list: label, state and the result
    screen = h.press('1');
    expect(screen).toMatch(/import 2 files\s+done\s+2 file\(s\), 2880 imported/);
  });

  it('with nothing selected, i imports the whole folder; x cancels after asking (n keeps it running)', async () => {
    archives(12);
    h = await new ShellHarness().start({ width: 160, height: 40 });
    h.press('6');
    h.press('i');
    h.press('j');
    h.press('\r'); // into archive/
    let screen = h.press('i');
    // started: the job is running, sliced per file; nothing has been imported before the first yield
    expect(h.app.jobs.running().map((j) => j.label)).toEqual(['import archive']);
    // quitting while it runs asks, naming it (n stays)
    screen = h.press('q');
    expect(screen).toContain('Still running: import archive');
    h.press('n');
    screen = h.press('x');
    expect(screen).toContain('Cancel import archive? What was stored so far stays.');
    h.press('n');
    expect(h.app.jobs.running().length).toBe(1);
    h.press('x');
    h.press('y');
    screen = await h.until(/cancelled: /);
    const job = h.app.jobs.list()[0];
    expect(job.state).toBe('cancelled');
    expect(job.done).toBeLessThan(job.total); // stopped before the last file
    expect(h.app.jobs.running()).toEqual([]);
    // the Dashboard keeps the finished job, with its state
    screen = h.press('1');
    expect(screen).toMatch(/import archive\s+cancelled/);
  });

  it('funding-rate files in the folder go to the funding store, as atm data import does', async () => {
    const dir = archives(1);
    const t = [Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 1, 8), Date.UTC(2024, 2, 1, 16)];
    writeFileSync(join(dir, 'XRPUSDT-fundingRate-2024-03.csv'), `calc_time,funding_interval_hours,last_funding_rate\n${t.map((x) => `${x},8,0.0001`).join('\n')}\n`);
    h = await new ShellHarness().start({ width: 160, height: 40 });
    h.press('6');
    h.press('i');
    h.press('j');
    h.press('\r'); // into archive/
    h.press('i'); // the whole folder
    await h.until('done: ');
    expect(h.app.jobs.list()[0]).toMatchObject({ state: 'done', result: '1 file(s), 1440 imported, 0 already stored, 0 failed; funding: 1 file(s), 3 rates imported, 0 failed' });
    expect(h.app.funding.coverage('XRPUSDT')).toMatchObject([{ symbol: 'XRPUSDT', count: 3 }]);
  });

  it('the file browser and the download form fit the smallest terminal drawn (80x24) and a medium one', async () => {
    archives(1);
    for (const [width, height] of [[80, 24], [100, 30]]) {
      h = await new ShellHarness().start({ width, height });
      h.press('6');
      let screen = h.press('i');
      expect(screen).toContain('Import archive files');
      expect(screen).toContain('archive/');
      expect(screen).toMatch(/Esc close/); // the key hints wrap instead of being cut
      screen = h.press('\x1b');
      expect(screen).not.toContain('Import archive files');
      screen = h.press('d');
      expect(screen).toContain('Download klines');
      expect(screen).toMatch(/interval\s+1m/);
      h.press('\x1b');
      // the Dashboard's jobs list keeps a progress bar even 80 columns wide
      h.app.jobs.start('download BTCUSDT 1m').progress(1, 2);
      screen = h.press('1');
      expect(screen).toMatch(width >= 100 ? /download BTCUSDT 1m\s+running\s+\[#+\.+\] 50%/ : /download BTCU\s+running\s+\[#+\.+\] 50%/);
      await h.dispose();
      h = undefined;
    }
  });

  it('the Dashboard shows a running job with a progress bar, percent and ETA', async () => {
    h = await new ShellHarness().start({ width: 160, height: 40 });
    const job = h.app.jobs.start('test job');
    job.progress(5, 10);
    let screen = h.press('1');
    const bar = /test job\s+running\s+\[(#+)(\.+)\] 50%\s+\d+:\d\d/.exec(screen);
    expect(bar, screen).not.toBeNull();
    expect(bar![1].length).toBe(bar![2].length); // half full
    job.fail(new Error('the disk is full'));
    screen = await h.until(/test job\s+failed\s+the disk is full/);
  });

  it('d opens the download form; a bad time is named; Enter downloads from the local exchange as a job', async () => {
    h = await new ShellHarness().start({ width: 160, height: 40, app: { exchangeMode: 'sim' } });
    h.press('6');
    let screen = h.press('d');
    expect(screen).toContain('Download klines');
    for (const ch of 'BTCUSDT') h.press(ch);
    h.press('\t'); // interval: 1m already
    h.press('\t');
    for (const ch of 'yesterday') h.press(ch);
    screen = h.press('\r');
    expect(screen).toContain('from: "yesterday" is not a time');
    for (let i = 0; i < 9; i++) h.press('\x7f');
    const from = new Date(Date.now() - 3 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
    for (const ch of from) h.press(ch);
    screen = h.press('\r');
    expect(screen).not.toContain('Download klines');
    screen = await h.until(/done: \d+ klines stored/, 20_000);
    expect(screen).toContain('download BTCUSDT 1m');
    const stored = h.parts.klines.loadRange('BTCUSDT', '1m');
    expect(stored.length).toBeGreaterThan(100);
    expect(stored.openTime[0]).toBeGreaterThanOrEqual(Date.parse(from + 'Z'));
    await waitFor(() => h!.app.jobs.running().length === 0, 2000, 'the job ended');
  });
});
