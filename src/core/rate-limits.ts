import type { WindowSpec } from './sliding-window.js';

/**
 * Per-target rate limits: the windows declared limits are paced over, what a provider's
 * rate-limit headers teach, and whether a target has room for one more request. Pure: every
 * function takes `now` (epoch ms) and returns new values.
 */

/** A provider account's limits as declared in the config (`limits: { rpm, tpm }`). */
export interface RateLimitSpec {
  /** Requests per minute. */
  rpm?: number | undefined;
  /** Tokens (input + output) per minute. */
  tpm?: number | undefined;
}

export type LimitKind = 'requests' | 'tokens';

/**
 * The window a per-minute limit is paced over. Providers enforce a minute's limit in shorter
 * slices (OpenAI: "60,000 requests/minute may be enforced as 1,000 requests/second"; Anthropic
 * refills a token bucket continuously), so sending a whole minute's allowance in one burst is
 * answered 429. A limit of 60 or more per minute is paced over 10 s (a sixth of it per 10 s,
 * 1 s buckets); a smaller one cannot be cut into whole sixths and keeps its full minute.
 */
export function pacingWindow(perMinute: number): WindowSpec {
  return perMinute >= 60 ? { windowMs: 10_000, bucketCount: 10 } : { windowMs: 60_000, bucketCount: 60 };
}

/** How much of a per-minute limit its pacing window allows (a sixth, or all of it for a minute's window). */
export function windowAllowance(perMinute: number, window: WindowSpec = pacingWindow(perMinute)): number {
  return (perMinute * window.windowMs) / 60_000;
}

/**
 * Whether an addition of `amount` that brought a window's total to `total` stays within
 * `allowance`. Requests must fit whole; tokens are admitted while the window's earlier use is
 * under the allowance, so that one request larger than the whole allowance still runs (alone).
 */
export function isWithinAllowance(kind: LimitKind, total: number, amount: number, allowance: number): boolean {
  return kind === 'requests' ? total <= allowance : total - amount < allowance;
}

/** When the next bucket of `window` leaves it after `now`: the earliest moment a full window has room again. */
export function nextBucketExpiry(window: WindowSpec, now: number): number {
  const bucketMs = Math.max(1, Math.ceil(window.windowMs / Math.max(1, window.bucketCount)));
  return (Math.floor(now / bucketMs) + 1) * bucketMs;
}

/** What one response said about one limit: how much was left, and when it is whole again. */
export interface LimitObservation {
  remaining: number;
  /** When the provider says the limit is back to its full value (epoch ms). */
  resetAt: number;
  /** The limit itself, when the provider said (`x-ratelimit-limit-*`, `anthropic-ratelimit-*-limit`). */
  limit?: number | undefined;
}

/** What a response's headers say about its target's limits; empty when they say nothing. */
export interface HeaderLearning {
  requests?: LimitObservation | undefined;
  tokens?: LimitObservation | undefined;
  /** `retry-after` on a 429: nothing more is accepted before this (epoch ms). */
  blockedUntil?: number | undefined;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Reads a provider's rate-limit headers. OpenAI (and compatible vendors) send
 * `x-ratelimit-remaining-requests|tokens` with `x-ratelimit-reset-requests|tokens` as Go
 * durations until the limit is whole again (`1s`, `6m0s`, `20ms`); Anthropic sends
 * `anthropic-ratelimit-requests|tokens-remaining` with `-reset` as an RFC 3339 time. A 429's
 * `retry-after` (seconds or an HTTP date, or `retry-after-ms`) blocks the target until then.
 * Unreadable values are ignored, never trusted: a negative or absurd figure says nothing.
 */
export function learnFromHeaders(headers: Headers, now: number, status: number): HeaderLearning {
  const learning: HeaderLearning = {};
  const openAiRequests = header(headers, 'x-ratelimit-remaining-requests');
  if (openAiRequests !== undefined) {
    learning.requests = observation(openAiRequests, goDurationMs(header(headers, 'x-ratelimit-reset-requests')), header(headers, 'x-ratelimit-limit-requests'), now);
    learning.tokens = observation(header(headers, 'x-ratelimit-remaining-tokens'), goDurationMs(header(headers, 'x-ratelimit-reset-tokens')), header(headers, 'x-ratelimit-limit-tokens'), now);
  } else if (header(headers, 'anthropic-ratelimit-requests-remaining') !== undefined) {
    learning.requests = observation(header(headers, 'anthropic-ratelimit-requests-remaining'), untilMs(header(headers, 'anthropic-ratelimit-requests-reset'), now), header(headers, 'anthropic-ratelimit-requests-limit'), now);
    learning.tokens = observation(header(headers, 'anthropic-ratelimit-tokens-remaining'), untilMs(header(headers, 'anthropic-ratelimit-tokens-reset'), now), header(headers, 'anthropic-ratelimit-tokens-limit'), now);
  }
  if (status === 429) {
    const waitMs = retryAfterMs(headers, now);
    if (waitMs !== undefined) learning.blockedUntil = now + waitMs;
  }
  if (!learning.requests) delete learning.requests;
  if (!learning.tokens) delete learning.tokens;
  return learning;
}

/** The longest reset believed: a header promising a window longer than a day is not a rate limit this gateway can pace. */
const maxResetMs = 86_400_000;

function observation(remaining: string | undefined, resetMs: number | undefined, limit: string | undefined, now: number): LimitObservation | undefined {
  if (remaining === undefined || resetMs === undefined) return undefined;
  const left = Number(remaining);
  if (!Number.isFinite(left) || left < 0 || resetMs < 0 || resetMs > maxResetMs) return undefined;
  const whole = limit === undefined ? undefined : Number(limit);
  return { remaining: Math.floor(left), resetAt: now + resetMs, ...(whole !== undefined && Number.isFinite(whole) && whole > 0 ? { limit: whole } : {}) };
}

const goUnitMs: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, μs: 0.001, ns: 0.000001 };

