/**
 * The circuit breaker of one target, as plain data and pure transitions.
 *
 * closed ──(window trips, or a 429's retry-after)──▶ open ──(cooldown over, a probe is taken)──▶ half_open
 *   ▲                                                  ▲  └──(route down: a recovery probe every   │
 *   │                                                  │      recoveryProbeMs, cooldown or not)──▶ │
 *   └──────(probe succeeded)───────────────────────────┼──────────────────────────────────────────┤
 *                                                      └──(probe failed; cooldown ×2 only while   ─┘
 *                                                           another target of the route serves)
 *
 * State is JSON-serializable and every transition is a pure function `(state, …, now) → state`
 * that returns the very same object when nothing changes, so a store can apply it as one atomic
 * read-modify-write (and re-run it on a conflict) and skip the write when it is a no-op. Counting
 * the failures that trip a closed breaker is `breaker-window.ts`'s job.
 */

/** Breaker settings for one target. Durations in milliseconds. */
export interface BreakerSettings {
  /** Failures inside `windowMs` that open the circuit (default 5). */
  failureThreshold: number;
  /** The sliding window failures and requests are counted over (default 60 000). */
  windowMs: number;
  /** Buckets the window is cut into; its edges are this precise (default 12, i.e. 5 s). */
  bucketCount: number;
  /** Failure ratio in (0, 1] that opens the circuit once `minimumRequests` are in the window (default 0.5). */
  failureRateThreshold: number;
  /** Requests in the window before the failure rate is trusted (default 10). */
  minimumRequests: number;
  /** The first cooldown (default 30 000). */
  openMs: number;
  /** The longest cooldown, after doubling or from a provider's retry-after (default 300 000). */
  maxOpenMs: number;
  /**
   * While every target of a route is unavailable, each open circuit lets one recovery probe
   * through this often, whatever its cooldown (default 1 000): the route is back within about
   * this long of its upstream.
   */
  recoveryProbeMs: number;
  /**
   * How long a half-open probe may stay out before another may be sent (default 120 000). It
   * only matters when the prober died without reporting; it should exceed the route's timeout.
   */
  probeLeaseMs: number;
  /** Slow calls in flight at once that open the circuit and move on (`slow-calls.ts`); 0 turns it off (default 3). */
  slowCallCount: number;
  /** A wait past this many times the target's recent p95 of the same kind is slow (default 4). */
  slowCallFactor: number;
  /** A wait shorter than this is never slow (default 2 000). */
  slowCallMinMs: number;
}

export const defaultBreakerSettings: Readonly<BreakerSettings> = {
  failureThreshold: 5,
  windowMs: 60_000,
  bucketCount: 12,
  failureRateThreshold: 0.5,
  minimumRequests: 10,
  openMs: 30_000,
  maxOpenMs: 300_000,
  recoveryProbeMs: 1_000,
  probeLeaseMs: 120_000,
  slowCallCount: 3,
  slowCallFactor: 4,
  slowCallMinMs: 2_000,
};

/**
 * Why a circuit is open. `slow_calls`: several calls in flight waited far past the target's own
 * norm (`slow-calls.ts`). `rate_limited` is a cool-down a provider asked for (a 429's retry-after):
 * it lasts exactly as long as asked, is never doubled, and is not cut short by recovery probes.
 */
export type BreakerOpenReason = 'failure_count' | 'failure_rate' | 'probe_failed' | 'health_check' | 'rate_limited' | 'slow_calls';

/** The one request allowed through a half-open circuit. */
export interface ProbeLease {
  /** Who sent it: an instance id plus a request id, unique across the cluster. */
  holder: string;
  /** When another probe may be sent if this one never reports (epoch ms). */
  expiresAt: number;
}

/** A breaker's state. Times are epoch milliseconds, durations milliseconds. */
export type BreakerState =
  | { readonly status: 'closed'; readonly since: number }
  | {
      readonly status: 'open';
      readonly since: number;
      /** Requests skip the target until this time; then one probe may go. */
      readonly until: number;
      /** The cooldown this opening applied; the next failed probe doubles it (while another target serves). */
      readonly cooldownMs: number;
      readonly reason: BreakerOpenReason;
      /** When the last probe of this circuit started, if one did: recovery probes are paced from it. */
      readonly probedAt?: number | undefined;
    }
  | {
      readonly status: 'half_open';
      readonly since: number;
      /** Carried over from the open state, to double if the probe fails. */
      readonly cooldownMs: number;
      readonly reason: BreakerOpenReason;
      /** The probe in flight, or null when the last one ended without a verdict. */
      readonly probe: ProbeLease | null;
    };

