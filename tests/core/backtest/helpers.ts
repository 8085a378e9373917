import { seededUniform } from '../../../src/core/random.js';
import type { BacktestKlines } from '../../../src/core/backtest/engine.js';
import { backtestConfigSchema, type BacktestConfig, type BacktestConfigInput } from '../../../src/core/backtest/config.js';
import { defaultMarketInputs } from '../../../src/core/backtest/inputs.js';
import type { EngineInput, StrategyResolver } from '../../../src/core/backtest/engine.js';
import { StrategyRegistry } from '../../../src/core/strategy/registry.js';
import { validateParams } from '../../../src/core/strategy/params.js';
import type { LoadedStrategy } from '../../../src/core/strategy/runtime.js';
import { ok, type StrategySpec } from '../../../src/core/strategy/types.js';

export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;

/** 1m klines from opens and closes (high/low = max/min of them unless given), starting at `start`. */
export function klinesFrom(opens: number[], closes: number[], start = T0, extremes?: { high?: number[]; low?: number[] }): BacktestKlines {
  const n = closes.length;
  const k: BacktestKlines = {
    length: n, openTime: new Float64Array(n), open: new Float64Array(opens), high: new Float64Array(n), low: new Float64Array(n),
    close: new Float64Array(closes), volume: new Float64Array(n).fill(1), takerBuyVolume: new Float64Array(n).fill(0.5),
  };
  for (let j = 0; j < n; j++) {
    k.openTime[j] = start + j * MIN;
    k.high[j] = extremes?.high?.[j] ?? Math.max(opens[j], closes[j]);
    k.low[j] = extremes?.low?.[j] ?? Math.min(opens[j], closes[j]);
  }
  return k;
}

/** Opens equal to the previous close (the first open = the first close). */
export function klinesFromCloses(closes: number[], start = T0): BacktestKlines {
  return klinesFrom(closes.map((_, j) => closes[Math.max(0, j - 1)]), closes, start);
}

/** A seeded random walk around `base` on a tick of 10^-decimals (0.1 by default). */
export function randomWalk(n: number, seed = 1, base = 20_000, start = T0, decimals = 1): BacktestKlines {
  const rnd = seededUniform(seed);
  const scale = 10 ** decimals;
  const round = (v: number) => Math.round(v * scale) / scale;
  const opens: number[] = [];
  const closes: number[] = [];
  const highs: number[] = [];
  const lows: number[] = [];
  let p = base;
  for (let j = 0; j < n; j++) {
    const o = round(p);
    const c = round(o * (1 + (rnd() - 0.5) * 0.004));
    opens.push(o);
    closes.push(c);
    highs.push(round(Math.max(o, c) * (1 + rnd() * 0.001)));
    lows.push(round(Math.min(o, c) * (1 - rnd() * 0.001)));
    p = c;
  }
  return klinesFrom(opens, closes, start, { high: highs, low: lows });
}

export function config(input: BacktestConfigInput): BacktestConfig {
  return backtestConfigSchema.parse(input);
}

export function engineInput(cfg: BacktestConfig, klines: BacktestKlines[], funding?: EngineInput['funding']): EngineInput {
  const inputs = defaultMarketInputs();
  return { config: cfg, klines, rules: cfg.positions.map((p) => inputs.rules(p.symbol, p.rules)), funding: funding ?? cfg.positions.map(() => ({ times: [], rates: [] })) };
}

export const builtins = new StrategyRegistry(undefined);

/** A resolver that knows the built-ins plus the given test strategies. */
export function resolverWith(specs: Record<string, StrategySpec>): StrategyResolver {
  return {
    validateParams(name, given = {}) {
      const spec = specs[name];
      if (!spec) return builtins.validateParams(name, given);
      const strategy: LoadedStrategy = { name, spec, source: 'builtin' };
      const p = validateParams(spec, given);
      return p.ok ? ok({ strategy, params: p.value }) : p;
    },
  };
}

/** The same klines as the market layer's Klines (for a kline store). */
export function toStoreKlines(k: BacktestKlines): import('../../../src/core/market/klines.js').Klines {
  const n = k.length;
  return {
    length: n, openTime: k.openTime.slice(), open: k.open.slice(), high: k.high.slice(), low: k.low.slice(), close: k.close.slice(),
    volume: k.volume.slice(), quoteVolume: new Float64Array(n), trades: new Float64Array(n).fill(1), takerBuyVolume: k.takerBuyVolume.slice(), takerBuyQuoteVolume: new Float64Array(n),
  };
}
