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
  const logger = pino({ level, base: undefined }, destination);
  plainLoggers.add(logger);
  return logger;
}

/** Loggers made here without a transport: their lines are pino's default JSON, so they can be written whole. */
const plainLoggers = new WeakSet<Logger>();

/**
 * Writes lines that are already JSON straight to a Detour-made logger's destination, several in one
 * write. pino serializes each line's object key by key, and its destination measures everything it
 * holds again on every write; for the line every request gets, that showed in profiles. Undefined
 * for any other logger (a caller's own, or a pretty one), which must be given objects.
 */
export function jsonLineSink(logger: Logger): ((lines: string) => void) | undefined {
  if (!plainLoggers.has(logger)) return undefined;
  const stream = (logger as unknown as Record<symbol, { write(text: string): void }>)[pino.symbols.streamSym];
  return stream ? (lines) => stream.write(lines) : undefined;
}

/**
 * One line as pino writes it by default (`level`, `time`, the fields, `msg`), from the fields'
 * own JSON: `JSON.stringify` leaves out undefined values exactly as pino does.
 */
export function jsonLine(level: number, fields: object, message: string): string {
  const json = JSON.stringify(fields);
  return `{"level":${level},"time":${Date.now()}${json.length > 2 ? `,${json.slice(1, -1)}` : ''},"msg":${JSON.stringify(message)}}\n`;
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
