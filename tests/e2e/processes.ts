import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from '../helpers/wait.js';

/** A running child process with its output collected. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit status (-1 when ended by a signal). */
  exited: Promise<number>;
}

/** Starts `node bin/atm.js ...args` (the built program) and collects its output. */
export function startAtm(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, ['bin/atm.js', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for a process to exit, killing it (and failing) when it runs past `timeoutMs`. */
export async function finish(p: Running, timeoutMs: number, what: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(new Error(`${what} still running after ${timeoutMs} ms; stderr: ${p.stderr().slice(-500)}`));
    }, timeoutMs);
  });
  try {
    const code = await Promise.race([p.exited, timeout]);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** A separate `atm exchange-sim` process on a free port. */
export interface SimProcess extends Running {
  restUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startSim(args: readonly string[]): Promise<SimProcess> {
  const p = startAtm(['exchange-sim', '--port', '0', ...args]);
  let code: number | undefined;
  void p.exited.then((c) => (code = c));
  await waitFor(() => /REST\s+http:\/\/127\.0\.0\.1:\d+/.test(p.stdout()) || code !== undefined, 60_000, 'the exchange-sim process to listen');
  const m = /REST\s+(http:\/\/127\.0\.0\.1:(\d+))/.exec(p.stdout());
  if (!m) throw new Error(`exchange-sim did not start (exit ${code}): ${p.stderr()}`);
  return {
    ...p,
    restUrl: m[1],
    wsUrl: `ws://127.0.0.1:${m[2]}`,
    async stop() {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await finish(p, 10_000, 'exchange-sim');
    },
  };
}

/** A configuration file that points the `binance` venue at a local exchange process. */
export function simConfig(sim: { restUrl: string; wsUrl: string }, connectTimeoutMs?: number): string {
  return ['exchange:', '  mode: binance', ...(connectTimeoutMs ? [`  connectTimeoutMs: ${connectTimeoutMs}`] : []), '  binance:', `    restUrl: ${sim.restUrl}`, `    wsUrl: ${sim.wsUrl}`, '    routed: true', ''].join('\n');
}
