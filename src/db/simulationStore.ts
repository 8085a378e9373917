import type { BacktestConfig } from '../core/backtest/config.js';
import type { BacktestResult } from '../core/backtest/engine.js';
import type { TradeRecord } from '../core/backtest/metrics.js';
import type { SimulationRepository, StoredSimulation, StoredSweep } from '../core/backtest/repository.js';
import type { SweepPlan, SweepReport, SweepRow } from '../core/backtest/sweep.js';

interface SweepDbRow {
  id: number;
  name: string;
  config_json: string;
  plan_json: string;
  method: string;
  objective: string;
  trials: number;
  deflated_sharpe: number | null;
  created_at: number;
}

const sweepInfo = (r: SweepDbRow): StoredSweep => ({ id: r.id, name: r.name, method: r.method, objective: r.objective, trials: r.trials, deflatedSharpe: r.deflated_sharpe, createdAt: r.created_at });
import type { Database } from './database.js';

interface SimulationRow {
  id: number;
  name: string;
  state: string;
  params_json: string;
  result_json: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

const info = (r: SimulationRow): StoredSimulation => ({ id: r.id, name: r.name, state: r.state, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at });

/** Finished backtests in the tables of migration 0002, and parameter sweeps in those of 0005. */
export class SimulationStore implements SimulationRepository {
  constructor(private readonly db: Database, private readonly now: () => number = Date.now) {}

  save(sim: { name: string; config: BacktestConfig; result: BacktestResult; startedAt: number; finishedAt: number }): number {
    const s = this.db.sqlite;
    const { result } = sim;
    const insertSim = s.prepare('INSERT INTO simulations (name, state, params_json, result_json, created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insertBalance = s.prepare('INSERT OR REPLACE INTO simulation_balance (simulation_id, time, wallet_balance, margin_balance) VALUES (?, ?, ?, ?)');
    const insertFill = s.prepare(
      `INSERT INTO trade_logs (account_id, simulation_id, time, symbol, side, position_side, order_type, price, quantity, fee, fee_asset, realized_pnl, order_id, client_order_id, reason)
       VALUES (NULL, ?, ?, ?, ?, 'BOTH', ?, ?, ?, ?, 'USDT', ?, NULL, NULL, ?)`,
    );
    const write = s.transaction(() => {
      const r = insertSim.run(sim.name, 'finished', JSON.stringify(sim.config), JSON.stringify({ summary: result.summary, trades: result.trades }), this.now(), sim.startedAt, sim.finishedAt);
      const id = Number(r.lastInsertRowid);
      const b = result.balance;
      for (let i = 0; i < b.time.length; i++) insertBalance.run(id, b.time[i], b.wallet[i], b.equity[i]);
      for (const f of result.fills) insertFill.run(id, f.time, f.symbol, f.side, f.type, f.price, f.qty, f.fee, f.realizedPnl, f.reason);
      return id;
    });
    return write.immediate();
  }

  list(): StoredSimulation[] {
    return (this.db.sqlite.prepare('SELECT * FROM simulations ORDER BY id').all() as SimulationRow[]).map(info);
  }

  get(id: number) {
    const row = this.db.sqlite.prepare('SELECT * FROM simulations WHERE id = ?').get(id) as SimulationRow | undefined;
    if (!row) return undefined;
    const count = (table: string) => (this.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE simulation_id = ?`).get(id) as { n: number }).n;
    const parsed = JSON.parse(row.result_json ?? '{}') as { summary: BacktestResult['summary'] };
    return { simulation: info(row), config: JSON.parse(row.params_json) as BacktestConfig, summary: parsed.summary, balancePoints: count('simulation_balance'), fills: count('trade_logs') };
  }

  remove(id: number): boolean {
    const s = this.db.sqlite;
    // the foreign keys cascade, but deleting the children explicitly does not depend on the pragma
    const write = s.transaction(() => {
      s.prepare('DELETE FROM trade_logs WHERE simulation_id = ?').run(id);
      s.prepare('DELETE FROM simulation_balance WHERE simulation_id = ?').run(id);
      return s.prepare('DELETE FROM simulations WHERE id = ?').run(id).changes > 0;
    });
    return write.immediate();
  }

  balance(id: number): { time: number[]; equity: number[] } | undefined {
    const s = this.db.sqlite;
    if (!s.prepare('SELECT 1 FROM simulations WHERE id = ?').get(id)) return undefined;
    const rows = s.prepare('SELECT time, margin_balance FROM simulation_balance WHERE simulation_id = ? ORDER BY time').raw().all(id) as [number, number][];
    return { time: rows.map((r) => r[0]), equity: rows.map((r) => r[1]) };
  }

  trades(id: number): TradeRecord[] | undefined {
    const row = this.db.sqlite.prepare('SELECT result_json FROM simulations WHERE id = ?').get(id) as { result_json: string | null } | undefined;
    if (!row) return undefined;
    return (JSON.parse(row.result_json ?? '{}') as { trades?: TradeRecord[] }).trades ?? [];
  }

  saveSweep(sweep: { name: string; config: BacktestConfig; plan: SweepPlan; report: SweepReport }): number {
    const s = this.db.sqlite;
    const { report } = sweep;
    const insert = s.prepare('INSERT INTO sweeps (name, config_json, plan_json, method, objective, trials, deflated_sharpe, walk_forward_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const insertRow = s.prepare('INSERT INTO sweep_rows (sweep_id, rank, params_json, summary_json) VALUES (?, ?, ?, ?)');
    const write = s.transaction(() => {
      const id = Number(insert.run(sweep.name, JSON.stringify(sweep.config), JSON.stringify(sweep.plan), report.method, report.objective, report.trials, report.deflatedSharpe?.dsr ?? null, report.walkForward ? JSON.stringify(report.walkForward) : null, this.now()).lastInsertRowid);
      for (const r of report.rows) insertRow.run(id, r.rank, JSON.stringify({ trial: r.trial, params: r.params, score: Number.isFinite(r.score) ? r.score : String(r.score) }), JSON.stringify(r.summary));
      return id;
    });
    return write.immediate();
  }

  listSweeps(): StoredSweep[] {
    return (this.db.sqlite.prepare('SELECT * FROM sweeps ORDER BY id').all() as SweepDbRow[]).map(sweepInfo);
  }

  sweepRow(id: number, rank: number) {
    const s = this.db.sqlite;
    const sw = s.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as SweepDbRow | undefined;
    if (!sw) return undefined;
    const r = s.prepare('SELECT * FROM sweep_rows WHERE sweep_id = ? AND rank = ?').get(id, rank) as { params_json: string; summary_json: string } | undefined;
    if (!r) return undefined;
    const p = JSON.parse(r.params_json) as { trial: number; params: Record<string, number>; score: number | string };
    const row: SweepRow = { rank, trial: p.trial, params: p.params, score: Number(p.score), summary: JSON.parse(r.summary_json) };
    return { sweep: sweepInfo(sw), config: JSON.parse(sw.config_json) as BacktestConfig, plan: JSON.parse(sw.plan_json) as SweepPlan, row };
  }
}
