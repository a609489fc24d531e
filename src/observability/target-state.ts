import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/events.js';
import type { HealthStatus } from '../core/health.js';
import { classifyAttempt } from './outcome.js';
import { allTargets, type TargetInfo, type Topology } from './topology.js';

export type CircuitStatus = 'closed' | 'open' | 'half_open';

/** What the engine knows of a target right now, when it can say (circuit state comes from events otherwise). */
export interface EngineTargetState {
  id: string;
  circuit?: CircuitStatus | undefined;
  /** When an open circuit's cooldown ends (epoch ms). */
  cooldownUntil?: number | null | undefined;
  openReason?: string | null | undefined;
  health?: HealthStatus | undefined;
  /** EWMA success rate in [0, 1]. */
  successRate?: number | undefined;
  /** EWMA of attempt duration, ms. */
  latencyMs?: number | null | undefined;
  /** EWMA of time to first token, ms. */
  ttftMs?: number | null | undefined;
  inFlight?: number | undefined;
  /** Its rate limits and what is left of each now. */
  limits?: readonly TargetLimitState[] | undefined;
}

/** One rate limit of a target: declared in the config (paced over its window) or learned from the provider's headers. */
export interface TargetLimitState {
  kind: 'requests' | 'tokens';
  source: 'declared' | 'learned';
  remaining: number;
  limit?: number | undefined;
  perMinute?: number | undefined;
  resetAt?: number | undefined;
}

/**
 * A live source of target state the engine may offer; the view falls back to what the events
 * told it for any target or field the source leaves out.
 */
export interface TargetStateSource {
  targets(): readonly EngineTargetState[];
}

/** Traffic's own verdict on a target: `failing` after consecutive failed calls, `ok` after a success. */
export type TrafficStatus = 'idle' | 'ok' | 'failing';

/**
 * The one state a target is shown in, so that circuit, health and traffic never contradict each
 * other: `failing` when any of them says so (an open circuit, a failed health check, consecutive
 * failed calls), `recovering` while a half-open circuit probes or the first calls after a failure
 * are coming back, `healthy` when traffic and checks agree, `idle` before anything was seen.
 */
export type TargetState = 'healthy' | 'failing' | 'recovering' | 'idle';

export interface TargetSnapshot extends TargetInfo {
  state: TargetState;
  /** Why it is in that state, for people: "circuit open (failure_count)", "3 failed calls". */
  stateReason: string;
  circuit: CircuitStatus;
  /** When the circuit entered its state (epoch ms), when known. */
  circuitSince: number | null;
  /** Open circuits: when the next probe may go (epoch ms). */
  openUntil: number | null;
  openReason: string | null;
  health: HealthStatus;
  traffic: TrafficStatus;
  consecutiveFailures: number;
  lastErrorCode: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  inFlight: number | null;
  /** The engine's EWMA success rate, when it reports one. */
  successRate: number | null;
  /** Its rate limits and their headroom now (empty: none known). */
  limits: readonly TargetLimitState[];
}

/** Calls since the last failure before a target that failed is healthy again rather than recovering. */
const recoveredAfterSuccesses = 3;

function unify(circuit: CircuitStatus, health: HealthStatus, traffic: TrafficStatus, tracked: Tracked, openReason: string | null): { state: TargetState; reason: string } {
  if (circuit === 'open') return { state: 'failing', reason: `circuit open${openReason ? ` (${openReason.replace('_', ' ')})` : ''}` };
  if (health === 'unhealthy') return { state: 'failing', reason: 'health check failing' };
  if (traffic === 'failing') return { state: 'failing', reason: `${tracked.consecutiveFailures} failed calls in a row${tracked.lastErrorCode ? ` (${tracked.lastErrorCode})` : ''}` };
  if (circuit === 'half_open') return { state: 'recovering', reason: 'circuit half-open: a probe request is let through' };
  if (tracked.wasFailing && tracked.successesSinceFailure < recoveredAfterSuccesses) return { state: 'recovering', reason: `serving again: ${tracked.successesSinceFailure} call(s) answered since it failed` };
  if (traffic === 'idle' && health === 'unknown') return { state: 'idle', reason: 'no traffic or health check yet' };
  return { state: 'healthy', reason: traffic === 'ok' ? 'answering' : 'health check passing' };
}

/** Consecutive failed calls after which traffic calls a target failing. */
const failingAfter = 3;

interface Tracked {
  info: TargetInfo;
  circuit: CircuitStatus;
  circuitSince: number | null;
  openUntil: number | null;
  openReason: string | null;
  health: HealthStatus;
  consecutiveFailures: number;
  lastErrorCode: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
  /** It was failing (circuit opened, or failed calls in a row) and has not yet answered enough calls since. */
  wasFailing: boolean;
  successesSinceFailure: number;
}

