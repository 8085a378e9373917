import { sql, type Kysely } from 'kysely';

/**
 * Version 5: parameter sweeps (`atm sweep`, src/core/backtest/sweep.ts).
 *
 * `sweeps`: one row per stored sweep: its name, the base configuration (config_json), the plan
 * (ranges, method, objective, constraint, seed, walk-forward folds: plan_json), the number of
 * trials, the deflated Sharpe ratio of the best row, and the walk-forward report (folds and
 * overall, JSON) when there was one.
 *
 * `sweep_rows`: the ranked rows of a sweep: rank (1 = best), the trial's parameters and its
 * summary (figures only; a row is re-run as a full simulation when opened).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    config_json TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    method TEXT NOT NULL,
    objective TEXT NOT NULL,
    trials INTEGER NOT NULL,
    deflated_sharpe REAL,
    walk_forward_json TEXT,
    created_at INTEGER NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE sweep_rows (
    sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    params_json TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    PRIMARY KEY (sweep_id, rank)
  ) WITHOUT ROWID`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sweep_rows').execute();
  await db.schema.dropTable('sweeps').execute();
}
