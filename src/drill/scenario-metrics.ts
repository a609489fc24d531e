import type { CallRecord } from './client-call.js';
import type { StateEvent } from './event-recorder.js';
import { percentiles } from './percentiles.js';
import type { RequestCounts } from './report-types.js';
import type { ScenarioTimeline } from './scenario-timing.js';

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

/** Success rate of the judged requests; cut streams are left out when the scenario does not count them. */
export function successRate(counts: RequestCounts, countCutStreams: boolean): number | null {
  const judged = counts.sent - (countCutStreams ? 0 : counts.cutStreams);
  return judged === 0 ? null : counts.succeeded / judged;
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
 * Last incident's end → the send time of the first request, sent after it, that a hit target
 * served. Sent after, not answered after: a slow answer started during the incident says
 * nothing about whether traffic came back.
 */
export function timeToRecover(timeline: ScenarioTimeline, records: readonly CallRecord[], affected: readonly string[], runStartedAt: number): number | null {
  const last = Math.max(...timeline.incidents.map((placed) => placed.span.endMs));
  if (!Number.isFinite(last)) return null;
  const end = runStartedAt + last;
  let first: number | undefined;
  for (const record of records) {
    if (record.outcome !== 'success' || record.startedAt < end || record.target === undefined || !affected.includes(record.target)) continue;
    if (first === undefined || record.startedAt < first) first = record.startedAt;
  }
  return first === undefined ? null : first - end;
}

export function tally(values: Iterable<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) if (value !== undefined) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
