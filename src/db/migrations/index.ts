import type { Migration } from 'kysely';
import * as m0001 from './0001_market.js';
import * as m0002 from './0002_trading.js';
import * as m0003 from './0003_kline_source.js';
import * as m0004 from './0004_funding.js';
import * as m0005 from './0005_sweeps.js';
import * as m0006 from './0006_series_decimals.js';
import * as m0007 from './0007_leases.js';
import * as m0008 from './0008_orders.js';
import * as m0012 from './0012_accounts.js';

/**
 * Every migration, in order. Names sort in version order and are never renamed or removed: a
 * database records the names it has run. Add a new file and a line here; never edit a shipped one.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_market': m0001,
  '0002_trading': m0002,
  '0003_kline_source': m0003,
  '0004_funding': m0004,
  '0005_sweeps': m0005,
  '0006_series_decimals': m0006,
  '0007_leases': m0007,
  '0008_orders': m0008,
  '0012_accounts': m0012,
};
