import {
  acquireProbe,
  acquireRecoveryProbe,
  breakerAdmission,
  closeBreaker,
  coolDown,
  isProbeHolder,
  openBreaker,
  settleProbe,
  transitionKind,
  type Admission,
  type BreakerSettings,
  type BreakerState,
  type OpenCause,
  recoveryProbeAt,
} from '../core/breaker.js';
import { emptyOutcomeWindow, recordOutcome, tripOf, type OutcomeWindow, type Trip } from '../core/breaker-window.js';
import type { Clock } from '../core/clock.js';
import type { CircuitClosedEvent, EngineEvents, EventBus } from '../core/events.js';
import type { TargetOutcome } from '../core/target-outcome.js';
import type { StateStore, StateTransition, TransitionResult } from './state-store.js';

export interface CircuitBreakersOptions {
  store: StateStore;
  clock: Clock;
  events: EventBus<EngineEvents>;
  /** Breaker settings of a target (one shared object is fine). */
  settingsFor(targetId: string): BreakerSettings;
  /** Unique per process across the cluster (e.g. host, pid and a random suffix), so probe holders never collide. */
  instanceId: string;
  /** Hears of a store failure; the breaker then carries on as if nothing had changed. */
  onStoreError?: ((error: unknown) => void) | undefined;
}

/** What one finished attempt reports to its target's breaker. */
export interface BreakerReport {
  outcome: TargetOutcome;
  /** The upstream's retry-after, in milliseconds: a longer one holds the circuit open longer. */
  retryAfterMs?: number | undefined;
  /** The request id, when this attempt was the half-open probe (`tryAcquireProbe` said true). */
  probeRequestId?: string | undefined;
  /** A 429's retry-after: the target is skipped by every request until it is over. */
  coolDownMs?: number | undefined;
  /**
   * Whether another target of the request's route serves now: only then does a failed probe
   * double the cooldown (read only for a probe's report).
   */
  isBackupServing?: (() => boolean) | undefined;
}

/**
 * The breakers of all targets, over a `StateStore`: the engine's one handle on them.
 *
 * The hot path (`admission`) reads the store's local view synchronously. Outcomes are counted in
 * a window local to this instance, synchronously too; the store is called only when a window
 * trips, for the rare half-open probe, or when a retry-after extends an open circuit. Every
 * transition this instance makes is emitted as an event; transitions made by other instances
 * reach this one's view through the store and are not re-emitted, so that a cluster reports
 * each once.
 */
