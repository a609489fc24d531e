import type { CallRecord } from './client-call.js';
import { percentile } from './percentiles.js';
import type { TimeSeries } from './report-types.js';

/** Bucket sizes a chart reads well at; the smallest that keeps a run under `maxBuckets`. */
const niceBucketsMs = [100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000];
const maxBuckets = 120;

export function bucketSizeFor(durationMs: number): number {
  return niceBucketsMs.find((size) => durationMs / size <= maxBuckets) ?? Math.ceil(durationMs / maxBuckets);
}

/**
 * Requests per serving target and errors over time, bucketed by when each request was sent (so
 * that the incident's shading lines up with the requests it hit). `targets` fixes the order of
 * the series; a target not in it that served anyway is appended.
 */
export function buildTimeSeries(records: readonly CallRecord[], runStartedAt: number, durationMs: number, targets: readonly string[]): TimeSeries {
  const bucketMs = bucketSizeFor(durationMs);
  const count = Math.max(1, Math.ceil(durationMs / bucketMs));
  const order = [...targets];
  for (const record of records) if (record.outcome === 'success' && record.target !== undefined && !order.includes(record.target)) order.push(record.target);
  const buckets = Array.from({ length: count }, (_, index) => ({ startMs: index * bucketMs, served: order.map(() => 0), errors: 0, latencies: [] as number[] }));
  for (const record of records) {
    const index = Math.min(count - 1, Math.max(0, Math.floor((record.startedAt - runStartedAt) / bucketMs)));
    const bucket = buckets[index];
    if (!bucket) continue;
    if (record.outcome !== 'success') {
      bucket.errors++;
      continue;
    }
    const position = record.target === undefined ? -1 : order.indexOf(record.target);
    if (position >= 0) bucket.served[position] = (bucket.served[position] ?? 0) + 1;
    bucket.latencies.push(record.latencyMs);
  }
  return {
    bucketMs,
    targets: order,
    buckets: buckets.map(({ latencies, ...bucket }) => {
      const p95 = percentile([...latencies].sort((a, b) => a - b), 0.95);
      return { ...bucket, p95Ms: p95 === null ? null : Math.round(p95) };
    }),
  };
}
