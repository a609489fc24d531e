import { DetourError } from '../core/errors.js';
import type { RouteSettings, Target } from '../core/settings.js';
import type { ErrorPayload } from '../providers/types.js';
import type { AttemptRecord } from '../core/events.js';
import type { Plan } from './plan.js';

export interface AllFailed {
  status: number;
  error: DetourError;
  headers: Record<string, string>;
}

/**
 * Tells the client what to do when no target answered: 429 with retry-after when every target
 * was rate-limited, 504 when the deadline ran out, 503 otherwise; 400 when no target could
 * express the request at all.
 */
export function allFailedError(route: RouteSettings, attempts: readonly AttemptRecord[], lastError: DetourError | undefined, isDeadline: boolean): AllFailed {
  const summary = attempts.map((attempt) => `${attempt.target}: ${attempt.status ?? '-'} ${attempt.code ?? ''}`.trim()).join('; ');
  if (lastError?.code === 'TARGET_AT_LIMIT' && !isDeadline) {
    // No target had room (and no wait was possible): the client comes back when the first may have.
    const seconds = Math.max(1, Math.ceil((lastError.retryAfterMs ?? 1000) / 1000));
    return {
      status: 429,
      headers: { 'retry-after': String(seconds) },
      error: new DetourError({ kind: 'retryable', code: 'RATE_LIMITED', message: `every target of route "${route.name}" is at its rate limit; retry after ${seconds} s${summary ? ` (${summary})` : ''}` }),
    };
  }
  if (attempts.length === 0 && lastError) {
    return { status: lastError.kind === 'fatal' ? (lastError.status ?? 400) : 400, error: lastError, headers: {} };
  }
  if (isDeadline) {
    return {
      status: 504,
      headers: {},
      error: new DetourError({ kind: 'retryable', code: 'DEADLINE_EXCEEDED', message: `route "${route.name}" found no answer within its ${route.timeoutMs} ms deadline (${summary || 'no attempt could start'})` }),
    };
  }
  const rateLimited = attempts.length > 0 && attempts.every((attempt) => attempt.code === 'UPSTREAM_RATE_LIMITED');
  if (rateLimited) {
    const waits = attempts.map((attempt) => attempt.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    const seconds = Math.max(1, Math.ceil((waits.length > 0 ? Math.min(...waits) : 1000) / 1000));
    return {
      status: 429,
      headers: { 'retry-after': String(seconds) },
      error: new DetourError({ kind: 'retryable', code: 'RATE_LIMITED', message: `every target of route "${route.name}" is rate-limited; retry after ${seconds} s (${summary})` }),
    };
  }
  return {
    status: 503,
    headers: {},
    error: new DetourError({ kind: 'retryable', code: 'ALL_TARGETS_FAILED', message: `every target of route "${route.name}" failed (${summary || lastError?.message || 'no target available'})` }),
  };
}

export function errorPayload(error: DetourError, status: number, details?: Record<string, unknown>): ErrorPayload {
  return { status, code: error.code, message: error.message, param: error.param, details };
}

/** No target of the route can serve this request (images, tools, JSON, or its size): the client's to change. */
export function noCapableTargetError(route: RouteSettings, plan: Plan): DetourError {
  const reasons = plan.incapable.map(({ target, missing }) => `${target.id} lacks ${missing.join(', ')}`).join('; ');
  return new DetourError({ kind: 'fatal', code: 'UNSUPPORTED_FEATURE', status: 400, message: `no target of route "${route.name}" can serve this request (${reasons})` });
}

/** Every circuit of the route is open: fail fast, telling the client when to come back. */
export function noTargetAvailable(route: RouteSettings, plan: Plan, now: number): AllFailed {
  const seconds = plan.firstRecoveryAt === undefined ? 1 : Math.max(1, Math.ceil((plan.firstRecoveryAt - now) / 1000));
  return {
    status: 503,
    headers: { 'retry-after': String(seconds) },
    error: new DetourError({
      kind: 'retryable',
      code: 'NO_TARGET_AVAILABLE',
      message: `every target of route "${route.name}" is unavailable (circuit open: ${plan.openTargets.map((target) => target.id).join(', ')}); retry after ${seconds} s`,
    }),
  };
}

/** A target skipped because its rate limit has no room now (`reason`); room may open in `freeInMs`. */
export function atLimitError(target: Target, reason: string, freeInMs: number): DetourError {
  return new DetourError({ kind: 'retryable', code: 'TARGET_AT_LIMIT', status: 429, target: target.id, retryAfterMs: Math.max(0, freeInMs), message: `${target.id} is ${reason}` });
}

/** The route's queue could not hold the request (`full`) or held it for its whole timeout: 429, with when room may open. */
export function queueRefusal(route: RouteSettings, reason: 'full' | 'timeout', freeAt: number, now: number, waitedMs: number): AllFailed {
  const seconds = Math.max(1, Math.ceil(((Number.isFinite(freeAt) ? freeAt : now + 1000) - now) / 1000));
  const message =
    reason === 'full'
      ? `every target of route "${route.name}" is at its rate limit and the route's queue is full (${route.queue.max} waiting); retry after ${seconds} s`
      : `every target of route "${route.name}" stayed at its rate limit for the ${waitedMs} ms this request waited in the queue (queue.timeout_ms: ${route.queue.timeoutMs}); retry after ${seconds} s`;
  return { status: 429, headers: { 'retry-after': String(seconds) }, error: new DetourError({ kind: 'retryable', code: reason === 'full' ? 'QUEUE_FULL' : 'QUEUE_TIMEOUT', status: 429, message }) };
}
