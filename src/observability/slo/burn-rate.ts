/**
 * Multi-window, multi-burn-rate alerting, as in the Google SRE workbook ("Alerting on SLOs"):
 * the burn rate is how fast the error budget is spent (1 = exactly over the SLO period, taken
 * as 30 days). An alert fires only when both a long and a short window burn above the
 * threshold: the long window proves it is significant, the short one that it is still going
 * on, so the alert also stops soon after the problem does.
 */
export interface BurnPolicy {
  speed: 'fast' | 'slow';
  longMs: number;
  shortMs: number;
  /** Burn rate at or above which the policy fires. */
  threshold: number;
}

/** Fast burn: 2 % of a 30-day budget in an hour. Slow burn: 5 % in six hours. */
export const burnPolicies: readonly BurnPolicy[] = [
  { speed: 'fast', longMs: 3_600_000, shortMs: 300_000, threshold: 14.4 },
  { speed: 'slow', longMs: 21_600_000, shortMs: 1_800_000, threshold: 6 },
];

export interface WindowCounts {
  /** Events that count for the objective. */
  total: number;
  /** Of those, the bad ones (failed requests, or answers slower than the target). */
  bad: number;
}

/** Burn rate of a window: its bad ratio over the budget (1 − objective); 0 without events. */
export function burnRate(counts: WindowCounts, objective: number): number {
  if (counts.total === 0) return 0;
  const budget = 1 - objective;
  return counts.bad / counts.total / budget;
}

export interface BurnVerdict {
  speed: BurnPolicy['speed'];
  longBurn: number;
  shortBurn: number;
  isFiring: boolean;
}

/** Whether a policy fires, given its windows' counts; a long window with fewer than `minEvents` never does. */
export function evaluateBurn(policy: BurnPolicy, long: WindowCounts, short: WindowCounts, objective: number, minEvents: number): BurnVerdict {
  const longBurn = burnRate(long, objective);
  const shortBurn = burnRate(short, objective);
  const isFiring = long.total >= minEvents && longBurn >= policy.threshold && shortBurn >= policy.threshold;
  return { speed: policy.speed, longBurn, shortBurn, isFiring };
}
