import type { FeedEvent } from './event-feed.js';

/** The dashboard's time ranges and the bucket each is drawn with (about 30 to 100 bars). */
export const trafficRanges = {
  '5m': { rangeMs: 300_000, stepMs: 10_000 },
  '1h': { rangeMs: 3_600_000, stepMs: 60_000 },
  '24h': { rangeMs: 86_400_000, stepMs: 900_000 },
  '7d': { rangeMs: 7 * 86_400_000, stepMs: 7_200_000 },
} as const;
export type TrafficRange = keyof typeof trafficRanges;

export function isTrafficRange(value: string): value is TrafficRange {
  return Object.hasOwn(trafficRanges, value);
}

/** One row of the request log grouped by bucket and serving target (`''` when none served). */
export interface TrafficRow {
  bucket: number;
  target: string;
  succeeded: number;
  failed: number;
}

/** Requests per bucket: successes by the target that served them (stacked in the chart), failures apart. */
export interface TrafficSeries {
  range: TrafficRange;
  from: number;
  to: number;
  step_ms: number;
  targets: string[];
  buckets: Array<{ t: number; served: number[]; failed: number }>;
  /** Incidents (shaded) and circuit openings (marked) within the range, epoch ms. */
  incidents: Array<{ title: string; target: string | null; route: string | null; from: number; to: number | null; state: 'ongoing' | 'recovering' | 'resolved' }>;
  circuit_openings: Array<{ at: number; target: string }>;
}

/**
 * Lays grouped rows on a fixed grid of buckets, with the route's targets first in their order so
 * that colours stay put when traffic moves. Buckets without requests are there, with zeros.
 */
export function buildTrafficSeries(range: TrafficRange, now: number, rows: readonly TrafficRow[], knownTargets: readonly string[]): Omit<TrafficSeries, 'incidents' | 'circuit_openings'> {
  const { rangeMs, stepMs } = trafficRanges[range];
  const last = Math.floor(now / stepMs) * stepMs;
  const first = last - (Math.ceil(rangeMs / stepMs) - 1) * stepMs;
  const targets = [...knownTargets];
  for (const row of rows) if (row.target !== '' && row.succeeded > 0 && !targets.includes(row.target)) targets.push(row.target);
  const buckets = new Map<number, { t: number; served: number[]; failed: number }>();
  for (let t = first; t <= last; t += stepMs) buckets.set(t, { t, served: targets.map(() => 0), failed: 0 });
  for (const row of rows) {
    const bucket = buckets.get(row.bucket);
    if (!bucket) continue;
    bucket.failed += row.failed;
    const index = targets.indexOf(row.target);
    if (index >= 0) bucket.served[index] = (bucket.served[index] ?? 0) + row.succeeded;
  }
  return { range, from: first, to: last + stepMs, step_ms: stepMs, targets, buckets: [...buckets.values()] };
}

/** Circuit openings the live feed still holds, within the range. */
export function circuitOpenings(events: readonly FeedEvent[], from: number): TrafficSeries['circuit_openings'] {
  return events.filter((event) => event.type === 'circuit' && event.data.state === 'open' && event.at >= from && event.target !== undefined).map((event) => ({ at: event.at, target: event.target as string }));
}
