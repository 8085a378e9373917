import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, saveUserSetting } from '../../src/core/config/load.js';

function userFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'atm-config-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function loadError(text: string): ConfigError {
  const file = userFile(text);
  try {
    loadConfig(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads the defaults when there is no user file', () => {
    const { config } = loadConfig('/nonexistent/atm/config.yaml');
    expect(config.language).toBe('en');
    expect(config.exchange.mode).toBe('auto');
    expect(config.workers.threads).toBe('auto');
  });

  it('merges a user file over the defaults key by key', () => {
    const file = userFile('language: ko\nworkers:\n  threads: 3\nexchange:\n  sim:\n    seed: 42\n');
    const { config } = loadConfig(file);
    expect(config.language).toBe('ko');
    expect(config.workers.threads).toBe(3);
    expect(config.workers.analyzerRatio).toBe(0.5); // untouched default kept
    expect(config.exchange.sim.seed).toBe(42);
    expect(config.exchange.sim.speed).toBe(1);
  });

  it('names the file, key, value, line and allowed values for a bad enum', () => {
    const error = loadError('# mine\ntheme: pink\n');
    expect(error.file).toMatch(/config\.yaml$/);
    expect(error.key).toBe('theme');
    expect(error.value).toBe('pink');
    expect(error.line).toBe(2);
    expect(error.message).toContain('"pink"');
    expect(error.message).toContain('"dark", "light", "basic16"');
  });

  it('rejects out-of-range numbers with the bound', () => {
    const error = loadError('workers:\n  analyzerRatio: 1.5\n');
    expect(error.key).toBe('workers.analyzerRatio');
    expect(error.message).toMatch(/at most 1/);
  });

  it('rejects a wrong type', () => {
    const error = loadError('bell:\n  trade: "yes"\n');
    expect(error.key).toBe('bell.trade');
    expect(error.message).toMatch(/expected boolean/);
  });

  it('rejects an unknown key (a typo) with its line', () => {
    const error = loadError('log:\n  levle: debug\n');
    expect(error.key).toBe('log.levle');
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/unknown key/);
  });

  it('rejects a bad URL', () => {
    const error = loadError('exchange:\n  binance:\n    wsUrl: http://example\n');
    expect(error.key).toBe('exchange.binance.wsUrl');
    expect(error.message).toMatch(/ws:\/\/ or wss:\/\//);
  });

  it('reports YAML syntax errors with the line', () => {
    const error = loadError('language: en\nbell: [trade\n');
    expect(error.message).toMatch(/YAML syntax error/);
    expect(error.line).toBeGreaterThan(0);
  });

  it('requires an explicitly given file to exist', () => {
    expect(() => loadConfig('/nonexistent/x.yaml', { requireUserFile: true })).toThrow(/does not exist/);
  });

  it('saves one setting while keeping the user file comments, and validates it', () => {
    const file = userFile('# my own notes\ntheme: light # I like it bright\n');
    const loaded = loadConfig(file);
    saveUserSetting(loaded, ['language'], 'ko');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my own notes');
    expect(text).toContain('# I like it bright');
    expect(loadConfig(file).config.language).toBe('ko');
    expect(() => saveUserSetting(loaded, ['language'], 'fr')).toThrow(ConfigError);
    expect(loadConfig(file).config.language).toBe('ko'); // the bad value was not written
  });
});
