/**
 * The worker task map: what crosses the thread boundary, as plain data only (numbers, strings,
 * typed arrays, plain objects). Each entry names a task kind, the task's shape and its result.
 *
 * Domain modules add their tasks by declaration merging (see src/core/analysis/tasks.ts):
 *
 *   declare module '../workers/tasks.js' {
 *     interface WorkerTasks { 'x.run': { task: { kind: 'x.run'; n: number }; result: { y: number } } }
 *   }
 *
 * and the worker entry (src/workers/*.ts) implements a handler per kind, checked by the compiler
 * against this map (src/workers/protocol.ts `Handlers`).
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

export type TaskKind = keyof WorkerTasks;
export type TaskOf<K extends TaskKind> = WorkerTasks[K]['task'];
export type WorkerTask = TaskOf<TaskKind>;
/** The result type of a task value (by its `kind`). */
export type ResultOf<T extends WorkerTask> = WorkerTasks[T['kind'] & TaskKind]['result'];

/** Compile-time check that every entry's `task.kind` is its own key (a typo fails the build). */
export type KindsMatch = { [K in TaskKind]: TaskOf<K>['kind'] extends K ? true : never };
