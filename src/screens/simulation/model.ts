import type { StrategyInfo } from '../../core/app.js';
import { backtestConfigSchema, type BacktestConfig, type BacktestConfigInput } from '../../core/backtest/config.js';
import type { Cac } from '../../core/analysis/cac.js';
import type { TFunction } from '../../core/i18n.js';
import { INTERVALS } from '../../core/market/klines.js';

/**
 * The Simulation page's view model, free of any terminal: the form of one backtest (fields
 * generated from the strategy registry's parameter schemas, each error named on its field), the
 * symbol completion, automatic names, and the queue of runs with progress, ETA and klines/s.
 */

export interface PositionForm {
  symbol: string;
  interval: string;
  leverage: string;
  strategy: string;
  /** Parameter values as typed, by name (the strategy's schema decides which exist). */
  params: Record<string, string>;
  /** The CAC's name, for strategies that read one. */
  cac: string;
  /** The position's account control: its share of the asset allocated balance, an optional USDT cap, its priority. */
  assumedRatio: string;
  maxAllocatedBalance: string;
  priority: string;
}

export interface FormValues {
  name: string;
  from: string;
  to: string;
  initialBalance: string;
  marginType: string;
  makerFeeRate: string;
  takerFeeRate: string;
  slippageBps: string;
  positions: PositionForm[];
}

/** One line of the form. `key` names the value ('initialBalance', 'p0.symbol', 'p0.param.fast'). */
export interface Field {
  key: string;
  /** i18n key of the label, or the text itself (parameter names). */
  label: { i18n: string; vars?: Record<string, unknown> } | { text: string };
  kind: 'text' | 'choice';
  value: string;
  choices?: readonly string[];
  /** What is allowed, shown beside the value (a parameter's range). */
  allowed?: string;
  /** A position's first field starts a section. */
  section?: number;
}

export const MARGIN_TYPES = ['CROSSED', 'ISOLATED'] as const;
const DECIMAL_RE = /^\d+(\.\d+)?$/;
const SYMBOL_RE = /^[A-Z0-9]{2,30}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/;
const MIN = 60_000;

/** A UTC date 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' as ms; a date alone at the end of the range means its last minute. */
export function parseUtc(text: string, end: boolean): number | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  const ms = Date.UTC(y!, mo! - 1, d!, h ?? 0, mi ?? 0);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d || (h ?? 0) > 23 || (mi ?? 0) > 59) return undefined;
  return end && h === undefined ? ms + 86_400_000 - MIN : ms;
}

