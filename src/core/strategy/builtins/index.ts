import type { StrategySpec } from '../types.js';
import buyAndHold from './buy-and-hold.js';
import rqpm from './rqpm.js';
import smaCross from './sma-cross.js';
import ts from './ts.js';

/** The built-in strategies, written exactly as user files are (they import only ../api.js). */
export const BUILTINS: readonly StrategySpec[] = [buyAndHold as StrategySpec, smaCross as StrategySpec, rqpm as StrategySpec, ts as StrategySpec];
