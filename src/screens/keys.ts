/**
 * Key bindings are data (the k9s model): the `?` help overlay, the status-bar hints and the
 * README's key table are generated from these lists, and `--readonly` drops every binding marked
 * dangerous (placing orders, enabling live trading).
 *
 * Key names are blessed's: 'j', 'S-g' (shift-g), 'C-c', 'tab', 'S-tab', 'enter', 'escape', '?'.
 */
export interface KeyDef {
  /** Keys that trigger it (the first is shown in hints). */
  keys: string[];
  /** i18n key of the description. */
  label: string;
  /** Places orders or enables live trading: dropped under --readonly. */
  dangerous?: boolean;
  /** Shown in the status-bar hints (the help overlay always lists every binding). */
  hint?: boolean;
}

export type KeyMap<Id extends string = string> = Record<Id, KeyDef>;

export interface KeyBinding extends KeyDef {
  id: string;
  action: () => void;
}

export function defineKeys<Id extends string>(map: KeyMap<Id>): KeyMap<Id> {
  return map;
}

/** Pairs a page's key definitions with its actions, dropping dangerous ones in read-only mode. */
export function bindKeys<Id extends string>(map: KeyMap<Id>, actions: Record<Id, () => void>, readonly: boolean): KeyBinding[] {
  return (Object.keys(map) as Id[])
    .filter((id) => !(readonly && map[id].dangerous))
    .map((id) => ({ id, ...map[id], action: actions[id] }));
}

/** How a key name is shown to a person: 'S-g' → 'G', 'C-c' → 'Ctrl-C', 'escape' → 'Esc'. */
export function displayKey(key: string): string {
  const named: Record<string, string> = {
    escape: 'Esc', enter: 'Enter', tab: 'Tab', 'S-tab': 'Shift-Tab', up: '↑', down: '↓', left: '←', right: '→',
    space: 'Space', backspace: 'Backspace', pageup: 'PgUp', pagedown: 'PgDn', home: 'Home', end: 'End',
  };
  if (named[key]) return named[key];
  if (/^S-[a-z]$/.test(key)) return key.slice(2).toUpperCase();
  if (key.startsWith('C-')) return 'Ctrl-' + key.slice(2).toUpperCase();
  return key;
}
