import type { ResultOf, TaskKind, TaskOf } from '../core/workers/tasks.js';

/**
 * A worker entry's handlers, checked against the task map (src/core/workers/tasks.ts): one
 * function per kind, taking that kind's task and returning its result.
 */
export type Handlers<K extends TaskKind> = {
  [P in K]: (task: TaskOf<P>) => ResultOf<TaskOf<P>> | Promise<ResultOf<TaskOf<P>>>;
};

/** The kinds every pool understands. */
export type CommonKind = 'ping' | 'sum' | 'spin' | 'crash';
