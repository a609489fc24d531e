/**
 * Recovery when every target of a route is down (Envoy's panic mode, for LLM routes): a request
 * that finds no target available does not fail at once. It waits, bounded by its deadline and
 * the route's `waitForRecoveryMs`, while each open circuit lets one recovery probe through every
 * `recoveryProbeMs`; a waiting request is itself the probe when its turn comes, and the first
 * success closes that circuit and releases every waiting request to it.
 */

/** What a waiting request does now. */
export type RecoveryStep =
  /** A target's recovery probe is due: try to take it. */
  | { step: 'probe' }
  /** Nothing to do before `ms` from now (or before a circuit changes). */
  | { step: 'wait'; ms: number }
  /** The wait is over (deadline or `waitForRecoveryMs`): fail, saying when to come back. */
  | { step: 'give_up' };

export interface RecoveryMoment {
  now: number;
  /** Epoch ms this request stops waiting: the sooner of its wait limit and its deadline (less one attempt's minimum). */
  waitUntil: number;
  /** The soonest epoch ms any open circuit of the route may send a probe; undefined when none ever will. */
  nextProbeAt: number | undefined;
}

export function recoveryStep(moment: RecoveryMoment): RecoveryStep {
  if (moment.now >= moment.waitUntil) return { step: 'give_up' };
  if (moment.nextProbeAt !== undefined && moment.nextProbeAt <= moment.now) return { step: 'probe' };
  const wakeAt = moment.nextProbeAt === undefined ? moment.waitUntil : Math.min(moment.nextProbeAt, moment.waitUntil);
  return { step: 'wait', ms: Math.max(1, wakeAt - moment.now) };
}

/** When a request that found its route down stops waiting (epoch ms). */
export function recoveryWaitUntil(now: number, waitForRecoveryMs: number, deadlineAt: number, minAttemptMs: number): number {
  return Math.min(now + waitForRecoveryMs, deadlineAt - minAttemptMs);
}
