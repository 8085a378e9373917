import type { PageModule } from './page.js';
import { dashboard } from './dashboard/index.js';
import { settings } from './settings.js';
import { market } from './market/index.js';
import { analysis } from './analysis/index.js';
import { autotrade } from './autotrade/index.js';
import { placeholderPage } from './placeholder.js';
import { result } from './result/index.js';
import { simulation } from './simulation/index.js';
import { accounts } from './accounts/index.js';
import { history } from './history/index.js';

/**
 * Every page, in tab order (keys 1..9, 0). A page whose feature is not built yet is a placeholder
 * that says so; replace its line with the real module when the feature lands.
 *
 * A page is a folder, as `market/`, `analysis/` and `dashboard/` are:
 * - `index.ts`: its `keys` (data), a class implementing `Page` that builds the widgets once and
 *   wires keys and core events to the view model, and the `PageModule` export;
 * - `model.ts`: the view model (rows, selection, series, forms), plain TypeScript with no
 *   blessed, tested in `tests/screens/<page>/model.test.ts`;
 * - `views.ts`: functions turning view-model state into tagged text lines for a given size;
 * - more small modules when the page has live feeds or background work (`market/live.ts`).
 * Pages reach the core only through `ctx.app` facade calls that hand out plain data.
 */
export const PAGES: PageModule[] = [
  dashboard,
  accounts,
  autotrade,
  analysis,
  history,
  market,
  simulation,
  result,
  placeholderPage('neural', 'atm nn train'),
  settings,
];
