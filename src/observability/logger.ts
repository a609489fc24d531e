import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (when attached to a terminal); JSON otherwise. */
  pretty?: boolean;
}

/**
 * Structured JSON logs (pino). Writes are asynchronous so that a slow stdout never holds a
 * request; `pretty` uses pino-pretty when it is installed (a development dependency).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (options.pretty) {
    try {
      return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
    } catch {
      // pino-pretty is a dev dependency: fall back to JSON where it is missing.
    }
  }
  return pino({ level, base: undefined }, pino.destination({ sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
