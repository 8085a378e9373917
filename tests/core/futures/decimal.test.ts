import { describe, expect, it } from 'vitest';
import { Dec } from '../../../src/core/futures/decimal.js';

describe('Dec', () => {
  it('parses and prints exactly', () => {
    expect(Dec.parse('0.1').add('0.2').toString()).toBe('0.3');
    expect(Dec.parse('-0.001').toString()).toBe('-0.001');
    expect(Dec.parse('.5').toString()).toBe('0.5');
    expect(Dec.parse('123.4500').toString()).toBe('123.45');
    expect(Dec.parse('65000.1').mul('0.003').toString()).toBe('195.0003');
    expect(Dec.parse('1').div('3').toString(6)).toBe('0.333333');
  });
  it('rejects what is not a plain decimal', () => {
    expect(() => Dec.parse('1e-3')).toThrow(/not a decimal/);
    expect(() => Dec.parse('abc', 'price')).toThrow(/price "abc"/);
    expect(() => Dec.parse('0.0000000000000000001')).toThrow(/more than 18 decimals/);
  });
  it('checks multiples without float error', () => {
    // 0.3 / 0.1 in floats is 2.9999999999999996
    expect(Dec.parse('0.3').isMultipleOf('0.1')).toBe(true);
    expect(Dec.parse('65000.15').isMultipleOf('0.1')).toBe(false);
    expect(Dec.parse('1.23').floorTo('0.1').toString()).toBe('1.2');
    expect(Dec.parse('2.5').round(0).toString()).toBe('3');
    expect(Dec.parse('-2.5').round(0).toString()).toBe('-3');
  });
  it('converts numbers with exponents', () => {
    expect(Dec.fromNumber(-2.3e-7).toString()).toBe('-0.00000023');
  });
});
