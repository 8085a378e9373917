import { sql, type Kysely } from 'kysely';

/**
 * Version 10: versions of neural network models (src/core/nn/model.ts). `neural_models` (0002)
 * keeps one row per model (its configuration in params_json); each training stores a new row here,
 * numbered per model from 1: the configuration it was trained with, the weights (Float64 bytes),
 * the optimizer's state for resuming (Float64 bytes: m, v, last weights), the standardisation and
 * training record as JSON, and the out-of-sample test once run.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE neural_model_versions (
    model_id INTEGER NOT NULL REFERENCES neural_models(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    config_json TEXT NOT NULL,
    scaler_json TEXT NOT NULL,
    weights BLOB NOT NULL,
    optimizer BLOB,
    optimizer_json TEXT,
    training_json TEXT NOT NULL,
    test_json TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (model_id, version)
  )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE neural_model_versions`.execute(db);
}
