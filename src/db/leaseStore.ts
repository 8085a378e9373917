import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaseHeldError, type Lease, type LeaseHolder, type LeaseOptions, type LeaseRepository } from '../core/leases.js';
import { writeTransaction, type Database } from './database.js';

const DEFAULT_TTL_MS = 30_000;

interface Row {
  name: string;
  pid: number;
  host: string;
  label: string;
  token: string;
  acquired_at: number;
  heartbeat_at: number;
  ttl_ms: number;
  status_json: string | null;
}

/** Whether process `pid` exists on this machine (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Leases on SQLite (table `leases`). A row's holder is alive when its heartbeat is younger than its
 * time-to-live and, on this host, its process exists (a SIGKILLed holder frees its lease at once).
 * Acquire and heartbeat run in IMMEDIATE transactions, so two processes racing for one lease
 * cannot both win.
 */
export class LeaseStore implements LeaseRepository {
  private readonly host = hostname();

  constructor(
    readonly db: Database,
    private readonly now: () => number = Date.now,
    private readonly pid: number = process.pid,
  ) {}

  private alive(row: Row, now: number): boolean {
    if (now - row.heartbeat_at > row.ttl_ms) return false;
    if (row.host === this.host && !processAlive(row.pid)) return false;
    return true;
  }

  private toHolder(row: Row): LeaseHolder {
    let status: unknown = null;
    try {
      status = row.status_json === null ? null : JSON.parse(row.status_json);
    } catch {
      status = null;
    }
    return { name: row.name, pid: row.pid, host: row.host, label: row.label, acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at, status };
  }

  acquire(name: string, options: LeaseOptions): Lease {
    const sqlite = this.db.sqlite;
    const token = randomBytes(12).toString('hex');
    const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
    writeTransaction(sqlite, () => {
      const now = this.now();
      const row = sqlite.prepare('SELECT * FROM leases WHERE name = ?').get(name) as Row | undefined;
      if (row && this.alive(row, now)) throw new LeaseHeldError(this.toHolder(row));
      sqlite
        .prepare(
          `INSERT INTO leases (name, pid, host, label, token, acquired_at, heartbeat_at, ttl_ms, status_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, host = excluded.host, label = excluded.label, token = excluded.token,
             acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, ttl_ms = excluded.ttl_ms, status_json = NULL`,
        )
        .run(name, this.pid, this.host, options.label, token, now, now, ttl);
    });
    let released = false;
    return {
      name,
      heartbeat: (status?: unknown): boolean => {
        if (released) return false;
        const json = status === undefined ? null : JSON.stringify(status);
        const changes = writeTransaction(sqlite, () =>
          status === undefined
            ? sqlite.prepare('UPDATE leases SET heartbeat_at = ? WHERE name = ? AND token = ?').run(this.now(), name, token).changes
            : sqlite.prepare('UPDATE leases SET heartbeat_at = ?, status_json = ? WHERE name = ? AND token = ?').run(this.now(), json, name, token).changes,
        );
        return changes === 1;
      },
      release: (): void => {
        if (released) return;
        released = true;
        try {
          writeTransaction(sqlite, () => sqlite.prepare('DELETE FROM leases WHERE name = ? AND token = ?').run(name, token));
        } catch {
          // a closed database at shutdown: the lease frees itself when this process is gone
        }
      },
    };
  }

  holder(name: string): LeaseHolder | undefined {
    const row = this.db.sqlite.prepare('SELECT * FROM leases WHERE name = ?').get(name) as Row | undefined;
    return row && this.alive(row, this.now()) ? this.toHolder(row) : undefined;
  }

  list(prefix = ''): LeaseHolder[] {
    const rows = this.db.sqlite.prepare("SELECT * FROM leases WHERE substr(name, 1, ?) = ? ORDER BY name").all(prefix.length, prefix) as Row[];
    const now = this.now();
    return rows.filter((r) => this.alive(r, now)).map((r) => this.toHolder(r));
  }
}
