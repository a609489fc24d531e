import type { RouteConfig } from '../config/schema.js';
import type { ModelPrice } from '../core/model-catalog.js';
import type { ResolvedRoute } from '../engine/route-table.js';
import { toMs } from '../sim/faults.js';
import type { CallRecord } from './client-call.js';
import type { EventRecorder } from './event-recorder.js';
import type { FaultPlans } from './fault-plan.js';
import type { ScenarioReport } from './report-types.js';
import { countRequests, latencyFigures, successRate, tally, timeToDetect, timeToRecover } from './scenario-metrics.js';
import type { Scenario } from './scenario-schema.js';
import type { ScenarioTimeline } from './scenario-timing.js';
import { buildTimeSeries } from './time-series.js';
import { judge, sloOf } from './verdict.js';

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
}

/** Turns a scenario's observations into its figures and verdict. */
export function buildScenarioReport(observed: ScenarioObservations): ScenarioReport {
  const { scenario, timeline, faults, route, records, recorder, runStartedAt } = observed;
  const timeoutMs = route.settings.timeoutMs;
  const requests = countRequests(records, observed.dropped, timeoutMs);
  const figures = { requests, successRate: successRate(requests, scenario.verdict.count_cut_streams), ...latencyFigures(records), slo: sloOf(observed.routeConfig, timeoutMs) };
  const upstreamCalls = Object.values(observed.upstreamCallsByProvider).reduce((sum, count) => sum + count, 0);
  const cost = recorder.cost(observed.prices);
  const warnings = [...faults.warnings];
  if (route.groups.length === 1) warnings.push(`route "${route.settings.name}" has a single target: there is nothing to fail over to`);
  if (observed.dropped > 0) warnings.push(`${observed.dropped} request(s) not sent: the load generator had too many outstanding`);
  return {
    name: scenario.name,
    description: scenario.description,
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
    timeToDetectMs: timeToDetect(timeline, recorder.stateEvents, faults.affectedTargets, runStartedAt),
    timeToRecoverMs: timeToRecover(timeline, records, faults.affectedTargets, runStartedAt),
    costUsd: Math.round(cost.usd * 1e6) / 1e6,
    unpricedRequests: cost.unpriced,
    servedBy: tally(records.map((record) => (record.outcome === 'success' ? record.target : undefined))),
    errorCodes: tally(records.map((record) => (record.outcome === 'success' ? undefined : (record.errorCode ?? record.outcome)))),
    upstreamFailures: Object.fromEntries(recorder.attemptFailures),
    upstreamCallsByProvider: observed.upstreamCallsByProvider,
    stateEvents: recorder.stateEvents.map((event) => ({ atMs: event.at - runStartedAt, type: event.type, target: event.target, detail: event.detail })),
    series: buildTimeSeries(records, runStartedAt, timeline.runMs, route.groups.flatMap((group) => group.targets.map((target) => target.id))),
    judging: { slo: scenario.verdict.slo, countCutStreams: scenario.verdict.count_cut_streams },
    verdict: judge(scenario, figures, timeoutMs),
    warnings,
  };
}

function perRequest(count: number, requests: number): number | null {
  return requests === 0 ? null : Math.round((count / requests) * 1000) / 1000;
}
