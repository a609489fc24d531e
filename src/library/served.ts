import type { AttemptRecord } from '../core/events.js';
import { countUpstreamCalls, type ServedMeta } from '../engine/result.js';

/**
 * Who served a request and how: the data of the server's `x-detour-*` headers, for a caller
 * in the same process. Never holds a key.
 */
export interface ServedInfo {
  /** The request's id (`x-request-id`): the same id the request log and events carry. */
  requestId: string;
  /** The route that was asked for (`x-detour-route`). */
  route: string;
  /** The target that answered, `provider/model` (plus `#n` for a provider's n-th key); absent when none did. */
  target?: string | undefined;
  /** The provider entry that answered (`x-detour-provider`). */
  provider?: string | undefined;
  /** The upstream model that answered (`x-detour-model`). */
  model?: string | undefined;
  /** The region of the target that answered (`x-detour-region`); absent when none did or its region is not declared. */
  region?: string | undefined;
  /** Real upstream calls made, hedges included, mirrors not (`x-detour-attempts`). */
  upstreamCalls: number;
  /** Every attempt in order, failed ones with their status and error code. */
  attempts: readonly AttemptRecord[];
  /** Served by another target than the first candidate (`x-detour-failover`). */
  isFailover: boolean;
  /** Served by the route's `degrade_to` route (`x-detour-degraded`). */
  isDegraded: boolean;
}

/** The public view of the engine's meta: the target's id and names, never its settings or key. */
export function toServedInfo(meta: ServedMeta): ServedInfo {
  // A copy: the engine's list is the run's own, and a stream's run goes on after this is read.
  const attempts = meta.attempts.map((attempt) => ({ ...attempt }));
  return {
    requestId: meta.requestId,
    route: meta.route,
    target: meta.target?.id,
    provider: meta.target?.provider.name,
    model: meta.target?.model,
    region: meta.target?.region,
    upstreamCalls: countUpstreamCalls(attempts),
    attempts,
    isFailover: meta.isFailover,
    isDegraded: meta.isDegraded,
  };
}
