/**
 * What crosses the thread boundary: plain data only (numbers, strings, typed arrays, plain
 * objects). Each task names its kind; each worker entry point maps kinds to handlers.
 *
 * To add a task: add its shape to `WorkerTasks` (by declaration merging from your module is fine),
 * and register a handler in the worker entry (src/workers/analysis.ts or simulation.ts).
 */
export interface WorkerTasks {
  /** Health check: answers with the thread id. */
  ping: { task: { kind: 'ping' }; result: { threadId: number; pid: number } };
  /** Sums a Float64Array; used by tests and the bench to check data crosses intact. */
  sum: { task: { kind: 'sum'; values: Float64Array }; result: { sum: number; length: number } };
  /** Busy-waits `ms` milliseconds then answers; used to test queueing and load display. */
  spin: { task: { kind: 'spin'; ms: number }; result: { threadId: number } };
  /** Kills the worker thread with an uncaught exception; used to test recovery from a dead worker. */
  crash: { task: { kind: 'crash' }; result: never };
}

export type WorkerTask = WorkerTasks[keyof WorkerTasks]['task'];
export type WorkerResult<T extends WorkerTask> = Extract<WorkerTasks[keyof WorkerTasks], { task: { kind: T['kind'] } }>['result'];

export type TaskHandler = (task: any) => unknown | Promise<unknown>;