/**
 * Every configured target's state as the dashboard, the status page and the metrics show it:
 * circuit and health from the engine's events, failing/ok from its attempts, live latency and
 * in-flight counts from the engine's source when one is given. Listeners only assign fields.
 */
export class TargetStateView {
  private readonly tracked = new Map<string, Tracked>();
  private readonly unsubscribes: Array<() => void> = [];

  constructor(
    topology: Topology,
    events: EventBus,
    private readonly clock: Clock,
    private readonly source?: TargetStateSource,
  ) {
    for (const info of allTargets(topology)) this.tracked.set(info.id, this.fresh(info));
    this.unsubscribes.push(
      events.on('circuit.opened', (event) => this.setCircuit(event.target, 'open', event.until, event.reason)),
      events.on('circuit.half_opened', (event) => this.setCircuit(event.target, 'half_open', null, this.get(event.target).openReason)),
      events.on('circuit.closed', (event) => this.setCircuit(event.target, 'closed', null, null)),
      events.on('health.changed', (event) => {
        this.get(event.target).health = event.to;
      }),
      events.on('attempt.succeeded', (event) => {
        const state = this.get(event.record.target, event.record);
        state.consecutiveFailures = 0;
        state.lastSuccessAt = this.clock.now();
        state.successesSinceFailure++;
        if (state.successesSinceFailure >= recoveredAfterSuccesses) state.wasFailing = false;
      }),
      events.on('attempt.failed', (event) => {
        if (classifyAttempt(event.record) !== 'failure') return;
        const state = this.get(event.record.target, event.record);
        state.consecutiveFailures++;
        state.lastErrorCode = event.record.code ?? null;
        state.lastErrorAt = this.clock.now();
        if (state.consecutiveFailures >= failingAfter) this.markFailing(state);
      }),
    );
  }

  snapshot(): TargetSnapshot[] {
    const live = new Map((this.source?.targets() ?? []).map((state) => [state.id, state]));
    return [...this.tracked.values()].map((state) => {
      const engine = live.get(state.info.id);
      const circuit = engine?.circuit ?? state.circuit;
      const health = engine?.health ?? state.health;
      const traffic: TrafficStatus = state.lastSuccessAt === null && state.lastErrorAt === null ? 'idle' : state.consecutiveFailures >= failingAfter ? 'failing' : 'ok';
      const { state: shown, reason } = unify(circuit, health, traffic, state, engine?.openReason ?? state.openReason);
      return {
        ...state.info,
        state: shown,
        stateReason: reason,
        circuit,
        circuitSince: state.circuitSince,
        openUntil: engine?.cooldownUntil !== undefined ? engine.cooldownUntil : state.openUntil,
        openReason: engine?.openReason !== undefined ? engine.openReason : state.openReason,
        health,
        traffic,
        consecutiveFailures: state.consecutiveFailures,
        lastErrorCode: state.lastErrorCode,
        lastErrorAt: state.lastErrorAt,
        lastSuccessAt: state.lastSuccessAt,
        latencyMs: engine?.latencyMs ?? null,
        ttftMs: engine?.ttftMs ?? null,
        inFlight: engine?.inFlight ?? null,
        successRate: engine?.successRate ?? null,
        limits: engine?.limits ?? [],
      };
    });
  }

  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  private markFailing(state: Tracked): void {
    state.wasFailing = true;
    state.successesSinceFailure = 0;
  }

  private setCircuit(target: string, circuit: CircuitStatus, openUntil: number | null, openReason: string | null): void {
    const state = this.get(target);
    if (circuit === 'open') this.markFailing(state);
    state.circuit = circuit;
    state.circuitSince = this.clock.now();
    state.openUntil = openUntil;
    state.openReason = openReason;
  }

  /** A target addressed directly (`provider/model`) is tracked from its first event on. */
  private get(target: string, record?: { provider: string; model: string }): Tracked {
    let state = this.tracked.get(target);
    if (!state) {
      const slash = target.indexOf('/');
      const info = { id: target, provider: record?.provider ?? target.slice(0, Math.max(0, slash)), model: record?.model ?? target.slice(slash + 1) };
      state = this.fresh(info);
      // Bounded like the engine's own table of direct routes.
      if (this.tracked.size < 1000) this.tracked.set(target, state);
    }
    return state;
  }

  private fresh(info: TargetInfo): Tracked {
    return { info, circuit: 'closed', circuitSince: null, openUntil: null, openReason: null, health: 'unknown', consecutiveFailures: 0, lastErrorCode: null, lastErrorAt: null, lastSuccessAt: null, wasFailing: false, successesSinceFailure: 0 };
  }
}
