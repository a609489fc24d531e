import type { CallRecord } from './client-call.js';
import type { StateEvent } from './event-recorder.js';
import { percentiles } from './percentiles.js';
import type { RequestCounts } from './report-types.js';
import type { ScenarioTimeline, Window } from './scenario-timing.js';

/** Failures may arrive this much after the route's deadline and still count as in time (timers and the event loop are not exact). */
const deadlineToleranceMs = 500;

export function countRequests(records: readonly CallRecord[], dropped: number, timeoutMs: number): RequestCounts {
  const counts: RequestCounts = { sent: records.length, succeeded: 0, errors: 0, cutStreams: 0, hung: 0, broken: 0, late: 0, dropped, streams: 0, withTools: 0, anthropicFormat: 0 };
  for (const record of records) {
    if (record.stream) counts.streams++;
    if (record.hasTools) counts.withTools++;
    if (record.format === 'anthropic') counts.anthropicFormat++;
    if (record.outcome === 'success') counts.succeeded++;
    else if (record.outcome === 'error') counts.errors++;
    else if (record.outcome === 'cut') counts.cutStreams++;
    else if (record.outcome === 'hung') counts.hung++;
    else counts.broken++;
    if ((record.outcome === 'error' || record.outcome === 'cut') && record.latencyMs > timeoutMs + deadlineToleranceMs) counts.late++;
  }
  return counts;
}

/** Success rate of every request sent: a stream cut after its first bytes is a failure, as its client saw it. */
export function successRate(counts: RequestCounts): number | null {
  return counts.sent === 0 ? null : counts.succeeded / counts.sent;
}

/** Share of the requests sent outside every incident's span: what no routing could have saved is the rest. */
export function shareOutsideIncidents(timeline: ScenarioTimeline, records: readonly CallRecord[], runStartedAt: number): number | null {
  if (records.length === 0) return null;
  const inside = records.filter((record) => timeline.incidents.some((placed) => isWithin(record.startedAt - runStartedAt, placed.span))).length;
  return (records.length - inside) / records.length;
}

function isWithin(atMs: number, span: Window): boolean {
  return atMs >= span.startMs && atMs < span.endMs;
}

/** Fewer requests than this after the incident cannot show that success is back. */
const minRecoverySample = 5;

/**
 * Last incident's end → the send time from which every later request, taken together, met the
 * SLO's success rate: 0 when nothing failed after the end, null when success never came back
 * before the run ended. By send time, as the client's traffic is: a request sent during the
 * incident says nothing about whether Detour serves again.
 */
/** Last incident's end → the first successful answer to end after it: how soon clients were served again. */
export function firstAnswerAfter(timeline: ScenarioTimeline, records: readonly CallRecord[], runStartedAt: number): number | null {
  const last = Math.max(...timeline.incidents.map((placed) => placed.span.endMs));
  if (!Number.isFinite(last) || last >= timeline.runMs) return null;
  const end = runStartedAt + last;
  let first: number | null = null;
  for (const record of records) if (record.outcome === 'success' && record.endedAt >= end && (first === null || record.endedAt < first)) first = record.endedAt;
  return first === null ? null : first - end;
}

export function timeToRecover(timeline: ScenarioTimeline, records: readonly CallRecord[], runStartedAt: number, successRate: number): number | null {
  const last = Math.max(...timeline.incidents.map((placed) => placed.span.endMs));
  if (!Number.isFinite(last)) return null;
  const end = runStartedAt + last;
  const after = records.filter((record) => record.startedAt >= end).sort((a, b) => a.startedAt - b.startedAt);
  let succeeded = 0;
  let recoveredFrom: number | undefined;
  // Walk back from the run's end: the earliest start of a suffix that meets the rate, starting with a success.
  for (let index = after.length - 1; index >= 0; index--) {
    const record = after[index] as CallRecord;
    if (record.outcome === 'success') succeeded++;
    const count = after.length - index;
    if (record.outcome === 'success' && succeeded / count >= successRate && (count >= minRecoverySample || index === 0)) recoveredFrom = index;
  }
  if (recoveredFrom === undefined) return null;
  return recoveredFrom === 0 ? 0 : (after[recoveredFrom] as CallRecord).startedAt - end;
}

