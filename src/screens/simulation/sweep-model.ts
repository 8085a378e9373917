import type { BacktestConfig } from '../../core/backtest/config.js';
import { ConstraintError, OBJECTIVES, parseParamRange, planTrials, type ParamRange, type SweepMethod, type SweepPlan, type SweepReport, type SweepRow } from '../../core/backtest/sweep.js';
import type { TFunction } from '../../core/i18n.js';
import { FieldCursor, type Field, type SimulationForm } from './model.js';

/**
 * The Sweep mode of the Simulation page, free of any terminal: for the current simulation form,
 * one range field per numeric strategy parameter (`from..to:step`, prefilled from the schema;
 * blank keeps the form's value), the method, trials, seed, objective, constraint and walk-forward
 * K. `plan` builds a SweepPlan with core's own parsing (parseParamRange, planTrials), each error
 * named on its field; the ranked rows of a finished sweep are kept for the table.
 */

export const METHODS: readonly SweepMethod[] = ['grid', 'random', 'tpe'];

export interface SweepValues {
  method: string;
  trials: string;
  seed: string;
  objective: string;
  constraint: string;
  walkForward: string;
  /** Range text by `p<i>.<name>`. */
  ranges: Record<string, string>;
}

/** About five values between the schema's bounds (the step rounded for integers). */
export function defaultRange(p: { kind: string; default: number | string; min?: number; max?: number; step?: number }): string {
  if (typeof p.default !== 'number' || p.min === undefined || p.max === undefined) return '';
  const span = Math.min(p.max - p.min, Math.max(Math.abs(p.default), 1) * 4);
  const from = Math.max(p.min, p.kind === 'integer' ? Math.round(p.default - span / 2) : p.default - span / 2);
  const to = Math.min(p.max, p.kind === 'integer' ? Math.round(from + span) : from + span);
  let step = (to - from) / 4;
  if (p.kind === 'integer') step = Math.max(1, Math.round(step));
  else step = Number(step.toPrecision(2));
  const text = (x: number) => String(Number(x.toPrecision(10)));
  return step > 0 ? `${text(from)}..${text(to)}:${text(step)}` : text(from);
}

export class SweepForm extends FieldCursor {
  values: SweepValues = { method: 'grid', trials: '50', seed: '1', objective: 'sharpe', constraint: '', walkForward: '', ranges: {} };

  constructor(private readonly form: SimulationForm) {
    super();
  }

  /** The numeric parameters of every position, as `p<i>.<name>` with the parameter's schema. */
  private numericParams() {
    return this.form.values.positions.flatMap((p, i) => {
      const s = this.form.strategy(p.strategy);
      return (s?.params ?? []).filter((d) => d.kind !== 'choice').map((d) => ({ key: `p${i}.${d.name}`, position: i, symbol: p.symbol, info: d }));
    });
  }

  fields(): Field[] {
    const out: Field[] = [
      { key: 'method', label: { i18n: 'sweepForm.field.method' }, kind: 'choice', value: this.values.method, choices: METHODS },
      { key: 'objective', label: { i18n: 'sweepForm.field.objective' }, kind: 'choice', value: this.values.objective, choices: OBJECTIVES },
    ];
    if (this.values.method !== 'grid') {
      out.push({ key: 'trials', label: { i18n: 'sweepForm.field.trials' }, kind: 'text', value: this.values.trials, allowed: '1..' });
      out.push({ key: 'seed', label: { i18n: 'sweepForm.field.seed' }, kind: 'text', value: this.values.seed, allowed: '0..' });
    }
    out.push({ key: 'constraint', label: { i18n: 'sweepForm.field.constraint' }, kind: 'text', value: this.values.constraint, allowed: 'fast < slow' });
    out.push({ key: 'walkForward', label: { i18n: 'sweepForm.field.walkForward' }, kind: 'text', value: this.values.walkForward, allowed: '2.. | -' });
    const several = this.form.values.positions.length > 1;
    for (const p of this.numericParams()) {
      if (!(p.key in this.values.ranges)) this.values.ranges[p.key] = defaultRange(p.info);
      out.push({ key: `range.${p.key}`, label: { text: several ? `#${p.position + 1} ${p.info.name}` : p.info.name }, kind: 'text', value: this.values.ranges[p.key], allowed: `from..to:step  ${p.info.allowed}` });
    }
    return out;
  }

