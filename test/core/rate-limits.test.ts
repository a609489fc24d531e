import { describe, expect, it } from 'vitest';
import {
  forgetExpired,
  goDurationMs,
  isWithinAllowance,
  learn,
  learnedRoom,
  learnFromHeaders,
  nextBucketExpiry,
  pacingWindow,
  windowAllowance,
  type LearnedLimits,
} from '../../src/core/rate-limits.js';
import { addToWindow, windowTotal, type WindowState } from '../../src/core/sliding-window.js';

const now = Date.parse('2026-12-02T01:00:00.000Z');

describe('pacing windows', () => {
  it.each([
    { perMinute: 600, windowMs: 10_000, allowance: 100 },
    { perMinute: 60, windowMs: 10_000, allowance: 10 },
    { perMinute: 90_000, windowMs: 10_000, allowance: 15_000 },
    { perMinute: 59, windowMs: 60_000, allowance: 59 },
    { perMinute: 3, windowMs: 60_000, allowance: 3 },
  ])('$perMinute per minute is paced as $allowance per $windowMs ms', ({ perMinute, windowMs, allowance }) => {
    const window = pacingWindow(perMinute);
    expect(window.windowMs).toBe(windowMs);
    expect(windowAllowance(perMinute, window)).toBe(allowance);
  });

  it.each([
    { kind: 'requests' as const, total: 10, amount: 1, allowance: 10, within: true },
    { kind: 'requests' as const, total: 11, amount: 1, allowance: 10, within: false },
    // Tokens: admitted while the earlier use is under the allowance, so one huge request still runs alone.
    { kind: 'tokens' as const, total: 50_000, amount: 50_000, allowance: 1000, within: true },
    { kind: 'tokens' as const, total: 1500, amount: 600, allowance: 1000, within: true },
    { kind: 'tokens' as const, total: 1600, amount: 600, allowance: 1000, within: false },
  ])('$kind: total $total after adding $amount against $allowance → within: $within', ({ kind, total, amount, allowance, within }) => {
    expect(isWithinAllowance(kind, total, amount, allowance)).toBe(within);
  });

  it('counts a burst against the window and frees room only as whole buckets leave it (fake clock)', () => {
    const window = pacingWindow(60);
    const allowance = windowAllowance(60, window);
    let state: WindowState = [];
    let admitted = 0;
    let t = 0;
    // 30 requests arrive in the first 2.9 s: the first 10 fit, the rest do not.
    for (let index = 0; index < 30; index++, t += 100) {
      const next = addToWindow(state, window, t, 1);
      if (isWithinAllowance('requests', windowTotal(next, window, t), 1, allowance)) {
        state = next;
        admitted++;
      }
    }
    expect(admitted).toBe(10);
    // Room comes back when the first bucket (0-1 s) leaves the window, at 11 s, not before.
    expect(nextBucketExpiry(window, 10_500)).toBe(11_000);
    expect(windowTotal(state, window, 10_999)).toBe(10);
    expect(windowTotal(state, window, 11_000)).toBe(0);
  });
});

