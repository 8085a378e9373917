import type { AccountView, TradePlanLine } from '../../core/accounts/service.js';
import type { AccountKind } from '../../core/accounts/types.js';
import type { TFunction } from '../../core/i18n.js';

/**
 * The Accounts page's view model, free of any terminal: the accounts as rows (selection kept by id
 * across the 1 s reloads), the small forms (create, activate) with masked fields, and the texts of
 * the trader and of "what will trade".
 */

/** One account as the list shows it. */
export interface AccountRow {
  id: number;
  name: string;
  kind: AccountKind;
  wallet: string;
  equity: string;
  risk: string;
  automation: string;
  positions: number;
  /** "atm trade (pid 123)" while another process trades it. */
  trader?: string;
}

export function accountRow(v: AccountView, t: TFunction): AccountRow {
  return {
    id: v.account.id,
    name: v.account.name,
    kind: v.account.kind,
    wallet: v.wallet ?? '-',
    equity: v.equity ?? '-',
    risk: v.snapshot?.risk ?? 'ACTIVE',
    automation: v.account.settings.automation,
    positions: v.account.settings.positions.length,
    ...(v.trader ? { trader: traderText(v, t) } : {}),
  };
}

/** Who trades the account: "traded by atm trade (pid N)" for another process, "traded here" for this one. */
export function traderText(v: AccountView, t: TFunction, ownPid: number = process.pid): string {
  if (!v.trader) return t('account.page.notTraded');
  if (v.trader.pid === ownPid) return t('account.page.tradedHere');
  return t('account.page.tradedBy', { label: v.trader.label, pid: v.trader.pid });
}

/** The list: rows and the selected one, kept by id when the rows are read again. */
export class AccountListState {
  rows: AccountRow[] = [];
  cursor = 0;

  setRows(rows: readonly AccountRow[], selectId?: number): void {
    const keep = selectId ?? this.selected()?.id;
    this.rows = [...rows];
    const at = keep === undefined ? -1 : this.rows.findIndex((r) => r.id === keep);
    this.cursor = at >= 0 ? at : Math.max(0, Math.min(this.cursor, this.rows.length - 1));
  }

  selected(): AccountRow | undefined {
    return this.rows[this.cursor];
  }

  move(delta: number): void {
    if (this.rows.length === 0) return;
    this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + delta));
  }
}

/** A form field: typed text (masked when secret) or a choice turned with ←/→. */
export interface FormField {
  key: string;
  /** i18n key of its label. */
  label: string;
  kind: 'text' | 'secret' | 'choice';
  value: string;
  choices?: readonly string[];
  /** Shown only when this returns true (the activate form's key-file or typed-key fields). */
  when?: (values: Record<string, string>) => boolean;
}

/**
 * A small form: ↑/↓ (Tab) move between the fields shown, typing edits a text field, ←/→ turn a
 * choice, Enter on the last field submits. Secret fields are shown as one • per character.
 */
export class FormState {
  cursor = 0;
  error?: string;
  private readonly all: FormField[];

  constructor(readonly kind: 'create' | 'activate', fields: FormField[]) {
    this.all = fields;
  }

  values(): Record<string, string> {
    return Object.fromEntries(this.all.map((f) => [f.key, f.value]));
  }

  fields(): FormField[] {
    const values = this.values();
    return this.all.filter((f) => !f.when || f.when(values));
  }

  selected(): FormField | undefined {
    const shown = this.fields();
    this.cursor = Math.max(0, Math.min(this.cursor, shown.length - 1));
    return shown[this.cursor];
  }

  move(delta: number): void {
    this.cursor = Math.max(0, Math.min(this.fields().length - 1, this.cursor + delta));
  }

  /** True when the cursor is on the last field (Enter submits there). */
  atLast(): boolean {
    return this.cursor >= this.fields().length - 1;
  }

  type(text: string): void {
    const f = this.selected();
    if (f && f.kind !== 'choice') f.value += text;
    this.error = undefined;
  }

  backspace(): void {
    const f = this.selected();
    if (f && f.kind !== 'choice') f.value = f.value.slice(0, -1);
  }

  clear(): void {
    const f = this.selected();
    if (f && f.kind !== 'choice') f.value = '';
  }

  cycle(delta: number): void {
    const f = this.selected();
    if (!f || f.kind !== 'choice' || !f.choices) return;
    const i = f.choices.indexOf(f.value);
    f.value = f.choices[(i + delta + f.choices.length) % f.choices.length];
  }

  /** What a field shows: secrets masked, never their text. */
  static shown(f: FormField): string {
    return f.kind === 'secret' ? '•'.repeat(f.value.length) : f.value;
  }

  /** Forgets the typed secrets (after submitting or cancelling). */
  wipe(): void {
    for (const f of this.all) if (f.kind === 'secret') f.value = '';
  }
}

export const ACCOUNT_KINDS: readonly AccountKind[] = ['virtual', 'binance', 'testnet'];

/** The create form: name, kind, balance (virtual accounts only). */
export function createForm(): FormState {
  return new FormState('create', [
    { key: 'name', label: 'account.form.name', kind: 'text', value: '' },
    { key: 'kind', label: 'account.form.kind', kind: 'choice', value: 'virtual', choices: ACCOUNT_KINDS },
    { key: 'balance', label: 'account.form.balance', kind: 'text', value: '10000', when: (v) => v.kind === 'virtual' },
  ]);
}

/** The activate form: key and secret typed (the secret masked) or a key file path; the passphrase masked. */
export function activateForm(): FormState {
  const typed = (v: Record<string, string>) => v.source === 'typed';
  return new FormState('activate', [
    { key: 'source', label: 'account.form.source', kind: 'choice', value: 'typed', choices: ['typed', 'file'] },
    { key: 'apiKey', label: 'account.form.apiKey', kind: 'text', value: '', when: typed },
    { key: 'apiSecret', label: 'account.form.apiSecret', kind: 'secret', value: '', when: typed },
    { key: 'keyFile', label: 'account.form.keyFile', kind: 'text', value: '', when: (v) => !typed(v) },
    { key: 'passphrase', label: 'account.form.passphrase', kind: 'secret', value: '' },
  ]);
}

/** "what will trade", one short line for the confirmation: `BTCUSDT 15m x3 sma-cross, ETHUSDT 1h x2 rqpm`. */
export function planText(plan: readonly TradePlanLine[]): string {
  return plan.map((p) => `${p.symbol} ${p.interval} x${p.leverage} ${p.strategy}`).join(', ');
}

/** A picker over saved simulations (configure from one). */
export class PickState<T extends { id: number }> {
  cursor = 0;
  constructor(readonly items: readonly T[]) {}

  selected(): T | undefined {
    return this.items[this.cursor];
  }

  move(delta: number): void {
    if (this.items.length === 0) return;
    this.cursor = Math.max(0, Math.min(this.items.length - 1, this.cursor + delta));
  }
}
