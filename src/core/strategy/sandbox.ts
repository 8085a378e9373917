import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../paths.js';
import type { CheckOptions, CheckReport } from './check.js';
import type { CheckWorkerData, CheckWorkerMessage } from './check-worker.js';
import { StrategyError } from './types.js';

type Inspector = typeof import('node:inspector');

interface Paused {
  url: string;
  line1: number;
  column1: number;
}

/**
 * Pauses a worker thread through the inspector (NodeWorker domain) and returns where it is, asking
 * the worker to map that position to the user's file. Undefined when the inspector is unavailable.
 */
class WorkerProbe {
  private session: InstanceType<Inspector['Session']> | undefined;
  private workers = new Map<string, string>();
  private messages: ((m: { method?: string; id?: number; params?: unknown; result?: unknown }) => void)[] = [];

  async start(): Promise<void> {
    try {
      const inspector: Inspector = await import('node:inspector');
      const session = new inspector.Session();
      session.connect();
      session.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { url: string } } }) => this.workers.set(m.params.workerInfo.url, m.params.sessionId));
      session.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
        const msg = JSON.parse(m.params.message);
        for (const fn of this.messages) fn(msg);
      });
      await new Promise<void>((resolve, reject) => session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (e) => (e ? reject(e) : resolve())));
      this.session = session;
    } catch {
      this.session = undefined;
    }
  }

  /** Where the worker running `url` is now (user file position), or undefined. */
  async locate(url: string, timeoutMs = 2000): Promise<{ file: string; line: number; column: number } | undefined> {
    const session = this.session;
    const sessionId = this.workers.get(url) ?? (this.workers.size === 1 ? [...this.workers.values()][0] : undefined);
    if (!session || !sessionId) return undefined;
    let nextId = 0;
    const scripts = new Map<string, string>();
    const send = (method: string, params: object = {}) => {
      const id = ++nextId;
      session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
      return id;
    };
    const wait = <T>(match: (m: { method?: string; id?: number; params?: unknown; result?: unknown }) => T | undefined): Promise<T | undefined> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => done(undefined), timeoutMs);
        const fn = (m: { method?: string; id?: number; params?: unknown; result?: unknown }) => {
          if (m.method === 'Debugger.scriptParsed') {
            const p = m.params as { scriptId: string; url: string };
            scripts.set(p.scriptId, p.url);
          }
          const v = match(m);
          if (v !== undefined) done(v);
        };
        const done = (v: T | undefined) => {
          clearTimeout(timer);
          this.messages = this.messages.filter((f) => f !== fn);
          resolve(v);
        };
        this.messages.push(fn);
      });
    const enabled = wait((m) => (m.id === 1 ? true : undefined));
    send('Debugger.enable');
    if (!(await enabled)) return undefined;
    const paused = wait((m) => (m.method === 'Debugger.paused' ? (m.params as { callFrames: { location: { scriptId: string; lineNumber: number; columnNumber: number } }[] }) : undefined));
    send('Debugger.pause');
    const p = await paused;
    if (!p) return undefined;
    try {
      return await this.where(p, scripts, send, wait, () => nextId);
    } finally {
      // A paused thread cannot be terminated: let it run again (the caller terminates it).
      send('Debugger.resume');
      send('Debugger.disable');
    }
  }

  private async where(
    p: { callFrames: { location: { scriptId: string; lineNumber: number; columnNumber: number } }[] },
    scripts: Map<string, string>,
    send: (method: string, params?: object) => number,
    wait: <T>(match: (m: { id?: number; result?: unknown }) => T | undefined) => Promise<T | undefined>,
    lastId: () => number,
  ): Promise<{ file: string; line: number; column: number } | undefined> {
    // The innermost frame in a compiled strategy.
    let at: Paused | undefined;
    for (const f of p.callFrames) {
      const u = scripts.get(f.location.scriptId) ?? '';
      if (/\.atm-[0-9a-f]{16}\.js$/.test(u)) {
        at = { url: u, line1: f.location.lineNumber + 1, column1: f.location.columnNumber + 1 };
        break;
      }
    }
    if (!at) return undefined;
    const evalId = lastId() + 1;
    const answer = wait((m) => (m.id === evalId ? (m.result as { result?: { value?: string } }) : undefined));
    send('Runtime.evaluate', { expression: `__atmLocate(${JSON.stringify(at.url)}, ${at.line1}, ${at.column1})`, returnByValue: true });
    const r = await answer;
    const value = r?.result?.value;
    return value ? (JSON.parse(value) ?? undefined) : undefined;
  }

  stop(): void {
    this.session?.disconnect();
    this.session = undefined;
  }
}