/**
 * Latency of the successful requests sent outside every incident: the scenario's own calm,
 * before and after, so that a short run still has a sample worth a percentile.
 */
export function baselineLatency(timeline: ScenarioTimeline, records: readonly CallRecord[], runStartedAt: number): { p50: number | null; p95: number | null; samples: number } {
  const sample = records.filter((record) => record.outcome === 'success' && !timeline.incidents.some((placed) => isWithin(record.startedAt - runStartedAt, placed.span)));
  const figures = percentiles(sample.map((record) => record.latencyMs));
  return { p50: figures.p50, p95: figures.p95, samples: sample.length };
}

export function latencyFigures(records: readonly CallRecord[]): { latencyMs: ReturnType<typeof percentiles>; ttftMs: ReturnType<typeof percentiles> } {
  const successes = records.filter((record) => record.outcome === 'success');
  return {
    latencyMs: percentiles(successes.map((record) => record.latencyMs)),
    ttftMs: percentiles(successes.flatMap((record) => (record.stream && record.ttftMs !== undefined ? [record.ttftMs] : []))),
  };
}

/** First incident's start → the first circuit of a hit target to open after it; null when none did. */
export function timeToDetect(timeline: ScenarioTimeline, events: readonly StateEvent[], affected: readonly string[], runStartedAt: number): number | null {
  const first = Math.min(...timeline.incidents.map((placed) => placed.span.startMs));
  if (!Number.isFinite(first)) return null;
  const start = runStartedAt + first;
  const opened = events.find((event) => event.type === 'circuit.opened' && event.at >= start && affected.includes(event.target));
  return opened ? opened.at - start : null;
}

/**
 * Last incident's end → the send time of the first request, sent after it, that `primary` (the
 * route's first target, its keys, where an incident hit it) served: traffic back on the primary. Sent after, not answered after: a slow answer started
 * during the incident says nothing about whether traffic came back.
 */
export function timeToPrimary(timeline: ScenarioTimeline, records: readonly CallRecord[], primary: readonly string[], runStartedAt: number): number | null {
  if (primary.length === 0) return null;
  const last = Math.max(...timeline.incidents.map((placed) => placed.span.endMs));
  if (!Number.isFinite(last)) return null;
  const end = runStartedAt + last;
  let first: number | undefined;
  for (const record of records) {
    if (record.outcome !== 'success' || record.startedAt < end || record.target === undefined || !primary.includes(record.target)) continue;
    if (first === undefined || record.startedAt < first) first = record.startedAt;
  }
  return first === undefined ? null : first - end;
}

export function tally(values: Iterable<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) if (value !== undefined) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * Last home-region incident's end → the send time from which every successful request was
 * served in the home region (`x-detour-region` of each answer): traffic back home, and staying
 * there. Null when some success sent after it was still served elsewhere at the run's end, or
 * nothing succeeded after the end.
 */
export function timeToHome(timeline: ScenarioTimeline, records: readonly CallRecord[], homeRegion: string, runStartedAt: number): number | null {
  const homeIncidents = timeline.incidents.filter((placed) => placed.incident.on === 'home_region');
  const last = Math.max(...homeIncidents.map((placed) => placed.span.endMs));
  if (!Number.isFinite(last)) return null;
  const end = runStartedAt + last;
  const after = records.filter((record) => record.outcome === 'success' && record.startedAt >= end).sort((a, b) => a.startedAt - b.startedAt);
  if (after.length === 0) return null;
  let firstHome = after.length;
  while (firstHome > 0 && (after[firstHome - 1] as CallRecord).region === homeRegion) firstHome--;
  if (firstHome === after.length) return null;
  return (after[firstHome] as CallRecord).startedAt - end;
}
