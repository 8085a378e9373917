import { threadId } from 'node:worker_threads';
import type { TaskHandler } from './protocol.js';

/** Handlers every pool understands. */
export const commonHandlers: Record<string, TaskHandler> = {
  ping: () => ({ threadId, pid: process.pid }),
  sum: (task: { values: Float64Array }) => {
    let sum = 0;
    for (let i = 0; i < task.values.length; i++) sum += task.values[i];
    return { sum, length: task.values.length };
  },
  spin: (task: { ms: number }) => {
    const end = Date.now() + task.ms;
    while (Date.now() < end) {
      /* busy on purpose: simulates a CPU-bound task */
    }
    return { threadId };
  },
  crash: () =>
    new Promise(() => {
      // An uncaught exception kills the worker thread, as a bug or an out-of-memory would.
      setImmediate(() => {
        throw new Error('worker crashed on purpose (crash task)');
      });
    }),
};

/** Builds a tinypool entry function dispatching on `task.kind`. */
export function dispatcher(handlers: Record<string, TaskHandler>) {
  return async (task: { kind: string }) => {
    const handler = handlers[task.kind];
    if (!handler) throw new Error(`worker: unknown task kind '${task.kind}'`);
    return handler(task);
  };
}
