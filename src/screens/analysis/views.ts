import type { AnalysisView, IndicatorInfo } from '../../core/analysis/service.js';
import type { TFunction } from '../../core/i18n.js';
import { paint, type Theme } from '../theme.js';
import { esc, fit, selectedLine } from '../widgets.js';
import type { AnalysisLists, Form } from './model.js';

/** The Currency Analysis page's text, from view-model state (no widget is touched here). */

const LIST_WIDTH = 36;

/** The CAC list's lines. */
export function cacListLines(lists: AnalysisLists, t: TFunction, theme: Theme): string[] {
  if (lists.cacs.length === 0) return [paint(theme, 'muted', esc(t('analysis.noCacs')))];
  return lists.cacs.map((c, i) => {
    const text = esc(fit(`${c.cac.name} ${c.cac.indicators.map((x) => x.type).join(' ')}${c.cac.pip ? ' +PIP' : ''}`, LIST_WIDTH));
    return lists.focus === 'cacs' && i === lists.cacCursor ? selectedLine(theme, text) : text;
  });
}

/** The analysis list's lines; ◆ marks the one on the chart. */
export function analysisListLines(lists: AnalysisLists, viewed: number | undefined, t: TFunction, theme: Theme): string[] {
  if (lists.analyses.length === 0) return [paint(theme, 'muted', esc(t('analysis.noAnalyses')))];
  return lists.analyses.map((a, i) => {
    const text = esc(fit(`#${a.id} ${a.cacName} ${a.symbol} ${a.interval} ${t(`analysis.states.${a.liveState}`)}${a.id === viewed ? ' ◆' : ''}`, LIST_WIDTH));
    return lists.focus === 'analyses' && i === lists.listCursor ? selectedLine(theme, text) : text;
  });
}

/** What the chart area says while no chart is drawn. */
export function chartInfoLines(s: { viewed?: number; loading: boolean; lists: AnalysisLists; analysis?: AnalysisView }, t: TFunction, theme: Theme): string[] {
  const lines = [esc(t('analysis.intro')), ''];
  if (s.viewed !== undefined && !s.loading && s.analysis?.liveState === 'stopped') lines.push(paint(theme, 'warn', esc(t('analysis.stoppedChart', { id: s.viewed })), { bold: true }));
  else if (s.viewed !== undefined) lines.push(paint(theme, 'muted', esc(t(s.loading ? 'analysis.loading' : 'analysis.noRows'))));
  else lines.push(paint(theme, 'muted', esc(t(s.lists.analyses.length ? 'analysis.pickAnalysis' : s.lists.cacs.length ? 'analysis.applyHint' : 'analysis.newHint'))));
  if (s.analysis?.error) lines.push('', paint(theme, 'error', esc(s.analysis.error)));
  lines.push('', paint(theme, 'muted', esc(t('analysis.headless'))));
  return lines;
}

export function formTitle(form: Form, t: TFunction): string {
  return t(form.kind === 'cac' ? (form.cacId ? 'analysis.form.editTitle' : 'analysis.form.newTitle') : 'analysis.form.applyTitle');
}

/** The form's lines: help, fields (the cursor's marked), the error, and for a CAC the catalog. */
export function formLines(form: Form, catalog: { indicators: IndicatorInfo[]; pip: { modes: readonly string[]; params: IndicatorInfo['params'] } }, t: TFunction, theme: Theme, width: number): string[] {
  const lines: string[] = [esc(t(form.kind === 'cac' ? 'analysis.form.cacHelp' : 'analysis.form.applyHelp')), ''];
  form.fields.forEach((field, i) => {
    const label = fit(t(`analysis.form.${field.key}`), 12);
    const shown = field.value.length > width - 16 ? '…' + field.value.slice(field.value.length - (width - 17)) : field.value;
    const line = `${esc(label)}  ${esc(shown)}${i === form.cursor ? '█' : ''}`;
    lines.push(i === form.cursor ? paint(theme, 'accent', `▸ `) + line : `  ${line}`);
  });
  lines.push('');
  if (form.error) lines.push(paint(theme, 'error', esc(t('analysis.form.invalid', { message: form.error })), { bold: true }), '');
  lines.push(paint(theme, 'muted', esc(t('analysis.form.keys'))), '');
  if (form.kind === 'cac') {
    lines.push(paint(theme, 'accent', esc(t('analysis.form.catalog'))));
    for (const s of catalog.indicators) {
      lines.push(`${esc(fit(s.type, 11))} ${esc(s.params.map((p) => `${p.name}=${p.default}`).join(','))}  ${paint(theme, 'muted', esc(s.summary))}`);
    }
    lines.push(`${esc(fit('PIP', 11))} ${esc(t('analysis.form.pipModes', { modes: catalog.pip.modes.join(', ') }))}`);
    lines.push(`${' '.repeat(12)}${paint(theme, 'muted', esc(catalog.pip.params.map((p) => `${p.name}=${p.default}`).join(',')))}`);
  }
  return lines;
}
