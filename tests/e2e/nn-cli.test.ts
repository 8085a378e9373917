import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/app.js';
import { MIN, T0, momentumKlines, smallConfig } from '../core/nn/data.js';

// `atm nn create|train|test|list|show|delete` as real processes (training in the simulation
// worker) over generated klines imported into a temporary home.
const tmp = tempHome('atm-nn-cli-');
const arch = join(tmp.home, 'archives');

function atm(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, input: '' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const lastJson = (out: string) => JSON.parse(out.trimEnd().split('\n').pop()!);

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'ignore' });
  mkdirSync(arch, { recursive: true });
  const k = momentumKlines(4000, 5);
  const rows: string[] = [];
  for (let j = 0; j < k.length; j++) {
    const t = k.openTime[j];
    rows.push([t, k.open[j].toFixed(1), k.high[j].toFixed(1), k.low[j].toFixed(1), k.close[j].toFixed(1), k.volume[j].toFixed(2), t + 59_999, '30000', 10, '0.7', '14000', 0].join(','));
  }
  writeFileSync(join(arch, 'BTCUSDT-1m-2024-01.csv'), rows.join('\n') + '\n');
  const imported = atm('data', 'import', arch);
  expect(imported.code, imported.err).toBe(0);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('atm nn', () => {
  it('creates models from YAML (the example as printed; a blank name is NN_1) and refuses a bad one in one line', () => {
    const example = atm('nn', 'create', '--example');
    expect(example.code).toBe(0);
    writeFileSync(join(tmp.home, 'example.yaml'), example.out);
    const a = atm('nn', 'create', '--config', join(tmp.home, 'example.yaml'));
    expect(a.code, a.err).toBe(0);
    expect(a.out).toContain('created model NN_1');
    writeFileSync(join(tmp.home, 'm1.yaml'), stringify(smallConfig('M1')));
    expect(atm('nn', 'create', '--config', join(tmp.home, 'm1.yaml')).code).toBe(0);
    writeFileSync(join(tmp.home, 'bad.yaml'), stringify(smallConfig('BAD', { target: { kind: 'sign', horizon: 0 } })));
    const bad = atm('nn', 'create', '--config', join(tmp.home, 'bad.yaml'));
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toEqual([`atm: ${join(tmp.home, 'bad.yaml')}: target.horizon: 0 is out of range; allowed: an integer from 1 to 10000`]);
  });

  it('trains in a worker (the last line with --json is the summary), tests out of sample, lists and shows', () => {
    const to = new Date(T0 + 2999 * MIN).toISOString();
    const trained = atm('nn', 'train', 'M1', '--symbol', 'BTCUSDT', '--to', String(T0 + 2999 * MIN), '--json');
    expect(trained.code, trained.err).toBe(0);
    const summary = lastJson(trained.out);
    expect(summary).toMatchObject({ name: 'M1', version: 1, finished: true, epochs: 8 });
    expect(summary.range.to).toBe(T0 + 2999 * MIN);
    expect(summary.trainRows).toBeGreaterThan(2000);

    const early = atm('nn', 'test', 'M1', '--from', String(T0 + 2000 * MIN));
    expect(early.code).toBe(2);
    expect(early.err).toContain(`--from must be after the training data (version 1 was trained on BTCUSDT up to ${to})`);
    const test = atm('nn', 'test', 'M1', '--from', String(T0 + 3000 * MIN), '--json');
    expect(test.code, test.err).toBe(0);
    const result = lastJson(test.out);
    expect(result.rows).toBe(999);
    expect(result.accuracy).toBeGreaterThan(0.62);
    const text = atm('nn', 'test', 'M1', '--from', String(T0 + 3000 * MIN));
    expect(text.out).toContain('accuracy');
    expect(text.out).toContain('after fees');

    const list = atm('nn', 'list', '--json');
    const models = lastJson(list.out) as { name: string; versions: number; latest: { test: { accuracy: number } | null } | null }[];
    expect(models.map((m) => m.name)).toEqual(['NN_1', 'M1']);
    expect(models[1].versions).toBe(1);
    expect(models[1].latest!.test!.accuracy).toBe(result.accuracy);
    const table = atm('nn', 'list');
    expect(table.out).toMatch(/^name\s+type\s+versions/);
    expect(table.out).toContain('NN_1');
    const show = atm('nn', 'show', 'M1');
    expect(show.code).toBe(0);
    expect(show.out).toContain('model M1 (mlp), 1 version(s)');
    expect(show.out).toContain('layers: 5 → 8 tanh → 1 sigmoid');
    expect(show.out).toContain('epoch 8/8');
  }, 120_000);

  it('names unknown models and asks before deleting', () => {
    const missing = atm('nn', 'train', 'NOPE', '--symbol', 'BTCUSDT');
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe('atm: no model named NOPE (atm nn list shows them)');
    const refused = atm('nn', 'delete', 'NN_1');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('add --yes to confirm');
    const deleted = atm('nn', 'delete', 'NN_1', '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.out).toContain('deleted model NN_1');
    expect(lastJson(atm('nn', 'list', '--json').out).map((m: { name: string }) => m.name)).toEqual(['M1']);
  });
});
