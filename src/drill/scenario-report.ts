import type { RouteConfig } from '../config/schema.js';
import type { ModelPrice } from '../core/model-catalog.js';
import type { ResolvedRoute } from '../engine/route-table.js';
import { toMs } from '../sim/faults.js';
import type { CallRecord } from './client-call.js';
import type { EventRecorder } from './event-recorder.js';
import type { FaultPlans } from './fault-plan.js';
import type { ScenarioReport } from './report-types.js';
import { baselineLatency, countRequests, firstAnswerAfter, latencyFigures, shareOutsideIncidents, successRate, tally, timeToDetect, timeToHome, timeToPrimary, timeToRecover } from './scenario-metrics.js';
import type { Scenario } from './scenario-schema.js';
import { describeRun, type ScenarioTimeline } from './scenario-timing.js';
import type { ScaledTiming } from './timing-scale.js';
import { formatMs } from './duration.js';
import { buildTimeSeries } from './time-series.js';
import { judge, outageWaitOf, p95BoundOf, sloOf, successBarOf } from './verdict.js';

/** Everything one scenario's run observed, for its report. */
export interface ScenarioObservations {
  scenario: Scenario;
  timeline: ScenarioTimeline;
  faults: FaultPlans;
  route: ResolvedRoute;
  routeConfig: RouteConfig;
  records: readonly CallRecord[];
  dropped: number;
  /** Epoch ms the scenario's clock started. */
  runStartedAt: number;
  recorder: EventRecorder;
  prices: Readonly<Record<string, Partial<ModelPrice>>>;
  upstreamCallsByProvider: Record<string, number>;
  /** Breaker and health timings shrunk with the incidents. */
  scaledTimings: ScaledTiming[];
  /** The longest health-check interval of the route's providers, as the run used it. */
  healthIntervalMs: number | undefined;
  /** The longest recovery-probe interval of the route's targets, as the run used it. */
  recoveryProbeMs: number;
  rps: number;
  /** The instance's region (`server.region`), for a scenario on the home region. */
  homeRegion?: string | undefined;
  /** Simulator calls by the region of their provider. */
  upstreamCallsByRegion?: Record<string, number> | undefined;
}

/** The default time to recover, before scaling: Detour must serve again about as soon as the upstreams do. */
const defaultRecoverWithinMs = 2000;
/** Recovery faster than this many request intervals cannot be seen in the load, so no limit is tighter. */
const minRecoverIntervals = 5;

/**
 * How soon success must be back: the scenario's `recover_within` or 2 s plus the route's health
 * interval (a probe-driven recovery waits for one), shrunk like every time of the scenario.
 */
export function recoverWithin(scenario: Scenario, scale: number, healthIntervalMs: number | undefined, rps: number): { ms: number; basis: string } {
  const floorMs = (minRecoverIntervals * 1000) / rps;
  const scaled = scale < 1 ? ` ×${scale.toFixed(3)} with the run` : '';
  const explicit = scenario.verdict.recover_within;
  let ms: number;
  let basis: string;
  if (explicit !== undefined) {
    ms = toMs(explicit) * scale;
    basis = `the scenario's recover_within ${formatMs(toMs(explicit))}${scaled}`;
  } else {
    // The health interval in the run's config is already scaled.
    ms = defaultRecoverWithinMs * scale + (healthIntervalMs ?? 0);
    basis = `${formatMs(defaultRecoverWithinMs)}${scaled}${healthIntervalMs === undefined ? '' : ` + the route's health interval ${formatMs(healthIntervalMs)}`}`;
  }
  if (ms < floorMs) return { ms: floorMs, basis: `${basis}, raised to ${minRecoverIntervals} request intervals at ${rps} req/s` };
  return { ms: Math.round(ms), basis };
}

