import type { Clock } from './clock.js';
import { SlidingWindowCounter, type WindowSpec } from './sliding-window.js';

/** How many retries (or hedges) a route may add to its traffic. */
export interface RetryBudgetSettings {
  /** Retries allowed as a fraction of requests in the window (default 0.2). */
  ratio: number;
  /** The floor: retries allowed per window however few the requests, so that a quiet route can still retry (default 10). */
  minPerWindow: number;
  /** The sliding window, in milliseconds (default 10 000). */
  windowMs: number;
  /** Buckets the window is cut into (default 10). */
  bucketCount: number;
}

export const defaultRetryBudgetSettings: Readonly<RetryBudgetSettings> = {
  ratio: 0.2,
  minPerWindow: 10,
  windowMs: 10_000,
  bucketCount: 10,
};

/**
 * A retry budget (after Finagle's): retries are capped at a fraction of recent requests, with a
 * small floor, so that a broad outage cannot multiply upstream traffic by the retry count. When
 * it is spent, a failure fails over or fails fast instead of retrying.
 *
 * Kept per instance on purpose: each instance bounds its own amplification, so the cluster's is
 * bounded too, and no request waits on a shared counter. Hedges use a budget of their own.
 */
export class RetryBudget {
  private readonly requests: SlidingWindowCounter;
  private readonly retries: SlidingWindowCounter;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
  ) {
    const spec: WindowSpec = { windowMs: settings.windowMs, bucketCount: settings.bucketCount };
    this.requests = new SlidingWindowCounter(spec);
    this.retries = new SlidingWindowCounter(spec);
  }

  /** Counts one client request (call once per request, not per attempt). */
  recordRequest(): void {
    this.requests.add(this.clock.now());
  }

  /** Spends one retry if the budget allows it; false means fail over or fail fast instead. */
  tryAcquire(): boolean {
    if (this.available() < 1) return false;
    this.retries.add(this.clock.now());
    return true;
  }

  /** Retries still allowed in the current window. */
  available(): number {
    const now = this.clock.now();
    const allowed = Math.max(this.settings.minPerWindow, Math.floor(this.settings.ratio * this.requests.total(now)));
    return Math.max(0, allowed - this.retries.total(now));
  }
}