export class CircuitBreakers {
  private readonly windows = new Map<string, OutcomeWindow>();
  private readonly acquiring = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: CircuitBreakersOptions) {
    this.unsubscribe = options.store.onChange((change) => {
      // A circuit that closed or opened anywhere starts this instance's count afresh.
      if (change.kind === 'breaker' && change.previous.status !== change.next.status) this.windows.delete(change.targetId);
    });
  }

  /** Whether to send a request to `targetId` now: synchronous, no I/O. */
  admission(targetId: string): Admission {
    return breakerAdmission(this.options.store.breakerView(targetId), this.options.clock.now());
  }

  /**
   * Tries to take the one half-open probe of a target whose admission is `probe`. True means
   * this request is the probe: send it, and report its outcome with `probeRequestId`.
   */
  async tryAcquireProbe(targetId: string, requestId: string): Promise<boolean> {
    // One store call per target at a time from this instance: the others would lose anyway.
    if (this.acquiring.has(targetId)) return false;
    this.acquiring.add(targetId);
    const holder = this.holderOf(requestId);
    try {
      const settings = this.options.settingsFor(targetId);
      const result = await this.transition(targetId, (state, now) => acquireProbe(state, holder, now, settings));
      return result !== undefined && result.isChanged && isProbeHolder(result.next, holder);
    } finally {
      this.acquiring.delete(targetId);
    }
  }

  /**
   * Tries to take a recovery probe of an open target of a route whose every target is down: due
   * every `recoveryProbeMs` whatever the cooldown (see `acquireRecoveryProbe`).
   */
  async tryAcquireRecoveryProbe(targetId: string, requestId: string): Promise<boolean> {
    if (this.acquiring.has(targetId)) return false;
    this.acquiring.add(targetId);
    const holder = this.holderOf(requestId);
    try {
      const settings = this.options.settingsFor(targetId);
      const result = await this.transition(targetId, (state, now) => acquireRecoveryProbe(state, holder, now, settings));
      return result !== undefined && result.isChanged && isProbeHolder(result.next, holder);
    } finally {
      this.acquiring.delete(targetId);
    }
  }

  /** When `targetId` may next send a recovery probe (epoch ms), or undefined when it is not open. */
  recoveryProbeAt(targetId: string): number | undefined {
    return recoveryProbeAt(this.options.store.breakerView(targetId), this.options.settingsFor(targetId));
  }

  /** Counts a finished attempt. Never rejects: a store failure is reported and ignored. */
  async record(targetId: string, report: BreakerReport): Promise<void> {
    const settings = this.options.settingsFor(targetId);
    const view = this.options.store.breakerView(targetId);
    if (report.probeRequestId !== undefined) {
      const holder = this.holderOf(report.probeRequestId);
      if (isProbeHolder(view, holder)) {
        const options = { isDoubling: report.outcome === 'failure' ? (report.isBackupServing?.() ?? true) : undefined, isRateLimited: report.coolDownMs !== undefined };
        const holdMs = report.coolDownMs ?? report.retryAfterMs;
        await this.transition(targetId, (state, now) => settleProbe(state, holder, report.outcome, now, settings, holdMs, options), 'probe_succeeded');
        return;
      }
    }
    if (report.outcome === 'neutral') return;
    const now = this.options.clock.now();
    if (report.coolDownMs !== undefined && (view.status === 'closed' || (view.status === 'open' && now + Math.min(report.coolDownMs, settings.maxOpenMs) > view.until))) {
      // A rate-limited key is left alone for as long as it asked, by every request.
      this.windows.delete(targetId);
      const coolDownMs = report.coolDownMs;
      await this.transition(targetId, (state, at) => (state.status === 'half_open' ? state : coolDown(state, coolDownMs, at, settings)));
      return;
    }
    if (view.status === 'open') {
      // A late failure of an open target changes nothing, unless the upstream asks for a longer wait.
      if (report.outcome === 'failure' && report.retryAfterMs !== undefined && now + Math.min(report.retryAfterMs, settings.maxOpenMs) > view.until) {
        await this.open(targetId, { reason: view.reason, holdMs: report.retryAfterMs });
      }
      return;
    }
    // Half-open: only the probe decides; a slow request started before the circuit opened does not.
    if (view.status !== 'closed') return;
    const window = recordOutcome(this.windows.get(targetId) ?? emptyOutcomeWindow, report.outcome === 'failure', now, settings);
    const trip = tripOf(window, now, settings);
    if (!trip) {
      this.windows.set(targetId, window);
      return;
    }
    this.windows.delete(targetId);
    await this.open(targetId, { reason: trip.reason, holdMs: report.retryAfterMs }, trip);
  }

  /** Opens a target's circuit on an unhealthy health check, holding it for the longest cooldown. */
  async openForHealth(targetId: string): Promise<void> {
    await this.open(targetId, { reason: 'health_check', holdMs: this.options.settingsFor(targetId).maxOpenMs });
  }

  /** Opens a closed circuit whose calls in flight turned slow (`core/slow-calls.ts`); one already open or probing is left as it is. */
  async openForSlowCalls(targetId: string): Promise<void> {
    if (this.options.store.breakerView(targetId).status !== 'closed') return;
    this.windows.delete(targetId);
    await this.open(targetId, { reason: 'slow_calls' });
  }

  /** Closes a circuit the health check opened, once the check recovers; one opened by traffic waits for its probe. */
  async closeForHealth(targetId: string): Promise<void> {
    await this.transition(
      targetId,
      (state, now) => (state.status !== 'closed' && state.reason === 'health_check' ? closeBreaker(state, now) : state),
      'health_recovered',
    );
  }

  /**
   * A health check passed while the circuit is open and its route down: the next request may
   * probe at once rather than wait out the cooldown (a real request still decides).
   */
  async expediteProbe(targetId: string): Promise<void> {
    await this.transition(targetId, (state, now) => (state.status === 'open' && state.reason !== 'rate_limited' && state.until > now ? { ...state, until: now } : state));
  }

  /** Closes a circuit whatever its state (an operator's reset). */
  async reset(targetId: string): Promise<void> {
    await this.transition(targetId, (state, now) => closeBreaker(state, now), 'reset');
  }

  /** Stops listening to the store. */
  dispose(): void {
    this.unsubscribe();
  }

  private async open(targetId: string, cause: OpenCause, trip?: Trip): Promise<void> {
    const settings = this.options.settingsFor(targetId);
    await this.transition(targetId, (state, now) => openBreaker(state, cause, now, settings), undefined, trip);
  }

  /** Applies a transition and emits its event; resolves undefined when the store failed. */
  private async transition(
    targetId: string,
    change: StateTransition<BreakerState>,
    closedReason: CircuitClosedEvent['reason'] = 'probe_succeeded',
    trip?: Trip,
  ): Promise<TransitionResult<BreakerState> | undefined> {
    let result: TransitionResult<BreakerState>;
    try {
      result = await this.options.store.transitionBreaker(targetId, change);
    } catch (error) {
      this.options.onStoreError?.(error);
      return undefined;
    }
    if (result.isChanged) this.emit(targetId, result.previous, result.next, closedReason, trip);
    return result;
  }

  private emit(target: string, previous: BreakerState, next: BreakerState, closedReason: CircuitClosedEvent['reason'], trip?: Trip): void {
    const kind = transitionKind(previous, next);
    const events = this.options.events;
    if (kind === 'opened' && next.status === 'open') {
      events.emit('circuit.opened', { target, reason: next.reason, cooldownMs: next.cooldownMs, until: next.until, failures: trip?.failures, requests: trip?.requests });
    } else if (kind === 'half_opened' && next.status === 'half_open') {
      events.emit('circuit.half_opened', { target, probe: next.probe?.holder ?? '' });
    } else if (kind === 'closed') {
      events.emit('circuit.closed', { target, reason: closedReason });
    }
  }

  private holderOf(requestId: string): string {
    return `${this.options.instanceId}/${requestId}`;
  }
}