export interface SandboxCheckOptions extends Omit<CheckOptions, 'progress'> {
  /** Wall time for the run over the generated series, after the file loaded (default 5000 ms). */
  timeLimitMs?: number;
  /** Wall time to compile and load the file (default 30000 ms). */
  loadLimitMs?: number;
}

/**
 * `atm strategy check`: loads a strategy (by name, or a file) in a worker thread and runs the check
 * there. A run that overruns its time limit is paused with the inspector to find the line it is
 * stuck on (mapped to the user's file), then the worker is terminated: an endless loop is reported
 * with file, line and kline, and this process carries on. Runs compiled code (dist/).
 */
export async function checkInWorker(target: { name: string } | { file: string }, dir: string | undefined, options: SandboxCheckOptions = {}): Promise<CheckReport> {
  const { timeLimitMs = 5000, loadLimitMs = 30_000, ...rest } = options;
  const progress = new SharedArrayBuffer(4);
  const kline = new Int32Array(progress);
  kline[0] = -1;
  const probe = new WorkerProbe();
  await probe.start();
  const file = join(packageRoot(), 'dist', 'core', 'strategy', 'check-worker.js');
  const data: CheckWorkerData = { target, dir, options: rest, progress };
  const worker = new Worker(file, { workerData: data });
  const label = 'name' in target ? target.name : target.file;
  try {
    return await new Promise<CheckReport>((resolve, reject) => {
      let strategy = label;
      let source = '';
      let timer = setTimeout(() => overrun('load'), loadLimitMs);
      /** Set once an outcome is decided (the overrun path terminates the worker, which emits 'exit'). */
      let settled = false;
      const overrun = async (phase: 'load' | 'run') => {
        settled = true;
        const limit = phase === 'load' ? loadLimitMs : timeLimitMs;
        const where = await probe.locate(pathToFileURL(file).href).catch(() => undefined);
        const at = kline[0];
        const error = new StrategyError({
          kind: 'timeout',
          strategy,
          reason: phase === 'load' ? `loading did not finish within ${limit} ms` : `did not finish ${rest.klines ?? 2000} klines within ${limit} ms (an endless or very slow loop?)`,
          file: where?.file ?? (source || undefined),
          line: where?.line,
          column: where?.column,
          kline: phase === 'run' && at >= 0 ? at : undefined,
        });
        await worker.terminate();
        resolve({ ok: false, strategy, source, klines: rest.klines ?? 2000, decisions: 0, long: 0, short: 0, flat: 0, targetChanges: 0, withStops: 0, elapsedMs: limit, error: error.toJSON() });
      };
      worker.on('message', (m: CheckWorkerMessage) => {
        if (m.type === 'started') {
          strategy = m.strategy;
          source = m.source;
          clearTimeout(timer);
          timer = setTimeout(() => overrun('run'), timeLimitMs);
        } else {
          clearTimeout(timer);
          settled = true;
          resolve(m.report);
        }
      });
      worker.on('error', (error) => {
        clearTimeout(timer);
        settled = true;
        reject(error);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (settled) return;
        // No report: the strategy ended the thread itself (e.g. process.exit).
        const at = kline[0];
        const error = new StrategyError({ kind: 'throw', strategy, reason: `stopped the worker thread (exit code ${code}) before finishing`, file: source || undefined, kline: at >= 0 ? at : undefined });
        resolve({ ok: false, strategy, source, klines: rest.klines ?? 2000, decisions: 0, long: 0, short: 0, flat: 0, targetChanges: 0, withStops: 0, elapsedMs: 0, error: error.toJSON() });
      });
    });
  } finally {
    probe.stop();
    await worker.terminate();
  }
}
