import { coolDownOf } from '../core/attempt-decision.js';
import type { BreakerSettings } from '../core/breaker.js';
import { systemTimers, type Clock, type Random, type Timers } from '../core/clock.js';
import type { DetourError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { RetryBudget } from '../core/retry-budget.js';
import type { RouteSettings, Target } from '../core/settings.js';
import { classifyOutcome } from '../core/target-outcome.js';
import { attemptEnded, attemptStarted, defaultStatsSettings, recordAttempt, recordStreamGap, type StatsSettings } from '../core/target-stats.js';
import { defaultSlowCallSettings, type SlowCallSettings } from '../core/slow-calls.js';
import { defaultHealthSettings } from '../core/health.js';
import { CircuitBreakers } from '../state/circuit-breakers.js';
import { HealthTracker } from '../state/health-tracker.js';
import { storeStatusOf } from '../state/redis-status.js';
import type { StateStore } from '../state/state-store.js';
import { ClusterBudget, type Budget } from './cluster-budget.js';
import { SlowCallWatch } from './slow-call-watch.js';

export interface ResilienceOptions {
  store: StateStore;
  clock: Clock;
  /** For the slow-call watch's sweeps (the system's by default). */
  timers?: Timers | undefined;
  random: Random;
  events: EventBus;
  breaker: BreakerSettings;
  /** A target's breaker settings when they differ from `breaker` (provider or route overrides). */
  breakerFor?: (targetId: string) => BreakerSettings | undefined;
  catalog: ModelCatalog;
  instanceId: string;
  /** The other keys of a target's provider and model: slowness is theirs too (none by default). */
  siblingsOf?: ((targetId: string) => readonly string[]) | undefined;
  /** Health settings of a target, by its id (the provider's `health_check`). */
  healthSettingsFor?: (targetId: string) => import('../core/health.js').HealthSettings | undefined;
  statsSettings?: StatsSettings;
  onStoreError?: (error: unknown) => void;
}

/** A finished attempt, as breakers and statistics learn of it. */
export interface AttemptReport {
  error?: DetourError | undefined;
  durationMs: number;
  ttftMs?: number | undefined;
  /** The request id when this attempt was the half-open probe. */
  probeRequestId?: string | undefined;
  /** Whether another target of the request's route serves now (a failed probe doubles the cooldown only then). */
  isBackupServing?: (() => boolean) | undefined;
  /** A non-streamed call: its duration is a whole answer's. */
  isWholeAnswer?: boolean | undefined;
  /** A probe that answered, but past the target's slow-call limit: no sign of recovery, so it counts as failed. */
  isSlow?: boolean | undefined;
}

function slowCallSettingsOf(breaker: BreakerSettings): SlowCallSettings {
  return { ...defaultSlowCallSettings, minCalls: breaker.slowCallCount, factor: breaker.slowCallFactor, minMs: breaker.slowCallMinMs };
}

const timeoutCodes = new Set(['UPSTREAM_ATTEMPT_TIMEOUT', 'UPSTREAM_FIRST_BYTE_TIMEOUT', 'UPSTREAM_STREAM_IDLE_TIMEOUT']);

/**
 * What the engine learns across requests: circuit breakers, health, per-target statistics and
 * per-route retry and hedge budgets, all over one `StateStore`. Reads on the request path are
 * synchronous; writes to the store happen only on transitions, never awaited by a request.
 */
export class Resilience {
  readonly breakers: CircuitBreakers;
  readonly health: HealthTracker;
  readonly statsSettings: StatsSettings;
  readonly slowCalls: SlowCallWatch;
  private readonly budgets = new Map<string, { retry: Budget; hedge: Budget }>();

  constructor(readonly options: ResilienceOptions) {
    this.statsSettings = options.statsSettings ?? defaultStatsSettings;
    this.breakers = new CircuitBreakers({
      store: options.store,
      clock: options.clock,
      events: options.events,
      settingsFor: (id) => options.breakerFor?.(id) ?? options.breaker,
      instanceId: options.instanceId,
      onStoreError: options.onStoreError,
    });
    this.health = new HealthTracker({
      store: options.store,
      clock: options.clock,
      random: options.random,
      events: options.events,
      breakers: this.breakers,
      settingsFor: (id) => options.healthSettingsFor?.(id) ?? defaultHealthSettings,
      instanceId: options.instanceId,
      onStoreError: options.onStoreError,
    });
    this.slowCalls = new SlowCallWatch({
      clock: options.clock,
      timers: options.timers ?? systemTimers,
      settingsFor: (id) => slowCallSettingsOf(this.breakerSettingsFor(id)),
      statsOf: (id) => options.store.statsView(id),
      siblingsOf: options.siblingsOf,
      onSlow: (id, moved) => {
        options.events.emit('calls.slow', { target: id, moved: moved.map((entry) => ({ wait: entry.wait.kind, waitedMs: Math.round(entry.wait.waitedMs), limitMs: entry.limitMs })) });
        for (const target of [id, ...(options.siblingsOf?.(id) ?? [])]) void this.breakers.openForSlowCalls(target);
      },
    });
  }

  /** The breaker settings of one target (its provider's and route's overrides applied). */
  breakerSettingsFor(targetId: string): BreakerSettings {
    return this.options.breakerFor?.(targetId) ?? this.options.breaker;
  }

  get store(): StateStore {
    return this.options.store;
  }

  /**
   * The route's retry and hedge budgets: this instance's own on memory state, shared by the
   * cluster (through the store's counters) when the store is shared.
   */
  budgetsFor(route: RouteSettings): { retry: Budget; hedge: Budget } {
    let budgets = this.budgets.get(route.name);
    if (!budgets) {
      const { clock, store } = this.options;
      const isShared = storeStatusOf(store).mode !== 'memory';
      const make = (kind: string, settings: RouteSettings['retryBudget']): Budget =>
        isShared ? new ClusterBudget(`${kind}:${route.name}`, settings, clock, store) : new RetryBudget(settings, clock);
      budgets = { retry: make('retry', route.retryBudget), hedge: make('hedge', route.hedge.budget) };
      this.budgets.set(route.name, budgets);
    }
    return budgets;
  }

  attemptStarted(target: Target): void {
    this.options.store.updateStats(target.id, attemptStarted);
  }

  /** An attempt's outcome: to its breaker (not awaited: it never rejects) and its statistics. */
  attemptFinished(target: Target, report: AttemptReport): void {
    const outcome = report.isSlow === true && report.error === undefined ? 'failure' : classifyOutcome(report.error);
    void this.breakers.record(target.id, {
      outcome,
      retryAfterMs: report.error?.retryAfterMs,
      coolDownMs: report.error ? coolDownOf(report.error) : undefined,
      probeRequestId: report.probeRequestId,
      isBackupServing: report.isBackupServing,
    });
    const sample = {
      outcome,
      durationMs: report.durationMs,
      ttftMs: report.ttftMs,
      isWholeAnswer: report.isWholeAnswer,
      isTimeout: report.error !== undefined && timeoutCodes.has(report.error.code),
      now: this.options.clock.now(),
    };
    this.options.store.updateStats(target.id, (stats) => recordAttempt(stats, sample, this.statsSettings));
  }

  /** A stream that failed after its start: its target failed after all. */
  streamFailed(target: Target, error: DetourError): void {
    void this.breakers.record(target.id, { outcome: classifyOutcome(error) });
  }

  /** A stream ended well: its longest pause is a sample of what this target's streams normally do. */
  streamGap(target: Target, longestGapMs: number): void {
    this.options.store.updateStats(target.id, (stats) => recordStreamGap(stats, longestGapMs, this.statsSettings));
  }

  attemptEnded(target: Target): void {
    this.options.store.updateStats(target.id, attemptEnded);
  }

  dispose(): void {
    this.slowCalls.dispose();
    this.breakers.dispose();
  }
}
