import { AtmError } from '../errors.js';
import type { Cac } from '../analysis/cac.js';
import type { NnModelData } from './model.js';

/** Loads a stored model version by name (latest when `version` is undefined). */
export type NnModelLookup = (name: string, version?: number) => NnModelData | undefined;

/** Splits `NAME` / `NAME@VERSION`. */
export function parseModelRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf('@');
  return at < 0 ? { name: ref } : { name: ref.slice(0, at), version: Number(ref.slice(at + 1)) };
}

function load(ref: string, lookup: NnModelLookup): NnModelData {
  const { name, version } = parseModelRef(ref);
  const data = lookup(name, version);
  if (!data) throw new AtmError('user', `PIP.nnModel: no trained model ${ref}${version === undefined ? '' : ` (version ${version})`}; atm nn list shows the models, atm nn train trains one`, { nnModel: ref });
  return data;
}

/**
 * The CAC with its PIP's model attached as plain data (what analysis and simulation workers need:
 * they cannot reach the database). A CAC without a model is returned as it is.
 */
export function attachNnModel(cac: Cac, lookup: NnModelLookup): Cac {
  const pip = cac.pip;
  if (!pip || !pip.nnModel || pip.nn) return cac;
  return { ...cac, pip: { ...pip, nn: load(pip.nnModel, lookup) } };
}

/** The same for a CAC still in its plain form (a backtest configuration's `strategy.cac`). */
export function attachNnModelPlain(cac: unknown, lookup: NnModelLookup): unknown {
  if (typeof cac !== 'object' || cac === null) return cac;
  const pip = (cac as { pip?: unknown }).pip;
  if (typeof pip !== 'object' || pip === null) return cac;
  const ref = (pip as { nnModel?: unknown }).nnModel;
  if (typeof ref !== 'string' || ref.trim() === '' || (pip as { nn?: unknown }).nn) return cac;
  return { ...cac, pip: { ...pip, nn: load(ref.trim(), lookup) } };
}
