import type { Random } from './clock.js';

/** Retry settings for one route; `attempts` counts the first try. */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 2, backoffMs: 200, maxBackoffMs: 5000 };

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): a uniform wait in [0, min(max, base·2^n)], which spreads synchronized clients
 * apart better than a fixed or equal-jitter wait.
 *
 * @param retryIndex 0 for the wait before the first retry.
 */
export function backoffDelay(retryIndex: number, policy: Pick<RetryPolicy, 'backoffMs' | 'maxBackoffMs'>, random: Random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}
