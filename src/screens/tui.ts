import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { connectExchange } from './exchange.js';
import type { App } from '../core/app.js';
import { PAGE_IDS, type PageId } from './page.js';
import { Shell, resolvePage } from './shell.js';
import { UserError } from '../cli/context.js';

export interface ScreenOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * Creates the blessed screen. blessed 0.1.81 cannot parse modern terminfo, so under
 * tmux/screen/*-256color we name xterm-256color ourselves, which keeps 256 colours.
 */
export function createScreen(options: ScreenOptions = {}): Widgets.Screen {
  const env = options.env ?? process.env;
  const term = env.TERM ?? '';
  const terminal = /256color|^tmux|^screen/.test(term) || options.output ? 'xterm-256color' : undefined;
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    autoPadding: false,
    warnings: false,
    title: 'atm',
    terminal,
    input: options.input as any,
    output: options.output as any,
  } as Widgets.IScreenOptions);
  // Draw box lines with plain Unicode, never the terminal's alternate character set: ACS shows
  // up as letters (q, x) in logs, tmux captures and some SSH clients.
  (screen as any).tput.brokenACS = true;
  return screen;
}

/** Opens the TUI on the real terminal and resolves when the user quits. */
export async function startTui(app: App, options: { initialPage?: string } = {}): Promise<void> {
  let initial: PageId | undefined;
  if (options.initialPage) {
    initial = resolvePage(options.initialPage, (id) => app.t(`pages.${id}.title`));
    if (!initial) {
      await app.close();
      throw new UserError(`--page ${JSON.stringify(options.initialPage)} is not a page; pages: ${PAGE_IDS.join(', ')}`);
    }
  }
  const screen = createScreen();
  await new Promise<void>((resolve) => {
    const shell = new Shell(app, screen, {
      initialPage: initial,
      onExit: () => resolve(),
    });
    const fatal = (error: unknown) => {
      app.reportError('tui', error);
    };
    process.on('uncaughtException', fatal);
    process.on('SIGTERM', () => void shell.exit(0));
    process.on('SIGHUP', () => void shell.exit(0));
    shell.renderNow();
    // After the first frame: connect the exchange and restart the analyses left running.
    void connectExchange(app).catch((error) => app.reportError('exchange', error));
    void app.analysis.resume().catch((error) => app.reportError('analysis', error));
  });
  process.exit(0);
}
