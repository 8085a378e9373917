import { ExchangeError } from './exchange/port.js';

/**
 * What went wrong, for the person reading it and for the exit status:
 * - `user`: the user's input or environment (a bad option, file, value, a refused action);
 *   printed as one line naming what and where, never with a stack trace. Exit status 2.
 * - `exchange`: the exchange cannot be reached or keeps failing (network, 5xx, rate limits).
 *   Exit status 3.
 * - `internal`: a bug. Printed with its stack; exit status 1.
 */
export type ErrorKind = 'user' | 'exchange' | 'internal';

/** The base of atm's errors: a message, a kind, and the context it happened in. */
export class AtmError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Where it happened (file, line, key, symbol...), for logs and tests; never secrets. */
    readonly context: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AtmError';
  }
}

/** An error caused by the user's input: printed as one clear line, never with a stack trace. */
export class UserError extends AtmError {
  constructor(message: string, context: Readonly<Record<string, unknown>> = {}) {
    super('user', message, context);
    this.name = 'UserError';
  }
}

/**
 * The kind of any thrown value. `ExchangeError` (the exchange port's contract, which keeps its own
 * fine-grained `kind`) is a user error when the exchange rejected the request as given, and an
 * exchange error when the exchange could not be reached or failed.
 */
export function errorKind(error: unknown): ErrorKind {
  if (error instanceof AtmError) return error.kind;
  if (error instanceof ExchangeError) return error.kind === 'rejected' ? 'user' : 'exchange';
  return 'internal';
}

/** Exit statuses of the command line, by outcome: the one place they are defined. */
export const EXIT_STATUS = { ok: 0, internal: 1, user: 2, exchange: 3 } as const satisfies Record<'ok' | ErrorKind, number>;
