import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy } from '../../src/core/backoff.js';
import { seededRandom } from '../../src/core/clock.js';

const policy: RetryPolicy = { attempts: 5, backoffMs: 200, maxBackoffMs: 5_000 };

describe('backoffDelay (full jitter)', () => {
  // The ceiling doubles per retry from the base until the cap: 200, 400, 800, … 5 000.
  const cases = [
    { retryIndex: 0, random: 0.5, expected: 100 },
    { retryIndex: 1, random: 0.5, expected: 200 },
    { retryIndex: 2, random: 0.5, expected: 400 },
    { retryIndex: 4, random: 0.5, expected: 1_600 },
    { retryIndex: 5, random: 0.5, expected: 2_500 },
    { retryIndex: 30, random: 0.5, expected: 2_500 },
    { retryIndex: 3, random: 0, expected: 0 },
    { retryIndex: 3, random: 0.999_999, expected: 1_599 },
  ];
  it.each(cases)('retry $retryIndex with random $random waits $expected ms', ({ retryIndex, random, expected }) => {
    expect(backoffDelay(retryIndex, policy, () => random)).toBe(expected);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('stays within [0, ceiling) for retry %i under a seed', (retryIndex) => {
    const random = seededRandom(retryIndex + 1);
    const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retryIndex);
    const delays = Array.from({ length: 500 }, () => backoffDelay(retryIndex, policy, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(ceiling);
    // Full jitter spreads over the whole range rather than bunching near the ceiling.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(ceiling * 0.9);
  });

  it('is zero without a base', () => {
    expect(backoffDelay(3, { backoffMs: 0, maxBackoffMs: 5_000 }, () => 0.9)).toBe(0);
  });

  it('has defaults of two attempts, 200 ms base, 5 s cap', () => {
    expect(defaultRetryPolicy).toEqual({ attempts: 2, backoffMs: 200, maxBackoffMs: 5_000 });
  });
});
