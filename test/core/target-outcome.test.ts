import { describe, expect, it } from 'vitest';
import { classifyStatus, type DetourErrorCode, type ErrorKind } from '../../src/core/errors.js';
import { classifyOutcome, type TargetOutcome } from '../../src/core/target-outcome.js';

describe('classifyOutcome', () => {
  const cases: Array<{ name: string; error: { kind: ErrorKind; code: DetourErrorCode } | undefined; expected: TargetOutcome }> = [
    { name: 'a success', error: undefined, expected: 'success' },
    { name: 'a 500', error: classifyStatus(500), expected: 'failure' },
    { name: 'a 429', error: classifyStatus(429), expected: 'failure' },
    { name: 'a 529', error: classifyStatus(529), expected: 'failure' },
    { name: 'a first-byte timeout', error: { kind: 'retryable', code: 'UPSTREAM_FIRST_BYTE_TIMEOUT' }, expected: 'failure' },
    { name: 'a refused connection', error: { kind: 'retryable', code: 'UPSTREAM_CONNECT_FAILED' }, expected: 'failure' },
    { name: 'a bad key (401)', error: classifyStatus(401), expected: 'failure' },
    { name: 'an unknown model (404)', error: classifyStatus(404), expected: 'failure' },
    { name: 'the client’s own 400', error: classifyStatus(400), expected: 'neutral' },
    { name: 'the client’s own 422', error: classifyStatus(422), expected: 'neutral' },
    { name: 'a prompt too long for this model', error: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' }, expected: 'neutral' },
    { name: 'a content-policy refusal', error: { kind: 'failover', code: 'CONTENT_POLICY' }, expected: 'neutral' },
    { name: 'a feature this adapter cannot express', error: { kind: 'failover', code: 'UNSUPPORTED_FEATURE' }, expected: 'neutral' },
    { name: 'the client going away', error: { kind: 'fatal', code: 'CLIENT_CLOSED' }, expected: 'neutral' },
  ];
  it.each(cases)('$name is $expected', ({ error, expected }) => {
    expect(classifyOutcome(error)).toBe(expected);
  });
});
