import type { BreakerState } from '../core/breaker.js';
import type { HealthState } from '../core/health.js';
import type { SharedKind, SharedStates } from './redis-codec.js';

/**
 * Which state survives when an instance comes back from local fallback and finds Redis saying
 * something else: the later decision wins (last writer wins, by the deciding instance's clock).
 *
 * - A breaker's `since` is when its status last changed: a circuit this instance opened while
 *   alone is newer than the closed state Redis kept, and one another instance opened meanwhile is
 *   newer than this instance's stale closed view. A Redis that restarted empty holds nothing
 *   (`since` 0), so whatever the instances knew is written back.
 * - A health state's `checkedAt` is its last check: the latest check tells most.
 *
 * Ties go to Redis, so instances that agree write nothing. Clocks a few milliseconds apart can
 * only mis-order decisions made within those milliseconds, which is as good as any order.
 */
export type MergeRule<S> = (local: S, remote: S) => S;

const breakerRule: MergeRule<BreakerState> = (local, remote) => (local.since > remote.since ? local : remote);

const healthRule: MergeRule<HealthState> = (local, remote) => ((local.checkedAt ?? -1) > (remote.checkedAt ?? -1) ? local : remote);

export const mergeRules: { [K in SharedKind]: MergeRule<SharedStates[K]> } = {
  breaker: breakerRule,
  health: healthRule,
};