export type BreakerStatus = BreakerState['status'];

/** The state of a target nobody has seen fail. */
export const initialBreakerState: BreakerState = Object.freeze({ status: 'closed', since: 0 });

/**
 * What the hot path does with a target, decided from the local view alone:
 * `pass` sends traffic, `skip` leaves it out at no cost, `probe` may send one request after
 * winning `acquireProbe` (an atomic store transition).
 */
export type Admission = 'pass' | 'skip' | 'probe';

export function breakerAdmission(state: BreakerState, now: number): Admission {
  if (state.status === 'closed') return 'pass';
  if (state.status === 'open') return now >= state.until ? 'probe' : 'skip';
  return state.probe === null || now >= state.probe.expiresAt ? 'probe' : 'skip';
}

/** Why a breaker is being opened, and how long the cause asks it to stay open at least. */
export interface OpenCause {
  reason: BreakerOpenReason;
  /** A provider's retry-after, or a health check's hold (milliseconds); capped at `maxOpenMs`. */
  holdMs?: number | undefined;
  /**
   * Whether a failed probe doubles the cooldown (default true). Doubling spares a dead target
   * while a backup serves; while the whole route is down it would only keep clients waiting
   * longer than the outage, so the engine passes false then.
   */
  isDoubling?: boolean | undefined;
}

/**
 * Opens (or keeps open) a breaker.
 * - closed → open for `openMs`, or the cause's longer hold;
 * - half_open → open for twice the previous cooldown (or the longer hold), up to `maxOpenMs`;
 * - open → the cooldown is extended when the cause asks for longer, never shortened.
 * A hold is capped at `maxOpenMs` so that a wrong or hostile retry-after cannot take a target
 * out for a day: after the cap one probe checks again, which costs a single request.
 */
export function openBreaker(state: BreakerState, cause: OpenCause, now: number, settings: BreakerSettings): BreakerState {
  const holdMs = Math.min(Math.max(0, cause.holdMs ?? 0), settings.maxOpenMs);
  if (state.status === 'open') {
    const until = now + holdMs;
    if (until <= state.until) return state;
    return { ...state, until, cooldownMs: Math.max(state.cooldownMs, until - state.since), reason: cause.reason };
  }
  const probedAt = state.status === 'half_open' ? state.since : undefined;
  if (cause.reason === 'rate_limited') {
    // The provider said how long: exactly that, however long the circuit was open before.
    const cooldownMs = Math.max(1, holdMs);
    return withProbedAt({ status: 'open', since: now, until: now + cooldownMs, cooldownMs, reason: cause.reason }, probedAt);
  }
  const isDoubling = cause.isDoubling ?? true;
  const base = state.status === 'closed' ? settings.openMs : isDoubling ? Math.min(state.cooldownMs * 2, settings.maxOpenMs) : state.cooldownMs;
  // Never below the previous cooldown, even if `maxOpenMs` was lowered by a reload since.
  const previous = state.status === 'half_open' ? state.cooldownMs : 0;
  const cooldownMs = Math.max(base, holdMs, previous);
  return withProbedAt({ status: 'open', since: now, until: now + cooldownMs, cooldownMs, reason: cause.reason }, probedAt);
}

function withProbedAt(state: Extract<BreakerState, { status: 'open' }>, probedAt: number | undefined): BreakerState {
  return probedAt === undefined ? state : { ...state, probedAt };
}

/**
 * A 429's cool-down: a closed (or half-open) target is skipped until its retry-after is over;
 * an open one is held at least that long. Capped at `maxOpenMs` like every hold.
 */
