import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, describeIssue, getPath, lineOfPath, parseYamlText } from '../config/load.js';
import { INTERVALS } from '../market/klines.js';
import { AnalysisParamError, validateCac } from '../analysis/cac.js';
import type { StrategyResolver } from './engine.js';

/**
 * The backtest configuration (a YAML or JSON file, `atm backtest --config`): the account and its
 * positions. Every key is documented in docs/backtesting.md and in `EXAMPLE_CONFIG` (what
 * `atm backtest --example` prints). Errors name the file, the line and the key (ConfigError).
 */

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;
/** A decimal amount as text (YAML numbers are accepted and read as their text). */
const decimal = (what: string) =>
  z.union([z.string(), z.number()]).transform((v) => String(v).trim()).refine((v) => DECIMAL_RE.test(v), { message: `expected a decimal number (${what})` });
const positiveDecimal = (what: string) => decimal(what).refine((v) => Number(v) > 0, { message: `must be greater than 0 (${what})` });
const rate = decimal('a fee rate such as 0.0005').refine((v) => Number(v) >= 0 && Number(v) < 1, { message: 'must be from 0 to less than 1' });

const rulesSchema = z.strictObject({
  tickSize: positiveDecimal('price step').optional(),
  stepSize: positiveDecimal('quantity step').optional(),
  minQty: positiveDecimal('smallest quantity').optional(),
  maxQty: positiveDecimal('largest quantity').optional(),
  minNotional: decimal('smallest order value in USDT').optional(),
  pricePrecision: z.number().int().min(0).max(18).optional(),
  quantityPrecision: z.number().int().min(0).max(18).optional(),
  /** Highest leverage of the first bracket (the default table otherwise). */
  maxLeverage: z.number().int().min(1).max(125).optional(),
});

const positionSchema = z.strictObject({
  symbol: z.string().regex(/^[A-Z0-9]{2,30}$/, 'expected an upper-case symbol such as BTCUSDT'),
  interval: z.enum(INTERVALS).default('1m'),
  leverage: z.number().int().min(1).max(125).default(1),
  strategy: z.strictObject({
    name: z.string().min(1),
    params: z.record(z.string(), z.union([z.number(), z.string()])).default({}),
    /** The CAC for strategies that read one (usesCac); validated by the analysis layer. */
    cac: z.unknown().optional(),
  }),
  control: z
    .strictObject({
      /** Share of the asset allocated balance this position assumes (0..1). */
      assumedRatio: z.number().gt(0).max(1).default(1),
      /** Upper bound of the position allocated balance in USDT (none when absent). */
      maxAllocatedBalance: positiveDecimal('USDT').optional(),
      /** Lower numbers are served first when the assumed ratios add up to more than 1. */
      priority: z.number().int().min(0).default(0),
    })
    .default({ assumedRatio: 1, priority: 0 }),
  rules: rulesSchema.optional(),
});

export const backtestConfigSchema = z.strictObject({
  account: z.strictObject({
    initialBalance: positiveDecimal('USDT'),
    marginType: z.enum(['ISOLATED', 'CROSSED']).default('CROSSED'),
    makerFeeRate: rate.default('0.0002'),
    takerFeeRate: rate.default('0.0005'),
    slippageBps: z.number().min(0).max(1000).default(0),
    /** Asset allocated balance = available balance × this. */
    allocationRatio: z.number().gt(0).max(1).default(1),
  }),
  positions: z.array(positionSchema).min(1).max(100),
});

export type BacktestConfig = z.output<typeof backtestConfigSchema>;
export type BacktestConfigInput = z.input<typeof backtestConfigSchema>;
export type PositionConfig = BacktestConfig['positions'][number];
export type SymbolRulesConfig = z.output<typeof rulesSchema>;

/** A parsed configuration with what is needed to point at its lines. */
export interface LoadedBacktestConfig {
  file: string;
  config: BacktestConfig;
  /** The line of a key path (for errors found after validation, e.g. strategy parameters). */
  lineOf(path: PropertyKey[]): number | undefined;
}

/** Parses and validates configuration text (YAML, which includes JSON). */
export function parseBacktestConfig(text: string, file: string): LoadedBacktestConfig {
  const { doc, lines } = parseYamlText(text, file);
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(file, '', undefined, 'the top level must be a mapping with account and positions', 1);
  const parsed = backtestConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') path = [...path, issue.keys[0]];
    const key = path.map(String).join('.');
    throw new ConfigError(file, key, issue.code === 'unrecognized_keys' ? undefined : getPath(data, path), describeIssue(issue, 'atm backtest --example'), lineOfPath(doc, lines, path));
  }
  return { file, config: parsed.data, lineOf: (path) => lineOfPath(doc, lines, path) };
}

