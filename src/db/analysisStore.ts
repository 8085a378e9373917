import type { Database } from './database.js';
import { AnalysisParamError, cacToJson, nextCacName, validateCac, type Cac } from '../core/analysis/cac.js';
import type { AnalysisRepository, AnalysisState, StoredAnalysis, StoredCac } from '../core/analysis/repository.js';

/** Storage of CACs and analyses (the tables of migration 0002; no schema of its own). */
export class AnalysisStore implements AnalysisRepository {
  constructor(private readonly db: Database, private readonly now: () => number) {}

  async listCacs(): Promise<StoredCac[]> {
    const rows = await this.db.kysely.selectFrom('named_configs').selectAll().where('kind', '=', 'analysis').orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      cac: validateCac({ name: r.name, ...(JSON.parse(r.params_json) as object) }, `CAC ${r.name}`),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async getCac(idOrName: number | string): Promise<StoredCac | undefined> {
    const all = await this.listCacs();
    return all.find((c) => (typeof idOrName === 'number' ? c.id === idOrName : c.cac.name === idOrName));
  }

  /**
   * Saves a CAC (new when `id` is absent). A blank name becomes `CAC_<n>`. Returns the stored CAC
   * with its final name.
   */
  async saveCac(cac: Cac, id?: number): Promise<StoredCac> {
    const existing = await this.listCacs();
    const name = cac.name.trim() === '' ? nextCacName(existing.map((c) => c.cac.name)) : cac.name.trim();
    const clash = existing.find((c) => c.cac.name === name && c.id !== id);
    if (clash) throw new AnalysisParamError('CAC', 'name', `"${name}" is already used by another CAC`);
    const now = this.now();
    const params_json = JSON.stringify(cacToJson(cac));
    const type = cac.pip ? 'PIP' : 'INDICATORS';
    if (id === undefined) {
      const r = await this.db.kysely
        .insertInto('named_configs')
        .values({ kind: 'analysis', name, type, params_json, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: r.id, cac: { ...cac, name }, createdAt: now, updatedAt: now };
    }
    await this.db.kysely.updateTable('named_configs').set({ name, type, params_json, updated_at: now }).where('id', '=', id).where('kind', '=', 'analysis').execute();
    const created = existing.find((c) => c.id === id)?.createdAt ?? now;
    return { id, cac: { ...cac, name }, createdAt: created, updatedAt: now };
  }

  async deleteCac(id: number): Promise<void> {
    await this.db.kysely.deleteFrom('named_configs').where('id', '=', id).where('kind', '=', 'analysis').execute();
  }

  async createAnalysis(configId: number, symbol: string, interval: string): Promise<StoredAnalysis> {
    const now = this.now();
    const r = await this.db.kysely
      .insertInto('analyses')
      .values({ config_id: configId, symbol, interval, state: 'running', last_open_time: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const a = (await this.listAnalyses()).find((x) => x.id === r.id);
    if (!a) throw new Error(`analysis ${r.id} vanished after insert`);
    return a;
  }

  async listAnalyses(): Promise<StoredAnalysis[]> {
    const rows = await this.db.kysely
      .selectFrom('analyses')
      .innerJoin('named_configs', 'named_configs.id', 'analyses.config_id')
      .select([
        'analyses.id', 'analyses.config_id', 'named_configs.name', 'analyses.symbol', 'analyses.interval', 'analyses.state',
        'analyses.last_open_time', 'analyses.created_at', 'analyses.updated_at',
      ])
      .orderBy('analyses.id')
      .execute();
    return rows.map((r) => ({
      id: r.id, configId: r.config_id, cacName: r.name, symbol: r.symbol, interval: r.interval, state: r.state as AnalysisState,
      lastOpenTime: r.last_open_time, createdAt: r.created_at, updatedAt: r.updated_at,
    }));
  }

  async updateAnalysis(id: number, change: { state?: AnalysisState; lastOpenTime?: number | null }): Promise<void> {
    await this.db.kysely
      .updateTable('analyses')
      .set({
        ...(change.state !== undefined ? { state: change.state } : {}),
        ...(change.lastOpenTime !== undefined ? { last_open_time: change.lastOpenTime } : {}),
        updated_at: this.now(),
      })
      .where('id', '=', id)
      .execute();
  }

  async deleteAnalysis(id: number): Promise<void> {
    await this.db.kysely.deleteFrom('analyses').where('id', '=', id).execute();
  }
}
