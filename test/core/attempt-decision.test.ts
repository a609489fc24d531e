import { describe, expect, it } from 'vitest';
import { decideNextStep, type AttemptFailure, type DecisionContext, type NextStep } from '../../src/core/attempt-decision.js';

const context: DecisionContext = {
  attemptsOnTarget: 1,
  policy: { attempts: 3, backoffMs: 200, maxBackoffMs: 5_000 },
  remainingMs: 30_000,
  minAttemptMs: 50,
  hasNextTarget: true,
  retryAllowed: true,
  random: () => 0.5,
};

const serverError: AttemptFailure = { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' };

describe('decideNextStep', () => {
  const cases: Array<{ name: string; failure: AttemptFailure; context?: Partial<DecisionContext>; expected: NextStep }> = [
    { name: 'the client’s own error is answered as it is', failure: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' }, expected: { action: 'answer' } },
    { name: 'a bad key fails over without retrying', failure: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' }, expected: { action: 'failover' } },
    { name: 'a fatal error is answered even on the last target', failure: { kind: 'fatal', code: 'INVALID_REQUEST' }, context: { hasNextTarget: false }, expected: { action: 'answer' } },
    { name: 'a 500 is retried after the first backoff', failure: serverError, expected: { action: 'retry', delayMs: 100 } },
    { name: 'the second retry backs off longer', failure: serverError, context: { attemptsOnTarget: 2 }, expected: { action: 'retry', delayMs: 200 } },
    { name: 'attempts spent on this target fail over', failure: serverError, context: { attemptsOnTarget: 3 }, expected: { action: 'failover' } },
    { name: 'a spent retry budget fails over', failure: serverError, context: { retryAllowed: false }, expected: { action: 'failover' } },
    { name: 'retry-after is honoured over backoff', failure: { ...serverError, code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 1_500 }, expected: { action: 'retry', delayMs: 1_500 } },
    { name: 'a zero retry-after retries at once', failure: { ...serverError, retryAfterMs: 0 }, expected: { action: 'retry', delayMs: 0 } },
    {
      name: 'a retry-after that would outlast the deadline fails over',
      failure: { ...serverError, retryAfterMs: 29_960 },
      context: { hasNextTarget: false },
      expected: { action: 'failover' },
    },
    {
      name: 'on the last target, a wait that leaves exactly the minimum is taken',
      failure: { ...serverError, retryAfterMs: 29_950 },
      context: { hasNextTarget: false },
      expected: { action: 'retry', delayMs: 29_950 },
    },
    {
      name: 'a retry-after longer than the longest backoff fails over while another target could answer',
      failure: { ...serverError, code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 20_000 },
      expected: { action: 'failover' },
    },
    {
      name: 'the same retry-after is waited out on the last target, where it fits the deadline',
      failure: { ...serverError, code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 20_000 },
      context: { hasNextTarget: false },
      expected: { action: 'retry', delayMs: 20_000 },
    },
    { name: 'a timeout fails over when another target remains', failure: { kind: 'retryable', code: 'UPSTREAM_FIRST_BYTE_TIMEOUT' }, expected: { action: 'failover' } },
    { name: 'an idle stream fails over too', failure: { kind: 'retryable', code: 'UPSTREAM_STREAM_IDLE_TIMEOUT' }, expected: { action: 'failover' } },
    {
      name: 'a timeout on the last target is retried',
      failure: { kind: 'retryable', code: 'UPSTREAM_ATTEMPT_TIMEOUT' },
      context: { hasNextTarget: false },
      expected: { action: 'retry', delayMs: 100 },
    },
    { name: 'a single-attempt policy never retries', failure: serverError, context: { policy: { attempts: 1, backoffMs: 200, maxBackoffMs: 5_000 } }, expected: { action: 'failover' } },
  ];
  it.each(cases)('$name', ({ failure, context: overrides, expected }) => {
    expect(decideNextStep(failure, { ...context, ...overrides })).toEqual(expected);
  });
});
