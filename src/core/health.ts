import type { Random } from './clock.js';

/**
 * Active health checks of one target, as plain data and pure functions: when to check next and
 * what a result does to the target's health. The I/O (the cheap probe request) is the engine's;
 * an unhealthy verdict opens the target's circuit before real traffic hits it.
 */

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** Health-check settings of one provider. Durations in milliseconds. */
export interface HealthSettings {
  /** Time between checks of a healthy target (default 30 000). */
  intervalMs: number;
  /** Time between checks of an unhealthy target, to notice recovery sooner (default 10 000). */
  unhealthyIntervalMs: number;
  /** Each interval is stretched or shrunk by up to this fraction, at random, so instances and targets do not check in lockstep (default 0.1). */
  jitterRatio: number;
  /** A check without an answer within this fails (default 5 000). */
  timeoutMs: number;
  /** Consecutive failed checks that make a target unhealthy (default 2). */
  unhealthyThreshold: number;
  /** Consecutive passed checks that make an unhealthy target healthy again (default 2). */
  healthyThreshold: number;
}

export const defaultHealthSettings: Readonly<HealthSettings> = {
  intervalMs: 30_000,
  unhealthyIntervalMs: 10_000,
  jitterRatio: 0.1,
  timeoutMs: 5_000,
  unhealthyThreshold: 2,
  healthyThreshold: 2,
};

export interface HealthState {
  readonly status: HealthStatus;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /** When the last check ended (epoch ms), or null before the first. */
  readonly checkedAt: number | null;
  /** When `status` last changed (epoch ms). */
  readonly changedAt: number;
  /** The last failed check's reason, cleared by a pass. */
  readonly lastError: string | null;
}

export const initialHealthState: HealthState = Object.freeze({
  status: 'unknown',
  consecutiveSuccesses: 0,
  consecutiveFailures: 0,
  checkedAt: null,
  changedAt: 0,
  lastError: null,
});

/** The result of one check. */
export interface HealthCheckResult {
  isHealthy: boolean;
  /** Why it failed, for the event and the dashboard. */
  error?: string | undefined;
}

/**
 * The delay before a target's first check: uniform over one interval, so that a fleet starting
 * together (a deploy) does not probe every provider in the same millisecond.
 */
export function firstCheckDelayMs(settings: HealthSettings, random: Random): number {
  return Math.floor(random() * settings.intervalMs);
}

/** When to check next after a check that ended at `lastCheckAt` (epoch ms). */
export function nextCheckAt(lastCheckAt: number, state: HealthState, settings: HealthSettings, random: Random): number {
  const interval = state.status === 'unhealthy' ? settings.unhealthyIntervalMs : settings.intervalMs;
  const jitter = settings.jitterRatio * (2 * random() - 1);
  return lastCheckAt + Math.max(1, Math.round(interval * (1 + jitter)));
}

/**
 * Counts one check. A first pass makes an unknown target healthy at once (there is nothing to
 * confirm); failures take `unhealthyThreshold` in a row, and recovery `healthyThreshold` in a
 * row, so that one lost packet neither kills nor revives a target.
 */
export function recordHealthCheck(state: HealthState, result: HealthCheckResult, now: number, settings: HealthSettings): HealthState {
  if (result.isHealthy) {
    const consecutiveSuccesses = state.consecutiveSuccesses + 1;
    const isRecovered = state.status === 'unknown' || (state.status === 'unhealthy' && consecutiveSuccesses >= settings.healthyThreshold);
    const status: HealthStatus = isRecovered ? 'healthy' : state.status;
    return {
      status,
      consecutiveSuccesses,
      consecutiveFailures: 0,
      checkedAt: now,
      changedAt: status === state.status ? state.changedAt : now,
      lastError: null,
    };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  const status: HealthStatus = consecutiveFailures >= settings.unhealthyThreshold ? 'unhealthy' : state.status;
  return {
    status,
    consecutiveSuccesses: 0,
    consecutiveFailures,
    checkedAt: now,
    changedAt: status === state.status ? state.changedAt : now,
    lastError: result.error ?? 'health check failed',
  };
}