/** Reads and validates a configuration file. */
export function loadBacktestConfig(file: string): LoadedBacktestConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, '', undefined, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseBacktestConfig(text, file);
}

/** What `atm backtest --example` prints: every key, commented. It parses back through --config. */
export const EXAMPLE_CONFIG = `# atm backtest configuration (YAML; JSON works too). Reference: docs/backtesting.md
account:
  initialBalance: "10000"     # USDT in the wallet at the start
  marginType: CROSSED         # CROSSED or ISOLATED, for every position
  makerFeeRate: "0.0002"      # fee rate of fills that rest on the book (limits)
  takerFeeRate: "0.0005"      # fee rate of market fills, stops and take-profits
  slippageBps: 1              # market-type fills move this many basis points against you
  allocationRatio: 1          # asset allocated balance = available balance x this (0..1)
positions:                    # one per symbol; all share the account's wallet
  - symbol: BTCUSDT
    interval: 15m             # the strategy's kline interval; the engine runs on 1m and aggregates
    leverage: 3               # 1 .. the symbol's maximum
    strategy:
      name: sma-cross         # a built-in (atm strategy list) or a file in <data dir>/strategies
      params:                 # the strategy's parameters (atm strategy list --json shows them)
        fast: 10
        slow: 30
    control:                  # account control
      assumedRatio: 0.5       # share of the asset allocated balance (0..1)
      maxAllocatedBalance: "5000"  # cap of the position allocated balance in USDT (optional)
      priority: 0             # lower is served first when the assumed ratios add up to more than 1
    # rules:                  # this position's symbol rules, over the stored exchange rules (or the
    #                         # configuration's symbolRules when none are stored)
    #   tickSize: "0.1"
    #   stepSize: "0.001"
    #   minQty: "0.001"
    #   maxQty: "1000"
    #   minNotional: "100"
    #   maxLeverage: 125
  - symbol: ETHUSDT
    interval: 1h
    leverage: 2
    strategy:
      name: rqpm              # a PIP trade control (docs/strategies.md): it reads the position's CAC
      params:
        fslImmediate: 0.05    # stop-loss 5 % against the position, inside the kline
      cac:                    # the currency analysis it reads (docs/indicators.md)
        indicators: ["EMA:n=20", "BOL:n=20,k=2", "DMIXADX:n=14"]
        pip: { mode: classical }
    control:
      assumedRatio: 0.5
      priority: 1
`;

/**
 * Checks every position's strategy (known, parameters valid) and CAC where one is given, and
 * reports the first problem as a ConfigError on its line (`positions.0.strategy.params.fast`).
 */
export function validateStrategies(loaded: LoadedBacktestConfig, strategies: StrategyResolver): void {
  loaded.config.positions.forEach((p, i) => {
    const at = ['positions', i, 'strategy'];
    const r = strategies.validateParams(p.strategy.name, p.strategy.params);
    if (!r.ok) {
      const e = r.error;
      const path = e.param ? [...at, 'params', e.param] : e.kind === 'unknown' ? [...at, 'name'] : e.kind === 'params' ? [...at, 'params'] : at;
      const value = e.param ? p.strategy.params[e.param] : e.kind === 'unknown' ? p.strategy.name : undefined;
      throw new ConfigError(loaded.file, path.join('.'), value, e.reason, loaded.lineOf(path));
    }
    if (r.value.strategy.spec.usesCac && p.strategy.cac === undefined) {
      throw new ConfigError(loaded.file, [...at, 'cac'].join('.'), undefined, `${p.strategy.name} reads a CAC: give the position a cac (see atm backtest --example)`, loaded.lineOf(at));
    }
    if (p.strategy.cac !== undefined) {
      try {
        validateCac(p.strategy.cac, `positions.${i}.strategy.cac`);
      } catch (error) {
        if (!(error instanceof AnalysisParamError)) throw error;
        throw new ConfigError(loaded.file, [...at, 'cac'].join('.'), undefined, error.message, loaded.lineOf([...at, 'cac']));
      }
    }
  });
  const seen = new Map<string, number>();
  loaded.config.positions.forEach((p, i) => {
    if (seen.has(p.symbol)) throw new ConfigError(loaded.file, `positions.${i}.symbol`, p.symbol, `position ${seen.get(p.symbol)} trades it already; one position per symbol`, loaded.lineOf(['positions', i, 'symbol']));
    seen.set(p.symbol, i);
  });
}
