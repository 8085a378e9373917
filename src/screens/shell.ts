import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../core/app.js';
import { bindKeys, defineKeys, displayKey, type KeyBinding } from './keys.js';
import { PAGE_IDS, type Page, type PageContext, type PageId, type PageModule, type PageMouse } from './page.js';
import { RenderScheduler } from './scheduler.js';
import { exchangeStateText } from './exchange.js';
import { loadTheme, paint, themeForTerminal, styles, type Theme, type ThemeRole } from './theme.js';
import { esc, fit, formatUtc, textWidth, wrapWords } from './widgets.js';
import { PAGES } from './pages.js';
import { fitStatus, type StatusSegment } from './status.js';
import { availableCommands, paletteCompletions, paletteSuggestions, runPaletteCommand, type PaletteCommand, type PaletteHost } from './palette.js';

export { paletteSuggestions, resolvePage } from './palette.js';

/** Below this size the pages do not fit: the body says so in words instead of overlapping panels. */
export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

export const GLOBAL_KEYS = defineKeys({
  pages: { keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'], label: 'keys.pages' },
  next: { keys: ['tab'], label: 'keys.next' },
  prev: { keys: ['S-tab'], label: 'keys.prev' },
  help: { keys: ['?'], label: 'keys.help', hint: true },
  palette: { keys: [':'], label: 'keys.palette', hint: true },
  back: { keys: ['escape'], label: 'keys.back' },
  quit: { keys: ['q', 'C-c'], label: 'keys.quit', hint: true },
});

interface Modal {
  handleKey(ch: string | undefined, key: Widgets.Events.IKeyEventArg): void;
  close(): void;
}

export interface ShellOptions {
  initialPage?: PageId;
  /** Called after the screen is torn down and the app closed. */
  onExit?: (code: number) => void;
}

/**
 * The TUI shell: header with page tabs, the page area, the status bar, the help overlay, the
 * command palette and the quit confirmation. Pages are mounted on first visit. All keys arrive
 * here and go to the open overlay, else to the page's own bindings, else to the global ones.
 */
export class Shell {
  readonly header: Widgets.BoxElement;
  readonly body: Widgets.BoxElement;
  readonly status: Widgets.BoxElement;
  /** Shown instead of the body on a terminal smaller than MIN_WIDTH x MIN_HEIGHT. */
  private readonly tooSmall: Widgets.BoxElement;
  private readonly pages = new Map<PageId, Page>();
  private current: PageId;
  private readonly history: PageId[] = [];
  private modal: Modal | undefined;
  private theme: Theme;
  private readonly scheduler: RenderScheduler;
  private readonly globalBindings: KeyBinding[];
  /** The palette's commands (without the dangerous ones under --readonly). */
  private readonly commands: PaletteCommand[];
  /** The status-bar message; a function is translated at each render, so it follows a language change. */
  private toastText: { text: string | (() => string); kind: 'info' | 'error'; until: number } | undefined;
  private statusLeft: { left: string; used: number; width: number; utc: string } | undefined;
  private clockTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** Where each tab is on the header row (for clicks), as last drawn. */
  private tabRanges: { id: PageId; from: number; to: number }[] = [];
  private exiting = false;
  firstFrameAt: number | undefined;

  constructor(
    readonly app: App,
    readonly screen: Widgets.Screen,
    private readonly options: ShellOptions = {},
  ) {
    this.theme = this.loadTheme();
    this.scheduler = new RenderScheduler(() => this.render(), app.config.ui.maxFps);
    this.header = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true, style: styles(this.theme).header });
    this.body = blessed.box({ parent: screen, top: 1, left: 0, width: '100%', height: '100%-2', style: { fg: this.theme.colors.fg, bg: this.theme.colors.bg } });
    this.tooSmall = blessed.box({ parent: screen, top: 1, left: 0, width: '100%', height: '100%-2', tags: true, hidden: true, style: { fg: this.theme.colors.fg, bg: this.theme.colors.bg } });
    this.status = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true, style: styles(this.theme).status });
    this.current = options.initialPage ?? 'dashboard';
    this.globalBindings = bindKeys(GLOBAL_KEYS, {
      pages: () => {},
      next: () => this.goTo(PAGE_IDS[(PAGE_IDS.indexOf(this.current) + 1) % PAGE_IDS.length]),
      prev: () => this.goTo(PAGE_IDS[(PAGE_IDS.indexOf(this.current) + PAGE_IDS.length - 1) % PAGE_IDS.length]),
      help: () => this.openHelp(),
      palette: () => this.openPalette(),
      back: () => this.back(),
      quit: () => this.requestQuit(),
    }, app.readonly);
    this.commands = availableCommands(app.readonly);

    screen.on('keypress', (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => this.handleKey(ch, key));
    // The mouse, after the keyboard: click a tab or a row, wheel over lists and charts.
    screen.enableMouse();
    // SGR reports (1006): exact beyond column 223 and unambiguous; every current terminal and tmux speak it
    (screen.program as unknown as { setMouse(options: Record<string, boolean>, enable: boolean): void }).setMouse({ sgrMouse: true }, true);
    screen.on('mouse', (data: { action: string; x: number; y: number; ctrl?: boolean; button?: string }) => this.handleMouse(data));
    screen.on('resize', () => {
      for (const page of this.pages.values()) page.update();
      this.markDirty();
    });
    const bus = app.bus;
    this.unsubscribe.push(
      bus.on('settings.changed', (change) => this.onSettingsChanged(change.key)),
      bus.on('exchange.state', () => this.markDirty()),
      bus.on('job.state', () => this.markDirty()),
      bus.on('workers.changed', () => this.markDirty()),
      bus.on('log.level', () => this.markDirty()),
      bus.on('notify', (n) => {
        if ((n.kind === 'trade' && app.config.bell.trade) || (n.kind === 'error' && app.config.bell.error)) screen.program.bell();
        this.toast(n.message, n.kind === 'error' ? 'error' : undefined);
      }),
    );
    this.goTo(this.current);
    this.scheduleClock();
  }

  /** The configured theme, or basic16 on a terminal with fewer than 256 colours. */
  private loadTheme(): Theme {
    const colors = Number((this.screen as any).tput?.colors ?? 256);
    return loadTheme(themeForTerminal(this.app.config.theme, colors));
  }

  // ---- page routing ----

  private context(): PageContext {
    return {
      app: this.app,
      screen: this.screen,
      body: this.body,
      t: this.app.t,
      theme: () => this.theme,
      markDirty: () => this.markDirty(),
      toast: (message, kind) => this.toast(message, kind),
      goTo: (page, target) => {
        this.goTo(page);
        if (target) this.pages.get(page)?.reveal?.(target);
      },
      confirm: (question, onYes) => this.confirm(question, onYes),
    };
  }

  private pageModule(id: PageId): PageModule {
    const module = PAGES.find((p) => p.id === id);
    if (!module) throw new Error(`no page module for ${id}`);
    return module;
  }

  /** Returns to the page shown before this one (Esc). */
  back(): void {
    const previous = this.history.pop();
    if (previous) this.goTo(previous, false);
  }

  goTo(id: PageId, remember = true): void {
    if (remember && id !== this.current && this.pages.has(this.current)) {
      this.history.push(this.current);
      if (this.history.length > 50) this.history.shift();
    }
    const previous = this.pages.get(this.current);
    if (previous && this.current !== id) previous.hide();
    this.current = id;
    let page = this.pages.get(id);
    if (!page) {
      page = this.pageModule(id).mount(this.context());
      this.pages.set(id, page);
    }
    page.update();
    page.show();
    this.markDirty();
  }

  get currentPage(): PageId {
    return this.current;
  }

  private page(): Page | undefined {
    return this.pages.get(this.current);
  }

  // ---- keys ----

  handleKey(ch: string | undefined, key: Widgets.Events.IKeyEventArg): void {
    if (!key || key.name === 'return') return; // blessed sends Enter twice (return + enter)
    const full = key.full;
    if (this.modal) {
      this.modal.handleKey(ch, key);
      this.markDirty();
      return;
    }
    const page = this.page();
    if (page?.capturesInput?.()) {
      if (full === 'C-c') this.requestQuit();
      return; // the page's focused widget handles typed text itself
    }
    if (/^[0-9]$/.test(full)) {
      const index = full === '0' ? 9 : Number(full) - 1;
      this.goTo(PAGE_IDS[index]);
      return;
    }
    // A page's own binding wins over a global one on the same key (e.g. Esc closing a detail view).
    for (const binding of [...(page?.bindings ?? []), ...this.globalBindings]) {
      if (binding.id === 'pages') continue;
      if (binding.keys.includes(full)) {
        binding.action();
        this.markDirty();
        return;
      }
    }
  }

  private handleMouse(data: { action: string; x: number; y: number; ctrl?: boolean; button?: string }): void {
    if (this.modal || this.page()?.capturesInput?.()) return;
    let action: PageMouse['action'];
    if (data.action === 'mousedown' && data.button === 'left') action = 'click';
    else if (data.action === 'wheelup' || data.action === 'wheeldown') action = data.action;
    else return;
    if (action === 'click' && data.y === 0) {
      const tab = this.tabRanges.find((r) => data.x >= r.from && data.x < r.to);
      if (tab) this.goTo(tab.id);
      return;
    }
    if (this.page()?.mouse?.({ action, x: data.x, y: data.y, ctrl: Boolean(data.ctrl) })) this.markDirty();
  }

  // ---- overlays ----

  private overlay(options: Widgets.BoxOptions): Widgets.BoxElement {
    return blessed.box({
      parent: this.screen,
      tags: true,
      border: { type: 'line' },
      style: styles(this.theme).overlay,
      ...options,
    });
  }

  openHelp(): void {
    const t = this.app.t;
    const page = this.page();
    const row = (b: KeyBinding) => {
      const keys = b.id === 'pages' ? '1…9, 0' : b.keys.map(displayKey).join(', ');
      return `  ${paint(this.theme, 'accent', esc(fit(keys, 18)))} ${esc(t(b.label, { n: '' }))}`;
    };
    const lines = [
      paint(this.theme, 'accent', esc(t('help.global')), { bold: true }),
      ...this.globalBindings.map(row),
      '',
      paint(this.theme, 'accent', esc(t('help.page', { page: t(`pages.${this.current}.title`) })), { bold: true }),
      ...(page?.bindings ?? []).map(row),
      '',
      paint(this.theme, 'accent', esc(t('palette.title')), { bold: true }),
      ...this.commands.map((c) => `  ${esc(t(c.label))}`),
      '',
      paint(this.theme, 'muted', esc(t('help.close'))),
    ];
    const box = this.overlay({
      top: 'center', left: 'center', width: '80%', height: '80%',
      label: ` ${t('help.title')} `, content: lines.join('\n'), scrollable: true, alwaysScroll: true,
    });
    this.modal = {
      handleKey: (_ch, key) => {
        const k = key.full;
        if (k === 'escape' || k === 'q' || k === '?' || k === 'enter' || k === 'h') this.closeModal();
        else if (k === 'j' || k === 'down') box.scroll(1);
        else if (k === 'k' || k === 'up') box.scroll(-1);
        else if (k === 'C-c') this.requestQuit(true);
      },
      close: () => box.destroy(),
    };
    this.markDirty();
  }

  openPalette(): void {
    const t = this.app.t;
    let input = '';
    let selected = 0;
    const box = this.overlay({ bottom: 1, left: 0, width: '100%', height: 10, label: ` ${t('palette.title')} ` });
    const suggestions = () => paletteSuggestions(input, this.commands).slice(0, 6);
    const draw = () => {
      const list = suggestions();
      selected = Math.min(selected, Math.max(0, list.length - 1));
      const lines = [
        `: ${esc(input)}█`,
        ...list.map((s, i) => (i === selected ? `{inverse}${esc(s)}{/inverse}` : esc(s))),
      ];
      while (lines.length < 7) lines.push('');
      lines.push(paint(this.theme, 'muted', esc(t('palette.hint'))));
      box.setContent(lines.join('\n'));
    };
    draw();
    this.modal = {
      handleKey: (ch, key) => {
        const k = key.full;
        if (k === 'escape' || k === 'C-c' || k === 'C-g') {
          this.closeModal();
        } else if (k === 'enter') {
          const list = suggestions();
          const typed = input.trim();
          const command = list.length > 0 && !paletteCompletions(this.commands).includes(typed) ? list[selected] : typed;
          this.closeModal();
          this.runCommand(command);
        } else if (k === 'tab') {
          const list = suggestions();
          if (list.length > 0) input = list[selected] + (list[selected].includes(' ') ? '' : ' ');
          draw();
        } else if (k === 'up' || k === 'C-p') {
          selected = Math.max(0, selected - 1);
          draw();
        } else if (k === 'down' || k === 'C-n') {
          selected++;
          draw();
        } else if (k === 'backspace') {
          input = input.slice(0, -1);
          selected = 0;
          draw();
        } else if (ch && ch.length === 1 && ch >= ' ' && !key.ctrl && !key.meta) {
          input += ch;
          selected = 0;
          draw();
        }
      },
      close: () => box.destroy(),
    };
    this.markDirty();
  }

  /** Runs a palette command; returns false when it was not understood. */
  runCommand(command: string): boolean {
    const t = this.app.t;
    const host: PaletteHost = {
      app: this.app,
      goTo: (id) => this.goTo(id),
      quit: () => this.requestQuit(),
      help: () => this.openHelp(),
      toast: (message, kind) => this.toast(message, kind),
    };
    try {
      const result = runPaletteCommand(command, host, this.commands);
      // translated when shown: `:lang xx` then `:lang en` shows the usage in English, not the old language
      if (result.kind === 'usage') this.toast(() => t('palette.usage', { usage: t(result.label) }), 'error');
      else if (result.kind === 'unknown') this.toast(() => t('palette.unknown', { input: command }), 'error');
      return result.kind === 'ran';
    } catch (error) {
      this.toast(t('toast.error', { message: (error as Error).message }), 'error');
      return false;
    }
  }

  private closeModal(): void {
    this.modal?.close();
    this.modal = undefined;
    this.markDirty();
  }

  /** A yes/no overlay; `onYes` runs on `y` only. */
  confirm(question: string, onYes: () => void | Promise<void>): void {
    if (this.modal) this.closeModal();
    const t = this.app.t;
    const box = this.overlay({
      top: 'center', left: 'center', width: '70%', height: 7, label: ` ${t('confirm.title')} `,
      content: `\n ${esc(question)}\n\n ${esc(t('confirm.hint'))}`,
    });
    this.modal = {
      handleKey: (_ch, key) => {
        if (key.full === 'y' || key.full === 'S-y') {
          this.closeModal();
          void (async () => onYes())().catch((error) => this.toast(t('toast.error', { message: (error as Error).message }), 'error'));
        } else if (['n', 'S-n', 'escape', 'q', 'C-c', 'enter', 'return'].includes(key.full)) this.closeModal();
      },
      close: () => box.destroy(),
    };
    this.markDirty();
  }

  /** Quits at once when nothing runs, else asks first. */
  requestQuit(force = false): void {
    const t = this.app.t;
    // jobs, and the accounts this interface trades (quitting stops their traders)
    const running = [
      ...this.app.jobs.running().map((j) => j.label),
      ...this.app.trading.accounts().filter((a) => a.trader?.here).map((a) => t('quit.trading', { name: a.name })),
    ];
    if (running.length === 0 || force) {
      void this.exit(0);
      return;
    }
    if (this.modal) this.closeModal();
    const box = this.overlay({
      top: 'center', left: 'center', width: '60%', height: 7, label: ` ${t('quit.title')} `,
      content: `\n ${esc(t('quit.running', { jobs: running.join(', ') }))}\n\n ${esc(t('quit.question'))}`,
    });
    this.modal = {
      handleKey: (_ch, key) => {
        if (key.full === 'y' || key.full === 'S-y') void this.exit(0);
        else if (['n', 'S-n', 'escape', 'q', 'C-c'].includes(key.full)) this.closeModal();
      },
      close: () => box.destroy(),
    };
    this.markDirty();
  }

  async exit(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.dispose();
    this.screen.destroy();
    await this.app.close();
    this.options.onExit?.(code);
  }

  // ---- status, header, rendering ----

  toast(message: string | (() => string), kind: 'info' | 'error' = 'info'): void {
    this.toastText = { text: message, kind, until: Date.now() + 5000 };
    setTimeout(() => this.markDirty(), 5050).unref();
    this.markDirty();
  }

  private onSettingsChanged(key: string): void {
    if (key === 'theme') {
      this.theme = this.loadTheme();
      const s = styles(this.theme);
      Object.assign(this.header.style, s.header);
      Object.assign(this.status.style, s.status);
      Object.assign(this.body.style, { fg: this.theme.colors.fg, bg: this.theme.colors.bg });
    }
    for (const page of this.pages.values()) page.update();
    this.markDirty();
  }

  private scheduleClock(): void {
    // Tick on the second boundary: the status-bar clock and the visible page's live figures.
    const delay = 1000 - (Date.now() % 1000) + 5;
    this.clockTimer = setTimeout(() => {
      this.tickRender();
      this.scheduleClock();
    }, delay);
  }

  /**
   * The once-a-second redraw of the clock and the page's live figures: when nothing else is
   * pending and no overlay is open, only the changed widgets' lines are redrawn.
   */
  private tickRender(): void {
    const changed = this.page()?.tick?.() ?? [];
    if (this.modal || this.scheduler.pending || this.firstFrameAt === undefined) {
      this.markDirty();
      return;
    }
    // Everything left of the clock changes only with events, which schedule a full render; the
    // tick just moves the clock (unless a toast has just expired).
    const width = (this.screen.width as number) || 80;
    const toastExpired = this.toastText !== undefined && this.toastText.until <= Date.now();
    if (this.statusLeft && this.statusLeft.width === width && !toastExpired) this.status.setContent(this.withClock(this.statusLeft));
    else this.status.setContent(this.statusContent(width));
    if (toastExpired) this.toastText = undefined;
    let top = Infinity;
    let bottom = -Infinity;
    for (const element of [this.status, ...changed]) {
      if (element.hidden || !element.visible) continue;
      element.render();
      const pos = (element as any).lpos as { yi: number; yl: number } | undefined;
      if (pos) {
        top = Math.min(top, pos.yi);
        bottom = Math.max(bottom, pos.yl - 1);
      }
    }
    if (top <= bottom) (this.screen as any).draw(Math.max(0, top), Math.min(bottom, (this.screen.height as number) - 1));
  }

  markDirty(): void {
    if (!this.exiting) this.scheduler.markDirty();
  }

  /** Renders immediately (used for the first frame and by tests). */
  renderNow(): void {
    this.scheduler.flush();
  }

  private headerContent(width: number): string {
    const t = this.app.t;
    // The active tab is bracketed as well as coloured, so it shows without colour too.
    const tab = (id: PageId, i: number, short: boolean) => {
      const [open, close] = id === this.current ? ['[', ']'] : [' ', ' '];
      return `${open}${(i + 1) % 10} ${t(`pages.${id}.${short ? 'short' : 'title'}`)}${close}`;
    };
    let short = false;
    const total = PAGE_IDS.reduce((sum, id, i) => sum + textWidth(tab(id, i, false)), 0);
    if (total > width) short = true;
    // Still too wide: start the row late enough that the current page's tab shows.
    const widths = PAGE_IDS.map((id, i) => textWidth(tab(id, i, short)));
    const currentIndex = PAGE_IDS.indexOf(this.current);
    let start = 0;
    while (start < currentIndex && widths.slice(start, currentIndex + 1).reduce((a, b) => a + b, 0) > width) start++;
    let x = 0;
    this.tabRanges = [];
    PAGE_IDS.forEach((id, i) => {
      if (i < start) return;
      this.tabRanges.push({ id, from: x, to: x + widths[i] });
      x += widths[i];
    });
    return PAGE_IDS.map((id, i) => {
      if (i < start) return '';
      const text = esc(tab(id, i, short));
      if (id !== this.current) return text;
      if (!this.theme.color) return `{inverse}${text}{/inverse}`;
      return `{${this.theme.colors.tabActiveBg}-bg}{${this.theme.colors.tabActiveFg}-fg}{bold}${text}{/bold}{/${this.theme.colors.tabActiveFg}-fg}{/${this.theme.colors.tabActiveBg}-bg}`;
    }).join('');
  }

  private statusContent(width: number): string {
    const t = this.app.t;
    const s = this.app.status();
    const segments: StatusSegment[] = [];
    segments.push({ ...exchangeStateText(s.exchange, t), priority: 1, cuttable: s.exchange.kind === 'disconnected' });
    const pool = (name: string) => {
      const p = s.pools.find((x) => x.name === name)!;
      return `${p.running + p.queued}/${p.maxThreads}`;
    };
    segments.push({ text: t('status.workers', { a: pool('analysis'), s: pool('simulation') }), priority: 5 });
    if (s.jobs.length > 0) segments.push({ text: t('status.jobs', { count: s.jobs.length }), role: 'accent', priority: 2 });
    segments.push({ text: t('status.log', { level: s.logLevel }), priority: 6 });
    if (s.readonly) segments.push({ text: t('status.readonly'), role: 'warn', priority: 1 });
    const toast = this.toastText && this.toastText.until > Date.now() ? this.toastText : undefined;
    if (toast) segments.push({ text: typeof toast.text === 'function' ? toast.text() : toast.text, role: toast.kind === 'error' ? 'error' : 'accent', priority: 1, cuttable: true });
    // Key hints, each whole or not at all: `? help` always shows; while a message shows, it
    // takes the place of the page's hints.
    const hints = [...(toast ? [] : this.page()?.bindings ?? []), ...this.globalBindings].filter((b) => b.hint);
    for (const b of hints) {
      segments.push({ text: `${displayKey(b.keys[0])} ${t(b.label, { n: '' })}`, group: 'hints', priority: b.id === 'help' && this.globalBindings.includes(b) ? 0 : 3 });
    }
    const clock = this.clockText(width);
    const room = Math.max(0, width - textWidth(clock) - 2);
    let used = 0;
    let left = '';
    for (const part of fitStatus(segments, room)) {
      used += textWidth(part.separator) + textWidth(part.text);
      left += part.separator + (part.role ? paint(this.theme, part.role as ThemeRole, esc(part.text), { bold: true }) : esc(part.text));
    }
    this.statusLeft = { left, used, width, utc: t('status.utc') };
    return this.withClock(this.statusLeft);
  }

  /** The clock: date and time on a wide terminal, the time alone below 120 columns. */
  private clockText(width: number, utc = this.app.t('status.utc')): string {
    const now = formatUtc(Date.now());
    return `${width < 120 ? now.slice(11) : now} ${utc}`;
  }

  /** The status line: its left part as last computed, padded, then the clock. */
  private withClock(status: { left: string; used: number; width: number; utc: string }): string {
    const clock = this.clockText(status.width, status.utc);
    return status.left + ' '.repeat(Math.max(1, status.width - status.used - textWidth(clock) - 1)) + esc(clock) + ' ';
  }

  private render(): void {
    const width = (this.screen.width as number) || 80;
    this.fitBody(width, (this.screen.height as number) || 24);
    this.header.setContent(this.headerContent(width));
    this.status.setContent(this.statusContent(width));
    this.screen.render();
    if (this.firstFrameAt === undefined) {
      this.firstFrameAt = performance.now();
      this.app.log.info({ component: 'tui', firstFrameMs: Math.round(process.uptime() * 1000) }, 'first frame drawn');
    }
  }

  /** The page, or on a terminal below the minimum size a message saying so (header and status stay). */
  private fitBody(width: number, height: number): void {
    if (width >= MIN_WIDTH && height >= MIN_HEIGHT) {
      if (this.body.hidden) this.body.show();
      this.tooSmall.hide();
      return;
    }
    this.body.hide();
    const text = this.app.t('shell.tooSmall', { width, height, minWidth: MIN_WIDTH, minHeight: MIN_HEIGHT });
    this.tooSmall.setContent(wrapWords(text, Math.max(10, width - 2)).map((line) => ' ' + esc(line)).join('\n'));
    this.tooSmall.show();
  }

  dispose(): void {
    this.scheduler.dispose();
    if (this.clockTimer) clearTimeout(this.clockTimer);
    for (const off of this.unsubscribe) off();
    for (const page of this.pages.values()) page.destroy();
    this.pages.clear();
  }
}
