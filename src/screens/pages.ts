import type { PageModule } from './page.js';
import { dashboard } from './dashboard/index.js';
import { settings } from './settings.js';
import { market } from './market/index.js';
import { analysis } from './analysis/index.js';
import { autotrade } from './autotrade.js';
import { placeholderPage } from './placeholder.js';

/**
 * Every page, in tab order (keys 1..9, 0). A page whose feature is not built yet is a placeholder
 * that says so; replace its line with the real module when the feature lands.
 */
export const PAGES: PageModule[] = [
  dashboard,
  placeholderPage('accounts', 'atm accounts'),
  autotrade,
  analysis,
  placeholderPage('history', 'atm history'),
  market,
  placeholderPage('simulation', 'atm simulate'),
  placeholderPage('result', 'atm simulate --show'),
  placeholderPage('neural', 'atm nn train'),
  settings,
];
