import type { TargetOutcome } from './target-outcome.js';

/**
 * Latency and outcome statistics of one target, as plain JSON data updated by pure functions.
 * Strategies read them; hedging reads the time-to-first-token percentile.
 */
export interface TargetStats {
  /** EWMA of attempt duration in milliseconds (time to the answer, or to the first event of a stream); null before any sample. */
  readonly latencyMs: number | null;
  /** EWMA of time to first token in milliseconds, streams only; null before any sample. */
  readonly ttftMs: number | null;
  /** The most recent time-to-first-token samples (ms), oldest first, for percentiles. */
  readonly ttftSamples: readonly number[];
  /** The most recent durations of whole (non-streamed) answers (ms), oldest first: what slow-call detection measures a wait for an answer against. */
  readonly answerSamples: readonly number[];
  /** The longest silence between two events of each recent stream that ended well (ms), oldest first: what a stall is measured against. */
  readonly gapSamples: readonly number[];
  /** Attempts started and not yet ended on this instance. */
  readonly inFlight: number;
  /** EWMA of success (1) and failure (0), in [0, 1], from a prior of 1. */
  readonly successRate: number;
  /** Outcomes counted (successes and failures). */
  readonly outcomes: number;
  /** Failure penalty in halvings of weight, as it stood at `penaltyAt`; it decays from there. */
  readonly penalty: number;
  /** When `penalty` was last updated (epoch ms). */
  readonly penaltyAt: number;
}

/** How statistics are smoothed. */
export interface StatsSettings {
  /** Weight of a new latency sample in the EWMA, in (0, 1] (default 0.3). */
  latencyAlpha: number;
  /** Weight of a new outcome in the success-rate EWMA, in (0, 1] (default 0.1). */
  successAlpha: number;
  /** Half-life of the failure penalty, in milliseconds (default 30 000). */
  penaltyHalfLifeMs: number;
  /** Time-to-first-token samples kept for percentiles (default 50). */
  ttftSampleSize: number;
}

export const defaultStatsSettings: Readonly<StatsSettings> = {
  latencyAlpha: 0.3,
  successAlpha: 0.1,
  penaltyHalfLifeMs: 30_000,
  ttftSampleSize: 50,
};

export const emptyTargetStats: TargetStats = Object.freeze({
  latencyMs: null,
  ttftMs: null,
  ttftSamples: Object.freeze([]) as readonly number[],
  answerSamples: Object.freeze([]) as readonly number[],
  gapSamples: Object.freeze([]) as readonly number[],
  inFlight: 0,
  successRate: 1,
  outcomes: 0,
  penalty: 0,
  penaltyAt: 0,
});

/** One finished attempt, as statistics see it. */
export interface AttemptSample {
  outcome: TargetOutcome;
  /** From the attempt's start to its answer (or a stream's first event, or its failure), in ms. */
  durationMs: number;
  /** Time to first token for a stream that produced one, in ms. */
  ttftMs?: number | undefined;
  /** Whether the attempt was a non-streamed call: its duration is then a whole answer's. */
  isWholeAnswer?: boolean | undefined;
  /**
   * Whether the attempt failed by timing out. Its duration is then a lower bound of the target's
   * latency and is worth counting; any other failure's duration (a fast 500) would make a
   * broken target look quick to the latency strategy, so it is not.
   */
  isTimeout?: boolean | undefined;
  /** When the attempt ended (epoch ms). */
  now: number;
}

export function attemptStarted(stats: TargetStats): TargetStats {
  return { ...stats, inFlight: stats.inFlight + 1 };
}

/** Ends an attempt started with `attemptStarted`; for a stream, when the stream ends, not at its first event. */
export function attemptEnded(stats: TargetStats): TargetStats {
  return { ...stats, inFlight: Math.max(0, stats.inFlight - 1) };
}

function ewma(previous: number | null, sample: number, alpha: number): number {
  return previous === null ? sample : previous + alpha * (sample - previous);
}

/** The penalty at `now`, decayed from its last update with the configured half-life. */
export function currentPenalty(stats: TargetStats, now: number, settings: StatsSettings): number {
  if (stats.penalty === 0) return 0;
  const elapsedMs = Math.max(0, now - stats.penaltyAt);
  return stats.penalty * 2 ** (-elapsedMs / settings.penaltyHalfLifeMs);
}

/** Counts a finished attempt. Neutral outcomes change nothing: they say nothing about the target. */
export function recordAttempt(stats: TargetStats, sample: AttemptSample, settings: StatsSettings): TargetStats {
  if (sample.outcome === 'neutral') return stats;
  const isSuccess = sample.outcome === 'success';
  const countsLatency = isSuccess || sample.isTimeout === true;
  let { ttftMs, ttftSamples, answerSamples } = stats;
  if (isSuccess && sample.ttftMs !== undefined) {
    ttftMs = ewma(ttftMs, sample.ttftMs, settings.latencyAlpha);
    ttftSamples = withSample(ttftSamples, sample.ttftMs, settings.ttftSampleSize);
  }
  if (isSuccess && sample.isWholeAnswer === true) answerSamples = withSample(answerSamples, sample.durationMs, settings.ttftSampleSize);
  return {
    latencyMs: countsLatency ? ewma(stats.latencyMs, sample.durationMs, settings.latencyAlpha) : stats.latencyMs,
    ttftMs,
    ttftSamples,
    answerSamples,
    gapSamples: stats.gapSamples,
    inFlight: stats.inFlight,
    // Starts from a prior of 1, so that one early failure dents the rate instead of zeroing it.
    successRate: ewma(stats.successRate, isSuccess ? 1 : 0, settings.successAlpha),
    outcomes: stats.outcomes + 1,
    penalty: currentPenalty(stats, sample.now, settings) + (isSuccess ? 0 : 1),
    penaltyAt: sample.now,
  };
}

/** The newest `size` samples with `sample` last, in one allocation (a request adds one, so this runs per attempt). */
function withSample(samples: readonly number[], sample: number, size: number): readonly number[] {
  const kept = Math.min(samples.length, size - 1);
  const from = samples.length - kept;
  const next = new Array<number>(kept + 1);
  for (let index = 0; index < kept; index++) next[index] = samples[from + index]!;
  next[kept] = sample;
  return next;
}

/** A stream ended well: its longest silence between two events joins the samples a stall is judged by. */
export function recordStreamGap(stats: TargetStats, longestGapMs: number, settings: StatsSettings): TargetStats {
  return { ...stats, gapSamples: withSample(stats.gapSamples, longestGapMs, settings.ttftSampleSize) };
}

/** A percentile (nearest-rank) of `samples`; undefined with fewer than `minSamples`. */
export function percentileOf(samples: readonly number[], quantile: number, minSamples = 1): number | undefined {
  const count = samples.length;
  if (count === 0 || count < minSamples) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(count, Math.max(1, Math.ceil(quantile * count)));
  return sorted[rank - 1];
}

/**
 * A percentile of the recent time-to-first-token samples (nearest-rank), in ms; undefined with
 * fewer than `minSamples`, when a guess would be worse than no answer.
 *
 * @param quantile in (0, 1], e.g. 0.95.
 */
export function ttftPercentile(stats: TargetStats, quantile: number, minSamples = 1): number | undefined {
  return percentileOf(stats.ttftSamples, quantile, minSamples);
}
