import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempHome } from '../helpers/app.js';
import { hasTmux, TmuxSession } from '../helpers/tmux.js';

const tmp = tempHome('atm-cli-');
function atm(...args: string[]) {
  const result = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the atm command line', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });
  afterAll(() => tmp.cleanup());

  it('lists the headless commands in --help and prints the version', () => {
    const help = atm('--help');
    expect(help.code).toBe(0);
    for (const command of ['tui', 'status', 'config', 'settings']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const option of ['--home', '--config', '--log-level', '--readonly', '--exchange']) expect(help.stdout).toContain(option);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(atm('--version').stdout.trim()).toBe(pkg.version);
  });

  it('reports status headless, with real worker threads answering', () => {
    const result = atm('status', '--json', '--check-workers');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.home).toBe(tmp.home);
    expect(status.schemaVersion).toMatch(/^\d{4}_/);
    expect(status.workerCheck.analysis.threadId).toBeGreaterThan(0);
    expect(status.workerCheck.simulation.threadId).toBeGreaterThan(0);
  });

  it('stops on a bad configuration with one clear line: file, key, value, allowed; no stack trace', () => {
    const file = join(tmp.home, 'bad.yaml');
    writeFileSync(file, 'workers:\n  threads: many\n');
    const result = atm('--config', file, 'status');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:2`);
    expect(result.stderr).toContain("'workers.threads'");
    expect(result.stderr).toContain('"many"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects a bad global option value clearly', () => {
    const result = atm('--log-level', 'loud', 'status');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--log-level "loud" is not valid: allowed values are trace, debug, info, warn, error, fatal');
  });

  it('changes settings headless and keeps them', () => {
    expect(atm('settings', 'set', 'theme', 'basic16').code).toBe(0);
    const shown = JSON.parse(atm('settings', 'show', '--json').stdout);
    expect(shown.theme).toBe('basic16');
    const bad = atm('settings', 'set', 'theme', 'neon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('allowed values are dark, light, basic16');
  });

  it('validates a configuration file with config check', () => {
    const good = join(tmp.home, 'good.yaml');
    writeFileSync(good, 'language: ko\n');
    expect(atm('config', 'check', good)).toMatchObject({ code: 0 });
    const missing = atm('config', 'check', join(tmp.home, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
  });

  it('refuses to open the TUI without a terminal, with a hint', () => {
    const result = atm('tui');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('needs an interactive terminal');
  });

  it('a data directory that cannot be used is one line naming it and why (exit 2), no stack trace', () => {
    const file = join(tmp.home, 'a-file');
    writeFileSync(file, 'x');
    const r = spawnSync(process.execPath, ['bin/atm.js', '--home', join(file, 'sub'), 'status'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`atm: the data directory ${join(file, 'sub')} cannot be used: a part of the path is a file, not a folder (choose another with --home or ATM_HOME)`]);
  });

  it('config check quotes a huge or binary file in one short line, with control characters escaped', () => {
    const big = join(tmp.home, 'big.yaml');
    writeFileSync(big, 'x'.repeat(4_000_000));
    const r = atm('config', 'check', big);
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeLessThan(400);
    expect(r.stderr).toContain('(4000000 characters)');
    const nul = join(tmp.home, 'nul.yaml');
    writeFileSync(nul, Buffer.alloc(1000));
    const n = atm('config', 'check', nul);
    expect(n.code).toBe(2);
    expect(n.stderr.includes(String.fromCharCode(0))).toBe(false);
    expect(n.stderr.length).toBeLessThan(400);
  });

  it('usage errors exit 2 (commander\'s own included); --help exits 0', () => {
    expect(atm('status', '--no-such-option').code).toBe(2);
    expect(atm('config', 'check', '--help').code).toBe(0);
  });

  it.skipIf(!hasTmux())('asks on a terminal before deleting, and keeps everything on no', async () => {
    expect(atm('cac', 'save', '--name', 'keepme', '--indicator', 'SMA:n=3').code).toBe(0);
    const term = new TmuxSession([process.execPath, 'bin/atm.js', '--home', tmp.home, 'cac', 'delete', 'keepme'], { width: 120, height: 10 });
    term.start();
    try {
      await term.waitForText('Delete the CAC keepme? [y/N]', 20_000);
      term.send('n', true);
      term.send('Enter');
      await term.waitForText('nothing deleted', 10_000);
      await term.waitForText('[exited 0]', 10_000);
    } finally {
      term.kill();
    }
    expect(atm('cac', 'list').stdout).toContain('keepme');
    expect(atm('cac', 'delete', 'keepme').code).toBe(2); // no terminal: refused without --yes
    expect(atm('cac', 'delete', 'keepme', '--yes').stdout).toContain('deleted keepme');
  });
});
