import type { Cac } from './cac.js';

/** A CAC as stored in `named_configs` (kind 'analysis'). */
export interface StoredCac {
  id: number;
  cac: Cac;
  createdAt: number;
  updatedAt: number;
}

export type AnalysisState = 'running' | 'stopped' | 'recovering' | 'failed';

/** A currency analysis as stored in `analyses`. */
export interface StoredAnalysis {
  id: number;
  configId: number;
  cacName: string;
  symbol: string;
  interval: string;
  state: AnalysisState;
  lastOpenTime: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * The storage port of currency analysis: CACs and analyses. `src/db/analysisStore.ts` implements
 * it on SQLite (the tables of migration 0002).
 */
export interface AnalysisRepository {
  listCacs(): Promise<StoredCac[]>;
  /** By id, or by name. */
  getCac(idOrName: number | string): Promise<StoredCac | undefined>;
  /**
   * Saves a CAC (new when `id` is absent). A blank name becomes `CAC_<n>`; a name used by another
   * CAC is refused (AnalysisParamError). Returns the stored CAC with its final name.
   */
  saveCac(cac: Cac, id?: number): Promise<StoredCac>;
  deleteCac(id: number): Promise<void>;
  createAnalysis(configId: number, symbol: string, interval: string): Promise<StoredAnalysis>;
  listAnalyses(): Promise<StoredAnalysis[]>;
  updateAnalysis(id: number, change: { state?: AnalysisState; lastOpenTime?: number | null }): Promise<void>;
  deleteAnalysis(id: number): Promise<void>;
}