/** The next free automatic name: SIM_<n> after the highest n in use. */
export function autoName(names: Iterable<string>): string {
  let n = 0;
  for (const name of names) {
    const m = /^SIM_(\d+)$/.exec(name);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return `SIM_${n + 1}`;
}

/** Stored symbols starting with what was typed (case-insensitive), at most `max`. */
export function completeSymbol(typed: string, symbols: readonly string[], max = 6): string[] {
  const p = typed.trim().toUpperCase();
  return symbols.filter((s) => s.startsWith(p)).slice(0, max);
}

/** What Tab makes of a typed symbol: the only match, else the matches' common prefix. */
export function completeOnTab(typed: string, symbols: readonly string[]): string {
  const m = completeSymbol(typed, symbols, Number.MAX_SAFE_INTEGER);
  if (m.length === 0) return typed;
  let prefix = m[0];
  for (const s of m) while (!s.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.length >= typed.trim().length ? prefix : typed;
}

export interface NamedCac {
  name: string;
  cac: Cac;
}

export interface FormResult {
  config?: BacktestConfig;
  name: string;
  from?: number;
  to?: number;
  /** Field key → error text (empty when the form is valid). */
  errors: Map<string, string>;
}

/** The form: values, the strategies and CACs it offers, its fields and its validation. */
/** A form's cursor over its fields (which fields show may depend on the values). */
export abstract class FieldCursor {
  cursor = 0;

  abstract fields(): Field[];

  selectedField(): Field | undefined {
    return this.fields()[this.cursor];
  }

  move(delta: number): void {
    const n = this.fields().length;
    this.cursor = Math.max(0, Math.min(n - 1, this.cursor + delta));
  }
}

export class SimulationForm extends FieldCursor {
  values: FormValues;

  constructor(public strategies: StrategyInfo[], public cacs: NamedCac[], public symbols: string[]) {
    super();
    this.values = this.blank();
  }

  blank(): FormValues {
    return {
      name: '', from: '', to: '', initialBalance: '10000', marginType: 'CROSSED', makerFeeRate: '0.0002', takerFeeRate: '0.0005', slippageBps: '0',
      positions: [this.blankPosition()],
    };
  }

  blankPosition(): PositionForm {
    const strategy = this.usable()[0];
    return { symbol: this.symbols[0] ?? '', interval: '1m', leverage: '1', strategy: strategy?.name ?? '', params: defaults(strategy), cac: '', assumedRatio: '1', maxAllocatedBalance: '', priority: '0' };
  }

  /** Strategies that load (a broken user file is not offered). */
  usable(): StrategyInfo[] {
    return this.strategies.filter((s) => !s.error);
  }

  strategy(name: string): StrategyInfo | undefined {
    return this.strategies.find((s) => s.name === name);
  }

  /** Starts from a saved configuration (the Result page's copy); the name is left blank for a new one. */
  load(config: BacktestConfig): void {
    const a = config.account;
    const cacName = (cac: unknown) => (cac && typeof cac === 'object' && 'name' in cac ? String((cac as { name: unknown }).name) : '');
    this.values = {
      name: '', from: '', to: '', initialBalance: a.initialBalance, marginType: a.marginType, makerFeeRate: a.makerFeeRate, takerFeeRate: a.takerFeeRate, slippageBps: String(a.slippageBps),
      positions: config.positions.map((p) => ({
        symbol: p.symbol, interval: p.interval, leverage: String(p.leverage), strategy: p.strategy.name,
        params: { ...defaults(this.strategy(p.strategy.name)), ...Object.fromEntries(Object.entries(p.strategy.params).map(([k, v]) => [k, String(v)])) },
        cac: cacName(p.strategy.cac), assumedRatio: String(p.control.assumedRatio),
        maxAllocatedBalance: p.control.maxAllocatedBalance ?? '', priority: String(p.control.priority),
      })),
    };
    for (const p of config.positions) {
      const name = cacName(p.strategy.cac);
      if (name && !this.cacs.some((c) => c.name === name)) this.cacs.push({ name, cac: p.strategy.cac as Cac });
    }
    this.cursor = 0;
  }

  fields(): Field[] {
    const v = this.values;
    const text = (key: string, i18n: string, value: string, allowed?: string): Field => ({ key, label: { i18n }, kind: 'text', value, allowed });
    const out: Field[] = [
      text('name', 'simulation.field.name', v.name),
      text('from', 'simulation.field.from', v.from),
      text('to', 'simulation.field.to', v.to),
      text('initialBalance', 'simulation.field.initialBalance', v.initialBalance),
      { key: 'marginType', label: { i18n: 'simulation.field.marginType' }, kind: 'choice', value: v.marginType, choices: MARGIN_TYPES },
      text('makerFeeRate', 'simulation.field.makerFeeRate', v.makerFeeRate),
      text('takerFeeRate', 'simulation.field.takerFeeRate', v.takerFeeRate),
      text('slippageBps', 'simulation.field.slippageBps', v.slippageBps, '0..1000'),
    ];
    v.positions.forEach((p, i) => {
      const k = (name: string) => `p${i}.${name}`;
      const s = this.strategy(p.strategy);
      out.push({ ...text(k('symbol'), 'simulation.field.symbol', p.symbol), label: { i18n: 'simulation.field.symbol', vars: { n: i + 1 } }, section: i + 1 });
      out.push({ key: k('interval'), label: { i18n: 'simulation.field.interval' }, kind: 'choice', value: p.interval, choices: INTERVALS });
      out.push(text(k('leverage'), 'simulation.field.leverage', p.leverage, '1..125'));
      out.push({ key: k('strategy'), label: { i18n: 'simulation.field.strategy' }, kind: 'choice', value: p.strategy, choices: this.usable().map((x) => x.name) });
      for (const param of s?.params ?? []) {
        const value = p.params[param.name] ?? String(param.default);
        out.push(param.kind === 'choice'
          ? { key: k(`param.${param.name}`), label: { text: param.name }, kind: 'choice', value, choices: param.choices, allowed: param.allowed }
          : { key: k(`param.${param.name}`), label: { text: param.name }, kind: 'text', value, allowed: param.allowed });
      }
      if (s?.usesCac) out.push({ key: k('cac'), label: { i18n: 'simulation.field.cac' }, kind: 'choice', value: p.cac, choices: this.cacs.map((c) => c.name) });
      out.push(text(k('assumedRatio'), 'simulation.field.assumedRatio', p.assumedRatio, '(0, 1]'));
      out.push(text(k('maxAllocatedBalance'), 'simulation.field.maxAllocatedBalance', p.maxAllocatedBalance, '(0, ∞) | -'));
      out.push(text(k('priority'), 'simulation.field.priority', p.priority, '0..'));
    });
    return out;
  }

  /** Sets a field's value by key (a new strategy brings its parameters' defaults). */
  set(key: string, value: string): void {
    const m = /^p(\d+)\.(.+)$/.exec(key);
    if (!m) {
      (this.values as unknown as Record<string, string>)[key] = value;
      return;
    }
    const p = this.values.positions[Number(m[1])];
    const field = m[2];
    if (field.startsWith('param.')) p.params[field.slice(6)] = value;
    else if (field === 'strategy') {
      p.strategy = value;
      p.params = defaults(this.strategy(value));
    } else if (field === 'symbol') p.symbol = value.trim().toUpperCase();
    else (p as unknown as Record<string, string>)[field] = value;
  }

  /** The next (or previous) choice of a choice field. */
  cycle(delta: 1 | -1): void {
    const f = this.selectedField();
    if (!f || f.kind !== 'choice' || !f.choices || f.choices.length === 0) return;
    const i = f.choices.indexOf(f.value);
    const next = f.choices[(i + delta + f.choices.length) % f.choices.length] ?? f.choices[0];
    this.set(f.key, next);
  }

  addPosition(): void {
    this.values.positions.push(this.blankPosition());
    this.cursor = this.fields().findIndex((f) => f.key === `p${this.values.positions.length - 1}.symbol`);
  }

  /** Removes the position the cursor is in (one always stays). */
  removePosition(): boolean {
    const m = /^p(\d+)\./.exec(this.selectedField()?.key ?? '');
    if (!m || this.values.positions.length <= 1) return false;
    this.values.positions.splice(Number(m[1]), 1);
    this.move(0);
    return true;
  }

  /** Validates every field (each error named on its field) and builds the configuration. */
  validate(t: TFunction, takenNames: Iterable<string>): FormResult {
    const v = this.values;
    const errors = new Map<string, string>();
    const err = (key: string, i18n: string, vars?: Record<string, unknown>) => {
      if (!errors.has(key)) errors.set(key, t(i18n, vars));
    };
    const name = v.name.trim() || autoName(takenNames);
    const from = v.from.trim() ? parseUtc(v.from, false) : undefined;
    const to = v.to.trim() ? parseUtc(v.to, true) : undefined;
    if (v.from.trim() && from === undefined) err('from', 'simulation.error.date');
    if (v.to.trim() && to === undefined) err('to', 'simulation.error.date');
    if (from !== undefined && to !== undefined && from >= to) err('to', 'simulation.error.range');
    const decimalIn = (key: string, value: string, min: number, max: number, minOpen: boolean, maxOpen: boolean) => {
      const n = Number(value);
      if (!DECIMAL_RE.test(value.trim())) return err(key, 'simulation.error.decimal');
      if ((minOpen ? n <= min : n < min) || (maxOpen ? n >= max : n > max)) err(key, 'simulation.error.range', { allowed: `${minOpen ? '(' : '['}${min}, ${max === Infinity ? '∞' : max}${maxOpen ? ')' : ']'}` });
    };
    const intIn = (key: string, value: string, min: number, max: number) => {
      if (!/^\d+$/.test(value.trim())) return err(key, 'simulation.error.integer', { allowed: `${min}..${max}` });
      const n = Number(value);
      if (n < min || n > max) err(key, 'simulation.error.range', { allowed: `${min}..${max}` });
    };
    decimalIn('initialBalance', v.initialBalance, 0, Infinity, true, false);
    decimalIn('makerFeeRate', v.makerFeeRate, 0, 1, false, true);
    decimalIn('takerFeeRate', v.takerFeeRate, 0, 1, false, true);
    decimalIn('slippageBps', v.slippageBps, 0, 1000, false, false);
    const seen = new Set<string>();
    const positions = v.positions.map((p, i) => {
      const k = (f: string) => `p${i}.${f}`;
      if (!SYMBOL_RE.test(p.symbol)) err(k('symbol'), 'simulation.error.symbol');
      else if (!this.symbols.includes(p.symbol)) err(k('symbol'), 'simulation.error.noKlines', { symbol: p.symbol });
      else if (seen.has(p.symbol)) err(k('symbol'), 'simulation.error.twice', { symbol: p.symbol });
      seen.add(p.symbol);
      intIn(k('leverage'), p.leverage, 1, 125);
      decimalIn(k('assumedRatio'), p.assumedRatio, 0, 1, true, false);
      if (p.maxAllocatedBalance.trim()) decimalIn(k('maxAllocatedBalance'), p.maxAllocatedBalance, 0, Infinity, true, false);
      intIn(k('priority'), p.priority, 0, 1_000_000);
      const s = this.strategy(p.strategy);
      if (!s || s.error) err(k('strategy'), 'simulation.error.strategy', { name: p.strategy });
      const params: Record<string, number | string> = {};
      for (const d of s?.params ?? []) {
        const raw = (p.params[d.name] ?? String(d.default)).trim();
        if (d.kind === 'choice') {
          params[d.name] = raw;
          continue;
        }
        const n = Number(raw);
        if (raw === '' || !Number.isFinite(n)) err(k(`param.${d.name}`), 'simulation.error.number', { allowed: d.allowed });
        else if (d.kind === 'integer' && !Number.isInteger(n)) err(k(`param.${d.name}`), 'simulation.error.integer', { allowed: d.allowed });
        else if ((d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max)) err(k(`param.${d.name}`), 'simulation.error.range', { allowed: d.allowed });
        params[d.name] = n;
      }
      const cac = s?.usesCac ? this.cacs.find((c) => c.name === p.cac)?.cac : undefined;
      if (s?.usesCac && !cac) err(k('cac'), 'simulation.error.cac', { name: s.name });
      return {
        symbol: p.symbol, interval: p.interval as BacktestConfig['positions'][number]['interval'], leverage: Number(p.leverage),
        strategy: { name: p.strategy, params, ...(cac ? { cac } : {}) },
        control: { assumedRatio: Number(p.assumedRatio), priority: Number(p.priority), ...(p.maxAllocatedBalance.trim() ? { maxAllocatedBalance: p.maxAllocatedBalance.trim() } : {}) },
      };
    });
    if (errors.size > 0) return { name, from, to, errors };
    const input: BacktestConfigInput = {
      account: { initialBalance: v.initialBalance.trim(), marginType: v.marginType as 'CROSSED' | 'ISOLATED', makerFeeRate: v.makerFeeRate.trim(), takerFeeRate: v.takerFeeRate.trim(), slippageBps: Number(v.slippageBps) },
      positions,
    };
    const parsed = backtestConfigSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue.path.map(String);
      const key = path[0] === 'positions' ? `p${path[1]}.${path[2] === 'control' ? path[3] ?? 'assumedRatio' : path[2] === 'strategy' ? 'strategy' : path[2]}` : path[path.length - 1] ?? 'name';
      errors.set(key, issue.message);
      return { name, from, to, errors };
    }
    return { config: parsed.data, name, from, to, errors };
  }
}

function defaults(s: StrategyInfo | undefined): Record<string, string> {
  return Object.fromEntries((s?.params ?? []).map((p) => [p.name, String(p.default)]));
}

// ---- the queue ----

export type RunState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface QueueItem {
  key: number;
  name: string;
  state: RunState;
  done: number;
  total: number;
  /** When the first klines were done (the run left the pool's queue). */
  startedAt?: number;
  /** The last progress report. */
  updatedAt?: number;
  simulationId?: number;
  error?: string;
  /** A sweep counts trials (and opens its ranked table), a simulation klines. */
  sweepId?: number;
  unit?: 'klines' | 'trials';
}

/** The runs of this session: added, progressing, finished, failed or cancelled. */
export class SimulationQueue {
  items: QueueItem[] = [];
  cursor = 0;
  private seq = 0;

  add(name: string, unit: 'klines' | 'trials' = 'klines'): QueueItem {
    const item: QueueItem = { key: ++this.seq, name, state: 'queued', done: 0, total: 0, unit };
    this.items.push(item);
    return item;
  }

  get(key: number): QueueItem | undefined {
    return this.items.find((i) => i.key === key);
  }

  /** Klines done and in all at `now` (ms). */
  progress(key: number, done: number, total: number, now: number): void {
    const item = this.get(key);
    if (!item || (item.state !== 'queued' && item.state !== 'running')) return;
    if (item.state === 'queued' && done > 0) {
      item.state = 'running';
      item.startedAt = now;
    }
    item.done = done;
    item.total = total;
    item.updatedAt = now;
  }

  finish(key: number, simulationId: number | undefined, sweepId?: number): void {
    const item = this.get(key);
    if (!item) return;
    item.state = 'done';
    item.done = item.total = Math.max(item.total, item.done);
    if (simulationId !== undefined) item.simulationId = simulationId;
    if (sweepId !== undefined) item.sweepId = sweepId;
  }

  fail(key: number, error: string): void {
    const item = this.get(key);
    if (item && item.state !== 'cancelled') Object.assign(item, { state: 'failed', error });
  }

  cancelled(key: number): void {
    const item = this.get(key);
    if (item && (item.state === 'queued' || item.state === 'running')) item.state = 'cancelled';
  }

  active(): QueueItem[] {
    return this.items.filter((i) => i.state === 'queued' || i.state === 'running');
  }

  selected(): QueueItem | undefined {
    return this.items[this.cursor];
  }

  move(delta: number): void {
    this.cursor = Math.max(0, Math.min(this.items.length - 1, this.cursor + delta));
  }
}

/** Share done (0..1). */
export function fraction(item: QueueItem): number {
  if (item.state === 'done') return 1;
  return item.total > 0 ? Math.min(1, item.done / item.total) : 0;
}

/**
 * Klines per second since the run left the pool's queue. The first report can come from the very
 * first poll, so the rate is counted from the first report, not from the add.
 */
export function klinesPerSecond(item: QueueItem): number | undefined {
  if (item.startedAt === undefined || item.updatedAt === undefined || item.updatedAt <= item.startedAt) return undefined;
  return item.done / ((item.updatedAt - item.startedAt) / 1000);
}

/** Milliseconds left at the current rate. */
export function etaMs(item: QueueItem): number | undefined {
  const rate = klinesPerSecond(item);
  if (!rate || item.state !== 'running') return undefined;
  return ((item.total - item.done) / rate) * 1000;
}
