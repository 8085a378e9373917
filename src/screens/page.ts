import type { Widgets } from 'blessed';
import type { App } from '../core/app.js';
import type { BacktestConfig } from '../core/backtest/config.js';
import type { TFunction } from '../core/i18n.js';
import type { KeyBinding, KeyMap } from './keys.js';
import type { Theme } from './theme.js';

export const PAGE_IDS = [
  'dashboard', 'accounts', 'autotrade', 'analysis', 'history', 'market', 'simulation', 'result', 'neural', 'settings',
] as const;
export type PageId = (typeof PAGE_IDS)[number];

/** What a page gets from the shell. Pages talk to the core only through `app`. */
export interface PageContext {
  app: App;
  screen: Widgets.Screen;
  /** The area below the header and above the status bar; pages put their widgets in it. */
  body: Widgets.BoxElement;
  t: TFunction;
  theme(): Theme;
  /** Ask for a redraw; the scheduler coalesces requests. */
  markDirty(): void;
  /** Shows a short message in the status bar. */
  toast(message: string, kind?: 'info' | 'error'): void;
  /** Opens another page, optionally on one item (an analysis). */
  goTo(page: PageId, target?: PageTarget): void;
  /**
   * Asks a yes/no question in an overlay before a destructive action; `onYes` runs only on `y`
   * (`n`, Esc, `q` or Ctrl-C say no). The question names what goes, and what goes with it.
   */
  confirm(question: string, onYes: () => void | Promise<void>): void;
}

/**
 * A mouse event for a page, in screen cells (0-based). The keyboard stays first: everything the
 * mouse does has a key.
 */
export interface PageMouse {
  action: 'click' | 'wheelup' | 'wheeldown';
  x: number;
  y: number;
  /** Ctrl held (wheel + Ctrl zooms a chart). */
  ctrl: boolean;
}

/** The row and column of a mouse event inside `element`'s content (inside its border), or undefined outside it. */
export function cellIn(element: Widgets.BlessedElement, m: PageMouse): { row: number; col: number } | undefined {
  const pos = (element as unknown as { lpos?: { xi: number; xl: number; yi: number; yl: number } }).lpos;
  if (!pos || !element.visible) return undefined;
  const border = element.border ? 1 : 0;
  const row = m.y - pos.yi - border;
  const col = m.x - pos.xi - border;
  if (row < 0 || col < 0 || m.y >= pos.yl - border || m.x >= pos.xl - border) return undefined;
  return { row, col };
}

/** What a page is opened on: AutoTrade's Enter opens Currency Analysis on the selected analysis. */
export interface PageTarget {
  analysisId?: number;
  /** The Result page opens on this saved simulation. */
  simulationId?: number;
  /** The Simulation page starts a new simulation from this configuration. */
  simulationConfig?: BacktestConfig;
  /** The Account History page opens on this account. */
  accountId?: number;
}

export interface Page {
  id: PageId;
  /** The page's own key bindings (already filtered for read-only mode). */
  bindings: KeyBinding[];
  /** Called when the page becomes visible. */
  show(): void;
  hide(): void;
  /** Redraws every text from current data and the current language/theme. */
  update(): void;
  destroy(): void;
  /**
   * Called once a second while visible, for live figures (uptime, clocks). Returns the widgets it
   * changed; the shell redraws only those lines (a full redraw every second would cost more CPU
   * than everything else an idle atm does).
   */
  tick?(): Widgets.BlessedElement[];
  /** Shows `target` (called after `show` when the page is opened on one item). */
  reveal?(target: PageTarget): void;
  /** A click or wheel turn over the page's area; returns true when it was used. */
  mouse?(event: PageMouse): boolean;
  /** True while the page is capturing typed text (a form field or filter): global keys pause. */
  capturesInput?(): boolean;
}

export interface PageModule {
  id: PageId;
  keys: KeyMap;
  mount(ctx: PageContext): Page;
}