describe('learning from rate-limit headers', () => {
  it.each([
    ['20ms', 20],
    ['1s', 1000],
    ['6m0s', 360_000],
    ['1.5s', 1500],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
    ['250us', 1],
    ['', undefined],
    ['12', undefined],
    ['1s junk', undefined],
    ['-1s', undefined],
  ])('reads the Go duration %j as %s ms', (text, ms) => {
    expect(goDurationMs(text)).toBe(ms);
  });

  it('reads OpenAI headers: remaining with a duration until the limit is whole again', () => {
    const learning = learnFromHeaders(
      { 'x-ratelimit-limit-requests': '5000', 'x-ratelimit-remaining-requests': '4999', 'x-ratelimit-reset-requests': '12ms', 'x-ratelimit-limit-tokens': '160000', 'x-ratelimit-remaining-tokens': '159976', 'x-ratelimit-reset-tokens': '6m0s' },
      now,
      200,
    );
    expect(learning).toEqual({ requests: { remaining: 4999, resetAt: now + 12, limit: 5000 }, tokens: { remaining: 159_976, resetAt: now + 360_000, limit: 160_000 } });
  });

  it('reads Anthropic headers: remaining with an RFC 3339 reset time, and a 429 retry-after', () => {
    const learning = learnFromHeaders(
      {
        'anthropic-ratelimit-requests-limit': '1000',
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': '2026-12-02T01:00:30Z',
        'anthropic-ratelimit-tokens-remaining': '96000',
        'anthropic-ratelimit-tokens-reset': '2026-12-02T01:00:01.500Z',
        'retry-after': '30',
      },
      now,
      429,
    );
    expect(learning).toEqual({ requests: { remaining: 0, resetAt: now + 30_000, limit: 1000 }, tokens: { remaining: 96_000, resetAt: now + 1500 }, blockedUntil: now + 30_000 });
  });

  it.each([
    ['a negative remaining', { 'x-ratelimit-remaining-requests': '-5', 'x-ratelimit-reset-requests': '1s' }],
    ['a reset that is not a duration', { 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': 'soon' }],
    ['a reset of more than a day', { 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '900h' }],
    ['a reset that is not RFC 3339', { 'anthropic-ratelimit-requests-remaining': '5', 'anthropic-ratelimit-requests-reset': 'Tue, 01 Dec 2026 00:00:00 GMT' }],
    ['no headers at all', {}],
  ])('learns nothing from %s', (_name, headers) => {
    expect(learnFromHeaders(headers, now, 200)).toEqual({});
  });

  it('takes retry-after only from a 429, as seconds, an HTTP date or retry-after-ms', () => {
    expect(learnFromHeaders({ 'retry-after': '2' }, now, 200)).toEqual({});
    expect(learnFromHeaders({ 'retry-after': '2' }, now, 429)).toEqual({ blockedUntil: now + 2000 });
    expect(learnFromHeaders({ 'retry-after-ms': '250' }, now, 429)).toEqual({ blockedUntil: now + 250 });
    expect(learnFromHeaders({ 'retry-after': new Date(now + 5000).toUTCString() }, now, 429)).toEqual({ blockedUntil: now + 5000 });
  });
});

describe('learned room', () => {
  const sent = (seq: number, tokens = 0) => ({ seq, tokens });

  it('takes the requests sent after the observed one off what the provider said was left', () => {
    const known = learn({}, { requests: { remaining: 3, resetAt: now + 1000 } }, sent(10), now);
    expect(learnedRoom(known, sent(10), 0, now)).toEqual({ hasRoom: true, requestsLeft: 3, tokensLeft: undefined });
    expect(learnedRoom(known, sent(12), 0, now)?.requestsLeft).toBe(1);
    expect(learnedRoom(known, sent(13), 0, now)).toEqual({ hasRoom: false, requestsLeft: 0, tokensLeft: undefined, freeAt: now + 1000 });
    // At the reset the provider's count is whole again: the observation says nothing any more.
    expect(learnedRoom(known, sent(13), 0, now + 1000)).toBeUndefined();
    expect(forgetExpired(known, now + 1000)).toEqual({});
  });

  it('keeps the newest observation: an answer to an older request does not overwrite a newer one', () => {
    let known: LearnedLimits = learn({}, { requests: { remaining: 2, resetAt: now + 1000 } }, sent(20), now);
    known = learn(known, { requests: { remaining: 50, resetAt: now + 1000 } }, sent(15), now + 10);
    expect(known.requests?.remaining).toBe(2);
    known = learn(known, { requests: { remaining: 40, resetAt: now + 2000 } }, sent(21), now + 20);
    expect(known.requests).toMatchObject({ remaining: 40, sentSeq: 21 });
  });

  it('reserves tokens: a request larger than what is left waits for the reset, unless it is larger than the whole limit', () => {
    const known = learn({}, { tokens: { remaining: 1000, resetAt: now + 5000, limit: 4000 } }, sent(1, 500), now);
    expect(learnedRoom(known, sent(1, 500), 900, now)?.hasRoom).toBe(true);
    // 800 tokens reserved since: 200 left, a 900-token request waits.
    expect(learnedRoom(known, sent(2, 1300), 900, now)).toMatchObject({ hasRoom: false, tokensLeft: 200, freeAt: now + 5000 });
    // Larger than the whole limit: no reset would make room for it, so it goes while any is left.
    expect(learnedRoom(known, sent(2, 1300), 5000, now)?.hasRoom).toBe(true);
  });

  it('holds a target blocked by retry-after, and the block only ever moves later', () => {
    let known = learn({}, { blockedUntil: now + 3000 }, sent(1), now);
    known = learn(known, { blockedUntil: now + 1000 }, sent(2), now);
    expect(learnedRoom(known, sent(2), 0, now + 2999)).toEqual({ hasRoom: false, freeAt: now + 3000 });
    expect(learnedRoom(known, sent(2), 0, now + 3000)).toBeUndefined();
  });

  it('returns the same object when nothing was learnt or nothing expired', () => {
    const known = learn({}, { requests: { remaining: 3, resetAt: now + 1000 } }, sent(1), now);
    expect(learn(known, {}, sent(2), now)).toBe(known);
    expect(forgetExpired(known, now + 999)).toBe(known);
  });
});
