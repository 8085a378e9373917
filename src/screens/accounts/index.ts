import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../../core/app.js';
import type { AccountView } from '../../core/accounts/service.js';
import type { AccountKind } from '../../core/accounts/types.js';
import type { StoredSimulation } from '../../core/backtest/repository.js';
import { bindKeys, defineKeys, type KeyBinding } from '../keys.js';
import type { Page, PageContext, PageModule } from '../page.js';
import { esc, panel, restyle } from '../widgets.js';
import { paint } from '../theme.js';
import { AccountListState, PickState, accountRow, activateForm, createForm, planText, type FormState } from './model.js';
import { detailLines, formLines, listLines, pickLines } from './views.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'account.keys.up' },
  down: { keys: ['j', 'down'], label: 'account.keys.down' },
  add: { keys: ['a'], label: 'account.keys.add', hint: true },
  configure: { keys: ['c'], label: 'account.keys.configure', hint: true },
  activate: { keys: ['v'], label: 'account.keys.activate', hint: true, dangerous: true },
  automationOn: { keys: ['t'], label: 'account.keys.automationOn', hint: true, dangerous: true },
  automationOff: { keys: ['S-t'], label: 'account.keys.automationOff' },
  history: { keys: ['enter'], label: 'account.keys.history' },
  remove: { keys: ['d'], label: 'account.keys.remove', hint: true },
});

/**
 * Accounts: every account (kind, wallet, equity, risk state, automation, the process trading it)
 * read from the database once a second, so an account traded by `atm trade` shows live; the
 * selected account's settings and positions; create, configure from a saved simulation, activate
 * (secrets masked), automation on (after confirming what will trade) and off, remove.
 */
class AccountsPage implements Page {
  readonly id = 'accounts' as const;
  readonly bindings: KeyBinding[];
  private readonly app: App;
  private readonly root: Widgets.BoxElement;
  private readonly listBox: Widgets.BoxElement;
  private readonly detailBox: Widgets.BoxElement;
  private readonly list = new AccountListState();
  private views: AccountView[] = [];
  /** What was last drawn from the database, to redraw on the tick only when it changed. */
  private signature = '';
  private form?: FormState;
  private pick?: PickState<StoredSimulation>;
  /** The key that opened a form reaches our keypress listener too (after the shell's): skip it. */
  private skipKey = false;
  private visible = false;

  constructor(private readonly ctx: PageContext) {
    this.app = ctx.app;
    const theme = ctx.theme();
    this.root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
    this.listBox = panel(this.root, { top: 0, left: 0, width: '100%', height: 8, theme });
    this.detailBox = panel(this.root, { top: 8, left: 0, width: '100%', bottom: 0, theme });
    const then = (f: () => void) => () => {
      f();
      this.update();
    };
    this.bindings = bindKeys(keys, {
      up: then(() => this.list.move(-1)),
      down: then(() => this.list.move(1)),
      add: then(() => this.open(createForm())),
      configure: then(() => this.openPick()),
      activate: then(() => this.openActivate()),
      automationOn: () => this.automationOn(),
      automationOff: () => this.guard(() => this.automationOff()),
      history: () => {
        const row = this.list.selected();
        if (row) this.ctx.goTo('history', { accountId: row.id });
      },
      remove: () => this.remove(),
    }, this.app.readonly);
    ctx.screen.on('keypress', this.onKey);
  }

