import type { DetourConfig } from '../config/schema.js';
import { simFormatOf } from './drill-config.js';
import type { DrillReport, ScenarioReport } from './report-types.js';
import { runScenario, type LiveProgress } from './run-scenario.js';
import type { Scenario } from './scenario-schema.js';
import { placeIncidents } from './scenario-timing.js';
import { DurationTooShortError, scaleTimings } from './timing-scale.js';
import { toMs } from '../sim/faults.js';

export interface DrillOptions {
  /** The user's validated config. */
  config: DetourConfig;
  /** Where it came from, for the report. */
  configPath: string;
  scenarios: readonly Scenario[];
  /** The route under test; the config's first route when absent. */
  route?: string | undefined;
  /** Every scenario's run length; each scenario's natural length when absent. */
  durationMs?: number | undefined;
  rps: number;
  /** Makes the load mix and fault draws reproducible. */
  seed?: number | undefined;
  requestLogPath?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?(progress: LiveProgress & { index: number; count: number }): void;
  onScenarioFinished?(report: ScenarioReport, index: number, count: number): void;
}

/** A drill that cannot start: an unknown route, a provider type the simulator cannot speak. */
export class DrillSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillSetupError';
  }
}

/** The route a drill tests: the one asked for, or the config's first chat route (a drill's load is chat). */
export function routeUnderTest(config: DetourConfig, requested: string | undefined): string {
  const names = Object.keys(config.models);
  const route = requested ?? names.find((name) => config.models[name]?.kind !== 'embeddings');
  if (route === undefined) throw new DrillSetupError(names.length === 0 ? 'the config has no route to drill' : 'the config has no chat route to drill (a drill sends chat load)');
  if (!config.models[route]) throw new DrillSetupError(`unknown route "${route}" (routes: ${names.join(', ')})`);
  if (config.models[route].kind === 'embeddings') throw new DrillSetupError(`"${route}" is an embeddings route: a drill sends chat load, so drill a chat route`);
  return route;
}

/** Why a scenario on the home region cannot run against this route (no instance region, nothing in it or outside it), or undefined. */
function homeRegionProblem(config: DetourConfig, route: string, scenario: Scenario): string | undefined {
  if (!scenario.incidents.some((incident) => incident.on === 'home_region')) return undefined;
  const home = config.server.region;
  if (home === undefined) return 'an incident is on the home region, but the config has no server.region (or DETOUR_REGION)';
  const regions = (config.models[route]?.targets ?? []).map((target) => target.region ?? config.providers[target.provider]?.region);
  if (!regions.includes(home)) return `an incident is on the home region, but route "${route}" has no target in ${home}`;
  if (regions.every((region) => region === home)) return `an incident is on the home region, but every target of route "${route}" is in ${home}: there is no other region to fail over to`;
  return undefined;
}

/**
 * Rehearses outages against a config: every scenario in turn, each against its own simulators
 * and its own gateway built from the config, and a report of what clients saw.
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const route = routeUnderTest(options.config, options.route);
  for (const provider of Object.values(options.config.providers)) {
    try {
      simFormatOf(provider.type);
    } catch (error) {
      throw new DrillSetupError((error as Error).message);
    }
  }
  if (!(options.rps > 0 && options.rps <= 5000)) throw new DrillSetupError('--rps must be above 0 and at most 5000');
  for (const scenario of options.scenarios) {
    const problem = homeRegionProblem(options.config, route, scenario);
    if (problem) throw new DrillSetupError(`scenario ${scenario.name}: ${problem}`);
  }
  // Refused before anything runs: a duration too short for the config's timings is known now, not after the first scenarios.
  for (const scenario of options.scenarios) {
    const timeline = placeIncidents(scenario, options.durationMs ?? toMs(scenario.duration));
    try {
      scaleTimings(structuredClone(options.config) as unknown as Record<string, unknown>, timeline.scale, timeline.runMs);
    } catch (error) {
      if (error instanceof DurationTooShortError) throw new DrillSetupError(`scenario ${scenario.name}: ${error.message}`);
      throw error;
    }
  }
  const seed = options.seed ?? 1;
  const signal = options.signal ?? new AbortController().signal;
  const startedAt = new Date();
  const scenarios: ScenarioReport[] = [];
  const notes = new Set<string>();
  const routeConfig = options.config.models[route];
  const count = options.scenarios.length;
  for (const [index, scenario] of options.scenarios.entries()) {
    if (signal.aborted) break;
    const run = await runScenario({
      config: options.config,
      route,
      scenario,
      durationMs: options.durationMs,
      rps: options.rps,
      seed: seed + index * 1000,
      requestLogPath: options.requestLogPath,
      signal,
      onProgress: (progress) => options.onProgress?.({ ...progress, index, count }),
    });
    for (const note of run.configNotes) notes.add(note);
    scenarios.push(run.report);
    options.onScenarioFinished?.(run.report, index, count);
  }
  if (signal.aborted) notes.add('the drill was stopped before its end: the figures cover what ran');
  return {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config: options.configPath,
    route,
    targets: routeConfig?.targets.map((target) => `${target.provider}/${target.model}`) ?? [],
    rps: options.rps,
    seed,
    notes: [...notes],
    scenarios,
    complete: !signal.aborted,
    passed: !signal.aborted && scenarios.length > 0 && scenarios.every((scenario) => scenario.verdict.passed),
  };
}
