import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import type { StoredAccount, TradeLogEntry } from '../../core/accounts/types.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule, PageTarget } from '../page.js';
import { panel, restyle } from '../widgets.js';
import { equityHistory, tradeTotals, tradeWindow } from './model.js';
import { accountLines, balanceLines, tradeLines } from './views.js';
import type { EquityHistory } from '../result/model.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'account.history.keys.up' },
  down: { keys: ['j', 'down'], label: 'account.history.keys.down' },
  tradesDown: { keys: ['pagedown', 'S-j'], label: 'account.history.keys.tradesDown' },
  tradesUp: { keys: ['pageup', 'S-k'], label: 'account.history.keys.tradesUp' },
  exportCsv: { keys: ['e'], label: 'account.history.keys.export', hint: true },
});

/** The newest trades the page holds (the CSV export writes them all). */
const TRADES_SHOWN = 2000;

/**
 * Account History: pick an account; its balance history as the Result page's equity chart (with
 * the drawdown below), its trade log, and a CSV export of the log to <data dir>/exports. Read from
 * the database again once a second while visible, so a trader in another process shows live.
 */
class HistoryPage implements Page {
  readonly id = 'history' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly accountBox: Widgets.BoxElement;
  private readonly chartBox: Widgets.BoxElement;
  private readonly tradeBox: Widgets.BoxElement;
  private accounts: StoredAccount[] = [];
  private cursor = 0;
  private data?: { id: number; history: EquityHistory; trades: TradeLogEntry[]; signature: string };
  /** The first trade row shown (undefined: the newest page). */
  private tradeFirst?: number;
  private visible = false;

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.accountBox = panel(this.root, { top: 0, left: 0, width: 26, height: '100%', theme });
    this.chartBox = panel(this.root, { top: 0, left: 26, right: 0, height: 10, theme });
    this.tradeBox = panel(this.root, { top: 10, left: 26, right: 0, bottom: 0, theme });
    const then = (f: () => void) => () => {
      f();
      this.update();
    };
    this.bindings = bindKeys(keys, {
      up: then(() => this.select(this.cursor - 1)),
      down: then(() => this.select(this.cursor + 1)),
      tradesDown: then(() => (this.tradeFirst = this.first() + this.room())),
      tradesUp: then(() => (this.tradeFirst = Math.max(0, this.first() - this.room()))),
      exportCsv: () => this.exportCsv(),
    }, this.app.readonly);
  }

  private select(index: number): void {
    this.cursor = Math.max(0, Math.min(this.accounts.length - 1, index));
    this.tradeFirst = undefined;
    this.load();
  }

  private room(): number {
    return Math.max(1, (this.tradeBox.height as number) - 3);
  }

  private first(): number {
    return tradeWindow(this.data?.trades.length ?? 0, this.room(), this.tradeFirst);
  }

  private exportCsv(): void {
    const account = this.accounts[this.cursor];
    if (!account) return;
    try {
      const { file, trades } = this.app.accounts.exportTradesCsv(account.id);
      this.ctx.toast(this.ctx.t('account.history.exported', { count: trades, file }));
    } catch (error) {
      this.ctx.toast(error instanceof Error ? error.message : String(error), 'error');
    }
  }

  /** Reads the account list; returns true when it changed. */
  private loadAccounts(selectId?: number): boolean {
    const keep = selectId ?? this.accounts[this.cursor]?.id;
    let list: StoredAccount[];
    try {
      list = this.app.accounts.list().map((v) => v.account);
    } catch (error) {
      this.ctx.toast(error instanceof Error ? error.message : String(error), 'error');
      return false;
    }
    const changed = list.map((a) => `${a.id}:${a.name}`).join() !== this.accounts.map((a) => `${a.id}:${a.name}`).join();
    this.accounts = list;
    const at = keep === undefined ? -1 : list.findIndex((a) => a.id === keep);
    this.cursor = at >= 0 ? at : Math.max(0, Math.min(this.cursor, list.length - 1));
    return changed;
  }

  /** Reads the selected account's balance history and trades when they changed; returns true then. */
  private load(): boolean {
    const account = this.accounts[this.cursor];
    if (!account) {
      const had = this.data !== undefined;
      this.data = undefined;
      return had;
    }
    const trades = this.app.accounts.trades(account.id, { limit: TRADES_SHOWN });
    const balance = this.app.accounts.balanceHistory(account.id);
    const last = trades.at(-1);
    const signature = `${account.id}:${trades.length}:${last?.time}:${last?.clientOrderId}:${balance.length}:${balance.at(-1)?.time}:${balance.at(-1)?.marginBalance}`;
    if (this.data?.signature === signature) return false;
    this.data = { id: account.id, history: equityHistory(balance), trades, signature };
    return true;
  }

  show(): void {
    this.visible = true;
    this.loadAccounts();
    this.load();
    this.update();
    this.root.show();
  }

  hide(): void {
    this.visible = false;
    this.root.hide();
  }

  reveal(target: PageTarget): void {
    if (target.accountId === undefined) return;
    this.loadAccounts(target.accountId);
    this.tradeFirst = undefined;
    this.load();
    this.update();
  }

  tick(): Widgets.BlessedElement[] {
    if (!this.visible) return [];
    const listChanged = this.loadAccounts();
    const dataChanged = this.load();
    if (!listChanged && !dataChanged) return [];
    this.update();
    return [this.accountBox, this.chartBox, this.tradeBox];
  }

  update(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    const height = this.root.height as number;
    const chart = Math.max(6, Math.floor(height * 0.45));
    this.chartBox.height = chart;
    this.tradeBox.top = chart;
    for (const box of [this.accountBox, this.chartBox, this.tradeBox]) restyle(box, theme);
    this.accountBox.setLabel(` ${t('account.history.accounts', { count: this.accounts.length })} `);
    this.accountBox.setContent(accountLines(this.accounts, this.cursor, (this.accountBox.width as number) - 3, (this.accountBox.height as number) - 2, theme, t).join('\n'));
    const account = this.accounts[this.cursor];
    const data = this.data && account && this.data.id === account.id ? this.data : undefined;
    this.chartBox.setLabel(` ${t('account.history.balance', { name: account?.name ?? '-', count: data?.history.equity.length ?? 0 })} `);
    this.chartBox.setContent(balanceLines(data?.history ?? { time: [], equity: [], drawdownPct: [] }, (this.chartBox.width as number) - 3, chart - 2, theme, t).join('\n'));
    const trades = data?.trades ?? [];
    const totals = tradeTotals(trades);
    this.tradeBox.setLabel(` ${t('account.history.trades', { count: totals.count, pnl: totals.pnl, fees: totals.fees })} `);
    this.tradeBox.setContent(tradeLines(trades, this.first(), (this.tradeBox.width as number) - 3, (this.tradeBox.height as number) - 2, theme, t).join('\n'));
  }

  destroy(): void {
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new HistoryPage(ctx);
}

export const history: PageModule = { id: 'history', keys, mount };
