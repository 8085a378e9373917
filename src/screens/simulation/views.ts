import type { TFunction } from '../../core/i18n.js';
import type { Theme } from '../theme.js';
import { paint } from '../theme.js';
import { esc, fit, formatDuration, selectedLine, textWidth } from '../widgets.js';
import { paramText, rowCells, type SweepResults } from './sweep-model.js';
import { etaMs, fraction, klinesPerSecond, type Field, type QueueItem } from './model.js';

export function fieldLabel(f: Field, t: TFunction): string {
  return 'text' in f.label ? f.label.text : t(f.label.i18n, f.label.vars);
}

/**
 * The form's lines for `height` rows around the cursor: label, value (the edit buffer with a
 * cursor while editing; ‹ › around a choice), what is allowed, and the field's error.
 */
export function formLines(form: { fields(): Field[]; cursor: number }, errors: ReadonlyMap<string, string>, editing: string | undefined, focused: boolean, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const fields = form.fields();
  const labelWidth = Math.min(20, Math.max(12, Math.floor(width / 3)));
  const first = Math.max(0, Math.min(form.cursor - Math.floor(height / 2), fields.length - height));
  return fields.slice(first, first + height).map((f, i) => {
    const at = first + i === form.cursor;
    const value = at && editing !== undefined ? `${editing}▏` : f.kind === 'choice' ? `‹${f.value || '-'}›` : f.value || '-';
    const error = errors.get(f.key);
    const label = fit(fieldLabel(f, t), labelWidth);
    const valueWidth = Math.min(Math.max(12, textWidth(value) + 1), Math.max(0, width - labelWidth - 1));
    const restWidth = Math.max(0, width - labelWidth - 1 - valueWidth - 1);
    const rest = error ? fit(error, restWidth) : fit(f.allowed ?? '', restWidth);
    const body = `${esc(label)} ${esc(fit(value, valueWidth))} ${error ? paint(theme, 'error', esc(rest)) : paint(theme, 'muted', esc(rest))}`;
    return at && focused ? selectedLine(theme, `${esc(label)} ${esc(fit(value, valueWidth))} ${esc(rest)}`) : body;
  });
}

/** A progress bar of `width` cells (eighth blocks at the edge). */
export function progressBar(share: number, width: number): string {
  const eighths = Math.round(Math.max(0, Math.min(1, share)) * width * 8);
  const full = Math.floor(eighths / 8);
  const part = eighths % 8;
  return ('█'.repeat(full) + (part ? '▏▎▍▌▋▊▉'[part - 1] : '')).padEnd(width, '░');
}

/** A rate as 1.2k, 3.4M. */
export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** One queue row: name, bar, percent, then state, ETA and klines/s (or the error). */
export function queueLine(item: QueueItem, width: number, t: TFunction): string {
  const name = fit(item.name, 10);
  const pctText = `${Math.floor(fraction(item) * 100)}%`.padStart(4);
  const rate = klinesPerSecond(item);
  const eta = etaMs(item);
  const state = t(`simulation.state.${item.state}`);
  const tail = item.state === 'failed' && item.error
    ? item.error
    : item.state === 'running'
      ? t(item.unit === 'trials' ? 'sweepForm.eta' : 'simulation.eta', { done: item.done, total: item.total, eta: eta === undefined ? '-' : formatDuration(eta), rate: rate === undefined ? '-' : compact(rate) })
      : item.state === 'done' ? t(item.unit === 'trials' ? 'sweepForm.openHint' : 'simulation.openHint') : '';
  const bar = progressBar(fraction(item), Math.max(4, Math.min(20, width - 40)));
  return fit(`${name} ${bar} ${pctText} ${state} ${tail}`, width);
}

export function queueLines(items: readonly QueueItem[], cursor: number, focused: boolean, width: number, height: number, theme: Theme, t: TFunction): string[] {
  if (items.length === 0) return [paint(theme, 'muted', esc(fit(t('simulation.queueEmpty'), width)))];
  const first = Math.max(0, Math.min(cursor - Math.floor(height / 2), items.length - height));
  return items.slice(first, first + height).map((item, i) => {
    const text = esc(queueLine(item, width, t));
    if (first + i === cursor && focused) return selectedLine(theme, text);
    const role = item.state === 'failed' ? 'error' : item.state === 'done' ? 'up' : item.state === 'cancelled' ? 'muted' : 'fg';
    return paint(theme, role, text);
  });
}

/**
 * A finished sweep's ranked table (rank, parameters, objective, return %, drawdown %, trades),
 * the best row's number of trials and deflated Sharpe ratio above it, `height` rows around the cursor.
 */
export function sweepResultLines(results: SweepResults, focused: boolean, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const { report } = results;
  const head: string[] = [];
  const dsr = report.deflatedSharpe;
  head.push(fit(t('sweepForm.headline', { trials: report.trials, method: report.method, objective: report.objective, failed: report.failed }), width));
  if (report.walkForward) {
    const wf = report.walkForward;
    head.push(fit(t('sweepForm.walkForward', { folds: wf.folds.length, is: wf.meanInSample.toFixed(4), oos: wf.meanOutOfSample.toFixed(4), ratio: wf.ratio === null ? '-' : wf.ratio.toFixed(3), ret: wf.outOfSampleReturnPct.toFixed(2) }), width));
    for (const f of wf.folds) head.push(fit(`${f.fold}  ${paramText(f.params)}  ${f.inSampleScore.toFixed(4)} → ${f.outOfSampleScore.toFixed(4)}`, width));
    return head.map((l) => esc(l)).slice(0, height);
  }
  const best = report.rows[0];
  if (best) head.push(fit(t('sweepForm.best', { params: paramText(best.params), trials: report.trials, dsr: dsr?.dsr == null ? '-' : dsr.dsr.toFixed(4) }), width));
  const header = [t('sweepForm.col.rank'), t('sweepForm.col.params'), report.objective, t('sweepForm.col.returnPct'), t('sweepForm.col.drawdownPct'), t('sweepForm.col.trades')];
  const rows = report.rows.map(rowCells);
  const widths = header.map((h, c) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[c]))));
  const line = (r: string[]) => fit(r.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '), width);
  const out = [...head.map((l) => paint(theme, 'accent', esc(l))), paint(theme, 'muted', esc(line(header)))];
  const room = Math.max(1, height - out.length);
  const first = Math.max(0, Math.min(results.cursor - Math.floor(room / 2), rows.length - room));
  rows.slice(first, first + room).forEach((r, i) => {
    const text = esc(line(r));
    out.push(first + i === results.cursor && focused ? selectedLine(theme, text) : text);
  });
  return out;
}
