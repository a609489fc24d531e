import type { ErrorKind } from '../core/errors.js';
import type { AttemptRecord, RequestFinishedEvent } from '../core/events.js';

/**
 * How a finished request counts for success rates and SLOs:
 * - `success`: answered (status < 400);
 * - `failure`: the gateway could not answer (5xx, or 429 when every target was rate-limited);
 * - `client_error`: the client's own fault or its hang-up (other 4xx, 499); it says nothing about
 *   the gateway or its upstreams, so it is counted apart and never burns an error budget.
 */
export type OutcomeClass = 'success' | 'failure' | 'client_error';

export function classifyStatus(status: number): OutcomeClass {
  if (status < 400) return 'success';
  if (status === 429 || status >= 500) return 'failure';
  return 'client_error';
}

/** An attempt as statistics see it: a fatal error is the request's fault, not the target's. */
export function classifyAttempt(attempt: Pick<AttemptRecord, 'code' | 'kind'>): OutcomeClass {
  if (attempt.code === undefined) return 'success';
  return attempt.kind === 'fatal' ? 'client_error' : 'failure';
}

export interface TokenCounts {
  input: number;
  output: number;
  /** Input tokens read from the provider's prompt cache (a part of `input`). */
  cachedInput: number;
}

/** Cost of one request in USD, split the way operators read a bill. */
export interface RequestCost {
  /** The answer's cost when the request succeeded; undefined when the model has no known price. */
  successUsd: number | undefined;
  /** What a request that failed still consumed (a stream cut midway). */
  failedUsd: number;
  /** Hedged and mirrored calls, when the engine reports their usage. */
  hedgeUsd: number;
  mirrorUsd: number;
  /** Whether every call with usage had a known price. */
  isPriced: boolean;
}

/** A finished request, enriched once (usage read, cost computed) off the request path. */
export interface RequestOutcome extends Omit<RequestFinishedEvent, 'usage'> {
  outcome: OutcomeClass;
  tokens?: TokenCounts | undefined;
  cost: RequestCost;
}

/** The error kind of a request's last failed attempt, for error breakdowns. */
export function lastErrorKind(attempts: readonly AttemptRecord[]): ErrorKind | undefined {
  for (let index = attempts.length - 1; index >= 0; index--) {
    const kind = attempts[index]?.kind;
    if (kind !== undefined) return kind;
  }
  return undefined;
}

/**
 * The event completed into its outcome, in place: a copy of its two dozen fields per request
 * showed in profiles, and the event is the engine's last word on the request (listeners that
 * kept it read only its own fields). `usage` stays on it, harmless: no consumer reads it, and
 * JSON leaves functions out.
 */
export function toOutcome(event: RequestFinishedEvent, tokens: TokenCounts | undefined, cost: RequestCost): RequestOutcome {
  return Object.assign(event, { outcome: classifyStatus(event.status), tokens, cost });
}
