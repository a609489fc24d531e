import { describe, expect, it } from 'vitest';
import { initialBreakerState, type BreakerState } from '../../src/core/breaker.js';
import { encodeChangeBody, parseChangeMessage, parseState, parseVersion } from '../../src/state/redis-codec.js';
import { VersionedMirror } from '../../src/state/redis-mirror.js';
import { mergeRules } from '../../src/state/redis-reconcile.js';

const opened: BreakerState = { status: 'open', since: 10, until: 40, cooldownMs: 30, reason: 'failure_count' };
const closed: BreakerState = { status: 'closed', since: 50 };
const entry = (state: BreakerState, version: number) => ({ state, json: JSON.stringify(state), version });

describe('VersionedMirror', () => {
  it('shows the initial state for a target never seen', () => {
    const mirror = new VersionedMirror(initialBreakerState);
    expect(mirror.view('t')).toBe(initialBreakerState);
    expect(mirror.entry('t').version).toBe(0);
  });

  it('takes newer versions and reports what the view showed before', () => {
    const mirror = new VersionedMirror(initialBreakerState);
    expect(mirror.offer('t', entry(opened, 5))).toEqual({ previous: initialBreakerState });
    expect(mirror.offer('t', entry(closed, 7))).toEqual({ previous: opened });
    expect(mirror.view('t')).toEqual(closed);
  });

  it('ignores a late message older than what it holds, so it cannot undo a newer state', () => {
    const mirror = new VersionedMirror(initialBreakerState);
    mirror.put('t', entry(closed, 7));
    expect(mirror.offer('t', entry(opened, 5))).toBeUndefined();
    expect(mirror.offer('t', entry(opened, 7))).toBeUndefined();
    expect(mirror.view('t')).toEqual(closed);
  });

  it('moves to a newer version without a change to report when the state is the same', () => {
    const mirror = new VersionedMirror(initialBreakerState);
    mirror.put('t', entry(opened, 5));
    expect(mirror.offer('t', entry(opened, 9))).toBeUndefined();
    expect(mirror.entry('t').version).toBe(9);
  });
});

describe('redis codec', () => {
  it('parses every breaker state and refuses what is not one', () => {
    const halfOpen: BreakerState = { status: 'half_open', since: 1, cooldownMs: 30, reason: 'probe_failed', probe: { holder: 'i1/r1', expiresAt: 9 } };
    for (const state of [initialBreakerState, opened, closed, halfOpen, { ...halfOpen, probe: null }]) expect(parseState('breaker', JSON.stringify(state))).toEqual(state);
    expect(parseState('breaker', '{"status":"open","since":1}')).toBeUndefined();
    expect(parseState('breaker', '{"status":"open","since":1,"until":2,"cooldownMs":1,"reason":"bored"}')).toBeUndefined();
    expect(parseState('breaker', 'not json')).toBeUndefined();
    expect(parseState('health', JSON.stringify({ status: 'healthy', consecutiveSuccesses: 1, consecutiveFailures: 0, checkedAt: null, changedAt: 0, lastError: null }))).toMatchObject({ status: 'healthy' });
    expect(parseState('health', JSON.stringify({ status: 'sick' }))).toBeUndefined();
  });

  it('reads a change message as the script publishes it: version, newline, body', () => {
    const body = encodeChangeBody('origin-1', 'breaker', 'openai/gpt-4o', JSON.stringify(opened));
    expect(parseChangeMessage(`1795325076299507\n${body}`)).toEqual({ origin: 'origin-1', kind: 'breaker', targetId: 'openai/gpt-4o', json: JSON.stringify(opened), version: 1795325076299507 });
    expect(parseChangeMessage(body)).toBeUndefined();
    expect(parseChangeMessage(`x\n${body}`)).toBeUndefined();
    expect(parseChangeMessage('12\n{"o":1}')).toBeUndefined();
  });

  it('accepts only plain decimal versions that a double holds exactly', () => {
    expect(parseVersion('0')).toBe(0);
    expect(parseVersion('1795325076299507')).toBe(1795325076299507);
    expect(parseVersion('1.7e15')).toBeUndefined();
    expect(parseVersion('12345678901234567')).toBeUndefined();
    expect(parseVersion(7)).toBeUndefined();
  });
});

describe('merge rules', () => {
  it('keeps the later breaker decision, Redis’s on a tie', () => {
    expect(mergeRules.breaker(opened, closed)).toBe(closed);
    expect(mergeRules.breaker(closed, opened)).toBe(closed);
    const sameTime = { ...closed, since: opened.since };
    expect(mergeRules.breaker(opened, sameTime)).toBe(sameTime);
    // A Redis that lost its data holds the initial state: what the instance knew goes back.
    expect(mergeRules.breaker(opened, initialBreakerState)).toBe(opened);
  });

  it('keeps the health state of the later check', () => {
    const base = { status: 'healthy' as const, consecutiveSuccesses: 1, consecutiveFailures: 0, changedAt: 0, lastError: null };
    const early = { ...base, checkedAt: 100 };
    const late = { ...base, status: 'unhealthy' as const, checkedAt: 200 };
    expect(mergeRules.health(early, late)).toBe(late);
    expect(mergeRules.health(late, early)).toBe(late);
    expect(mergeRules.health(late, { ...base, checkedAt: null })).toBe(late);
  });
});
