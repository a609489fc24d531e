import type { EngineEvents, RequestFinishedEvent } from '../core/events.js';
import type { EventBus } from '../core/events.js';
import { CostCalculator, tokenCounts } from '../observability/cost.js';
import type { ModelPrice } from '../core/model-catalog.js';

/** A breaker or health transition, for detection times and the chart's markers. */
export interface StateEvent {
  /** Epoch ms. */
  at: number;
  type: 'circuit.opened' | 'circuit.half_opened' | 'circuit.closed' | 'health.changed';
  target: string;
  detail: string;
}

export interface CostSummary {
  usd: number;
  /** Requests that used a model without a known price (not in the total). */
  unpriced: number;
}

/**
 * Listens to the gateway's engine for one scenario: state transitions as they happen, and
 * finished requests kept aside to be priced after the run (pricing reads usage, which must
 * stay off the request path).
 */
export class EventRecorder {
  readonly stateEvents: StateEvent[] = [];
  /** Upstream attempts that failed, by Detour error code (refused connections and streams cut after their start included). */
  readonly attemptFailures = new Map<string, number>();
  attemptCount = 0;
  failovers = 0;
  /** What the route's resilience did: streams continued (or not), recovery probes sent, requests held for a down route. */
  readonly resilience = { continuedStreams: 0, streamsNotContinued: 0, notContinuedReasons: {} as Record<string, number>, recoveryProbes: 0, recoveryProbesSucceeded: 0, queuedForRecovery: 0, releasedByRecovery: 0, slowCallsMoved: 0 };
  private readonly finished: RequestFinishedEvent[] = [];
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    events: EventBus<EngineEvents>,
    private readonly route: string,
  ) {
    const state = (type: StateEvent['type'], target: string, detail: string): void => {
      this.stateEvents.push({ at: Date.now(), type, target, detail });
    };
    this.unsubscribe.push(
      events.on('circuit.opened', (event) => state('circuit.opened', event.target, `${event.reason}, cooldown ${event.cooldownMs} ms`)),
      events.on('circuit.half_opened', (event) => state('circuit.half_opened', event.target, 'probe let through')),
      events.on('circuit.closed', (event) => state('circuit.closed', event.target, event.reason)),
      events.on('health.changed', (event) => state('health.changed', event.target, `${event.from} → ${event.to}`)),
      events.on('attempt.started', (event) => {
        if (event.route === this.route) this.attemptCount++;
      }),
      events.on('attempt.failed', (event) => {
        if (event.route !== this.route) return;
        this.countFailure(event.record.code ?? 'UNKNOWN');
      }),
      events.on('failover.performed', (event) => {
        if (event.route === this.route) this.failovers++;
      }),
      events.on('stream.continued', (event) => {
        if (event.route !== this.route) return;
        this.resilience.continuedStreams++;
        // The broken attempt failed, though its client never saw it: counted like any failed attempt.
        this.countFailure(event.code);
      }),
      events.on('stream.not_continued', (event) => {
        if (event.route !== this.route) return;
        this.resilience.streamsNotContinued++;
        this.resilience.notContinuedReasons[event.reason] = (this.resilience.notContinuedReasons[event.reason] ?? 0) + 1;
      }),
      events.on('recovery.probed', (event) => {
        if (event.route !== this.route) return;
        this.resilience.recoveryProbes++;
        if (event.isSuccess) this.resilience.recoveryProbesSucceeded++;
      }),
      // The drill's load goes to one route: every slow call moved on is one of its calls.
      events.on('calls.slow', (event) => {
        this.resilience.slowCallsMoved += event.moved.length;
      }),
      events.on('recovery.queued', (event) => {
        if (event.route === this.route) this.resilience.queuedForRecovery++;
      }),
      events.on('recovery.released', (event) => {
        if (event.route === this.route && event.outcome === 'recovered') this.resilience.releasedByRecovery++;
      }),
      events.on('request.finished', (event) => {
        if (event.route !== this.route) return;
        this.finished.push(event);
        // A stream that failed after its start: its attempt was recorded as a success at the first byte, so this is where the engine tells of its failure.
        if (event.stream && event.target !== undefined && event.errorCode !== undefined && event.errorCode !== 'CLIENT_CLOSED') this.countFailure(event.errorCode);
      }),
    );
  }

  /** USD spent on the route's requests, from the usage each upstream reported. */
  cost(prices: Readonly<Record<string, Partial<ModelPrice>>>): CostSummary {
    const calculator = new CostCalculator(prices);
    const summary: CostSummary = { usd: 0, unpriced: 0 };
    for (const event of this.finished) {
      const cost = calculator.requestCost({ model: event.model, tokens: tokenCounts(event.usage()), isSuccess: event.status < 400, attempts: event.attempts });
      if (!cost.isPriced) summary.unpriced++;
      summary.usd += (cost.successUsd ?? 0) + cost.failedUsd + cost.hedgeUsd + cost.mirrorUsd;
    }
    return summary;
  }

  private countFailure(code: string): void {
    this.attemptFailures.set(code, (this.attemptFailures.get(code) ?? 0) + 1);
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }
}
