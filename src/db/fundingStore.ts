import { AtmError } from '../core/errors.js';
import { Dec } from '../core/futures/decimal.js';
import type { FundingInsertOptions, FundingInsertReport, FundingRates, FundingRepository, FundingRow, FundingSource } from '../core/market/funding.js';
import type { Database } from './database.js';

/** The `funding_rates` table (migration 0004): one row per settled funding, exact decimal text. */
export class FundingStore implements FundingRepository {
  constructor(readonly db: Database) {}

  loadRange(symbol: string, from = -Infinity, to = Infinity): FundingRates {
    const rows = this.db.sqlite
      .prepare('SELECT funding_time AS t, rate, mark_price AS mark FROM funding_rates WHERE symbol = ? AND funding_time >= ? AND funding_time <= ? ORDER BY funding_time')
      .all(symbol, clampBound(from), clampBound(to)) as { t: number; rate: string; mark: string | null }[];
    const times = new Float64Array(rows.length);
    const rates = new Array<string>(rows.length);
    const marks = new Array<string | null>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      times[i] = rows[i].t;
      rates[i] = rows[i].rate;
      marks[i] = rows[i].mark;
    }
    return { symbol, length: rows.length, times, rates, marks };
  }

  insert(symbol: string, rows: readonly FundingRow[], options: FundingInsertOptions = {}): FundingInsertReport {
    const source = options.source ?? 'binance';
    const report: FundingInsertReport = { inserted: 0, duplicates: 0, changed: 0 };
    if (rows.length === 0) return report;
    const select = this.db.sqlite.prepare('SELECT rate FROM funding_rates WHERE symbol = ? AND funding_time = ?');
    const insert = this.db.sqlite.prepare(
      'INSERT INTO funding_rates (symbol, funding_time, rate, mark_price, interval_hours, source) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const replace = this.db.sqlite.prepare(
      'UPDATE funding_rates SET rate = ?, mark_price = COALESCE(?, mark_price), interval_hours = COALESCE(?, interval_hours) WHERE symbol = ? AND funding_time = ?',
    );
    const fillIn = this.db.sqlite.prepare(
      'UPDATE funding_rates SET mark_price = COALESCE(mark_price, ?), interval_hours = COALESCE(interval_hours, ?) WHERE symbol = ? AND funding_time = ?',
    );
    const tx = this.db.sqlite.transaction(() => {
      const stored = this.sourceOf(symbol);
      if (stored !== undefined && stored !== source) {
        throw new AtmError('user', `the stored ${symbol} funding rates come from ${stored}; ${source} rates are never mixed with them`, { symbol, stored, source });
      }
      for (const r of rows) {
        const rate = Dec.parse(r.rate, `${symbol} funding rate at ${r.time}`);
        const existing = select.get(symbol, r.time) as { rate: string } | undefined;
        if (!existing) {
          insert.run(symbol, r.time, r.rate, r.markPrice ?? null, r.intervalHours ?? null, source);
          report.inserted++;
          continue;
        }
        report.duplicates++;
        const differs = !Dec.parse(existing.rate).eq(rate);
        if (differs) report.changed++;
        if (options.replace && differs) replace.run(r.rate, r.markPrice ?? null, r.intervalHours ?? null, symbol, r.time);
        else fillIn.run(r.markPrice ?? null, r.intervalHours ?? null, symbol, r.time); // what the other source knew (mark, interval)
      }
    });
    tx.immediate();
    return report;
  }

  symbols(): string[] {
    return (this.db.sqlite.prepare('SELECT DISTINCT symbol FROM funding_rates ORDER BY symbol').all() as { symbol: string }[]).map((r) => r.symbol);
  }

  sourceOf(symbol: string): FundingSource | undefined {
    const r = this.db.sqlite.prepare('SELECT source FROM funding_rates WHERE symbol = ? LIMIT 1').get(symbol) as { source: FundingSource } | undefined;
    return r?.source;
  }

  firstTime(symbol: string): number | undefined {
    const r = this.db.sqlite.prepare('SELECT MIN(funding_time) AS t FROM funding_rates WHERE symbol = ?').get(symbol) as { t: number | null };
    return r.t ?? undefined;
  }

  lastTime(symbol: string): number | undefined {
    const r = this.db.sqlite.prepare('SELECT MAX(funding_time) AS t FROM funding_rates WHERE symbol = ?').get(symbol) as { t: number | null };
    return r.t ?? undefined;
  }

  intervals(symbol: string): (number | null)[] {
    return (this.db.sqlite.prepare('SELECT interval_hours AS h FROM funding_rates WHERE symbol = ? ORDER BY funding_time').all(symbol) as { h: number | null }[]).map((r) => r.h);
  }

  deleteSymbol(symbol: string): number {
    return this.db.sqlite.prepare('DELETE FROM funding_rates WHERE symbol = ?').run(symbol).changes;
  }
}

/** SQLite integers: ±Infinity bounds become the extreme safe integers. */
function clampBound(t: number): number {
  if (t === -Infinity) return Number.MIN_SAFE_INTEGER;
  if (t === Infinity) return Number.MAX_SAFE_INTEGER;
  return Math.floor(t);
}