  /** Runs an action; a refusal (a UserError) is shown in the status bar, never thrown at the shell. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.ctx.toast(error instanceof Error ? error.message : String(error), 'error');
    }
    this.reload();
    this.update();
  }

  private open(form: FormState): void {
    this.form = form;
    this.skipKey = true;
  }

  private openActivate(): void {
    const row = this.list.selected();
    if (!row) return;
    if (row.kind === 'virtual') {
      this.ctx.toast(this.ctx.t('account.cli.virtualNoKey', { name: row.name }), 'error');
      return;
    }
    this.open(activateForm());
  }

  private openPick(): void {
    if (!this.list.selected()) return;
    this.pick = new PickState(this.app.backtest.saved().filter((s) => s.state === 'finished').reverse());
    this.skipKey = true;
  }

  private readonly onKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!this.visible || (!this.form && !this.pick) || !key || key.name === 'return') return;
    if (this.skipKey) {
      this.skipKey = false;
      return;
    }
    const full = key.full;
    if (this.pick) {
      if (full === 'escape') this.pick = undefined;
      else if (full === 'up' || full === 'k') this.pick.move(-1);
      else if (full === 'down' || full === 'j') this.pick.move(1);
      else if (full === 'enter') void this.configureFrom(this.pick.selected());
      else return;
    } else if (this.form) {
      const form = this.form;
      if (full === 'escape') this.closeForm();
      else if (full === 'up' || full === 'S-tab') form.move(-1);
      else if (full === 'down' || full === 'tab') form.move(1);
      else if (full === 'left') form.cycle(-1);
      else if (full === 'right') form.cycle(1);
      else if (full === 'enter') {
        if (form.atLast()) this.submit(form);
        else form.move(1);
      } else if (full === 'backspace') form.backspace();
      else if (full === 'C-u') form.clear();
      else if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') form.type(ch);
      else return;
    }
    this.update();
    this.ctx.markDirty();
  };

  private closeForm(): void {
    this.form?.wipe();
    this.form = undefined;
  }

  private submit(form: FormState): void {
    const { t } = this.ctx;
    const v = form.values();
    try {
      if (form.kind === 'create') {
        const kind = v.kind as AccountKind;
        const created = this.app.accounts.create(v.name.trim(), kind, kind === 'virtual' ? { balance: v.balance.trim() } : {});
        this.closeForm();
        this.reload(created.id);
        this.ctx.toast(t('account.page.created', { name: created.name }));
      } else {
        const row = this.list.selected();
        if (!row) return this.closeForm();
        if (v.passphrase !== v.passphraseAgain) {
          form.error = t('account.cli.passphraseMismatch');
          return;
        }
        const activated = v.source === 'file'
          ? this.app.accounts.activate(row.id, { keyFile: v.keyFile.trim(), passphrase: v.passphrase, keyFilePassphrase: () => v.passphrase })
          : this.app.accounts.activate(row.id, { apiKey: v.apiKey, apiSecret: v.apiSecret, passphrase: v.passphrase });
        this.closeForm();
        this.reload();
        this.ctx.toast(t('account.cli.activated', { name: row.name, hint: activated.credentials.apiKeyHint, type: activated.credentials.keyType }));
      }
    } catch (error) {
      form.error = error instanceof Error ? error.message : String(error);
    }
  }

  private async configureFrom(sim: StoredSimulation | undefined): Promise<void> {
    const row = this.list.selected();
    this.pick = undefined;
    if (!row || !sim) return;
    try {
      const updated = await this.app.accounts.fromSimulation(row.id, sim.id);
      this.ctx.toast(this.ctx.t('account.cli.configured', { name: row.name, count: updated.settings.positions.length, source: updated.settings.source }));
    } catch (error) {
      this.ctx.toast(error instanceof Error ? error.message : String(error), 'error');
    }
    this.reload();
    this.update();
    this.ctx.markDirty();
  }

  private automationOn(): void {
    const row = this.list.selected();
    if (!row) return;
    const plan = planText(this.app.accounts.plan(row.id));
    this.ctx.confirm(this.ctx.t('account.cli.automationQuestion', { name: row.name, plan: plan || '-' }), () =>
      this.guard(() => {
        this.app.accounts.setAutomation(row.id, true);
        this.ctx.toast(this.ctx.t('account.cli.automation_on', { name: row.name }));
        this.tradeHere(row.id, row.name);
      }),
    );
  }

  /**
   * Automation turned on: a trader already running the account (here or in another process, such
   * as `atm trade` under a service manager) picks the change up from the database; otherwise this
   * process starts one (the lease keeps it the only one; quitting the TUI stops it).
   */
  private destroyed = false;

  private tradeHere(id: number, name: string): void {
    const traded = this.app.trading.accounts().find((a) => a.id === id);
    if (traded?.trader) {
      if (!traded.trader.here) this.ctx.toast(this.ctx.t('account.tui.tradedElsewhere', { name, label: traded.trader.label, pid: traded.trader.pid }));
      return;
    }
    void this.app
      .connectExchange()
      .then(() => this.app.trading.start(id, { label: 'atm (TUI)' }))
      .then(
        () => this.destroyed || this.ctx.toast(this.ctx.t('account.tui.tradingHere', { name })),
        (error: unknown) => this.destroyed || this.ctx.toast(this.ctx.t('account.tui.cannotTrade', { name, reason: error instanceof Error ? error.message : String(error) }), 'error'),
      )
      .finally(() => {
        if (this.destroyed) return;
        this.reload();
        this.update();
        this.ctx.markDirty();
      });
  }

