import { AtmError } from './errors.js';

/**
 * A lease: at most one process holds a named role at a time (for example `collector` for a data
 * directory, or `trader:<account id>` for an account). The holder renews it with a heartbeat; a
 * lease is taken over only when its holder is gone: the holder's process no longer exists on this
 * host, or its heartbeat is older than the lease's time-to-live (a holder on another host, or a
 * frozen one). Stored in the database (table `leases`, migration 0007), so every atm process on one
 * data directory sees the same leases.
 */
export interface LeaseHolder {
  name: string;
  pid: number;
  host: string;
  /** What holds it, for people: "atm collect", "atm trade --account main", "atm (TUI)". */
  label: string;
  acquiredAt: number;
  heartbeatAt: number;
  /** Free JSON the holder publishes with each heartbeat (figures shown by other processes). */
  status: unknown;
}

export interface LeaseOptions {
  /** A heartbeat older than this frees the lease (default 30 s). */
  ttlMs?: number;
  label: string;
}

export interface Lease {
  readonly name: string;
  /** Renews the heartbeat and publishes `status`; false when the lease was lost (taken over). */
  heartbeat(status?: unknown): boolean;
  /** Gives the lease up (idempotent). */
  release(): void;
}

/** The storage port of leases (src/db/leaseStore.ts). */
export interface LeaseRepository {
  /** Takes the lease, or throws LeaseHeldError naming the live holder. */
  acquire(name: string, options: LeaseOptions): Lease;
  /** The current holder, when the lease is held by a live process; undefined when free. */
  holder(name: string): LeaseHolder | undefined;
  /** Every lease whose name starts with `prefix` held by a live process. */
  list(prefix?: string): LeaseHolder[];
}

export class LeaseHeldError extends AtmError {
  constructor(readonly holder: LeaseHolder) {
    super('user', `${holder.name} is held by ${holder.label} (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.acquiredAt).toISOString()}); stop it first`);
    this.name = 'LeaseHeldError';
  }
}
