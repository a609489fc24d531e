import type { Target } from '../core/settings.js';
import type { ResolvedRoute } from '../engine/route-table.js';
import type { FaultInput } from '../sim/faults.js';
import type { IncidentScope, Scenario } from './scenario-schema.js';
import type { ScenarioTimeline, Window } from './scenario-timing.js';

/** A span the provider's simulator stops listening, in ms from the start. */
export interface DownWindow extends Window {
  /** Answers under way finish (a host out of rotation) rather than being cut (a crash). */
  keepInFlight: boolean;
}

/**
 * What one simulator is told: standing faults (the baseline), its scripted timeline, and when it
 * refuses connections; all in ms from the start.
 */
export interface SimPlan {
  faults: FaultInput[];
  timeline: Array<{ at: number; for: number; fault: FaultInput }>;
  down: DownWindow[];
}

export interface FaultPlans {
  /** By provider name; every provider has one, faulty or not. */
  plans: Map<string, SimPlan>;
  /** Target ids an incident hits: "the primary" for detection and recovery. */
  affectedTargets: string[];
  warnings: string[];
}

/** The targets of a route an incident's `on` and `keys` select; `home_region` needs the instance's region. */
export function selectTargets(route: ResolvedRoute, scope: IncidentScope, keys: 'all' | 'first', homeRegion?: string): Target[] {
  const groups = route.groups;
  let chosen;
  if (scope === 'home_region') {
    chosen = groups.filter((group) => homeRegion !== undefined && group.targets[0]?.region === homeRegion);
    if (chosen.length === 0) throw new Error(`an incident is on the home region, but route "${route.settings.name}" has no target in ${homeRegion ?? '(no server.region)'}`);
  } else if (scope === 'primary') chosen = groups.slice(0, 1);
  else if (scope === 'backups') chosen = groups.slice(1);
  else if (scope === 'all') chosen = groups;
  else {
    const group = groups[scope - 1];
    if (!group) throw new Error(`an incident is on target ${scope}, but route "${route.settings.name}" has ${groups.length}`);
    chosen = [group];
  }
  return chosen.flatMap((group) => (keys === 'first' ? group.targets.slice(0, 1) : [...group.targets]));
}

/** The model name the simulator sees: Gemini's comes from the URL path, after `models/`. */
function simModel(target: Target): string {
  return target.provider.type === 'gemini' ? target.model.replace(/^models\//, '') : target.model;
}

/**
 * Turns a scenario's placed incidents into one plan per simulator. A `down` fault closes the
 * provider's whole simulator, as a real host outage would; any other fault is scoped to the hit
 * target's model (and key, with `keys: first`), on top of the baseline latency.
 */
export function buildFaultPlans(scenario: Scenario, timeline: ScenarioTimeline, route: ResolvedRoute, providers: readonly string[], homeRegion?: string): FaultPlans {
  const baseline: FaultInput = scenario.baseline.latency_ms === undefined ? {} : { latency_ms: scenario.baseline.latency_ms };
  const plans = new Map<string, SimPlan>(providers.map((name) => [name, { faults: Object.keys(baseline).length > 0 ? [baseline] : [], timeline: [], down: [] }]));
  const affected = new Set<string>();
  const warnings: string[] = [];
  const routeTargets = route.groups.flatMap((group) => group.targets);
  for (const placed of timeline.incidents) {
    const { incident } = placed;
    const targets = selectTargets(route, incident.on, incident.keys, homeRegion);
    for (const target of targets) affected.add(target.id);
    const downProviders = new Set<string>();
    for (const target of targets) {
      const plan = plans.get(target.provider.name);
      if (!plan) continue;
      if (incident.fault.down) {
        downProviders.add(target.provider.name);
        continue;
      }
      const { down: _down, ...fault } = incident.fault;
      const scoped: FaultInput = { ...baseline, ...fault, model: simModel(target), ...(incident.keys === 'first' ? { api_key: target.apiKey } : {}) };
      for (const window of placed.windows) pushEntry(plan, window, scoped);
    }
    for (const provider of downProviders) {
      const plan = plans.get(provider);
      if (plan) for (const window of placed.windows) plan.down.push({ ...window, keepInFlight: incident.in_flight === 'finish' });
      const bystanders = routeTargets.filter((target) => target.provider.name === provider && !targets.includes(target));
      if (bystanders.length > 0) warnings.push(`${bystanders.map((target) => target.id).join(', ')} share${bystanders.length === 1 ? 's' : ''} provider "${provider}" with the hit target: its outage takes ${bystanders.length === 1 ? 'it' : 'them'} down too`);
    }
  }
  for (const plan of plans.values()) plan.down = mergeDownWindows(plan.down);
  return { plans, affectedTargets: [...affected], warnings };
}

/** Overlapping spans of one provider merged, so that one incident's end never brings up a host another still holds down. */
export function mergeDownWindows(windows: readonly DownWindow[]): DownWindow[] {
  const merged: DownWindow[] = [];
  for (const window of [...windows].sort((a, b) => a.startMs - b.startMs)) {
    const last = merged[merged.length - 1];
    if (last && window.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, window.endMs);
      last.keepInFlight &&= window.keepInFlight;
    } else if (window.endMs > window.startMs) merged.push({ ...window });
  }
  return merged;
}

function pushEntry(plan: SimPlan, window: Window, fault: FaultInput): void {
  const length = Math.round(window.endMs - window.startMs);
  if (length <= 0) return;
  plan.timeline.push({ at: Math.round(window.startMs), for: length, fault });
}