  private automationOff(): void {
    const row = this.list.selected();
    if (!row) return;
    this.app.accounts.setAutomation(row.id, false);
    this.ctx.toast(this.ctx.t('account.cli.automation_off', { name: row.name }));
  }

  private remove(): void {
    const row = this.list.selected();
    if (!row) return;
    const trades = this.app.accounts.trades(row.id).length;
    this.ctx.confirm(this.ctx.t('account.cli.removeQuestion', { name: row.name, trades }), () =>
      this.guard(() => {
        this.app.accounts.remove(row.id);
        this.ctx.toast(this.ctx.t('account.cli.removed', { name: row.name }));
      }),
    );
  }

  /** Reads the accounts, their snapshots and trader leases from the database. */
  private reload(selectId?: number): boolean {
    try {
      this.views = this.app.accounts.list();
    } catch (error) {
      // a damaged row: said once per change, the page keeps what it had
      const message = error instanceof Error ? error.message : String(error);
      if (this.signature !== message) this.ctx.toast(message, 'error');
      const changed = this.signature !== message;
      this.signature = message;
      return changed;
    }
    const t = this.ctx.t;
    this.list.setRows(this.views.map((v) => accountRow(v, t)), selectId);
    const signature = JSON.stringify(this.views);
    const changed = signature !== this.signature;
    this.signature = signature;
    return changed;
  }

  private selectedView(): AccountView | undefined {
    const row = this.list.selected();
    return row ? this.views.find((v) => v.account.id === row.id) : undefined;
  }

  // ---- page ----

  capturesInput(): boolean {
    return this.form !== undefined || this.pick !== undefined;
  }

  show(): void {
    this.visible = true;
    this.reload();
    this.update();
    this.root.show();
  }

  hide(): void {
    this.visible = false;
    this.closeForm();
    this.pick = undefined;
    this.root.hide();
  }

  /** Once a second: the accounts again from the database (another process may trade one). */
  tick(): Widgets.BlessedElement[] {
    if (!this.visible || !this.reload()) return [];
    this.update();
    return [this.listBox, this.detailBox];
  }

  private layout(): void {
    const height = this.root.height as number;
    const top = Math.max(5, Math.min(this.list.rows.length + 3, Math.floor(height * 0.4)));
    this.listBox.height = top;
    this.detailBox.top = top;
  }

  update(): void {
    const { t } = this.ctx;
    const theme = this.ctx.theme();
    this.layout();
    for (const box of [this.listBox, this.detailBox]) restyle(box, theme);
    const w = (this.listBox.width as number) - 3;
    this.listBox.setLabel(` ${t('account.page.list', { count: this.list.rows.length })} `);
    this.listBox.setContent(listLines(this.list, w, (this.listBox.height as number) - 2, theme, t).join('\n'));
    const dw = (this.detailBox.width as number) - 3;
    const dh = (this.detailBox.height as number) - 2;
    const view = this.selectedView();
    if (this.form) {
      this.detailBox.setLabel(` ${view && this.form.kind === 'activate' ? view.account.name : t('account.page.new')} `);
      this.detailBox.setContent(formLines(this.form, dw, theme, t).join('\n'));
    } else if (this.pick) {
      this.detailBox.setLabel(` ${view?.account.name ?? ''} `);
      this.detailBox.setContent(pickLines(this.pick.items, this.pick.cursor, dw, dh, theme, t).join('\n'));
    } else {
      this.detailBox.setLabel(` ${view ? view.account.name : t('account.page.detail')} `);
      const lines = detailLines(view, dw, theme, t);
      this.detailBox.setContent((this.app.readonly ? [paint(theme, 'warn', esc(t('account.page.readonly'))), ...lines] : lines).join('\n'));
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.ctx.screen.removeListener('keypress', this.onKey);
    this.root.destroy();
  }
}

export function mount(ctx: PageContext): Page {
  return new AccountsPage(ctx);
}

export const accounts: PageModule = { id: 'accounts', keys, mount };
