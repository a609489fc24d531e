import type { Clock, Random } from '../core/clock.js';
import type { EngineEvents, EventBus } from '../core/events.js';
import { firstCheckDelayMs, nextCheckAt, recordHealthCheck, type HealthCheckResult, type HealthSettings, type HealthState } from '../core/health.js';
import type { CircuitBreakers } from './circuit-breakers.js';
import type { StateStore } from './state-store.js';

export interface HealthTrackerOptions {
  store: StateStore;
  clock: Clock;
  random: Random;
  events: EventBus<EngineEvents>;
  breakers: CircuitBreakers;
  /** Health-check settings of a target's provider. */
  settingsFor(targetId: string): HealthSettings;
  /** Unique per process across the cluster; the lease holder's name. */
  instanceId: string;
  onStoreError?: ((error: unknown) => void) | undefined;
}

/**
 * Active health of targets, over a `StateStore`. The engine runs the checks (the I/O) and asks
 * this tracker when to run them and what a result means: it records results atomically, emits
 * `health.changed`, opens a target's circuit when it turns unhealthy and closes it again when
 * it recovers. With several instances, one lease per scope (a provider, say) makes a single
 * instance the prober, so that a cluster does not multiply probe traffic.
 */
export class HealthTracker {
  constructor(private readonly options: HealthTrackerOptions) {}

  /** When to check `targetId` next (epoch ms): after one jittered interval from its last check, or spread over the first interval. */
  nextCheckAt(targetId: string): number {
    const state = this.options.store.healthView(targetId);
    const settings = this.options.settingsFor(targetId);
    if (state.checkedAt === null) return this.options.clock.now() + firstCheckDelayMs(settings, this.options.random);
    return nextCheckAt(state.checkedAt, state, settings, this.options.random);
  }

  /** Records one check's result; resolves with the target's health afterwards. Never rejects. */
  async record(targetId: string, result: HealthCheckResult): Promise<HealthState> {
    const settings = this.options.settingsFor(targetId);
    let previous: HealthState;
    let next: HealthState;
    try {
      ({ previous, next } = await this.options.store.transitionHealth(targetId, (state, now) => recordHealthCheck(state, result, now, settings)));
    } catch (error) {
      this.options.onStoreError?.(error);
      return this.options.store.healthView(targetId);
    }
    if (previous.status === next.status) return next;
    this.options.events.emit('health.changed', { target: targetId, from: previous.status, to: next.status, error: next.lastError ?? undefined });
    if (next.status === 'unhealthy') await this.options.breakers.openForHealth(targetId);
    else if (previous.status === 'unhealthy') await this.options.breakers.closeForHealth(targetId);
    return next;
  }

  /**
   * Whether this instance should run the checks of `scope` now: takes or renews the cluster-wide
   * lease `health:<scope>` for `ttlMs`. Renew it well within its ttl (e.g. every interval, with
   * ttl two intervals) so that another instance takes over only when this one is gone.
   */
  async tryLead(scope: string, ttlMs: number): Promise<boolean> {
    try {
      return await this.options.store.acquireLease(`health:${scope}`, this.options.instanceId, ttlMs);
    } catch (error) {
      this.options.onStoreError?.(error);
      return false;
    }
  }

  /** Gives the lead up (shutdown), so another instance takes over at once. */
  async stepDown(scope: string): Promise<void> {
    try {
      await this.options.store.releaseLease(`health:${scope}`, this.options.instanceId);
    } catch (error) {
      this.options.onStoreError?.(error);
    }
  }
}
