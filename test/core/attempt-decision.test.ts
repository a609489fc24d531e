import { describe, expect, it } from 'vitest';
import {
  advance,
  coolDownOf,
  decideNextStep,
  failureClass,
  stepBeforeAttempt,
  walkStart,
  type AttemptFailure,
  type DecisionContext,
  type FailureClass,
  type NextStep,
  type WalkCursor,
} from '../../src/core/attempt-decision.js';

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
const rateLimited: AttemptFailure = { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 1_000 };

describe('failureClass', () => {
  const cases: Array<{ failure: AttemptFailure; expected: FailureClass }> = [
    { failure: { kind: 'fatal', code: 'CLIENT_CLOSED' }, expected: 'client_gone' },
    { failure: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' }, expected: 'fatal' },
    { failure: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' }, expected: 'context_window' },
    { failure: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' }, expected: 'unusable' },
    { failure: rateLimited, expected: 'rate_limited' },
    { failure: { kind: 'retryable', code: 'UPSTREAM_FIRST_BYTE_TIMEOUT' }, expected: 'timeout' },
    { failure: { kind: 'retryable', code: 'UPSTREAM_CONNECT_FAILED' }, expected: 'transient' },
  ];
  it.each(cases)('$failure.code ($failure.kind) is $expected', ({ failure, expected }) => {
    expect(failureClass(failure)).toBe(expected);
  });

  it('a 429 with a retry-after cools its target down for that long; other failures ask nothing', () => {
    expect(coolDownOf(rateLimited)).toBe(1_000);
    expect(coolDownOf({ ...rateLimited, retryAfterMs: undefined })).toBeUndefined();
    expect(coolDownOf({ ...serverError, retryAfterMs: 1_000 })).toBeUndefined();
  });
});

describe('decideNextStep', () => {
  const cases: Array<{ name: string; failure: AttemptFailure; context?: Partial<DecisionContext>; expected: NextStep }> = [
    { name: 'the client’s own error is answered as it is', failure: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' }, expected: { step: 'answer' } },
    { name: 'a client that left stops the walk', failure: { kind: 'fatal', code: 'CLIENT_CLOSED' }, expected: { step: 'client_gone' } },
    { name: 'a bad key fails over without retrying', failure: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' }, expected: { step: 'failover' } },
    { name: 'a fatal error is answered even on the last target', failure: { kind: 'fatal', code: 'INVALID_REQUEST' }, context: { hasNextTarget: false }, expected: { step: 'answer' } },
    { name: 'a 500 is retried after the first backoff', failure: serverError, expected: { step: 'retry', delayMs: 100 } },
    { name: 'the second retry backs off longer', failure: serverError, context: { attemptsOnTarget: 2 }, expected: { step: 'retry', delayMs: 200 } },
    { name: 'attempts spent on this target fail over', failure: serverError, context: { attemptsOnTarget: 3 }, expected: { step: 'failover' } },
    { name: 'a spent retry budget fails over', failure: serverError, context: { retryAllowed: false }, expected: { step: 'failover' } },
    { name: 'a 503’s retry-after is honoured over backoff', failure: { ...serverError, retryAfterMs: 1_500 }, expected: { step: 'retry', delayMs: 1_500 } },
    { name: 'a zero retry-after retries at once', failure: { ...serverError, retryAfterMs: 0 }, expected: { step: 'retry', delayMs: 0 } },
    { name: 'a 429 fails over at once while another target could answer', failure: rateLimited, expected: { step: 'failover' } },
    { name: 'a 429 moves to the sibling key first', failure: rateLimited, context: { isNextSibling: true }, expected: { step: 'sibling_key' } },
    { name: 'a 429 on the last target waits out its retry-after', failure: rateLimited, context: { hasNextTarget: false }, expected: { step: 'retry', delayMs: 1_000 } },
    {
      name: 'a 429 on the last target whose retry-after outlasts the deadline gives up',
      failure: { ...rateLimited, retryAfterMs: 29_960 },
      context: { hasNextTarget: false },
      expected: { step: 'failover' },
    },
    {
      name: 'on the last target, a wait that leaves exactly the minimum is taken',
      failure: { ...serverError, retryAfterMs: 29_950 },
      context: { hasNextTarget: false },
      expected: { step: 'retry', delayMs: 29_950 },
    },
    {
      name: 'a retry-after longer than the longest backoff fails over while another target could answer',
      failure: { ...serverError, retryAfterMs: 20_000 },
      expected: { step: 'failover' },
    },
    { name: 'a timeout fails over when another target remains', failure: { kind: 'retryable', code: 'UPSTREAM_FIRST_BYTE_TIMEOUT' }, expected: { step: 'failover' } },
    { name: 'an idle stream fails over too', failure: { kind: 'retryable', code: 'UPSTREAM_STREAM_IDLE_TIMEOUT' }, expected: { step: 'failover' } },
    {
      name: 'a timeout on the last target is retried',
      failure: { kind: 'retryable', code: 'UPSTREAM_ATTEMPT_TIMEOUT' },
      context: { hasNextTarget: false },
      expected: { step: 'retry', delayMs: 100 },
    },
    { name: 'a single-attempt policy never retries', failure: serverError, context: { policy: { attempts: 1, backoffMs: 200, maxBackoffMs: 5_000 } }, expected: { step: 'failover' } },
    { name: 'a failed probe is not retried: its circuit is open again', failure: serverError, context: { isProbe: true }, expected: { step: 'probe_failed' } },
    { name: 'a lost hedge moves past the hedge’s target', failure: serverError, context: { isHedgeLost: true }, expected: { step: 'hedge_lost' } },
    {
      name: 'a prompt too long for this window looks for a larger one',
      failure: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' },
      context: { contextWindow: 8_192 },
      expected: { step: 'larger_window', exceededWindow: 8_192 },
    },
    { name: 'no time left after a transient failure is the deadline', failure: serverError, context: { remainingMs: 10 }, expected: { step: 'deadline' } },
  ];
  it.each(cases)('$name', ({ failure, context: overrides, expected }) => {
    expect(decideNextStep(failure, { ...context, ...overrides })).toEqual(expected);
  });
});

describe('the walk cursor', () => {
  const at = (index: number, attempts: number, exceededWindow?: number): WalkCursor => ({ index, attempts, ...(exceededWindow === undefined ? {} : { exceededWindow }) });
  const cases: Array<{ name: string; from: WalkCursor; step: NextStep; expected: WalkCursor }> = [
    { name: 'a retry stays on the target', from: at(1, 1), step: { step: 'retry', delayMs: 5 }, expected: at(1, 2) },
    { name: 'a failover moves to the next target', from: at(1, 2), step: { step: 'failover' }, expected: at(2, 0) },
    { name: 'a sibling key is the next target', from: walkStart, step: { step: 'sibling_key' }, expected: at(1, 0) },
    { name: 'a failed probe moves on', from: walkStart, step: { step: 'probe_failed' }, expected: at(1, 0) },
    { name: 'a lost hedge skips the hedge’s target', from: walkStart, step: { step: 'hedge_lost' }, expected: at(2, 0) },
    { name: 'a larger window is remembered', from: walkStart, step: { step: 'larger_window', exceededWindow: 8_192 }, expected: at(1, 0, 8_192) },
    { name: 'success leaves it', from: at(2, 1), step: { step: 'success' }, expected: at(2, 1) },
    { name: 'the deadline leaves it', from: at(2, 1), step: { step: 'deadline' }, expected: at(2, 1) },
  ];
  it.each(cases)('$name', ({ from, step, expected }) => {
    expect(advance(from, step)).toEqual(expected);
  });

  it('stops before an attempt when the client left or no time is left', () => {
    expect(stepBeforeAttempt({ isClientGone: true, remainingMs: 1_000, minAttemptMs: 50 })).toEqual({ step: 'client_gone' });
    expect(stepBeforeAttempt({ isClientGone: false, remainingMs: 49, minAttemptMs: 50 })).toEqual({ step: 'deadline' });
    expect(stepBeforeAttempt({ isClientGone: false, remainingMs: 50, minAttemptMs: 50 })).toBeUndefined();
  });
});
