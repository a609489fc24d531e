import { backoffDelay, type RetryPolicy } from './backoff.js';
import type { Random } from './clock.js';
import type { DetourErrorCode, ErrorKind } from './errors.js';

/** What the attempt loop does after a failed attempt. */
export type NextStep =
  | { action: 'retry'; delayMs: number }
  | { action: 'failover' }
  /** The client's own error: answer it as it is, call nothing else. */
  | { action: 'answer' };

export interface AttemptFailure {
  kind: ErrorKind;
  code: DetourErrorCode;
  retryAfterMs?: number | undefined;
}

export interface DecisionContext {
  /** Attempts already made on this target, the failed one included. */
  attemptsOnTarget: number;
  policy: RetryPolicy;
  /** Time left before the request's deadline. */
  remainingMs: number;
  /** The least time worth giving an attempt; a wait that leaves less is not taken. */
  minAttemptMs: number;
  /** Whether another candidate target remains after this one. */
  hasNextTarget: boolean;
  /** Whether the route's retry budget allows one more retry (always true without a budget). */
  retryAllowed: boolean;
  random: Random;
}

const timeoutCodes: ReadonlySet<DetourErrorCode> = new Set([
  'UPSTREAM_ATTEMPT_TIMEOUT',
  'UPSTREAM_FIRST_BYTE_TIMEOUT',
  'UPSTREAM_STREAM_IDLE_TIMEOUT',
]);

/**
 * Decides the next step from the error's kind alone (plus the time and attempts left).
 * A hung target is not waited on twice while another target could answer: a timeout fails
 * over at once when there is somewhere to go, and is retried only on the last candidate.
 * Likewise a `retry-after` is honoured when it fits the deadline, but while another target
 * could answer now, only up to the route's longest backoff: a provider asking for 20 s must not
 * hold a request that a healthy backup would serve at once.
 */
export function decideNextStep(failure: AttemptFailure, context: DecisionContext): NextStep {
  if (failure.kind === 'fatal') return { action: 'answer' };
  if (failure.kind === 'failover') return { action: 'failover' };
  if (context.attemptsOnTarget >= context.policy.attempts || !context.retryAllowed) return { action: 'failover' };
  if (timeoutCodes.has(failure.code) && context.hasNextTarget) return { action: 'failover' };

  if (failure.retryAfterMs !== undefined && context.hasNextTarget && failure.retryAfterMs > context.policy.maxBackoffMs) return { action: 'failover' };
  const delayMs =
    failure.retryAfterMs !== undefined
      ? failure.retryAfterMs
      : backoffDelay(context.attemptsOnTarget - 1, context.policy, context.random);
  if (context.remainingMs - delayMs < context.minAttemptMs) return { action: 'failover' };
  return { action: 'retry', delayMs };
}
