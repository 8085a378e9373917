import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { App } from '../core/app.js';
import { PAGE_IDS, type PageId } from './page.js';
import { Shell, resolvePage } from './shell.js';
import { UserError } from '../core/errors.js';

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
  if (/^(truecolor|24bit)$/i.test(env.COLORTERM ?? '') && (screen as any).tput.colors >= 256) sendTrueColour(screen);
  return screen;
}

/**
 * On a terminal that says it takes 24-bit colour (COLORTERM=truecolor or 24bit), each 256-colour
 * SGR blessed writes is sent as its RGB value instead (38;5;239 becomes 38;2;78;78;78): a terminal
 * whose 256-colour palette is customised still shows the theme's colours. blessed keeps colours as
 * palette indices, and every theme colour is exactly one of them, so nothing is lost.
 */
function sendTrueColour(screen: Widgets.Screen): void {
  const palette = (blessed as unknown as { colors: { vcolors: [number, number, number][] } }).colors.vcolors;
  const program = screen.program as unknown as { _write(text: string): unknown };
  const write = program._write.bind(program);
  // blessed writes its SGR sequences inline in screen.draw, which hands each frame to _write
  const translate = (params: string) => {
    const p = params.split(';');
    for (let i = 0; i + 2 < p.length; i++) {
      if ((p[i] === '38' || p[i] === '48') && p[i + 1] === '5') {
        const rgb = Number(p[i + 2]) >= 16 ? palette[Number(p[i + 2])] : undefined;
        if (rgb) p.splice(i + 1, 2, '2', ...rgb.map(String));
        i += rgb ? 4 : 2;
      }
    }
    return p.join(';');
  };
  program._write = (text: string) => write(text.includes('5;') ? text.replace(/\x1b\[([\d;]*)m/g, (_seq, params: string) => `\x1b[${translate(params)}m`) : text);
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
    void app.connectExchange().catch((error) => app.reportError('exchange', error));
    // collects as configured, unless `atm collect` (or another TUI) does: then its status is shown
    app.collector.autoStart('atm (TUI)');
    void app.analysis.resume().catch((error) => app.reportError('analysis', error));
  });
  process.exit(0);
}
