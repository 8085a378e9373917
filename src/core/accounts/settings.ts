import { z } from 'zod';
import { backtestConfigSchema } from '../backtest/config.js';
import { describeIssue } from '../config/load.js';
import { UserError } from '../errors.js';
import type { AccountSettings, RiskLimits } from './types.js';

/**
 * The schema of an account's settings (stored as JSON in accounts.settings_json). The account and
 * position parts are the backtest configuration's own schemas (one definition for both); an account
 * may have no positions yet.
 */
const fraction = z.number().gt(0).max(1);
export const riskLimitsSchema = z.strictObject({
  maxDrawdown: fraction.optional(),
  dailyLossLimit: fraction.optional(),
  maxPositionNotional: z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number of USDT').refine((v) => Number(v) > 0, 'must be greater than 0').optional(),
  maxLeverage: z.number().int().min(1).max(125).optional(),
  priceBand: fraction.optional(),
  maxOrdersPerMinute: z.number().int().min(1).max(1200).optional(),
});

export const accountSettingsSchema = z.strictObject({
  account: backtestConfigSchema.shape.account,
  positions: z.array(backtestConfigSchema.shape.positions.element).max(100),
  risk: riskLimitsSchema,
  automation: z.enum(['on', 'off', 'killed']),
  source: z.string().optional(),
  kill: z.strictObject({ at: z.number(), closePositions: z.boolean(), handledAt: z.number().optional() }).optional(),
});

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = [...issue.path.map(String), ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [])].join('.');
  return `${path || 'settings'}: ${issue.message && issue.code === 'custom' ? issue.message : describeIssue(issue)}`;
}

/** Parses stored settings JSON; a bad row is a UserError naming the account and the key. */
export function parseStoredSettings(json: string, account: string): AccountSettings {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new UserError(`account "${account}": its settings in the database are not valid JSON; remove the account or fix the row`);
  }
  const parsed = accountSettingsSchema.safeParse(data);
  if (!parsed.success) throw new UserError(`account "${account}": its settings in the database are not valid: ${firstIssue(parsed.error)}`);
  return parsed.data as AccountSettings;
}

/** Validates settings before they are written (a program error when they do not validate). */
export function checkSettings(settings: AccountSettings, account: string): AccountSettings {
  const parsed = accountSettingsSchema.safeParse(settings);
  if (!parsed.success) throw new UserError(`account "${account}": the settings are not valid: ${firstIssue(parsed.error)}`);
  return parsed.data as AccountSettings;
}

/** Validates risk limits given by a person (`atm account risk`, the Accounts page). */
export function checkRiskLimits(limits: RiskLimits): RiskLimits {
  const parsed = riskLimitsSchema.safeParse(limits);
  if (!parsed.success) throw new UserError(`the risk limits are not valid: ${firstIssue(parsed.error)}`);
  return parsed.data;
}