export function coolDown(state: BreakerState, retryAfterMs: number, now: number, settings: BreakerSettings): BreakerState {
  if (state.status === 'open') return openBreaker(state, { reason: state.reason === 'rate_limited' ? 'rate_limited' : state.reason, holdMs: retryAfterMs }, now, settings);
  return openBreaker(state, { reason: 'rate_limited', holdMs: retryAfterMs }, now, settings);
}

/**
 * When an open circuit may next send a recovery probe (while its whole route is down): one
 * `recoveryProbeMs` after its last probe started (or after it opened), whatever the cooldown.
 * A provider's own retry-after is honoured: a rate-limited circuit waits for its `until`.
 */
export function recoveryProbeAt(state: BreakerState, settings: BreakerSettings): number | undefined {
  if (state.status !== 'open') return undefined;
  if (state.reason === 'rate_limited') return state.until;
  return Math.min(state.until, (state.probedAt ?? state.since) + settings.recoveryProbeMs);
}

/**
 * Takes a recovery probe for `holder`: like `acquireProbe`, but from an open circuit as soon as
 * `recoveryProbeAt` has come, before its cooldown is over. Only for a route whose every target
 * is unavailable: a request that would otherwise fail is the probe.
 */
export function acquireRecoveryProbe(state: BreakerState, holder: string, now: number, settings: BreakerSettings): BreakerState {
  if (state.status === 'open') {
    const at = recoveryProbeAt(state, settings);
    if (at === undefined || now < at) return state;
    return { status: 'half_open', since: now, cooldownMs: state.cooldownMs, reason: state.reason, probe: { holder, expiresAt: now + settings.probeLeaseMs } };
  }
  return acquireProbe(state, holder, now, settings);
}

/**
 * Takes the single half-open probe for `holder`: from an open breaker whose cooldown is over, or
 * from a half-open one whose probe is free or expired. Otherwise returns `state` unchanged, so
 * the caller learns whether it won by checking `isProbeHolder` on the result.
 */
export function acquireProbe(state: BreakerState, holder: string, now: number, settings: BreakerSettings): BreakerState {
  if (breakerAdmission(state, now) !== 'probe') return state;
  const probe: ProbeLease = { holder, expiresAt: now + settings.probeLeaseMs };
  if (state.status === 'open') {
    return { status: 'half_open', since: now, cooldownMs: state.cooldownMs, reason: state.reason, probe };
  }
  if (state.status === 'half_open') return { ...state, probe };
  return state;
}

export function isProbeHolder(state: BreakerState, holder: string): boolean {
  return state.status === 'half_open' && state.probe?.holder === holder;
}

/** The probe's verdict: `neutral` (it ended saying nothing about the target) frees the probe for another request. */
export type ProbeVerdict = 'success' | 'failure' | 'neutral';

/**
 * Settles the half-open probe held by `holder`: success closes, failure reopens with a doubled
 * cooldown, neutral frees the probe. Any other caller's outcome is ignored, so that a slow
 * request started before the circuit opened cannot decide it.
 */
export function settleProbe(
  state: BreakerState,
  holder: string,
  verdict: ProbeVerdict,
  now: number,
  settings: BreakerSettings,
  holdMs?: number,
  options: { isDoubling?: boolean | undefined; isRateLimited?: boolean | undefined } = {},
): BreakerState {
  if (state.status !== 'half_open' || state.probe?.holder !== holder) return state;
  if (verdict === 'success') return { status: 'closed', since: now };
  if (verdict === 'failure') {
    const reason = options.isRateLimited && holdMs !== undefined ? 'rate_limited' : 'probe_failed';
    return openBreaker(state, { reason, holdMs, isDoubling: options.isDoubling }, now, settings);
  }
  return { ...state, probe: null };
}

/** Closes a breaker from any state (an operator's reset, a recovered health check). */
export function closeBreaker(state: BreakerState, now: number): BreakerState {
  return state.status === 'closed' ? state : { status: 'closed', since: now };
}

/** The transition an event reports, or undefined when the status did not change. */
export type BreakerTransitionKind = 'opened' | 'half_opened' | 'closed';

export function transitionKind(previous: BreakerState, next: BreakerState): BreakerTransitionKind | undefined {
  if (previous.status === next.status) return undefined;
  if (next.status === 'open') return 'opened';
  if (next.status === 'half_open') return 'half_opened';
  return 'closed';
}
