import { backoffDelay, type RetryPolicy } from './backoff.js';
import type { Random } from './clock.js';
import type { DetourErrorCode, ErrorKind } from './errors.js';

/**
 * The attempt loop as a state machine. After every attempt the engine asks `decideNextStep`
 * what comes next; the answer depends on the failure's class (decided here, from its kind and
 * code) and on where the walk stands, never on anything the engine looks up itself. The walk's
 * position is a `WalkCursor` value that `advance` moves; the engine keeps no other state.
 */

/** What the attempt loop does next. Terminal steps end the walk; the others move its cursor. */
export type NextStep =
  /** The attempt answered: serve it. */
  | { step: 'success' }
  /** Try the same target again after `delayMs` (backoff, or the upstream's retry-after). */
  | { step: 'retry'; delayMs: number }
  /** Go to the next candidate at once. */
  | { step: 'failover' }
  /** This key is rate-limited and the next candidate is the same provider and model with another key. */
  | { step: 'sibling_key' }
  /** The prompt did not fit this target's window: only candidates with a larger one are worth trying. */
  | { step: 'larger_window'; exceededWindow: number | undefined }
  /** Both sides of a hedge failed: the walk goes on after the hedge's target. */
  | { step: 'hedge_lost' }
  /** A half-open or recovery probe failed: its circuit is open again, so the target is not retried. */
  | { step: 'probe_failed' }
  /** No time is left for another attempt: the request ends with a deadline error. */
  | { step: 'deadline' }
  /** The client went away: stop, call nothing more. */
  | { step: 'client_gone' }
  /** The client's own error: answer it as it is, call nothing else. */
  | { step: 'answer' };

export type StepName = NextStep['step'];

export interface AttemptFailure {
  kind: ErrorKind;
  code: DetourErrorCode;
  retryAfterMs?: number | undefined;
}

/**
 * What a failure means to the walk:
 * - `client_gone`: the client left; nothing more is worth doing;
 * - `fatal`: the client's own error;
 * - `rate_limited`: the target (key) asks to be left alone for a while;
 * - `timeout`: the target hung; it is not waited on twice while another could answer;
 * - `context_window`: the prompt is too long for this target's window;
 * - `unusable`: this target cannot serve it (a bad key, an unknown model, a spent quota);
 * - `transient`: anything else retryable (5xx, resets, refused connections).
 */
export type FailureClass = 'client_gone' | 'fatal' | 'rate_limited' | 'timeout' | 'context_window' | 'unusable' | 'transient';

const timeoutCodes: ReadonlySet<DetourErrorCode> = new Set(['UPSTREAM_ATTEMPT_TIMEOUT', 'UPSTREAM_FIRST_BYTE_TIMEOUT', 'UPSTREAM_STREAM_IDLE_TIMEOUT']);

export function failureClass(failure: AttemptFailure): FailureClass {
  if (failure.code === 'CLIENT_CLOSED') return 'client_gone';
  if (failure.kind === 'fatal') return 'fatal';
  if (failure.code === 'CONTEXT_LENGTH_EXCEEDED') return 'context_window';
  if (failure.kind === 'failover') return 'unusable';
  if (failure.code === 'UPSTREAM_RATE_LIMITED') return 'rate_limited';
  if (timeoutCodes.has(failure.code)) return 'timeout';
  return 'transient';
}

/**
 * How long a failure asks its target to be skipped by every request (a 429's retry-after), or
 * undefined when it asks nothing: a rate-limited key cools down, so that the next requests go
 * straight to a target that can answer.
 */
export function coolDownOf(failure: AttemptFailure): number | undefined {
  return failureClass(failure) === 'rate_limited' && failure.retryAfterMs !== undefined && failure.retryAfterMs > 0 ? failure.retryAfterMs : undefined;
}

