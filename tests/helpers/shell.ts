import type { App, AppOptions } from '../../src/core/app.js';
import { Shell } from '../../src/screens/shell.js';
import type { Composition } from '../../src/main/compose.js';
import { openTestApp } from './app.js';
import { headlessScreen, waitFor, type HeadlessScreen } from './screen.js';

/**
 * The real TUI shell on an in-memory blessed screen over a real App (temp data directory):
 * start it, type keys, read the rendered text, wait for text. One per test; `dispose()` after.
 */
export class ShellHarness {
  app!: App;
  /** The parts below the facade (stores, pools, exchange), for seeding data in tests. */
  parts!: Composition['parts'];
  home!: string;
  hs!: HeadlessScreen;
  shell!: Shell;
  private cleanup: (() => Promise<void>) | undefined;

  async start(options: { width?: number; height?: number; app?: Partial<AppOptions>; seed?: (app: App, parts: Composition['parts']) => void } = {}): Promise<this> {
    const opened = await openTestApp(options.app);
    this.cleanup = opened.cleanup;
    this.app = opened.app;
    this.parts = opened.parts;
    this.home = opened.home;
    options.seed?.(opened.app, opened.parts);
    this.hs = headlessScreen(options.width ?? 160, options.height ?? 40);
    this.shell = new Shell(opened.app, this.hs.screen);
    this.shell.renderNow();
    return this;
  }

  /** Renders and returns the screen as text. */
  text(): string {
    this.shell.renderNow();
    return this.hs.text().join('\n');
  }

  /** Types keys as a terminal would, renders, and returns the screen text. */
  press(data: string): string {
    this.hs.type(data);
    return this.text();
  }

  /** Renders until the screen shows `what` (changes applied asynchronously land a turn later). */
  async until(what: string | RegExp, timeoutMs = 3000): Promise<string> {
    let text = '';
    await waitFor(() => {
      text = this.text();
      return typeof what === 'string' ? text.includes(what) : what.test(text);
    }, timeoutMs, `the screen to show ${String(what)}`);
    return text;
  }

  async dispose(): Promise<void> {
    this.shell?.dispose();
    this.hs?.destroy();
    await this.cleanup?.();
    this.cleanup = undefined;
  }
}
