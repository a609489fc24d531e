import type { BreakerOpenReason, BreakerSettings } from './breaker.js';
import { addToWindow, emptyWindow, windowTotal, type WindowSpec, type WindowState } from './sliding-window.js';

/**
 * The outcomes a closed breaker counts to decide when to open: failures and requests over a
 * sliding window. Kept apart from `BreakerState` on purpose: counting happens on every request,
 * so it stays local to each instance and synchronous, while only the resulting transition goes
 * through the (possibly shared) state store.
 */
export interface OutcomeWindow {
  readonly failures: WindowState;
  /** Every counted outcome, failures included. */
  readonly requests: WindowState;
}

export const emptyOutcomeWindow: OutcomeWindow = Object.freeze({ failures: emptyWindow, requests: emptyWindow });

/** Why the window says the breaker should open, with the figures for the event. */
export interface Trip {
  reason: Extract<BreakerOpenReason, 'failure_count' | 'failure_rate'>;
  failures: number;
  requests: number;
}

function specOf(settings: BreakerSettings): WindowSpec {
  return { windowMs: settings.windowMs, bucketCount: settings.bucketCount };
}

/** Counts one success or failure at `now`. Neutral outcomes are not counted at all. */
export function recordOutcome(window: OutcomeWindow, isFailure: boolean, now: number, settings: BreakerSettings): OutcomeWindow {
  const spec = specOf(settings);
  return {
    requests: addToWindow(window.requests, spec, now),
    failures: isFailure ? addToWindow(window.failures, spec, now) : window.failures,
  };
}

/**
 * Whether the window trips: `failureThreshold` failures, or a failure rate of at least
 * `failureRateThreshold` over at least `minimumRequests` requests. The count comes first
 * because it is the one that needs no minimum volume.
 */
export function tripOf(window: OutcomeWindow, now: number, settings: BreakerSettings): Trip | undefined {
  const spec = specOf(settings);
  const failures = windowTotal(window.failures, spec, now);
  if (failures === 0) return undefined;
  const requests = windowTotal(window.requests, spec, now);
  if (failures >= settings.failureThreshold) return { reason: 'failure_count', failures, requests };
  if (requests >= settings.minimumRequests && failures / requests >= settings.failureRateThreshold) {
    return { reason: 'failure_rate', failures, requests };
  }
  return undefined;
}
