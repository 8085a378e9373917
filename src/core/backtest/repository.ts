import type { BacktestConfig } from './config.js';
import type { BacktestResult } from './engine.js';
import type { TradeRecord } from './metrics.js';
import type { SweepPlan, SweepReport, SweepRow } from './sweep.js';

/** A stored sweep as listed. */
export interface StoredSweep {
  id: number;
  name: string;
  method: string;
  objective: string;
  trials: number;
  deflatedSharpe: number | null;
  createdAt: number;
}

/** A saved simulation as listed (the result pages of the next issue read these). */
export interface StoredSimulation {
  id: number;
  name: string;
  state: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/**
 * Storage of finished backtests (src/db/simulationStore.ts on the tables of migration 0002):
 * `simulations` (the configuration as params_json; summary and round trips as result_json),
 * `simulation_balance` (the balance history) and `trade_logs` (the fills). One transaction:
 * a simulation is stored whole or not at all.
 */
export interface SimulationRepository {
  save(sim: { name: string; config: BacktestConfig; result: BacktestResult; startedAt: number; finishedAt: number }): number;
  list(): StoredSimulation[];
  /** The summary, configuration and counts of a stored simulation. */
  get(id: number): { simulation: StoredSimulation; config: BacktestConfig; summary: BacktestResult['summary']; balancePoints: number; fills: number } | undefined;
  /** Deletes a simulation with its balance history and fills; false when there is none. */
  remove(id: number): boolean;
  /** The balance history (time ascending): close times and equity (margin balance). */
  balance(id: number): { time: number[]; equity: number[] } | undefined;
  /** The round trips stored with the summary. */
  trades(id: number): TradeRecord[] | undefined;
  /** Stores a sweep with its ranked rows (one transaction); returns its id. */
  saveSweep(sweep: { name: string; config: BacktestConfig; plan: SweepPlan; report: SweepReport }): number;
  listSweeps(): StoredSweep[];
  /** A stored sweep's configuration, plan and one ranked row (rank 1 = best). */
  sweepRow(id: number, rank: number): { sweep: StoredSweep; config: BacktestConfig; plan: SweepPlan; row: SweepRow } | undefined;
}
