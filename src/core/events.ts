/**
 * The typed event map of the in-process bus. Every module that publishes events adds its own
 * entries here by declaration merging:
 *
 *   declare module '../events.js' { interface AppEvents { 'market.kline': KlineEvent } }
 *
 * Event names are `<area>.<what>`; payloads are plain data.
 */
export interface LogRecord {
  time: number;
  level: LogLevel;
  msg: string;
  /** The component that wrote the line (pino `name` / child binding). */
  component?: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export type ExchangeConnectionState =
  | { kind: 'none' }
  | { kind: 'connecting'; venue: string }
  | { kind: 'connected'; venue: string; simulated: boolean }
  | { kind: 'disconnected'; venue: string; reason: string; simulated: boolean };

export interface AppEvents {
  /** A log line was written (the TUI log panel listens). */
  'log.line': LogRecord;
  /** The runtime log level changed. */
  'log.level': { level: LogLevel };
  /** A persisted setting changed (language, theme, bell, log level...). */
  'settings.changed': { key: string; value: unknown };
  /** Worker pool sizes or task counts changed. */
  'workers.changed': { pool: string };
  /** The exchange connection changed state. */
  'exchange.state': ExchangeConnectionState;
  /** Something the user should hear about (the terminal bell rings when enabled). */
  'notify': { kind: 'trade' | 'error'; message: string };
  /** A long job's progress (imports, downloads, backtests). */
  'job.progress': { id: string; label: string; done: number; total: number };
  /** A job started or ended; `running` is the count of jobs still running. */
  'job.state': { id: string; label: string; state: 'running' | 'done' | 'failed' | 'cancelled'; running: number; error?: string };
}
