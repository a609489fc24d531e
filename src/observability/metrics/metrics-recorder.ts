import type { AttemptRecord, EventBus } from '../../core/events.js';
import { CostCalculator, tokenCounts } from '../cost.js';
import { classifyAttempt, type RequestOutcome } from '../outcome.js';
import type { TargetStateView } from '../target-state.js';
import type { LabelBounds } from '../label-bounds.js';
import type { DetourMetrics } from './metrics.js';
import { seriesKey } from './keyed-metrics.js';

const circuitStates = ['closed', 'open', 'half_open'] as const;
const healthStates = ['healthy', 'unhealthy', 'unknown'] as const;

/** A target's region, for the `region` label of per-target metrics; undefined (no label) when not declared. */
export type RegionOf = (targetId: string) => string | undefined;

/**
 * Adds `region` to a per-target metric's labels when the target declares one; without regions in
 * the config the series stay exactly as they were.
 */
function withRegion<T extends Record<string, string>>(labels: T, region: string | undefined): T & { region?: string } {
  return region === undefined ? labels : { ...labels, region };
}

/** Counts one finished request (fed by the outcome pipeline, off the request path). */
export function recordOutcomeMetrics(metrics: DetourMetrics, outcome: RequestOutcome, regionOf: RegionOf = () => undefined): void {
  const route = outcome.route;
  const status = String(outcome.status);
  metrics.requests.inc(seriesKey(route, status), { route, status });
  metrics.requestDuration.observe(seriesKey(route, outcome.outcome), { route, outcome: outcome.outcome }, outcome.latencyMs / 1000);
  if (outcome.ttftMs !== undefined && outcome.target !== undefined) {
    const region = regionOf(outcome.target);
    metrics.timeToFirstToken.observe(seriesKey(route, outcome.target, region), withRegion({ route, target: outcome.target }, region), outcome.ttftMs / 1000);
  }
  recordAttempts(metrics, route, outcome.attempts, regionOf);
  recordUsage(metrics, outcome);
  if (outcome.clientKeyId !== undefined) {
    const code = outcome.errorCode ?? 'none';
    metrics.clientKeyRequests.inc(seriesKey(outcome.clientKeyId, outcome.outcome, code), { client_key: outcome.clientKeyId, outcome: outcome.outcome, code });
  }
  // Bounded by construction: HTTP's methods, the declared paths (or "other"), Detour's own codes.
  const rejection = outcome.rejection;
  if (rejection) metrics.rejectedRequests.inc({ method: rejection.method, path: rejection.endpoint, status: String(outcome.status), code: outcome.errorCode ?? 'none' });
}

function recordAttempts(metrics: DetourMetrics, route: string, attempts: readonly AttemptRecord[], regionOf: RegionOf): void {
  let previous: AttemptRecord | undefined;
  for (const attempt of attempts) {
    const outcome = classifyAttempt(attempt);
    const region = regionOf(attempt.target);
    const code = attempt.code ?? 'none';
    metrics.attempts.inc(
      seriesKey(route, attempt.target, attempt.provider, attempt.model, outcome, code, region),
      withRegion({ route, target: attempt.target, provider: attempt.provider, model: attempt.model, outcome, code }, region),
    );
    metrics.attemptDuration.observe(seriesKey(attempt.target, outcome, region), withRegion({ target: attempt.target, outcome }, region), attempt.durationMs / 1000);
    if (attempt.role === 'hedge') metrics.hedges.inc({ route, target: attempt.target });
    else if (attempt.role === 'mirror') metrics.mirrors.inc({ route, target: attempt.target });
    else if (previous?.code !== undefined && previous.target === attempt.target) {
      metrics.retries.inc({ route, target: attempt.target, code: previous.code });
    }
    if (attempt.role === undefined) previous = attempt;
  }
}

function recordUsage(metrics: DetourMetrics, outcome: RequestOutcome): void {
  const route = outcome.route;
  const target = outcome.target ?? 'none';
  const tokens = outcome.tokens;
  if (tokens) {
    metrics.tokens.inc(seriesKey(route, target, 'input'), { route, target, type: 'input' }, tokens.input);
    metrics.tokens.inc(seriesKey(route, target, 'output'), { route, target, type: 'output' }, tokens.output);
    if (tokens.cachedInput > 0) metrics.tokens.inc(seriesKey(route, target, 'cached_input'), { route, target, type: 'cached_input' }, tokens.cachedInput);
  }
  const cost = outcome.cost;
  const clientKey = outcome.clientKeyId ?? 'none';
  if (cost.successUsd !== undefined && cost.successUsd > 0) addCost(metrics, route, target, clientKey, 'success', cost.successUsd);
  if (cost.failedUsd > 0) addCost(metrics, route, target, clientKey, 'failed', cost.failedUsd);
  if (cost.hedgeUsd > 0) addCost(metrics, route, target, clientKey, 'hedge', cost.hedgeUsd);
  if (cost.mirrorUsd > 0) addCost(metrics, route, target, clientKey, 'mirror', cost.mirrorUsd);
  if (!cost.isPriced && outcome.model !== undefined) metrics.unpriced.inc({ model: outcome.model });
}

