import { z } from 'zod';

/**
 * The schema of the program configuration. `config/default.yaml` must hold every key with its
 * documented default; a user file overrides any subset. Objects are strict: an unknown key is an
 * error (it is almost always a typo).
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const LANGUAGES = ['en', 'ko'] as const;
export const THEMES = ['dark', 'light', 'basic16'] as const;
export const EXCHANGE_MODES = ['auto', 'binance', 'testnet', 'sim'] as const;

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
  );

const venue = z.strictObject({ restUrl: url(['http:', 'https:']), wsUrl: url(['ws:', 'wss:']), routed: z.boolean() });

const decimalText = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal number as text, e.g. "0.001"');
const ruleFields = {
  tickSize: decimalText,
  stepSize: decimalText,
  minQty: decimalText,
  maxQty: decimalText,
  marketStepSize: decimalText,
  marketMaxQty: decimalText,
  minNotional: decimalText,
  liquidationFee: decimalText,
  brackets: z
    .array(z.strictObject({ floor: z.number().int().min(0), maintMarginRatio: decimalText, initialLeverage: z.number().int().min(1).max(125) }))
    .min(1)
    .refine((b) => b[0].floor === 0 && b.every((x, i) => i === 0 || x.floor > b[i - 1].floor), { message: 'floors start at 0 and rise' }),
};
/** Symbol rules used when no exchange data is stored for a symbol (src/core/futures/rules.ts). */
export const symbolRulesSchema = z.strictObject({
  default: z.strictObject(ruleFields),
  symbols: z.record(z.string().regex(/^[A-Z0-9_]{2,30}$/, 'a symbol such as BTCUSDT'), z.strictObject(ruleFields).partial()),
});
export type SymbolRulesConfig = z.infer<typeof symbolRulesSchema>;

const symbolName = z.string().regex(/^[A-Z0-9_]{2,30}$/, 'a symbol such as BTCUSDT');
/** Intervals the collector keeps: 1m is collected, the others are aggregated from it. */
export const COLLECT_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] as const;

export const configSchema = z.strictObject({
  language: z.enum(LANGUAGES),
  theme: z.enum(THEMES),
  bell: z.strictObject({ trade: z.boolean(), error: z.boolean() }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS),
    file: z.string().min(1).regex(/^[^/\\]+$/, 'a file name without a folder'),
    panelLines: z.number().int().min(10).max(100_000),
  }),
  workers: z.strictObject({
    threads: z.union([z.literal('auto'), z.number().int().min(1).max(256)], { error: 'expected "auto" or a whole number from 1 to 256' }),
    analyzerRatio: z.number().min(0).max(1),
    idleTimeoutMs: z.number().int().min(100).max(86_400_000),
  }),
  exchange: z.strictObject({
    mode: z.enum(EXCHANGE_MODES),
    connectTimeoutMs: z.number().int().min(100).max(120_000),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
    apiSecretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
    binance: venue,
    testnet: venue,
    sim: z.strictObject({
      port: z.number().int().min(0).max(65_535),
      seed: z.number().int(),
      speed: z.number().positive().max(1_000_000),
      faults: z.string(),
      dataDir: z.string(),
    }),
  }),
  symbolRules: symbolRulesSchema,
  market: z.strictObject({
    collect: z.strictObject({
      enabled: z.boolean(),
      symbols: z.union([z.literal('all'), z.array(symbolName).min(1)], { error: 'expected "all" or a list of symbols such as [BTCUSDT, ETHUSDT]' }),
      intervals: z.array(z.enum(COLLECT_INTERVALS)).min(1).refine((list) => list.includes('1m'), { message: 'must include 1m (higher intervals are aggregated from it)' }),
      backfillDays: z.number().min(0).max(3650),
      weightShare: z.number().gt(0).max(0.8),
      deep: z.array(symbolName),
    }),
  }),
  ui: z.strictObject({
    maxFps: z.number().int().min(1).max(60),
    logPanel: z.boolean(),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type Language = (typeof LANGUAGES)[number];
export type ThemeName = (typeof THEMES)[number];
export type ExchangeMode = (typeof EXCHANGE_MODES)[number];
