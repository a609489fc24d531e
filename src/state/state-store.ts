import type { BreakerState } from '../core/breaker.js';
import type { HealthState } from '../core/health.js';
import type { WindowSpec } from '../core/sliding-window.js';
import type { TargetStats } from '../core/target-stats.js';

/**
 * Where circuit, health and statistics state lives: in this process (`MemoryStateStore`) or
 * shared by a cluster (`RedisStateStore`). The engine depends on this interface only, and
 * every implementation must pass `test/state/state-store-contract.ts`.
 *
 * Rules every implementation keeps:
 * - **JSON.** Every state is plain JSON data (no `undefined`, no class instances), so a shared
 *   store can serialize it as it is.
 * - **Atomic transitions.** A transition is a pure function `(current, now) → next` applied as
 *   one read-modify-write: two transitions of the same target, from this instance or another,
 *   never interleave. A store may run the function more than once (a Redis WATCH conflict), so
 *   it must be pure; it returns `current` itself to mean "no change", which writes and notifies
 *   nothing.
 * - **Time.** `now` comes from the store's injected clock, and every expiry (probe leases,
 *   leases, counter windows) is judged by it, not by a server's TTL alone, so that tests can
 *   drive any store with a `ManualClock`. A shared store passes `now` into its script and may
 *   add a server TTL for garbage collection only.
 * - **Local views.** `breakerView`, `healthView` and `statsView` are synchronous reads of this
 *   instance's copy, so that skipping an open target costs nothing on the hot path. A shared
 *   store refreshes its copy from its own transitions and from change notifications; until a
 *   notification arrives it may lag (a closed view of an open target costs one failed attempt).
 * - **Failure.** Async methods never hang past the store's own timeout. A shared store may fall
 *   back to local state when its backend is unreachable (the Redis store does: transitions,
 *   counters and leases then apply to this instance alone until it reconciles); one that
 *   rejects instead is treated by callers as "no change", and they keep serving.
 */
export interface StateStore {
  /** This instance's view of a target's breaker; closed for a target never seen. */
  breakerView(targetId: string): BreakerState;

  /** Applies `transition` atomically to a target's breaker and reports what it did. */
  transitionBreaker(targetId: string, transition: StateTransition<BreakerState>): Promise<TransitionResult<BreakerState>>;

  /** This instance's view of a target's active health; unknown for a target never checked. */
  healthView(targetId: string): HealthState;

  /** Applies `transition` atomically to a target's health and reports what it did. */
  transitionHealth(targetId: string, transition: StateTransition<HealthState>): Promise<TransitionResult<HealthState>>;

  /**
   * This instance's statistics of a target. Statistics are local on purpose: they change on
   * every attempt, and in-flight counts and latency are this instance's own to balance on. A
   * shared store may publish them for the dashboard, in the background.
   */
  statsView(targetId: string): TargetStats;

  /** Updates a target's statistics synchronously (a pure `update`, like a transition). */
  updateStats(targetId: string, update: (current: TargetStats) => TargetStats): void;

  /**
   * Adds `amount` to a shared sliding-window counter at now and resolves with its total over the
   * window. Every caller of one counter name passes the same `window`. With `at` (epoch ms, by
   * the store's clock), the amount goes into the bucket holding `at` instead, or nowhere once
   * that bucket has left the window: a reservation taken at `at` is then undone or settled in
   * exactly the bucket it was counted in (`amount` may be negative).
   */
  addToCounter(name: string, amount: number, window: WindowSpec, at?: number): Promise<number>;

  /** A counter's total over its window at now; 0 for a counter never added to. */
  readCounter(name: string, window: WindowSpec): Promise<number>;

  /**
   * Takes (or renews, when `holder` already has it) a named lease for `ttlMs`, e.g. "one health
   * prober per cluster". Resolves true when `holder` holds the lease afterwards.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;

  /** Gives a lease up early; does nothing unless `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;

  /**
   * Keeps a document (a JSON text, e.g. a Responses API conversation) under `name` for `ttlMs`,
   * replacing what was there. A shared store keeps it where every instance can read it.
   */
  putDocument(name: string, value: string, ttlMs: number): Promise<void>;

  /** A document kept by `putDocument`, or undefined when there is none (or it expired). */
  getDocument(name: string): Promise<string | undefined>;

  /** Removes a document; resolves true when there was one. */
  deleteDocument(name: string): Promise<boolean>;

  /**
   * Calls `listener` on every change of a breaker or health state, made here (`isLocal`) or by
   * another instance, after the local view shows it. Returns the unsubscribe function.
   * A listener that throws is isolated from the store and from other listeners.
   */
  onChange(listener: (change: StateChange) => void): () => void;

  /** Loads these targets' current state into the local view (a shared store's warm-up; the memory store has nothing to do). */
  preload(targetIds: readonly string[]): Promise<void>;

  /** Stops notifications and releases connections; the store is not used afterwards. */
  close(): Promise<void>;
}

/** A pure state change: `now` is the store clock's epoch milliseconds. */
export type StateTransition<S> = (current: S, now: number) => S;

export interface TransitionResult<S> {
  previous: S;
  next: S;
  /** Whether `next` was written (false when the transition returned `current`). */
  isChanged: boolean;
}

/** One change a listener hears of. */
export type StateChange =
  | { kind: 'breaker'; targetId: string; previous: BreakerState; next: BreakerState; isLocal: boolean }
  | { kind: 'health'; targetId: string; previous: HealthState; next: HealthState; isLocal: boolean };
