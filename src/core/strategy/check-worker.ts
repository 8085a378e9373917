import { parentPort, workerData } from 'node:worker_threads';
import { runCheck, type CheckOptions, type CheckReport } from './check.js';
import { locateCompiled } from './locate.js';
import { StrategyRegistry } from './registry.js';

/**
 * Worker entry of `checkInWorker` (sandbox.ts): loads one strategy, tells the host it is about to
 * run, runs the check and posts the report. The host may pause this thread with the inspector when
 * it overruns and asks `__atmLocate` where the paused code is in the user's file.
 */
export interface CheckWorkerData {
  target: { name: string } | { file: string };
  dir: string | undefined;
  options: Omit<CheckOptions, 'progress' | 'timeLimitMs'>;
  progress: SharedArrayBuffer;
}

export type CheckWorkerMessage = { type: 'started'; strategy: string; source: string } | { type: 'report'; report: CheckReport };

(globalThis as Record<string, unknown>).__atmLocate = (url: string, line1: number, column1: number) => JSON.stringify(locateCompiled(url, line1, column1) ?? null);

const data = workerData as CheckWorkerData;
const registry = new StrategyRegistry(data.dir);
const loaded = 'file' in data.target ? registry.load(data.target.file) : registry.get(data.target.name);
const post = (m: CheckWorkerMessage) => parentPort!.postMessage(m);
if (!loaded.ok) {
  const e = loaded.error;
  post({
    type: 'report',
    report: { ok: false, strategy: e.strategy, source: e.file ?? '', klines: 0, decisions: 0, long: 0, short: 0, flat: 0, targetChanges: 0, withStops: 0, elapsedMs: 0, error: e.toJSON() },
  });
} else {
  post({ type: 'started', strategy: loaded.value.name, source: loaded.value.source });
  post({ type: 'report', report: runCheck(loaded.value, { ...data.options, progress: new Int32Array(data.progress) }) });
}
