import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { EventBus } from './bus.js';
import type { LogLevel, LogRecord } from './events.js';

export type { Logger } from 'pino';

const LEVEL_NAMES: Record<number, LogLevel> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * Keys whose values never reach a log line, at any depth we know of. Exchange adapters must log
 * through this logger (or pass objects shaped like these) so keys and signatures stay out.
 */
export const REDACTED_PATHS = [
  'apiKey', 'apiSecret', 'secret', 'signature', 'privateKey', 'listenKey',
  '*.apiKey', '*.apiSecret', '*.secret', '*.signature', '*.privateKey', '*.listenKey',
  'headers["x-mbx-apikey"]', '*.headers["x-mbx-apikey"]',
];

/** Recent log lines for the TUI log panel, in a fixed-size ring. */
export class LogRing {
  private readonly lines: LogRecord[] = [];
  constructor(private readonly capacity: number) {}
  push(record: LogRecord): void {
    this.lines.push(record);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }
  recent(count = this.capacity): LogRecord[] {
    return this.lines.slice(-count);
  }
}

export interface Logging {
  logger: Logger;
  ring: LogRing;
  setLevel(level: LogLevel): void;
  flush(): Promise<void>;
}

/**
 * Structured logging (pino) to a file in the data directory, never to the terminal: the TUI owns
 * it. Every line is also kept in a ring and published on the bus for the log panel.
 */
export function createLogging(options: { file: string; level: LogLevel; bus?: EventBus; panelLines: number; sync?: boolean }): Logging {
  mkdirSync(dirname(options.file), { recursive: true });
  const ring = new LogRing(options.panelLines);
  const fileStream = pino.destination({ dest: options.file, sync: options.sync ?? false, mkdir: true });
  const panelStream = {
    write(line: string) {
      try {
        const obj = JSON.parse(line);
        const record: LogRecord = {
          time: obj.time,
          level: LEVEL_NAMES[obj.level] ?? 'info',
          msg: String(obj.msg ?? ''),
          component: obj.component,
        };
        ring.push(record);
        options.bus?.emit('log.line', record);
      } catch {
        // A line that is not JSON cannot come from pino; ignore it rather than crash the program.
      }
    },
  };
  const logger = pino(
    { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    pino.multistream([
      { level: 'trace', stream: fileStream },
      { level: 'trace', stream: panelStream },
    ]),
  );
  return {
    logger,
    ring,
    setLevel(level) {
      logger.level = level;
      options.bus?.emit('log.level', { level });
    },
    flush() {
      return new Promise((resolve) => {
        try {
          fileStream.flush((/* err */) => resolve());
        } catch {
          resolve();
        }
      });
    },
  };
}