function addCost(metrics: DetourMetrics, route: string, target: string, clientKey: string, kind: 'success' | 'failed' | 'hedge' | 'mirror', usd: number): void {
  metrics.cost.inc(seriesKey(route, target, clientKey, kind), { route, target, client_key: clientKey, kind }, usd);
}

/** Circuit and health gauges, read from the live view at each scrape; transitions and failovers counted as they happen (one increment). */
export function trackTargetMetrics(metrics: DetourMetrics, view: TargetStateView, events: EventBus, bounds: LabelBounds): () => void {
  metrics.onScrape(() => {
    for (const target of view.snapshot()) {
      // Directly addressed targets are not configured ones: no gauges of their own (their traffic counts as "other").
      if (bounds.target(target.id) !== target.id) continue;
      const region = bounds.regionOf(target.id);
      for (const state of circuitStates) metrics.circuitState.set(withRegion({ target: target.id, state }, region), target.circuit === state ? 1 : 0);
      for (const state of healthStates) metrics.targetHealth.set(withRegion({ target: target.id, state }, region), target.health === state ? 1 : 0);
      for (const limit of target.limits ?? []) {
        metrics.targetLimitHeadroom.set({ target: target.id, limit: limit.kind, source: limit.source }, limit.remaining);
        if (limit.limit !== undefined) metrics.targetLimit.set({ target: target.id, limit: limit.kind, source: limit.source }, limit.limit);
      }
    }
  });
  const offs = [
    events.on('circuit.opened', (event) => metrics.circuitTransitions.inc(withRegion({ target: bounds.target(event.target), state: 'open' }, bounds.regionOf(event.target)))),
    events.on('circuit.half_opened', (event) => metrics.circuitTransitions.inc(withRegion({ target: bounds.target(event.target), state: 'half_open' }, bounds.regionOf(event.target)))),
    events.on('circuit.closed', (event) => metrics.circuitTransitions.inc(withRegion({ target: bounds.target(event.target), state: 'closed' }, bounds.regionOf(event.target)))),
    events.on('calls.slow', (event) => {
      for (const entry of event.moved) metrics.slowCalls.inc({ target: bounds.target(event.target), wait: entry.wait });
    }),
    // Counted from the engine's own event: it alone knows a failover past a skipped (open) target.
    events.on('failover.performed', (event) => metrics.failovers.inc({ route: bounds.route(event.route), from: bounds.target(event.from), to: bounds.target(event.to), code: event.code })),
    events.on('stream.continued', (event) => metrics.streamContinuations.inc({ route: bounds.route(event.route), from: bounds.target(event.from), to: bounds.target(event.to), code: event.code })),
    events.on('stream.not_continued', (event) => metrics.streamsNotContinued.inc({ route: bounds.route(event.route), target: bounds.target(event.target), reason: event.reason })),
    events.on('recovery.probed', (event) => metrics.recoveryProbes.inc({ route: bounds.route(event.route), target: bounds.target(event.target), outcome: event.isSuccess ? 'success' : 'failure' })),
    events.on('recovery.queued', (event) => metrics.recoveryWaiting.inc({ route: bounds.route(event.route) })),
    events.on('request.finished', (event) => {
      if (event.queueWaitMs !== undefined) metrics.queueWait.observe({ route: bounds.route(event.route), priority: event.priority ?? 'normal' }, event.queueWaitMs / 1000);
    }),
    events.on('recovery.released', (event) => {
      metrics.recoveryWaiting.dec({ route: bounds.route(event.route) });
      metrics.recoveryWaits.inc({ route: bounds.route(event.route), outcome: event.outcome });
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/**
 * Probe spend and shadow traffic: health checks counted by result (and, in completion mode, their
 * tokens and cost), mirrored calls counted, compared (similarity, latency) and priced apart from
 * the traffic clients pay for.
 */
export function trackProbeAndMirrorMetrics(metrics: DetourMetrics, events: EventBus, cost: CostCalculator): () => void {
  const offProbe = events.on('health.probed', (event) => {
    metrics.healthProbes.inc({ target: event.target, mode: event.mode, result: event.isHealthy ? 'healthy' : 'unhealthy' });
    const tokens = tokenCounts(event.usage);
    if (!tokens) return;
    metrics.healthProbeTokens.inc({ target: event.target, type: 'input' }, tokens.input);
    metrics.healthProbeTokens.inc({ target: event.target, type: 'output' }, tokens.output);
    const usd = cost.usageCost(event.model, tokens);
    if (usd !== undefined && usd > 0) metrics.healthProbeCost.inc({ target: event.target }, usd);
  });
  const offMirror = events.on('mirror.compared', (event) => {
    metrics.mirrors.inc({ route: event.route, target: event.mirrorTarget });
    if (event.similarity !== undefined) metrics.mirrorComparisons.observe({ route: event.route, mirror: event.mirrorTarget }, event.similarity);
    if (event.servedLatencyMs > 0) metrics.mirrorLatencyRatio.observe({ route: event.route, mirror: event.mirrorTarget }, event.mirrorLatencyMs / event.servedLatencyMs);
    const tokens = tokenCounts(event.usage);
    const usd = tokens ? cost.usageCost(event.model, tokens) : undefined;
    if (usd !== undefined && usd > 0) addCost(metrics, event.route, event.mirrorTarget, 'none', 'mirror', usd);
  });
  return () => {
    offProbe();
    offMirror();
  };
}