/** A Go duration (`1h2m3.5s`, `6m0s`, `20ms`, `0s`) in milliseconds, rounded up; undefined when it is not one. */
export function goDurationMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '' || text.length > 64) return undefined;
  const pattern = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (goUnitMs[match[2] as string] as number);
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length) return undefined;
  return Math.ceil(total);
}

/** An RFC 3339 time as milliseconds from `now` (0 when already past); undefined when unreadable. */
function untilMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(value.trim())) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (header(headers, 'retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return Math.min(Math.ceil(ms), maxResetMs);
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (raw.trim() !== '' && Number.isFinite(seconds)) return seconds >= 0 ? Math.min(Math.ceil(seconds * 1000), maxResetMs) : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), maxResetMs);
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What a target's provider last told us, as plain data. `remaining` was counted by the provider
 * when it answered the request sent as number `sentSeq` (this instance's count of sends to the
 * target); every request sent after that one may not have been counted yet, so it is taken off
 * `remaining` (erring towards sending less, never more).
 */
export interface LearnedLimit {
  remaining: number;
  resetAt: number;
  /** The send number of the request whose answer said it. */
  sentSeq: number;
  /** Tokens reserved by this instance before that request and it included (a running total). */
  tokensBefore: number;
  limit?: number | undefined;
}

export interface LearnedLimits {
  requests?: LearnedLimit | undefined;
  tokens?: LearnedLimit | undefined;
  blockedUntil?: number | undefined;
}

/** Running totals of what this instance sent to a target: requests and reserved tokens. */
export interface SendCount {
  seq: number;
  tokens: number;
}

/**
 * Takes in what one answer said. An observation replaces the known one only when it is newer
 * (its request was sent later), or when the known one has reset; a `blockedUntil` only ever
 * moves later. Returns `known` itself when nothing changed.
 */
export function learn(known: LearnedLimits, learning: HeaderLearning, sent: SendCount, now: number): LearnedLimits {
  let next = known;
  const take = (kind: LimitKind, seen: LimitObservation | undefined): void => {
    if (!seen) return;
    const current = next[kind];
    if (current && current.resetAt > now && current.sentSeq > sent.seq) return;
    next = { ...next, [kind]: { remaining: seen.remaining, resetAt: seen.resetAt, sentSeq: sent.seq, tokensBefore: sent.tokens, ...(seen.limit !== undefined ? { limit: seen.limit } : {}) } };
  };
  take('requests', learning.requests);
  take('tokens', learning.tokens);
  if (learning.blockedUntil !== undefined && learning.blockedUntil > (next.blockedUntil ?? 0)) next = { ...next, blockedUntil: learning.blockedUntil };
  return next;
}

/**
 * What the learned limits leave for one more request of `tokens` now: undefined when they say
 * nothing (no observation, or all reset), otherwise the requests and tokens still free and, when
 * there is no room, when there may be again.
 */
export interface LearnedRoom {
  hasRoom: boolean;
  requestsLeft?: number | undefined;
  tokensLeft?: number | undefined;
  /** When the limit that has no room resets or the block lifts (epoch ms); set only when `hasRoom` is false. */
  freeAt?: number | undefined;
}

export function learnedRoom(known: LearnedLimits, sent: SendCount, tokens: number, now: number): LearnedRoom | undefined {
  if (known.blockedUntil !== undefined && known.blockedUntil > now) return { hasRoom: false, freeAt: known.blockedUntil };
  const requests = known.requests && known.requests.resetAt > now ? known.requests : undefined;
  const knownTokens = known.tokens && known.tokens.resetAt > now ? known.tokens : undefined;
  if (!requests && !knownTokens) return undefined;
  const requestsLeft = requests ? requests.remaining - (sent.seq - requests.sentSeq) : undefined;
  const tokensLeft = knownTokens ? knownTokens.remaining - (sent.tokens - knownTokens.tokensBefore) : undefined;
  const isRequestsOut = requestsLeft !== undefined && requestsLeft < 1;
  // A request larger than what is left of the tokens waits for the reset, unless the limit is smaller than the request itself.
  const isTokensOut = tokensLeft !== undefined && knownTokens !== undefined && (tokensLeft <= 0 || (tokens > tokensLeft && (knownTokens.limit === undefined || tokens <= knownTokens.limit)));
  if (!isRequestsOut && !isTokensOut) return { hasRoom: true, requestsLeft, tokensLeft };
  const freeAt = Math.max(isRequestsOut && requests ? requests.resetAt : 0, isTokensOut && knownTokens ? knownTokens.resetAt : 0);
  return { hasRoom: false, requestsLeft, tokensLeft, freeAt };
}

/** Drops what has reset, so that a target's learned state does not outlive what it describes; `known` itself when nothing expired. */
export function forgetExpired(known: LearnedLimits, now: number): LearnedLimits {
  const isRequestsOld = known.requests !== undefined && known.requests.resetAt <= now;
  const isTokensOld = known.tokens !== undefined && known.tokens.resetAt <= now;
  const isBlockOld = known.blockedUntil !== undefined && known.blockedUntil <= now;
  if (!isRequestsOld && !isTokensOld && !isBlockOld) return known;
  const next: LearnedLimits = {};
  if (known.requests && !isRequestsOld) next.requests = known.requests;
  if (known.tokens && !isTokensOld) next.tokens = known.tokens;
  if (known.blockedUntil !== undefined && !isBlockOld) next.blockedUntil = known.blockedUntil;
  return next;
}
