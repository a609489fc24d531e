import pino from 'pino';
import type { AttemptRecord } from '../../src/core/events.js';
import type { Logger } from '../../src/observability/logger.js';
import { classifyStatus, type RequestOutcome } from '../../src/observability/outcome.js';

let counter = 0;

/** The fixtures' time: request logs opened with a clock at this time keep these records. */
export const fixtureTime = Date.UTC(2025, 0, 1);

/** A finished request as the outcome pipeline hands it on; every field overridable. */
export function outcome(overrides: Partial<RequestOutcome> = {}): RequestOutcome {
  const status = overrides.status ?? 200;
  const target = 'status' in overrides && status >= 400 ? overrides.target : (overrides.target ?? 'primary/gpt-4o-mini');
  return {
    requestId: `req_${++counter}`,
    route: 'chat',
    format: 'openai',
    stream: false,
    status,
    outcome: classifyStatus(status),
    target,
    provider: target?.split('/')[0],
    model: target === undefined ? undefined : 'gpt-4o-mini',
    attempts: target === undefined ? [] : [attempt(target)],
    isFailover: false,
    isDegraded: false,
    startedAt: fixtureTime,
    latencyMs: 100,
    tokens: { input: 1000, output: 500, cachedInput: 0 },
    bodies: () => ({}),
    cost: { successUsd: status < 400 ? 0.00045 : undefined, failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true },
    ...overrides,
  };
}

export function attempt(target: string, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  const [provider = 'primary', model = 'gpt-4o-mini'] = target.split('/');
  return { target, provider, model, status: 200, durationMs: 90, ...overrides };
}

export function failedAttempt(target: string, code: AttemptRecord['code'] = 'UPSTREAM_CONNECT_FAILED', overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return attempt(target, { status: undefined, code, kind: 'retryable', durationMs: 5, ...overrides });
}

/** A pino logger whose lines tests can read. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}
