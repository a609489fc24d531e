import { ttftPercentile, type TargetStats } from './target-stats.js';

/** When a route sends a hedge: a second attempt to the next target while the first is still silent. */
export interface HedgeSettings {
  isEnabled: boolean;
  /** A fixed wait before hedging, in milliseconds; also the fallback while too few samples exist for `percentile`. */
  afterMs?: number | undefined;
  /**
   * Hedge after this percentile of the target's observed time to first token (e.g. 0.95) instead
   * of `afterMs`, once `minSamples` exist: only the slowest few percent of requests get a hedge.
   */
  percentile?: number | undefined;
  /** Samples needed before the percentile is trusted (default 20). */
  minSamples: number;
  /** Never hedge sooner than this, in milliseconds, however fast the target usually is (default 50). */
  minDelayMs: number;
}

export const defaultHedgeSettings: Readonly<HedgeSettings> = {
  isEnabled: false,
  minSamples: 20,
  minDelayMs: 50,
};

/**
 * How long to wait for the first target's first byte before hedging, in milliseconds; undefined
 * when no hedge should be sent (disabled, or neither a fixed wait nor enough samples). The
 * engine arms a timer for it and, when it fires with no first byte yet, sends the hedge if
 * there is a next target and the hedge budget (a `RetryBudget`) allows one.
 *
 * @param stats the first target's statistics, when known.
 */
export function hedgeDelayMs(stats: TargetStats | undefined, settings: HedgeSettings): number | undefined {
  if (!settings.isEnabled) return undefined;
  const observed =
    settings.percentile !== undefined && stats !== undefined ? ttftPercentile(stats, settings.percentile, settings.minSamples) : undefined;
  const delayMs = observed ?? settings.afterMs;
  if (delayMs === undefined) return undefined;
  return Math.max(settings.minDelayMs, Math.ceil(delayMs));
}

/** What the engine knows when a hedge timer fires. */
export interface HedgeMoment {
  /** The first attempt has produced a byte (or finished): nothing to hedge. */
  hasFirstByte: boolean;
  /** Another eligible target remains to send the hedge to. */
  hasNextTarget: boolean;
  /** Time left before the request's deadline, in milliseconds. */
  remainingMs: number;
  /** The least time worth giving an attempt, in milliseconds. */
  minAttemptMs: number;
}

/**
 * Whether to send the hedge now, budget aside (spend the budget last, only when this is true,
 * so a hedge that is not sent costs nothing).
 */
export function shouldHedge(moment: HedgeMoment): boolean {
  return !moment.hasFirstByte && moment.hasNextTarget && moment.remainingMs >= moment.minAttemptMs;
}
