import type { TFunction } from '../../core/i18n.js';
import type { NnModelInfo, NnTestResult, NnVersion } from '../../core/nn/model.js';
import type { EpochRecord } from '../../core/nn/train.js';
import type { Theme } from '../theme.js';
import { paint } from '../theme.js';
import { esc, fit, formatUtc, selectedLine, tableRow, textWidth, visibleColumns, wrapWords, type Column } from '../widgets.js';
import { indicatorText, type LayerView, type ModelList, type ModelRow, type TrainingRun } from './model.js';

/** The list: name, type, version, state, out-of-sample accuracy, log loss, return after fees. */
export const LIST_COLUMNS: Column[] = [
  { width: 14, priority: 0 }, { width: 6, priority: 2 }, { width: 4, align: 'right', priority: 3 }, { width: 14, priority: 0 },
  { width: 7, align: 'right', priority: 1 }, { width: 8, align: 'right', priority: 2 }, { width: 9, align: 'right', priority: 1 },
];

const num = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`);

export function statusText(r: Pick<ModelRow, 'status' | 'epochs' | 'planned'>, t: TFunction): string {
  return r.status === 'running' || r.status === 'stopping' ? t(`nnPage.status.${r.status}`, { epochs: r.epochs, planned: r.planned }) : t(`nnPage.status.${r.status}`);
}

export function listCells(r: ModelRow, t: TFunction): string[] {
  return [r.name, r.type, r.version === undefined ? '-' : `v${r.version}`, statusText(r, t), num(r.accuracy, 3), num(r.logLoss, 4), pct(r.returnPct)];
}

/** The first of `count` rows shown in `room` lines with `cursor` kept near the middle. */
export function firstShown(cursor: number, count: number, room: number): number {
  return Math.max(0, Math.min(cursor - Math.floor(room / 2), count - room));
}

/** The list's header and rows for `height` lines (the selection kept in view). */
export function listLines(list: ModelList, focused: boolean, width: number, height: number, theme: Theme, t: TFunction): string[] {
  const kept = visibleColumns(LIST_COLUMNS, width);
  const heads = ['name', 'type', 'version', 'status', 'accuracy', 'logLoss', 'return'].map((c) => t(`nnPage.col.${c}`));
  const lines = [paint(theme, 'muted', esc(tableRow(LIST_COLUMNS, kept, heads)))];
  if (list.rows.length === 0) return [...lines, paint(theme, 'muted', esc(fit(t('nnPage.none'), width)))];
  const first = firstShown(list.cursor, list.rows.length, Math.max(1, height - 1));
  const room = Math.max(1, height - 1);
  list.rows.slice(first, first + room).forEach((r, i) => {
    const text = esc(tableRow(LIST_COLUMNS, kept, listCells(r, t)));
    const role = r.status === 'failed' ? 'error' : r.status === 'running' || r.status === 'testing' ? 'accent' : r.status === 'none' ? 'muted' : 'fg';
    lines.push(first + i === list.cursor && focused ? selectedLine(theme, text) : paint(theme, role, text));
  });
  return lines;
}

/** The out-of-sample test in words (plain text lines). */
export function testLines(test: NnTestResult, t: TFunction): string[] {
  return [
    t('nnPage.detail.testRange', { symbol: test.range.symbol, interval: test.range.interval, from: formatUtc(test.range.from, false), to: formatUtc(test.range.to, false), rows: test.rows }),
    t('nnPage.detail.testFigures', { accuracy: num(test.accuracy, 3), logLoss: num(test.logLoss, 4) }),
    t('nnPage.detail.testReturn', { net: pct(test.strategyReturnPct), gross: pct(test.grossReturnPct), fee: (test.feeRate * 100).toFixed(2), hold: pct(test.buyAndHoldPct), trades: test.trades }),
  ];
}

/**
 * The selected model: its configuration, the latest version's training record, its out-of-sample
 * test, and a live run's state. Plain text lines cut to `width`; the page paints the headings.
 */
export function detailLines(model: NnModelInfo, version: NnVersion | undefined, run: TrainingRun | undefined, width: number, t: TFunction): { text: string; role?: 'accent' | 'error' | 'muted' }[] {
  const c = model.config;
  const out: { text: string; role?: 'accent' | 'error' | 'muted' }[] = [];
  const add = (text: string, role?: 'accent' | 'error' | 'muted') => {
    const lines = textWidth(text) <= width ? [text] : wrapWords(text, Math.max(1, width));
    for (const line of lines) out.push({ text: fit(line, width), role });
  };
  add(t('nnPage.detail.model', { name: model.name, type: c.type, versions: model.versions }), 'accent');
  if (run?.state === 'failed' && run.error) add(t('nnPage.detail.failed', { error: run.error }), 'error');
  if (!version) add(t('nnPage.detail.untrained'), 'muted');
  else {
    const r = version.record;
    add(t('nnPage.detail.version', { version: version.version, state: t(r.finished ? (r.stoppedEarly ? 'nnPage.detail.early' : 'nnPage.detail.finished') : 'nnPage.detail.stopped') }), 'accent');
    add(t('nnPage.detail.range', { symbol: r.range.symbol, interval: r.range.interval, from: formatUtc(r.range.from, false), to: formatUtc(r.range.to, false) }));
    add(t('nnPage.detail.rows', { train: r.trainRows, val: r.valRows, horizon: c.target.horizon }));
    add(t('nnPage.detail.record', { epochs: r.history.length, best: r.bestEpoch, valLoss: num(r.bestValLoss, 4), seconds: r.seconds.toFixed(1) }));
    if (version.test) {
      add(t('nnPage.detail.test'), 'accent');
      for (const line of testLines(version.test, t)) add(line);
    } else add(t(r.finished ? 'nnPage.detail.noTest' : 'nnPage.detail.resumeHint'), 'muted');
  }
  add(t('nnPage.detail.config'), 'accent');
  add(t('nnPage.detail.inputs', { indicators: c.features.indicators.map(indicatorText).join(' ') || '-', lags: c.features.lags, returns: c.features.returns }));
  add(t('nnPage.detail.lines', { lines: c.features.lines.join(' ') || '-' }));
  add(t('nnPage.detail.target', { kind: c.target.kind, horizon: c.target.horizon }));
  if (c.type === 'mlp') add(t('nnPage.detail.hidden', { layers: c.hidden.map((h) => `${h.size}:${h.activation}`).join(' '), init: c.init, seed: c.seed }));
  else add(t('nnPage.detail.init', { init: c.init, seed: c.seed }));
  const tr = c.training;
  add(t('nnPage.detail.training', { epochs: tr.epochs, batch: tr.batchSize, lr: tr.learningRate, optimizer: tr.optimizer, l2: tr.l2, patience: tr.patience, validation: tr.validation }));
  return out;
}

const NODE: Record<string, string> = { in: '○', sigmoid: '◉', linear: '◉' };

/**
 * The network as columns of nodes: one column per layer (inputs, hidden layers, output), its size
 * above it and its activation below; a layer larger than the rows allow shows its first few nodes
 * and ⋮. Full connections are drawn as ─ between rows where both neighbours have a node.
 */
export function structureLines(layers: readonly LayerView[], width: number, height: number): string[] {
  const nodeRows = Math.max(1, height - 2);
  const summarised = Math.max(1, Math.min(5, nodeRows - 1));
  const columns = layers.map((l, i) => {
    const full = l.size <= Math.min(nodeRows, 9);
    const glyph = NODE[i === layers.length - 1 ? l.kind : i === 0 ? 'in' : ''] ?? '●';
    const cells = full ? Array<string>(l.size).fill(glyph) : [...Array<string>(summarised).fill(glyph), '⋮'];
    const top = Math.floor((nodeRows - cells.length) / 2);
    const w = Math.max(3, textWidth(String(l.size)), textWidth(l.kind));
    return { cells, top, w, size: String(l.size), kind: l.kind };
  });
  const used = columns.reduce((s, c) => s + c.w, 0);
  const gap = columns.length > 1 ? Math.max(1, Math.min(8, Math.floor((width - used) / (columns.length - 1)))) : 0;
  const centre = (text: string, w: number) => fit(' '.repeat(Math.floor((w - textWidth(text)) / 2)) + text, w);
  const nodeAt = (c: (typeof columns)[number], row: number) => (row >= c.top && row < c.top + c.cells.length ? c.cells[row - c.top] : undefined);
  const lines = [columns.map((c) => centre(c.size, c.w)).join(' '.repeat(gap))];
  for (let row = 0; row < nodeRows; row++) {
    let line = '';
    columns.forEach((c, i) => {
      const here = nodeAt(c, row);
      line += centre(here ?? '', c.w);
      const next = columns[i + 1];
      if (!next) return;
      const a = here && here !== '⋮';
      const b = nodeAt(next, row);
      line += (a && b && b !== '⋮' ? '─' : ' ').repeat(gap);
    });
    lines.push(line);
  }
  lines.push(columns.map((c) => centre(c.kind, c.w)).join(' '.repeat(gap)));
  return lines.map((l) => fit(l, width));
}

/**
 * Two series over the epochs as a text chart of `height` rows: a legend with the last values, the
 * plot (• the first series, × the second, ◆ where they share a cell) with the top and bottom
 * values on the left, and the epoch axis. Non-finite values (no validation rows) are left out.
 */
export function curveChart(a: readonly number[], b: readonly number[], labels: [string, string], width: number, height: number, digits: number): string[] {
  const n = Math.max(a.length, b.length);
  const finite = [...a, ...b].filter(Number.isFinite);
  const last = (s: readonly number[]) => (s.length && Number.isFinite(s[s.length - 1]) ? s[s.length - 1].toFixed(digits) : '-');
  const second = b.some(Number.isFinite) ? `   × ${labels[1]} ${last(b)}` : '';
  const legend = fit(`• ${labels[0]} ${last(a)}${second}`, width);
  const rows = Math.max(1, height - 2);
  if (n === 0 || finite.length === 0) return [legend];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) * 0.01 || 0.01;
    lo -= pad;
    hi += pad;
  }
  const axis = Math.max(textWidth(hi.toFixed(digits)), textWidth(lo.toFixed(digits)));
  const plotW = Math.max(1, width - axis - 2);
  const grid = Array.from({ length: rows }, () => Array<string>(plotW).fill(' '));
  const put = (s: readonly number[], glyph: string) => {
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) continue;
      const x = n === 1 ? 0 : Math.round((i * (plotW - 1)) / (n - 1));
      const y = rows - 1 - Math.round(((s[i] - lo) / (hi - lo)) * (rows - 1));
      const cell = grid[y][x];
      grid[y][x] = cell === ' ' || cell === glyph ? glyph : '◆';
    }
  };
  put(a, '•');
  put(b, '×');
  const out = [legend];
  grid.forEach((row, y) => {
    const label = y === 0 ? hi.toFixed(digits) : y === rows - 1 ? lo.toFixed(digits) : '';
    out.push(fit(`${label.padStart(axis)} │${row.join('')}`, width));
  });
  const end = String(n);
  out.push(fit(`${' '.repeat(axis)} └1${end.padStart(Math.max(1, plotW - 1))}`, width));
  return out;
}

/** The loss and accuracy charts of a history, stacked in `height` rows. */
export function curveLines(history: readonly EpochRecord[], width: number, height: number, t: TFunction): string[] {
  if (history.length === 0) return [fit(t('nnPage.curves.none'), width)];
  const lossRows = Math.max(3, Math.ceil(height / 2));
  const accRows = Math.max(0, height - lossRows);
  const loss = curveChart(history.map((h) => h.loss), history.map((h) => h.valLoss), [t('nnPage.curves.loss'), t('nnPage.curves.valLoss')], width, lossRows, 4);
  const acc = accRows >= 3 ? curveChart(history.map((h) => h.accuracy), history.map((h) => h.valAccuracy), [t('nnPage.curves.accuracy'), t('nnPage.curves.valAccuracy')], width, accRows, 3) : [];
  return [...loss, ...acc].slice(0, height);
}
