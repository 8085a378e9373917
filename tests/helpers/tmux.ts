import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Drives the real `atm` program in a real terminal: a tmux session on a private socket.
 * `waitForText` polls `capture-pane` until the text shows (never a blind sleep).
 */
export class TmuxSession {
  readonly socket = `atm-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly name = 'atm';

  constructor(
    readonly command: string[],
    readonly options: { width?: number; height?: number; env?: Record<string, string> } = {},
  ) {}

  private tmux(args: string[], check = true): string {
    const result = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (check && result.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  start(): void {
    const env = { TERM: 'xterm-256color', ...this.options.env };
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
    const cmd = `cd ${shellQuote(ROOT)} && env ${envArgs} ${this.command.map(shellQuote).join(' ')}; echo "[exited $?]"; sleep 30`;
    this.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(this.options.width ?? 120), '-y', String(this.options.height ?? 36), cmd]);
    this.tmux(['set-option', '-t', this.name, 'escape-time', '0'], false);
  }

  capture(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name]);
  }

  /** The pane with its colours and attributes as escape sequences (`capture-pane -e`). */
  captureEscapes(): string {
    return this.tmux(['capture-pane', '-e', '-p', '-t', this.name]);
  }

  /** A tmux format evaluated for the pane (e.g. '#{mouse_sgr_flag}': whether the program asked for SGR mouse reports). */
  display(format: string): string {
    return this.tmux(['display-message', '-p', '-t', this.name, format]).trim();
  }

  /** Sends keys by tmux name ('Enter', 'Escape', 'BTab', 'C-c') or literal text with `literal`. */
  send(keys: string, literal = false): void {
    this.tmux(['send-keys', '-t', this.name, ...(literal ? ['-l', keys] : [keys])]);
  }

  async waitForText(text: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const start = Date.now();
    let screen = '';
    while (Date.now() - start < timeoutMs) {
      screen = this.capture();
      if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)}; the screen shows:\n${screen}`);
  }

  async waitForAbsent(text: string, timeoutMs = 10_000): Promise<string> {
    const start = Date.now();
    let screen = '';
    while (Date.now() - start < timeoutMs) {
      screen = this.capture();
      if (!screen.includes(text)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${text} to go; the screen shows:\n${screen}`);
  }

  /** The pid of the program in the pane (the shell's child). */
  programPid(): number | undefined {
    const panePid = this.tmux(['list-panes', '-t', this.name, '-F', '#{pane_pid}']).trim();
    const out = spawnSync('pgrep', ['-P', panePid], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    return out ? Number(out) : undefined;
  }

  kill(): void {
    this.tmux(['kill-server'], false);
  }
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