/** Where the walk stands: the candidate being tried and how often it was tried. */
export interface WalkCursor {
  /** Index of the current candidate in the plan's order. */
  readonly index: number;
  /** Attempts made on it so far (0 before its first). */
  readonly attempts: number;
  /** After a context-length error: only candidates whose window exceeds this are tried. */
  readonly exceededWindow?: number | undefined;
}

export const walkStart: WalkCursor = Object.freeze({ index: 0, attempts: 0 });

/** Moves the cursor for a non-terminal step; terminal steps leave it where it is. */
export function advance(cursor: WalkCursor, next: NextStep): WalkCursor {
  switch (next.step) {
    case 'retry':
      return { ...cursor, attempts: cursor.attempts + 1 };
    case 'failover':
    case 'sibling_key':
    case 'probe_failed':
      return { ...cursor, index: cursor.index + 1, attempts: 0 };
    case 'larger_window':
      return { index: cursor.index + 1, attempts: 0, exceededWindow: next.exceededWindow ?? cursor.exceededWindow };
    case 'hedge_lost':
      // The hedge went to the next candidate: both are spent.
      return { ...cursor, index: cursor.index + 2, attempts: 0 };
    default:
      return cursor;
  }
}

/** Whether the walk should stop before starting another attempt. */
export function stepBeforeAttempt(moment: { isClientGone: boolean; remainingMs: number; minAttemptMs: number }): NextStep | undefined {
  if (moment.isClientGone) return { step: 'client_gone' };
  if (moment.remainingMs < moment.minAttemptMs) return { step: 'deadline' };
  return undefined;
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
  /** Whether the next candidate is the same provider and model with another key. */
  isNextSibling?: boolean | undefined;
  /** Whether the failed attempt was a half-open or recovery probe. */
  isProbe?: boolean | undefined;
  /** Whether a hedge was sent and both of its sides failed. */
  isHedgeLost?: boolean | undefined;
  /** The failed target's context window, when known. */
  contextWindow?: number | undefined;
  /** Whether the route's retry budget allows one more retry (always true without a budget). */
  retryAllowed: boolean;
  random: Random;
}

/**
 * Decides the next step after a failed attempt.
 * - A hung target is not waited on twice while another target could answer: a timeout fails
 *   over at once when there is somewhere to go, and is retried only on the last candidate.
 * - A 429 fails over at once while another target could answer (its key cools down for the
 *   retry-after, see `coolDownOf`); its retry-after is waited out only on the last candidate,
 *   when it fits the deadline.
 * - Another retry-after (a 503's) is honoured, but while another target could answer, only up to
 *   the route's longest backoff.
 */
export function decideNextStep(failure: AttemptFailure, context: DecisionContext): NextStep {
  const kind = failureClass(failure);
  if (kind === 'client_gone') return { step: 'client_gone' };
  if (kind === 'fatal') return { step: 'answer' };
  if (context.isHedgeLost) return { step: 'hedge_lost' };
  if (context.isProbe) return { step: 'probe_failed' };
  if (kind === 'context_window') return { step: 'larger_window', exceededWindow: context.contextWindow };
  if (kind === 'unusable') return { step: 'failover' };
  if (kind === 'rate_limited' && context.isNextSibling) return { step: 'sibling_key' };
  if (kind === 'rate_limited' && context.hasNextTarget) return { step: 'failover' };
  if (context.remainingMs < context.minAttemptMs) return { step: 'deadline' };
  if (context.attemptsOnTarget >= context.policy.attempts || !context.retryAllowed) return { step: 'failover' };
  if (kind === 'timeout' && context.hasNextTarget) return { step: 'failover' };
  if (failure.retryAfterMs !== undefined && context.hasNextTarget && failure.retryAfterMs > context.policy.maxBackoffMs) return { step: 'failover' };
  const delayMs = failure.retryAfterMs ?? backoffDelay(context.attemptsOnTarget - 1, context.policy, context.random);
  if (context.remainingMs - delayMs < context.minAttemptMs) return { step: 'failover' };
  return { step: 'retry', delayMs };
}