/** Turns a scenario's observations into its figures and verdict. */
export function buildScenarioReport(observed: ScenarioObservations): ScenarioReport {
  const { scenario, timeline, faults, route, records, recorder, runStartedAt } = observed;
  const timeoutMs = route.settings.timeoutMs;
  const requests = countRequests(records, observed.dropped, timeoutMs);
  const slo = sloOf(observed.routeConfig);
  const lastEndMs = Math.max(...timeline.incidents.map((placed) => placed.span.endMs));
  const recoveryMs = timeToRecover(timeline, records, runStartedAt, slo.successRate);
  const limit = recoverWithin(scenario, timeline.scale, observed.healthIntervalMs, observed.rps);
  const figures = {
    requests,
    successRate: successRate(requests),
    ...latencyFigures(records),
    slo,
    successBar: successBarOf(slo, scenario.verdict.success_rate, shareOutsideIncidents(timeline, records, runStartedAt)),
    p95Bound: p95BoundOf(baselineLatency(timeline, records, runStartedAt), route.settings, outageWaitOf(scenario, timeline, route.settings.waitForRecoveryMs, observed.recoveryProbeMs)),
    recovery: { ms: recoveryMs, withinMs: limit.ms, observedMs: Math.max(0, timeline.runMs - lastEndMs), basis: limit.basis },
    region: regionFigures(observed, limit),
  };
  const upstreamCalls = Object.values(observed.upstreamCallsByProvider).reduce((sum, count) => sum + count, 0);
  const cost = recorder.cost(observed.prices);
  const warnings = [...faults.warnings];
  const firstTargets = (route.groups[0]?.targets ?? []).map((target) => target.id);
  if (route.groups.length === 1) warnings.push(`route "${route.settings.name}" has a single target: there is nothing to fail over to`);
  if (observed.dropped > 0) warnings.push(`${observed.dropped} request(s) not sent: the load generator had too many outstanding`);
  return {
    name: scenario.name,
    description: describeRun(scenario, timeline),
    durationMs: timeline.runMs,
    naturalDurationMs: toMs(scenario.duration),
    scale: timeline.scale,
    incidents: timeline.incidents.map((placed) => ({ label: placed.label, on: String(placed.incident.on), startMs: placed.span.startMs, endMs: placed.span.endMs, windows: placed.windows })),
    affectedTargets: faults.affectedTargets,
    ...figures,
    amplification: perRequest(upstreamCalls, records.length),
    upstreamCalls,
    attemptsPerRequest: perRequest(recorder.attemptCount, records.length),
    failovers: recorder.failovers,
    resilience: { ...recorder.resilience, notContinuedReasons: { ...recorder.resilience.notContinuedReasons } },
    servedAway: records.filter((record) => record.outcome === 'success' && record.target !== undefined && !firstTargets.includes(record.target)).length,
    timeToDetectMs: timeToDetect(timeline, recorder.stateEvents, faults.affectedTargets, runStartedAt),
    timeToRecoverMs: recoveryMs,
    // The route's first target, when an incident hit it: a backup serving again is not "back on the primary".
    timeToPrimaryMs: timeToPrimary(timeline, records, firstTargets.filter((id) => faults.affectedTargets.includes(id)), runStartedAt),
    firstAnswerAfterMs: firstAnswerAfter(timeline, records, runStartedAt),
    costUsd: Math.round(cost.usd * 1e6) / 1e6,
    unpricedRequests: cost.unpriced,
    servedBy: tally(records.map((record) => (record.outcome === 'success' ? record.target : undefined))),
    errorCodes: tally(records.map((record) => (record.outcome === 'success' ? undefined : (record.errorCode ?? record.outcome)))),
    upstreamFailures: Object.fromEntries(recorder.attemptFailures),
    upstreamCallsByProvider: observed.upstreamCallsByProvider,
    stateEvents: recorder.stateEvents.map((event) => ({ atMs: event.at - runStartedAt, type: event.type, target: event.target, detail: event.detail })),
    series: buildTimeSeries(records, runStartedAt, timeline.runMs, route.groups.flatMap((group) => group.targets.map((target) => target.id))),
    scaledTimings: observed.scaledTimings,
    verdict: judge(figures, timeoutMs),
    warnings,
  };
}

/** Where traffic went in a scenario on the home region, and how soon it was all back home; null for any other scenario. */
function regionFigures(observed: ScenarioObservations, limit: { ms: number; basis: string }): ScenarioReport['region'] {
  const home = observed.homeRegion;
  if (home === undefined || !observed.timeline.incidents.some((placed) => placed.incident.on === 'home_region')) return null;
  return {
    home,
    returnHomeMs: timeToHome(observed.timeline, observed.records, home, observed.runStartedAt),
    withinMs: limit.ms,
    basis: limit.basis,
    servedByRegion: tally(observed.records.map((record) => (record.outcome === 'success' ? (record.region ?? 'none') : undefined))),
    upstreamCallsByRegion: observed.upstreamCallsByRegion ?? {},
  };
}

function perRequest(count: number, requests: number): number | null {
  return requests === 0 ? null : Math.round((count / requests) * 1000) / 1000;
}
