import { AtmError } from '../core/errors.js';
import type { NnConfig, NnModelInfo, NnRepository, NnTestResult, NnTrainingRecord, NnVersion } from '../core/nn/model.js';
import { writeTransaction, type Database } from './database.js';

interface ModelRow {
  id: number;
  name: string;
  params_json: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  model_id: number;
  version: number;
  config_json: string;
  scaler_json: string;
  weights: Buffer;
  optimizer: Buffer | null;
  optimizer_json: string | null;
  training_json: string;
  test_json: string | null;
  created_at: number;
}

/** Float64 values as bytes (little-endian, the platform's order: the same machine reads them). */
function toBlob(...arrays: Float64Array[]): Buffer {
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const all = new Float64Array(total);
  let off = 0;
  for (const a of arrays) {
    all.set(a, off);
    off += a.length;
  }
  return Buffer.from(all.buffer, all.byteOffset, all.byteLength);
}

function fromBlob(b: Buffer): Float64Array {
  // Copy: the Buffer's offset in its pool need not be 8-aligned.
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Neural network models (0002's neural_models) and their versions (0010's neural_model_versions). */
export class NnStore implements NnRepository {
  constructor(private readonly db: Database, private readonly now: () => number = Date.now) {}

  private info(row: ModelRow): NnModelInfo {
    const s = this.db.sqlite;
    const count = (s.prepare('SELECT COUNT(*) AS n FROM neural_model_versions WHERE model_id = ?').get(row.id) as { n: number }).n;
    const latest = s.prepare('SELECT version, training_json, test_json FROM neural_model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1').get(row.id) as
      | { version: number; training_json: string; test_json: string | null }
      | undefined;
    let summary: NnModelInfo['latest'] = null;
    if (latest) {
      const rec = JSON.parse(latest.training_json) as NnTrainingRecord;
      summary = { version: latest.version, finished: rec.finished, epochs: rec.history.length, valLoss: rec.bestValLoss, test: latest.test_json ? (JSON.parse(latest.test_json) as NnTestResult) : null };
    }
    const config = JSON.parse(row.params_json) as NnConfig;
    return { id: row.id, name: row.name, type: config.type, config, versions: count, latest: summary, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  list(): NnModelInfo[] {
    return (this.db.sqlite.prepare('SELECT * FROM neural_models ORDER BY id').all() as ModelRow[]).map((r) => this.info(r));
  }

  get(name: string): NnModelInfo | undefined {
    const row = this.db.sqlite.prepare('SELECT * FROM neural_models WHERE name = ?').get(name) as ModelRow | undefined;
    return row ? this.info(row) : undefined;
  }

  create(config: NnConfig): NnModelInfo {
    const s = this.db.sqlite;
    const t = this.now();
    writeTransaction(s, () => {
      if (s.prepare('SELECT 1 FROM neural_models WHERE name = ?').get(config.name)) throw new AtmError('user', `a model named ${config.name} exists already`, { name: config.name });
      s.prepare('INSERT INTO neural_models (name, params_json, weights, metrics_json, created_at, updated_at) VALUES (?, ?, NULL, NULL, ?, ?)').run(config.name, JSON.stringify(config), t, t);
    });
    return this.get(config.name)!;
  }

  remove(name: string): boolean {
    const s = this.db.sqlite;
    return writeTransaction(s, () => {
      const row = s.prepare('SELECT id FROM neural_models WHERE name = ?').get(name) as { id: number } | undefined;
      if (!row) return false;
      s.prepare('DELETE FROM neural_model_versions WHERE model_id = ?').run(row.id);
      s.prepare('DELETE FROM neural_models WHERE id = ?').run(row.id);
      return true;
    });
  }

  saveVersion(v: Omit<NnVersion, 'version' | 'createdAt'>): number {
    const s = this.db.sqlite;
    const t = this.now();
    return writeTransaction(s, () => {
      const row = s.prepare('SELECT id FROM neural_models WHERE name = ?').get(v.name) as { id: number } | undefined;
      if (!row) throw new AtmError('user', `no model named ${v.name}`, { name: v.name });
      const last = (s.prepare('SELECT MAX(version) AS v FROM neural_model_versions WHERE model_id = ?').get(row.id) as { v: number | null }).v ?? 0;
      const version = last + 1;
      const o = v.optimizer;
      s.prepare(
        `INSERT INTO neural_model_versions (model_id, version, config_json, scaler_json, weights, optimizer, optimizer_json, training_json, test_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        row.id,
        version,
        JSON.stringify(v.config),
        JSON.stringify({ inputs: v.inputs, mean: v.mean, sd: v.sd, ySd: v.ySd }),
        toBlob(v.params),
        o ? toBlob(o.m, o.v, o.last) : null,
        o ? JSON.stringify({ epoch: o.epoch, step: o.step, sinceBest: o.sinceBest, length: o.m.length }) : null,
        JSON.stringify(v.record),
        v.test ? JSON.stringify(v.test) : null,
        t,
      );
      s.prepare('UPDATE neural_models SET updated_at = ? WHERE id = ?').run(t, row.id);
      return version;
    });
  }

  loadVersion(name: string, version?: number): NnVersion | undefined {
    const s = this.db.sqlite;
    const model = s.prepare('SELECT id FROM neural_models WHERE name = ?').get(name) as { id: number } | undefined;
    if (!model) return undefined;
    const row = (
      version === undefined
        ? s.prepare('SELECT * FROM neural_model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1').get(model.id)
        : s.prepare('SELECT * FROM neural_model_versions WHERE model_id = ? AND version = ?').get(model.id, version)
    ) as VersionRow | undefined;
    if (!row) return undefined;
    const scaler = JSON.parse(row.scaler_json) as { inputs: string[]; mean: number[]; sd: number[]; ySd: number };
    let optimizer: NnVersion['optimizer'] = null;
    if (row.optimizer && row.optimizer_json) {
      const meta = JSON.parse(row.optimizer_json) as { epoch: number; step: number; sinceBest: number; length: number };
      const all = fromBlob(row.optimizer);
      const n = meta.length;
      optimizer = { epoch: meta.epoch, step: meta.step, sinceBest: meta.sinceBest, m: all.slice(0, n), v: all.slice(n, 2 * n), last: all.slice(2 * n, 3 * n) };
    }
    return {
      name,
      version: row.version,
      config: JSON.parse(row.config_json) as NnConfig,
      inputs: scaler.inputs,
      mean: scaler.mean,
      sd: scaler.sd,
      ySd: scaler.ySd,
      params: fromBlob(row.weights),
      optimizer,
      record: JSON.parse(row.training_json) as NnTrainingRecord,
      test: row.test_json ? (JSON.parse(row.test_json) as NnTestResult) : null,
      createdAt: row.created_at,
    };
  }

  setTest(name: string, version: number, test: NnTestResult): void {
    const s = this.db.sqlite;
    writeTransaction(s, () => {
      const r = s
        .prepare('UPDATE neural_model_versions SET test_json = ? WHERE model_id = (SELECT id FROM neural_models WHERE name = ?) AND version = ?')
        .run(JSON.stringify(test), name, version);
      if (r.changes === 0) throw new AtmError('user', `no version ${version} of model ${name}`, { name, version });
    });
  }
}
