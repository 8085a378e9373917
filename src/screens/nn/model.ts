import type { NnModelInfo } from '../../core/nn/model.js';
import type { EpochRecord } from '../../core/nn/train.js';

/**
 * The Neural Network page's view model: the models (selection by name, kept across reloads), the
 * layers to draw, and the curves of a training record. Plain TypeScript, no blessed.
 */
export class NnListState {
  rows: NnModelInfo[] = [];
  index = 0;

  setRows(rows: NnModelInfo[], selectName?: string): void {
    const keep = selectName ?? this.selected()?.name;
    this.rows = rows;
    const at = keep === undefined ? -1 : rows.findIndex((r) => r.name === keep);
    this.index = at >= 0 ? at : Math.min(this.index, Math.max(0, rows.length - 1));
  }

  selected(): NnModelInfo | undefined {
    return this.rows[this.index];
  }

  move(delta: number): void {
    this.index = Math.max(0, Math.min(this.rows.length - 1, this.index + delta));
  }

  jump(where: 'top' | 'bottom'): void {
    this.index = where === 'top' ? 0 : Math.max(0, this.rows.length - 1);
  }
}

export interface LayerView {
  size: number;
  /** `input`, an activation, or the output's (`sigmoid` / `linear`). */
  label: string;
}

/** Input, hidden and output layers of a model's configuration. */
export function layersOf(model: NnModelInfo, inputs: number): LayerView[] {
  const c = model.config;
  const hidden = c.type === 'mlp' ? c.hidden.map((h) => ({ size: h.size, label: h.activation })) : [];
  return [{ size: inputs, label: 'input' }, ...hidden, { size: 1, label: c.target.kind === 'sign' ? 'sigmoid' : 'linear' }];
}

/**
 * Which node rows a layer shows in `room` rows: all when they fit, else the first ones, a gap
 * (-1, drawn ⋮) and the last one: a large layer is summarised, its size labelled below.
 */
export function nodeRows(size: number, room: number): number[] {
  if (size <= room) return Array.from({ length: size }, (_, i) => i);
  const head = Math.max(1, room - 2);
  return [...Array.from({ length: head }, (_, i) => i), -1, size - 1];
}

/** Min and max of the finite values of the curves (NaN, NaN when there are none). */
export function curveRange(...series: number[][]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) for (const v of s) if (Number.isFinite(v)) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: NaN, max: NaN };
}

/** The values of one field of the epochs, resampled to at most `width` points (the last of each bucket). */
export function resample(history: EpochRecord[], field: keyof EpochRecord, width: number): number[] {
  const n = history.length;
  if (n <= width) return history.map((h) => h[field]);
  return Array.from({ length: width }, (_, i) => history[Math.min(n - 1, Math.floor(((i + 1) * n) / width) - 1)][field]);
}
