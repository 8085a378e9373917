import { threadId } from 'node:worker_threads';
import type { TaskKind, WorkerTask } from '../core/workers/tasks.js';
import type { CommonKind, Handlers } from './protocol.js';

/** Handlers every pool understands. */
export const commonHandlers: Handlers<CommonKind> = {
  ping: () => ({ threadId, pid: process.pid }),
  sum: (task) => {
    let sum = 0;
    for (let i = 0; i < task.values.length; i++) sum += task.values[i];
    return { sum, length: task.values.length };
  },
  spin: (task) => {
    const end = Date.now() + task.ms;
    while (Date.now() < end) {
      /* busy on purpose: simulates a CPU-bound task */
    }
    return { threadId };
  },
  crash: () =>
    new Promise<never>(() => {
      // An uncaught exception kills the worker thread, as a bug or an out-of-memory would.
      setImmediate(() => {
        throw new Error('worker crashed on purpose (crash task)');
      });
    }),
};

/** Builds a tinypool entry function dispatching on `task.kind`. */
export function dispatcher<K extends TaskKind>(handlers: Handlers<K>) {
  const table = handlers as unknown as Record<string, (task: WorkerTask) => unknown>;
  return async (task: WorkerTask): Promise<unknown> => {
    const handler = Object.hasOwn(table, task.kind) ? table[task.kind] : undefined;
    if (!handler) throw new Error(`worker: unknown task kind '${task.kind}'`);
    return handler(task);
  };
}
