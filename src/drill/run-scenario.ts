import type { DetourConfig } from '../config/schema.js';
import { toMs } from '../sim/faults.js';
import { startGatewayServer } from '../server/gateway-server.js';
import { toObservabilitySettings } from '../server/observability-config.js';
import type { CallRecord } from './client-call.js';
import { toDrillConfig } from './drill-config.js';
import { EventRecorder } from './event-recorder.js';
import { buildFaultPlans } from './fault-plan.js';
import { runLoad } from './load-generator.js';
import type { ScenarioReport } from './report-types.js';
import { countRequests, latencyFigures, successRate, tally, timeToDetect, timeToRecover } from './scenario-metrics.js';
import type { Scenario } from './scenario-schema.js';
import { placeIncidents } from './scenario-timing.js';
import { SimFleet } from './sim-fleet.js';
import { buildTimeSeries } from './time-series.js';
import { judge, sloOf } from './verdict.js';

/** What a progress display is told, a few times a second. */
export interface LiveProgress {
  scenario: string;
  elapsedMs: number;
  durationMs: number;
  sent: number;
  finished: number;
  succeeded: number;
  /** The target that served the latest successful answer. */
  servingTarget: string | undefined;
}

export interface ScenarioRunOptions {
  /** The user's validated config; the drill never changes it, it derives its own. */
  config: DetourConfig;
  route: string;
  scenario: Scenario;
  /** The run's length; the scenario's natural length when absent. */
  durationMs?: number | undefined;
  rps: number;
  seed: number;
  requestLogPath?: string | undefined;
  signal: AbortSignal;
  onProgress?(progress: LiveProgress): void;
}

export interface ScenarioRun {
  report: ScenarioReport;
  /** What the drill changed in the config, for the report's notes. */
  configNotes: string[];
  records: CallRecord[];
}

/** A request may end this long after its route's deadline before the client calls it hung. */
const hungGraceMs = 5000;
const progressIntervalMs = 250;

/**
 * Plays one scenario: fresh simulators and a fresh gateway (no circuit carries over from the
 * previous scenario), the scripted incident, an open-loop load for the run, then the figures.
 */
export async function runScenario(options: ScenarioRunOptions): Promise<ScenarioRun> {
  const { scenario } = options;
  const durationMs = options.durationMs ?? toMs(scenario.duration);
  const fleet = await SimFleet.start(options.config, options.seed);
  let gateway: Awaited<ReturnType<typeof startGatewayServer>> | undefined;
  try {
    const drill = toDrillConfig(options.config, fleet.urls(), { requestLogPath: options.requestLogPath });
    gateway = await startGatewayServer(drill.config, { port: 0, host: '127.0.0.1', processMetrics: false });
    const route = gateway.engine.routes.resolve(options.route);
    if (!route || route.isDirect) throw new Error(`route "${options.route}" not found`);
    const timeoutMs = route.settings.timeoutMs;
    const timeline = placeIncidents(scenario, durationMs);
    const faults = buildFaultPlans(scenario, timeline, route, fleet.providers());
    const recorder = new EventRecorder(gateway.engine.events, options.route);
    const live = { sent: 0, finished: 0, succeeded: 0, servingTarget: undefined as string | undefined };
    const runStartedAt = Date.now();
    fleet.apply(faults.plans, scenario.baseline.chunk_delay_ms);
    const emitProgress = (): void => options.onProgress?.({ scenario: scenario.name, elapsedMs: Math.min(durationMs, Date.now() - runStartedAt), durationMs, ...live });
    const ticker = setInterval(emitProgress, progressIntervalMs);
    let load;
    try {
      const deadlineMs = timeoutMs + hungGraceMs;
      load = await runLoad({
        baseUrl: gateway.url,
        route: options.route,
        rps: options.rps,
        durationMs,
        deadlineMs,
        seed: options.seed,
        // Room for every request to be outstanding until its deadline: the client must never be the bottleneck it measures.
        maxInFlight: Math.min(4096, Math.max(64, Math.ceil((options.rps * deadlineMs) / 1000))),
        signal: options.signal,
        onSent: () => live.sent++,
        onRecord: (record) => {
          live.finished++;
          if (record.outcome !== 'success') return;
          live.succeeded++;
          live.servingTarget = record.target;
        },
      });
    } finally {
      clearInterval(ticker);
      recorder.stop();
    }
    emitProgress();

    const records = load.records;
    const requests = countRequests(records, load.dropped, timeoutMs);
    const routeConfig = options.config.models[options.route];
    if (!routeConfig) throw new Error(`route "${options.route}" not found`);
    const slo = sloOf(routeConfig, timeoutMs);
    const figures = { requests, successRate: successRate(requests, scenario.verdict.count_cut_streams), ...latencyFigures(records), slo };
    const upstreamCalls = fleet.upstreamCalls();
    const cost = recorder.cost(toObservabilitySettings(drill.config).prices);
    const routeTargets = route.groups.flatMap((group) => group.targets.map((target) => target.id));
    const warnings = [...faults.warnings];
    if (route.groups.length === 1) warnings.push(`route "${options.route}" has a single target: there is nothing to fail over to`);
    if (load.dropped > 0) warnings.push(`${load.dropped} request(s) not sent: the load generator had too many outstanding`);
    const result: ScenarioReport = {
      name: scenario.name,
      description: scenario.description,
      durationMs,
      naturalDurationMs: toMs(scenario.duration),
      scale: timeline.scale,
      incidents: timeline.incidents.map((placed) => ({ label: placed.label, on: String(placed.incident.on), startMs: placed.span.startMs, endMs: placed.span.endMs, windows: placed.windows })),
      affectedTargets: faults.affectedTargets,
      ...figures,
      amplification: records.length === 0 ? null : round(upstreamCalls / records.length, 3),
      upstreamCalls,
      attemptsPerRequest: records.length === 0 ? null : round(recorder.attemptCount / records.length, 3),
      failovers: recorder.failovers,
      timeToDetectMs: timeToDetect(timeline, recorder.stateEvents, faults.affectedTargets, runStartedAt),
      timeToRecoverMs: timeToRecover(timeline, records, faults.affectedTargets, runStartedAt),
      costUsd: round(cost.usd, 6),
      unpricedRequests: cost.unpriced,
      servedBy: tally(records.map((record) => (record.outcome === 'success' ? record.target : undefined))),
      errorCodes: tally(records.map((record) => (record.outcome === 'success' ? undefined : (record.errorCode ?? record.outcome)))),
      upstreamFailures: Object.fromEntries(recorder.attemptFailures),
      upstreamCallsByProvider: fleet.callsByProvider(),
      stateEvents: recorder.stateEvents.map((event) => ({ atMs: event.at - runStartedAt, type: event.type, target: event.target, detail: event.detail })),
      series: buildTimeSeries(records, runStartedAt, durationMs, routeTargets),
      judging: { slo: scenario.verdict.slo, countCutStreams: scenario.verdict.count_cut_streams },
      verdict: judge(scenario, figures, timeoutMs),
      warnings,
    };
    return { report: result, configNotes: drill.notes, records };
  } finally {
    await gateway?.close();
    await fleet.close();
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
