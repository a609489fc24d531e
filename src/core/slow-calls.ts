import { percentileOf, type TargetStats } from './target-stats.js';

/**
 * Slow-call detection: a target whose calls in flight wait far longer than its own recent norm.
 *
 * Timeouts are set for the worst healthy case (a long answer, a reasoning model's pause), so a
 * target that turns slow for everyone is noticed only when its first calls time out, and every
 * request sent meanwhile waits the whole timeout. Several calls to one target all waiting far
 * past what that target usually takes is a much earlier sign. Then the target's circuit opens
 * (new requests go elsewhere) and those calls move on: failed over, or a stream continued.
 *
 * A call's wait is judged against the same kind of wait of the target's recent successes: the
 * time to the first token of a stream, a whole answer's duration, or the longest silence inside a
 * stream that ended well. One slow call is only a long answer; it takes `minCalls` at once.
 */
export interface SlowCallSettings {
  /** Slow calls in flight at once on one target that make it slow; 0 turns detection off (default 3). */
  minCalls: number;
  /** A wait longer than this many times the target's recent p95 of the same kind is slow (default 4). */
  factor: number;
  /** A wait shorter than this is never slow, however quick the target usually is (default 2 000 ms). */
  minMs: number;
  /** Successes of a kind needed before its norm is trusted (default 20). */
  minSamples: number;
}

export const defaultSlowCallSettings: Readonly<SlowCallSettings> = { minCalls: 3, factor: 4, minMs: 2_000, minSamples: 20 };

/** What a call in flight is waiting for. */
export type SlowWait = 'first_token' | 'answer' | 'next_event';

/** The wait of one call in flight, as detection sees it. */
export interface CallWait {
  kind: SlowWait;
  /** How long it has waited so far: since its start, or since a stream's last event. */
  waitedMs: number;
  /** The timeout that ends this wait anyway: a limit at or past it is left to the timeout. */
  timeoutMs: number;
}

const quantile = 0.95;

function samplesOf(stats: TargetStats, kind: SlowWait): readonly number[] {
  if (kind === 'first_token') return stats.ttftSamples;
  if (kind === 'answer') return stats.answerSamples;
  return stats.gapSamples;
}

/** The target's recent p95 of one kind of wait, or undefined before `minSamples` successes. */
export function slowNormMs(stats: TargetStats, kind: SlowWait, settings: SlowCallSettings): number | undefined {
  return percentileOf(samplesOf(stats, kind), quantile, settings.minSamples);
}

/** The wait past which a call of this kind is slow, or undefined when it cannot be judged (too few samples). */
export function slowLimitMs(stats: TargetStats, kind: SlowWait, settings: SlowCallSettings): number | undefined {
  const norm = slowNormMs(stats, kind, settings);
  return norm === undefined ? undefined : Math.max(settings.minMs, Math.ceil(norm * settings.factor));
}

/** Whether a wait has passed its slow-call limit, one short of its own timeout (which ends it anyway). */
export function isPastLimit(wait: CallWait, limitMs: number | undefined): limitMs is number {
  return limitMs !== undefined && limitMs < wait.timeoutMs && wait.waitedMs > limitMs;
}

/**
 * The calls (their indexes in `waits`) to move on now: every call whose wait is past its limit
 * (and short of its own timeout, which will end it anyway), when at least `minCalls` are;
 * otherwise none.
 */
export function slowCalls(stats: TargetStats, waits: readonly CallWait[], settings: SlowCallSettings): number[] {
  if (settings.minCalls <= 0 || waits.length < settings.minCalls) return [];
  const limits: Partial<Record<SlowWait, number | undefined>> = {};
  const slow: number[] = [];
  waits.forEach((wait, index) => {
    if (!(wait.kind in limits)) limits[wait.kind] = slowLimitMs(stats, wait.kind, settings);
    if (isPastLimit(wait, limits[wait.kind])) slow.push(index);
  });
  return slow.length >= settings.minCalls ? slow : [];
}

/** Whether a call that succeeded after `durationMs` was slow (a probe that answers this late has not shown a recovery). */
export function isSlowSuccess(stats: TargetStats, kind: SlowWait, durationMs: number, settings: SlowCallSettings): boolean {
  if (settings.minCalls <= 0) return false;
  const limit = slowLimitMs(stats, kind, settings);
  return limit !== undefined && durationMs > limit;
}