  set(key: string, value: string): void {
    if (key.startsWith('range.')) this.values.ranges[key.slice(6)] = value.trim();
    else (this.values as unknown as Record<string, string>)[key] = value.trim();
    this.move(0);
  }

  cycle(delta: 1 | -1): void {
    const f = this.selectedField();
    if (!f || f.kind !== 'choice' || !f.choices?.length) return;
    const i = f.choices.indexOf(f.value);
    this.set(f.key, f.choices[(i + delta + f.choices.length) % f.choices.length]);
  }

  /**
   * The plan for `config` (the simulation form's configuration), or the errors by field key. The
   * ranges go through core's parseParamRange and the whole plan through planTrials, so the page
   * refuses exactly what `atm sweep` refuses; every swept value is also checked against the schema.
   */
  plan(config: BacktestConfig, t: TFunction): { plan?: SweepPlan; errors: Map<string, string> } {
    const v = this.values;
    const errors = new Map<string, string>();
    const err = (key: string, message: string) => {
      if (!errors.has(key)) errors.set(key, message);
    };
    const whole = (key: string, text: string, min: number): number | undefined => {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < min) {
        err(key, t('sweepForm.error.whole', { min }));
        return undefined;
      }
      return n;
    };
    const method = v.method as SweepMethod;
    const trials = method === 'grid' ? undefined : whole('trials', v.trials, 1);
    const seed = method === 'grid' ? undefined : whole('seed', v.seed, 0);
    const walkForward = v.walkForward === '' || v.walkForward === '-' ? undefined : whole('walkForward', v.walkForward, 2);
    const positions = config.positions.length;
    const ranges: ParamRange[] = [];
    const fieldOf = new Map<string, string>();
    this.fields();
    for (const p of this.numericParams()) {
      const text = v.ranges[p.key] ?? '';
      if (text === '' || text === '-') continue;
      const name = positions > 1 ? `positions.${p.position}.${p.info.name}` : p.info.name;
      try {
        const r = parseParamRange(`${name}=${text}`, positions);
        const bad = r.values.find((x) => (p.info.min !== undefined && x < p.info.min) || (p.info.max !== undefined && x > p.info.max) || (p.info.kind === 'integer' && !Number.isInteger(x)));
        if (bad !== undefined) err(`range.${p.key}`, t('sweepForm.error.value', { value: bad, allowed: p.info.allowed }));
        ranges.push(r);
        fieldOf.set(r.key, `range.${p.key}`);
      } catch (error) {
        err(`range.${p.key}`, stripWhere(error));
      }
    }
    if (ranges.length === 0 && errors.size === 0) {
      const first = this.fields().find((f) => f.key.startsWith('range.'));
      err(first?.key ?? 'method', t('sweepForm.error.noRange'));
    }
    if (errors.size > 0) return { errors };
    const plan: SweepPlan = {
      ranges, method, objective: v.objective as SweepPlan['objective'],
      ...(trials !== undefined ? { trials } : {}), ...(seed !== undefined ? { seed } : {}),
      ...(v.constraint !== '' ? { constraint: v.constraint } : {}), ...(walkForward !== undefined ? { walkForward } : {}),
    };
    try {
      planTrials(config, plan);
    } catch (error) {
      err(error instanceof ConstraintError || v.constraint !== '' ? 'constraint' : 'method', stripWhere(error));
      return { errors };
    }
    return { plan, errors };
  }
}

/** A core user error without its CLI prefix (`--param "fast=…": `). */
function stripWhere(error: unknown): string {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return message.replace(/^--[a-z-]+ (?:"(?:[^"\\]|\\.)*"|\S+): /, '');
}

/** A finished sweep: its stored id, the report and the cursor in its ranked rows. */
export interface SweepResults {
  sweepId: number;
  name: string;
  report: SweepReport;
  cursor: number;
}

export const paramText = (p: Readonly<Record<string, number>>): string => Object.entries(p).map(([k, v]) => `${k}=${v}`).join(' ');

/** The table's cells of one ranked row: rank, parameters, objective, return %, drawdown %, trades. */
export function rowCells(row: SweepRow): string[] {
  const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
  return [String(row.rank), paramText(row.params), num(row.score, 4), num(row.summary.returnPct, 2), num(row.summary.maxDrawdownPct, 2), String(row.summary.trades)];
}
