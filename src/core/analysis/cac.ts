import { AtmError } from '../errors.js';
import { INDICATORS, INDICATOR_TYPES, type ParamSpec, type Params } from './indicators/index.js';
import { PIP_MODES, PIP_PARAMS, defaultPipSettings, type PipMode, type PipSettings } from './pip.js';

/**
 * CAC: currency analysis configuration. A named list of indicators with their parameters, plus
 * PIP's settings (or none). This is the validated, complete form: every parameter present.
 */
export interface CacIndicator {
  type: string;
  params: Params;
}

export interface Cac {
  name: string;
  indicators: CacIndicator[];
  pip: PipSettings | null;
}

/** A parameter problem: names the indicator, the parameter and what is allowed. */
export class AnalysisParamError extends AtmError {
  constructor(
    readonly indicator: string,
    readonly param: string | undefined,
    readonly reason: string,
  ) {
    super('user', param ? `${indicator}.${param}: ${reason}` : `${indicator}: ${reason}`, { indicator, param });
    this.name = 'AnalysisParamError';
  }
}

/** The allowed range of a parameter, in words: "an integer from 2 to 100000". */
export function describeRange(spec: ParamSpec): string {
  const kind = spec.kind === 'int' ? 'an integer' : 'a number';
  const low = spec.minExclusive ? `greater than ${spec.min}` : `from ${spec.min}`;
  const high = spec.minExclusive ? `and at most ${spec.max}` : `to ${spec.max}`;
  return `${kind} ${low} ${high}${spec.zeroMeansOff ? ' (0 = unused)' : ''}`;
}

export function checkParam(indicator: string, spec: ParamSpec, value: unknown): number {
  const v = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const allowed = describeRange(spec);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new AnalysisParamError(indicator, spec.name, `${JSON.stringify(value)} is not a number; allowed: ${allowed}`);
  if (spec.kind === 'int' && !Number.isInteger(v)) throw new AnalysisParamError(indicator, spec.name, `${v} is not an integer; allowed: ${allowed}`);
  if (spec.zeroMeansOff && v === 0) return 0;
  const tooLow = spec.minExclusive ? v <= spec.min : v < spec.min;
  if (tooLow || v > spec.max) throw new AnalysisParamError(indicator, spec.name, `${v} is out of range; allowed: ${allowed}`);
  return v;
}

function checkParams(indicator: string, specs: readonly ParamSpec[], given: Record<string, unknown>): Params {
  const names = specs.map((s) => s.name);
  for (const key of Object.keys(given)) {
    if (!names.includes(key)) {
      throw new AnalysisParamError(indicator, key, `unknown parameter; ${indicator} has ${names.length ? names.join(', ') : 'no parameters'}`);
    }
  }
  const out: Params = {};
  for (const spec of specs) out[spec.name] = given[spec.name] === undefined ? spec.default : checkParam(indicator, spec, given[spec.name]);
  return out;
}

export function validateIndicator(type: string, given: Record<string, unknown> = {}): CacIndicator {
  const spec = INDICATORS[type.toUpperCase()];
  if (!spec) throw new AnalysisParamError(type, undefined, `unknown indicator type; known types are ${INDICATOR_TYPES.join(', ')}`);
  const params = checkParams(spec.type, spec.params, given);
  const problem = spec.check?.(params);
  if (problem) throw new AnalysisParamError(spec.type, undefined, problem);
  return { type: spec.type, params };
}

export function validatePip(given: Record<string, unknown> = {}): PipSettings {
  const { mode, nnModel, nn, ...rest } = given;
  const params = checkParams('PIP', PIP_PARAMS, rest);
  if (params.csAt2 > params.csAt1) throw new AnalysisParamError('PIP', 'csAt2', `${params.csAt2} must not exceed csAt1 (${params.csAt1})`);
  const m = (mode ?? 'classical') as PipMode;
  if (!PIP_MODES.includes(m)) throw new AnalysisParamError('PIP', 'mode', `${JSON.stringify(mode)} is not a mode; allowed: ${PIP_MODES.join(', ')}`);
  const model = nnModel === undefined || nnModel === null || nnModel === '' ? null : String(nnModel).trim();
  if ((m === 'nn' || m === 'nn_classical') && !model) {
    throw new AnalysisParamError('PIP', 'mode', `mode ${m} needs a neural network model: set nnModel to a stored model's name (atm nn list), optionally NAME@VERSION`);
  }
  if (model !== null && !NN_MODEL_REF.test(model)) throw new AnalysisParamError('PIP', 'nnModel', `${JSON.stringify(nnModel)} is not a model name or NAME@VERSION`);
  const settings: PipSettings = { params, mode: m, nnModel: model };
  // A model attached at run time (plain data from the model store) travels with the settings.
  if (nn !== undefined && nn !== null && model !== null) settings.nn = nn as PipSettings['nn'];
  return settings;
}

