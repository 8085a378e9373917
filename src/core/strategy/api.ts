/**
 * What a strategy file imports. A user file writes `import { defineStrategy } from 'atm/strategy'`
 * (the loader maps that path to this module); the built-ins import this file directly. Keep this
 * surface stable: user files depend on it.
 */
export { defineStrategy, UNCHANGED } from './types.js';
export type {
  ChoiceParam,
  FloatParam,
  IndicatorRequest,
  IndicatorView,
  IntegerParam,
  KlineView,
  ParamDef,
  ParamDefs,
  ParamValues,
  PositionView,
  Series,
  StrategyContext,
  StrategyEvent,
  StrategyInstance,
  StrategySpec,
  Target,
  TargetWithStops,
  Unchanged,
} from './types.js';
