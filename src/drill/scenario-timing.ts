import { toMs } from '../sim/faults.js';
import { formatMs, resolveTime } from './duration.js';
import type { Incident, IncidentFault, Scenario } from './scenario-schema.js';

/** A span of a run, in milliseconds from its start. */
export interface Window {
  startMs: number;
  endMs: number;
}

/** An incident placed on a run's clock. */
export interface PlacedIncident {
  incident: Incident;
  /** `down`, `503 on 50%`, …: for tables and the chart. */
  label: string;
  /** The whole incident, from its first fault to its end (shaded in the chart; detection and recovery are measured from its edges). */
  span: Window;
  /** When the fault is really on: the span, or its "down" halves when flapping. */
  windows: Window[];
}

export interface ScenarioTimeline {
  runMs: number;
  /** What absolute times were multiplied by: run ÷ natural length when the run is shorter, else 1. */
  scale: number;
  incidents: PlacedIncident[];
}

/** Flapping faster than this is not a flap, and would let a timeline grow without bound. */
const minFlapMs = 50;

/**
 * Puts a scenario's incidents on the clock of a run of `runMs`. Absolute times shrink in
 * proportion when the run is shorter than the scenario's natural length and stay as written
 * when it is longer; shares (`25%`) are always of the run. Everything is clipped to the run.
 */
export function placeIncidents(scenario: Scenario, runMs: number): ScenarioTimeline {
  const naturalMs = toMs(scenario.duration);
  const scale = naturalMs > 0 && runMs < naturalMs ? runMs / naturalMs : 1;
  const incidents = scenario.incidents.map((incident): PlacedIncident => {
    const startMs = clamp(resolveTime(incident.at, runMs, scale), 0, runMs);
    const endMs = clamp(startMs + resolveTime(incident.for, runMs, scale), startMs, runMs);
    const span = { startMs, endMs };
    const flapMs = incident.flap_every === undefined ? undefined : Math.max(minFlapMs, resolveTime(incident.flap_every, runMs, scale));
    return { incident, label: describeFault(incident.fault, flapMs), span, windows: flapMs === undefined ? [span] : flapWindows(span, flapMs) };
  });
  return { runMs, scale, incidents };
}

const scopeNames: Record<string, string> = { primary: 'the primary', backups: 'every backup', all: 'every target', home_region: 'the home region' };

/** Which targets an incident hits, in words: "the primary", "target 2". */
export function describeScope(incident: Incident): string {
  const scope = typeof incident.on === 'number' ? `target ${incident.on}` : (scopeNames[incident.on] ?? incident.on);
  return incident.keys === 'first' ? `${scope} (first key)` : scope;
}

/**
 * The scenario's summary followed by its incidents with the times this run used, so that a
 * description never says "for 30 s" of an incident that ran 1.5 s.
 */
export function describeRun(scenario: Scenario, timeline: ScenarioTimeline): string {
  const summary = scenario.description.trim().replace(/([^.!?])$/, '$1.');
  const parts = timeline.incidents.map((placed) => `${describeScope(placed.incident)}: ${placed.label} from ${formatMs(placed.span.startMs)} to ${formatMs(placed.span.endMs)} (${formatMs(placed.span.endMs - placed.span.startMs)})`);
  const scaled = timeline.scale < 1 ? ` Times ×${timeline.scale.toFixed(3)} of the scenario's natural ${formatMs(toMs(scenario.duration))}.` : '';
  return `${summary} In this ${formatMs(timeline.runMs)} run, ${parts.join('; ')}.${scaled}`;
}

function flapWindows(span: Window, flapMs: number): Window[] {
  const windows: Window[] = [];
  for (let start = span.startMs; start < span.endMs; start += 2 * flapMs) windows.push({ startMs: start, endMs: Math.min(start + flapMs, span.endMs) });
  return windows;
}

/** A short human description of a fault. */
export function describeFault(fault: IncidentFault, flapMs?: number): string {
  const parts: string[] = [];
  if (fault.down) parts.push('connections refused');
  if (fault.reset) parts.push('connections reset');
  if (fault.hang) parts.push('requests hang');
  if (fault.status !== undefined) {
    const retryAfter = fault.retry_after_s !== undefined ? ` retry-after ${fault.retry_after_s} s` : fault.retry_after_ms !== undefined ? ` retry-after ${fault.retry_after_ms} ms` : '';
    parts.push(`HTTP ${fault.status}${retryAfter}${fault.probability < 1 ? ` on ${Math.round(fault.probability * 100)}%` : ''}`);
  }
  if (fault.stall_after_chunks !== undefined) parts.push(`streams stall after ${fault.stall_after_chunks} chunks`);
  if (fault.reset_after_chunks !== undefined) parts.push(`streams cut after ${fault.reset_after_chunks} chunks`);
  if (fault.status === undefined && fault.latency_ms !== undefined) parts.push(`latency ${describeLatency(fault.latency_ms)}`);
  if (fault.rate_limit_rpm !== undefined) parts.push(`rate-limit ceiling ${fault.rate_limit_rpm} rpm per key (in ${formatMs(fault.rate_limit_window_ms ?? 10_000)} slices)`);
  const what = parts.join(', ') || 'no fault';
  return flapMs === undefined ? what : `${what}, flapping every ${formatMs(flapMs)}`;
}

function describeLatency(latency: NonNullable<IncidentFault['latency_ms']>): string {
  if (typeof latency === 'number' || typeof latency === 'string') return formatMs(toMs(latency));
  if ('min' in latency) return `${formatMs(toMs(latency.min))}–${formatMs(toMs(latency.max))}`;
  return `p50 ${formatMs(toMs(latency.p50))}`;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
