import type { TFunction } from '../../core/i18n.js';
import type { NnModelInfo } from '../../core/nn/model.js';
import type { EpochRecord } from '../../core/nn/train.js';
import { paint, type Theme } from '../theme.js';
import { esc, fit } from '../widgets.js';
import { curveRange, nodeRows, resample, type LayerView, type NnListState } from './model.js';

const num = (v: number | null | undefined, d = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(1)}%`);

/** The model list: name, type, versions, latest state and test accuracy; the selected row highlighted. */
export function listLines(list: NnListState, width: number, height: number, theme: Theme, t: TFunction, training: string | undefined): string[] {
  if (list.rows.length === 0) return [paint(theme, 'muted', esc(fit(t('nnPage.none'), width)))];
  const first = Math.max(0, Math.min(list.index - height + 1, list.rows.length - height));
  return list.rows.slice(Math.max(0, first), Math.max(0, first) + height).map((m, j) => {
    const i = Math.max(0, first) + j;
    const state = m.name === training ? t('nnPage.training') : m.latest ? (m.latest.finished ? `v${m.latest.version}` : `v${m.latest.version} ${t('nnPage.stopped')}`) : t('nnPage.untrained');
    const text = fit(`${fit(m.name, 14)} ${fit(m.type, 6)} ${fit(state, 12)} ${fit(pct(m.latest?.test?.accuracy), 6, 'right')}`, width);
    return i === list.index ? paint(theme, 'accent', esc(text), { bold: true }) : esc(text);
  });
}

/**
 * The network's structure: one column of nodes (●) per layer, evenly spread over the width, a
 * large layer summarised (first nodes, ⋮, the last), each column labelled with its size and
 * activation below.
 */
export function structureLines(layers: LayerView[], width: number, height: number, theme: Theme): string[] {
  const room = Math.max(1, height - 2);
  const n = layers.length;
  const colWidth = Math.max(3, Math.floor(width / n));
  const grid: string[][] = Array.from({ length: room }, () => Array.from({ length: width }, () => ' '));
  layers.forEach((layer, l) => {
    const rows = nodeRows(layer.size, room);
    const top = Math.floor((room - rows.length) / 2);
    const x = Math.min(width - 1, l * colWidth + Math.floor(colWidth / 2));
    rows.forEach((r, j) => (grid[top + j][x] = r < 0 ? '⋮' : '●'));
  });
  const label = (f: (layer: LayerView) => string) => layers.map((layer) => fit(centre(f(layer), colWidth), colWidth)).join('');
  return [
    ...grid.map((row) => paint(theme, 'accent', esc(row.join('')))),
    esc(fit(label((layer) => String(layer.size)), width)),
    paint(theme, 'muted', esc(fit(label((layer) => layer.label), width))),
  ];
}

function centre(text: string, width: number): string {
  const pad = Math.max(0, Math.floor((width - text.length) / 2));
  return ' '.repeat(pad) + text;
}

const LEVELS = ' ▁▂▃▄▅▆▇█';

/** One curve as a row of block glyphs scaled to [min, max]. */
function spark(values: number[], min: number, max: number): string {
  return values.map((v) => (Number.isFinite(v) ? LEVELS[max > min ? Math.round(((v - min) / (max - min)) * 8) : 4] : ' ')).join('');
}

/** The loss and accuracy curves of a training record (live while a worker trains), and its test. */
export function curveLines(history: EpochRecord[], planned: number, width: number, theme: Theme, t: TFunction): string[] {
  if (history.length === 0) return [paint(theme, 'muted', esc(fit(t('nnPage.noCurves'), width)))];
  const w = Math.max(4, width - 14);
  const loss = resample(history, 'loss', w);
  const val = resample(history, 'valLoss', w);
  const acc = resample(history, 'accuracy', w);
  const vacc = resample(history, 'valAccuracy', w);
  const l = curveRange(loss, val);
  const a = curveRange(acc, vacc);
  const last = history[history.length - 1];
  const row = (name: string, s: string, role: 'up' | 'down' | 'accent' | 'warn') => esc(fit(name, 13)) + ' ' + paint(theme, role, esc(s));
  return [
    esc(fit(t('nnPage.epochs', { done: last.epoch, planned, loss: num(last.loss), valLoss: num(last.valLoss), accuracy: pct(last.accuracy), valAccuracy: pct(last.valAccuracy) }), width)),
    row(t('nnPage.loss'), spark(loss, l.min, l.max), 'accent'),
    row(t('nnPage.valLoss'), spark(val, l.min, l.max), 'warn'),
    row(t('nnPage.accuracy'), spark(acc, a.min, a.max), 'up'),
    row(t('nnPage.valAccuracy'), spark(vacc, a.min, a.max), 'down'),
    paint(theme, 'muted', esc(fit(t('nnPage.scale', { lmin: num(l.min), lmax: num(l.max), amin: pct(a.min), amax: pct(a.max) }), width))),
  ];
}

/** The out-of-sample test, or how to run one. */
export function testLines(model: NnModelInfo, width: number, theme: Theme, t: TFunction): string[] {
  const test = model.latest?.test;
  if (!test) return [paint(theme, 'muted', esc(fit(t('nnPage.untested', { name: model.name }), width)))];
  return [
    esc(fit(t('nn.test.range', { symbol: test.range.symbol, interval: test.range.interval, from: new Date(test.range.from).toISOString().slice(0, 16), to: new Date(test.range.to).toISOString().slice(0, 16), rows: test.rows }), width)),
    esc(fit(t('nn.test.accuracy', { accuracy: pct(test.accuracy), logLoss: num(test.logLoss) }), width)),
    esc(fit(t('nn.test.trading', { net: test.strategyReturnPct.toFixed(2), gross: test.grossReturnPct.toFixed(2), hold: test.buyAndHoldPct.toFixed(2), trades: test.trades, fee: (test.feeRate * 100).toFixed(2) }), width)),
  ];
}
