import { describe, expect, it } from 'vitest';
import { AnalysisParamError, defaultCac, nextCacName, parseIndicatorArg, validateCac, validateIndicator, validatePip } from '../../../src/core/analysis/cac.js';
import { outputColumns } from '../../../src/core/analysis/engine.js';

function errorOf(fn: () => unknown): AnalysisParamError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AnalysisParamError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

describe('CAC parameters', () => {
  it('parses TYPE:param=value lists and fills defaults', () => {
    expect(parseIndicatorArg('bol:n=10,k=1.5')).toEqual({ type: 'BOL', params: { n: '10', k: '1.5' } });
    expect(validateIndicator('BOL', { n: '10' })).toEqual({ type: 'BOL', params: { n: 10, k: 2 } });
    expect(validateIndicator('psar').params).toEqual({ start: 0.02, step: 0.02, max: 0.2 });
  });

  it('names the indicator, the parameter and the allowed range', () => {
    const e = errorOf(() => validateIndicator('SMA', { n: 1 }));
    expect(e.indicator).toBe('SMA');
    expect(e.param).toBe('n');
    expect(e.message).toBe('SMA.n: 1 is out of range; allowed: an integer from 2 to 100000');
    expect(errorOf(() => validateIndicator('BOL', { k: 0 })).message).toContain('BOL.k: 0 is out of range; allowed: a number greater than 0 and at most 10');
    expect(errorOf(() => validateIndicator('EMA', { n: 2.5 })).message).toContain('EMA.n: 2.5 is not an integer');
    expect(errorOf(() => validateIndicator('EMA', { n: 'x' })).message).toContain('EMA.n: "x" is not a number');
    expect(errorOf(() => validateIndicator('EMA', { m: 3 })).message).toBe('EMA.m: unknown parameter; EMA has n');
    expect(errorOf(() => validateIndicator('FOO')).message).toMatch(/^FOO: unknown indicator type; known types are SMA, EMA/);
    expect(errorOf(() => validateIndicator('PSAR', { start: 0.3, max: 0.2 })).message).toBe('PSAR: max (0.2) must be at least start (0.3)');
    expect(errorOf(() => validateIndicator('MMACD', { p1: 26, p2: 12 })).message).toContain('MMACD: periods must increase strictly');
    expect(errorOf(() => validateIndicator('MMACD', { p4: 50 })).message).toContain('p4 is set but p3 is not');
    expect(errorOf(() => validatePip({ csAt1: 0.1, csAt2: 0.2 })).message).toContain('PIP.csAt2');
    expect(errorOf(() => validatePip({ mode: 'nn' })).message).toContain('mode nn needs a neural network model');
    expect(errorOf(() => validatePip({ mode: 'magic' })).message).toContain('PIP.mode');
  });

  it('validates a whole CAC from YAML/JSON shaped data', () => {
    const cac = validateCac({ name: 'trend', indicators: ['EMA:n=50', { type: 'DMIXADX', params: { n: 10 } }], pip: { mode: 'classical', swing: 4 } });
    expect(cac.name).toBe('trend');
    expect(cac.indicators.map((i) => i.type)).toEqual(['EMA', 'DMIXADX']);
    expect(cac.pip?.params.swing).toBe(4);
    expect(validateCac({ indicators: ['SMA'] }).pip).toBeNull();
    expect(errorOf(() => validateCac({ indicators: [] })).message).toContain('at least one indicator');
    expect(errorOf(() => validateCac({ indicators: ['SMA'], colour: 1 })).message).toContain('CAC.colour: unknown key');
  });

  it('auto-names CAC_<n> with the smallest free number', () => {
    expect(nextCacName([])).toBe('CAC_1');
    expect(nextCacName(['CAC_1', 'CAC_2', 'mine', 'CAC_4'])).toBe('CAC_3');
  });

  it('names output columns <TYPE>.<line>, numbering repeated types', () => {
    const cols = outputColumns(validateCac({ indicators: ['SMA:n=5', 'SMA:n=10', 'BOL'], pip: true })).columns;
    expect(cols.slice(0, 5)).toEqual(['SMA.value', 'SMA#2.value', 'BOL.upper', 'BOL.middle', 'BOL.lower']);
    expect(cols).toContain('PIP.direction');
    expect(outputColumns(defaultCac()).columns).toContain('DMIXADX.adx');
  });
});
