import type { DetourConfig } from '../config/schema.js';
import { startGatewayServer, type RunningGateway } from '../server/gateway-server.js';
import { toObservabilitySettings } from '../gateway/observability-config.js';
import { toMs } from '../sim/faults.js';
import type { CallRecord } from './client-call.js';
import { toDrillConfig } from './drill-config.js';
import { EventRecorder } from './event-recorder.js';
import { buildFaultPlans } from './fault-plan.js';
import { runLoad, type LoadResult } from './load-generator.js';
import type { ScenarioReport } from './report-types.js';
import { buildScenarioReport } from './scenario-report.js';
import type { Scenario } from './scenario-schema.js';
import { placeIncidents } from './scenario-timing.js';
import { SimFleet } from './sim-fleet.js';
import { routeHealthIntervalMs, routeRecoveryProbeMs } from './timing-scale.js';

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
  const routeConfig = options.config.models[options.route];
  if (!routeConfig) throw new Error(`route "${options.route}" not found`);
  const fleet = await SimFleet.start(options.config, options.seed);
  let gateway: RunningGateway | undefined;
  try {
    const timeline = placeIncidents(scenario, options.durationMs ?? toMs(scenario.duration));
    const drill = toDrillConfig(options.config, fleet.urls(), { requestLogPath: options.requestLogPath, scale: timeline.scale, runMs: timeline.runMs });
    gateway = await startGatewayServer(drill.config, { port: 0, host: '127.0.0.1', processMetrics: false });
    const route = gateway.engine.routes.resolve(options.route);
    if (!route || route.isDirect) throw new Error(`route "${options.route}" not found`);
    const homeRegion = drill.config.server.region;
    const faults = buildFaultPlans(scenario, timeline, route, fleet.providers(), homeRegion);
    const recorder = new EventRecorder(gateway.engine.events, options.route);
    const runStartedAt = Date.now();
    fleet.apply(faults.plans, scenario.baseline.chunk_delay_ms);
    let load: LoadResult;
    try {
      load = await drive(options, gateway.url, timeline.runMs, route.settings.timeoutMs, runStartedAt);
    } finally {
      recorder.stop();
    }
    const report = buildScenarioReport({
      scenario,
      timeline,
      faults,
      route,
      routeConfig,
      records: load.records,
      dropped: load.dropped,
      runStartedAt,
      recorder,
      prices: toObservabilitySettings(drill.config).prices,
      upstreamCallsByProvider: fleet.callsByProvider(),
      scaledTimings: drill.scaled,
      healthIntervalMs: routeHealthIntervalMs(drill.config, options.route),
      recoveryProbeMs: routeRecoveryProbeMs(drill.config, options.route),
      rps: options.rps,
      homeRegion,
      upstreamCallsByRegion: fleet.callsByRegion(),
    });
    if (options.signal.aborted) report.warnings.push(`stopped early: ${load.records.length} of the ${Math.floor((timeline.runMs / 1000) * options.rps)} planned requests were sent`);
    return { report, configNotes: drill.notes, records: load.records };
  } finally {
    await gateway?.close();
    await fleet.close();
  }
}

/** The run's load, with progress told a few times a second. */
async function drive(options: ScenarioRunOptions, baseUrl: string, durationMs: number, timeoutMs: number, runStartedAt: number): Promise<LoadResult> {
  const live = { sent: 0, finished: 0, succeeded: 0, servingTarget: undefined as string | undefined };
  const emitProgress = (): void => options.onProgress?.({ scenario: options.scenario.name, elapsedMs: Math.min(durationMs, Date.now() - runStartedAt), durationMs, ...live });
  const ticker = setInterval(emitProgress, progressIntervalMs);
  const deadlineMs = timeoutMs + hungGraceMs;
  try {
    return await runLoad({
      baseUrl,
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
    emitProgress();
  }
}