/** `NAME` or `NAME@VERSION` of a stored neural network model. */
export const NN_MODEL_REF = /^[A-Za-z0-9_.-]{1,64}(@[1-9]\d*)?$/;

/**
 * Parses one `--indicator` argument: `TYPE` or `TYPE:param=value,param=value`. `PIP:...` is
 * handled by the caller (it is not an indicator).
 */
export function parseIndicatorArg(arg: string): { type: string; params: Record<string, string> } {
  const [typePart, rest] = splitOnce(arg.trim(), ':');
  const type = typePart.toUpperCase();
  const params: Record<string, string> = {};
  if (rest !== undefined && rest.trim() !== '') {
    for (const item of rest.split(',')) {
      const [k, v] = splitOnce(item, '=');
      if (v === undefined || k.trim() === '') throw new AnalysisParamError(type, k.trim() || undefined, `expected <param>=<value> in ${JSON.stringify(arg)}`);
      params[k.trim()] = v.trim();
    }
  }
  return { type, params };
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

/**
 * Validates a CAC from plain data (a YAML/JSON file, the database, the TUI form). Accepted shape:
 * `{ name?, indicators: [ "SMA:n=20" | { type, params? } ], pip?: { mode?, <param>: value } | null }`.
 */
export function validateCac(input: unknown, where = 'CAC'): Cac {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new AnalysisParamError(where, undefined, 'expected an object with indicators and pip');
  const obj = input as Record<string, unknown>;
  const known = ['name', 'indicators', 'pip'];
  for (const key of Object.keys(obj)) if (!known.includes(key)) throw new AnalysisParamError(where, key, `unknown key; a CAC has ${known.join(', ')}`);
  const name = obj.name === undefined || obj.name === null ? '' : String(obj.name).trim();
  if (name.length > 64) throw new AnalysisParamError(where, 'name', 'at most 64 characters');
  if (!Array.isArray(obj.indicators)) throw new AnalysisParamError(where, 'indicators', 'expected a list of indicators');
  const indicators = obj.indicators.map((item): CacIndicator => {
    if (typeof item === 'string') {
      const { type, params } = parseIndicatorArg(item);
      return validateIndicator(type, params);
    }
    if (typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string') {
      const { type, params } = item as { type: string; params?: Record<string, unknown> };
      return validateIndicator(type, params ?? {});
    }
    throw new AnalysisParamError(where, 'indicators', `${JSON.stringify(item)} is not an indicator ("TYPE:param=value" or { type, params })`);
  });
  const pip = obj.pip === undefined || obj.pip === null || obj.pip === false ? null : validatePip(obj.pip === true ? {} : (obj.pip as Record<string, unknown>));
  if (indicators.length === 0 && !pip) throw new AnalysisParamError(where, 'indicators', 'a CAC needs at least one indicator');
  return { name, indicators, pip };
}

/** The default CAC: every indicator with its default parameters, and PIP. */
export function defaultCac(name = ''): Cac {
  const types = ['SMA', 'EMA', 'WMA', 'PSAR', 'BOL', 'IVP', 'MMACDSHORT', 'MMACDLONG', 'DMIXADX', 'MFI', 'WOI', 'NES'];
  return { name, indicators: types.map((t) => validateIndicator(t)), pip: defaultPipSettings() };
}

/**
 * The plain form (params_json of named_configs, `--cac` files, `atm cac show`): what
 * `validateCac` reads back. PIP is flat: `{ mode, <param>: value }`.
 */
export function cacToJson(cac: Cac): { indicators: CacIndicator[]; pip: Record<string, number | string> | null } {
  return { indicators: cac.indicators, pip: cac.pip ? { mode: cac.pip.mode, ...cac.pip.params, ...(cac.pip.nnModel ? { nnModel: cac.pip.nnModel } : {}) } : null };
}

/** `CAC_<n>`: the smallest n > 0 not used by an existing name. */
export function nextCacName(existing: Iterable<string>): string {
  const used = new Set<number>();
  for (const name of existing) {
    const m = /^CAC_(\d+)$/.exec(name);
    if (m) used.add(Number(m[1]));
  }
  let n = 1;
  while (used.has(n)) n++;
  return `CAC_${n}`;
}
