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
  // Lines are gathered up to 4 KB per write (one write per request showed in profiles), and
  // flushed at least every 250 ms so that a quiet gateway's lines still appear at once; pino
  // flushes what is left when the process exits.
  const destination = pino.destination({ sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Ended at shutdown: nothing left to flush.
    }
  }, 250).unref();
  return pino({ level, base: undefined }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });

/** Writes out what an asynchronous logger still holds (before the process exits, or lines are lost). */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
