import type { OutcomeClass } from '../outcome.js';
import { BucketRing } from './bucket-ring.js';
import { LogHistogram } from './log-histogram.js';

/** One observation fed to a series: a request (route, key) or an attempt (target). */
export interface StatsSample {
  outcome: OutcomeClass;
  latencyMs: number;
  ttftMs?: number | undefined;
  errorCode?: string | undefined;
  /** Cost of a successful request. */
  successUsd?: number | undefined;
  /** Cost of failed requests, hedges and mirrors: what failover and racing cost on top. */
  failedUsd?: number | undefined;
  hedgeUsd?: number | undefined;
  mirrorUsd?: number | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
}

/** Counters of one time bucket; merged to answer a window. */
export class StatsBucket {
  requests = 0;
  successes = 0;
  failures = 0;
  clientErrors = 0;
  readonly latency = new LogHistogram();
  readonly ttft = new LogHistogram();
  readonly errors = new Map<string, number>();
  successUsd = 0;
  failedUsd = 0;
  hedgeUsd = 0;
  mirrorUsd = 0;
  inputTokens = 0;
  outputTokens = 0;

  add(sample: StatsSample): void {
    this.requests++;
    if (sample.outcome === 'success') this.successes++;
    else if (sample.outcome === 'failure') this.failures++;
    else this.clientErrors++;
    // Latency percentiles describe answers; a fast refusal would make an outage look quick.
    if (sample.outcome === 'success') this.latency.add(sample.latencyMs);
    if (sample.ttftMs !== undefined) this.ttft.add(sample.ttftMs);
    if (sample.errorCode !== undefined) this.errors.set(sample.errorCode, (this.errors.get(sample.errorCode) ?? 0) + 1);
    this.successUsd += sample.successUsd ?? 0;
    this.failedUsd += sample.failedUsd ?? 0;
    this.hedgeUsd += sample.hedgeUsd ?? 0;
    this.mirrorUsd += sample.mirrorUsd ?? 0;
    this.inputTokens += sample.inputTokens ?? 0;
    this.outputTokens += sample.outputTokens ?? 0;
  }

  merge(other: StatsBucket): void {
    this.requests += other.requests;
    this.successes += other.successes;
    this.failures += other.failures;
    this.clientErrors += other.clientErrors;
    this.latency.merge(other.latency);
    this.ttft.merge(other.ttft);
    for (const [code, count] of other.errors) this.errors.set(code, (this.errors.get(code) ?? 0) + count);
    this.successUsd += other.successUsd;
    this.failedUsd += other.failedUsd;
    this.hedgeUsd += other.hedgeUsd;
    this.mirrorUsd += other.mirrorUsd;
    this.inputTokens += other.inputTokens;
    this.outputTokens += other.outputTokens;
  }
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** A window's figures, in the admin API's snake_case. */
export interface WindowSummary {
  requests: number;
  successes: number;
  failures: number;
  client_errors: number;
  /** successes / (successes + failures); null with neither. Client errors are left out. */
  success_rate: number | null;
  latency_ms: Percentiles;
  ttft_ms: Percentiles;
  errors: Record<string, number>;
  cost: { success_usd: number; per_success_usd: number | null; failed_usd: number; hedge_usd: number; mirror_usd: number };
  tokens: { input: number; output: number };
}

export interface TimelinePoint {
  /** Bucket start, epoch ms. */
  t: number;
  requests: number;
  failures: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

function round(value: number | undefined, digits = 1): number | null {
  if (value === undefined) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function percentiles(histogram: LogHistogram): Percentiles {
  return { p50: round(histogram.quantile(0.5)), p95: round(histogram.quantile(0.95)), p99: round(histogram.quantile(0.99)) };
}

export function summarize(bucket: StatsBucket): WindowSummary {
  const decided = bucket.successes + bucket.failures;
  return {
    requests: bucket.requests,
    successes: bucket.successes,
    failures: bucket.failures,
    client_errors: bucket.clientErrors,
    success_rate: decided === 0 ? null : bucket.successes / decided,
    latency_ms: percentiles(bucket.latency),
    ttft_ms: percentiles(bucket.ttft),
    errors: Object.fromEntries(bucket.errors),
    cost: {
      success_usd: bucket.successUsd,
      per_success_usd: bucket.successes === 0 ? null : bucket.successUsd / bucket.successes,
      failed_usd: bucket.failedUsd,
      hedge_usd: bucket.hedgeUsd,
      mirror_usd: bucket.mirrorUsd,
    },
    tokens: { input: bucket.inputTokens, output: bucket.outputTokens },
  };
}

/** Fine buckets answer windows up to an hour; coarse ones up to a day. */
const fine = { bucketMs: 10_000, size: 360 };
const coarse = { bucketMs: 300_000, size: 288 };

/**
 * Sliding-window statistics of one series (a route, a target, a client key): every sample goes
 * to a 10 s ring (one hour) and a 5 min ring (one day). A window of up to an hour is exact to
 * 10 s; a longer one to 5 min.
 */
export class SeriesStats {
  private readonly fine = new BucketRing(fine.bucketMs, fine.size, () => new StatsBucket());
  private readonly coarse = new BucketRing(coarse.bucketMs, coarse.size, () => new StatsBucket());
  /** When the series last saw a sample, so idle series can be forgotten. */
  lastSeenAt = 0;

  record(now: number, sample: StatsSample): void {
    this.fine.at(now).add(sample);
    this.coarse.at(now).add(sample);
    this.lastSeenAt = now;
  }

  window(now: number, windowMs: number): StatsBucket {
    const ring = windowMs <= this.fine.spanMs ? this.fine : this.coarse;
    const total = new StatsBucket();
    for (const { bucket } of ring.within(now, windowMs)) total.merge(bucket);
    return total;
  }

  summary(now: number, windowMs: number): WindowSummary {
    return summarize(this.window(now, windowMs));
  }

  /** One point per 10 s bucket over the last `windowMs` (at most an hour), empty buckets included. */
  timeline(now: number, windowMs: number): TimelinePoint[] {
    const span = Math.min(windowMs, this.fine.spanMs);
    const byStart = new Map(this.fine.within(now, span).map((entry) => [entry.start, entry.bucket]));
    const last = Math.floor(now / fine.bucketMs) * fine.bucketMs;
    const points: TimelinePoint[] = [];
    for (let start = last - Math.ceil(span / fine.bucketMs - 1) * fine.bucketMs; start <= last; start += fine.bucketMs) {
      const bucket = byStart.get(start);
      points.push({
        t: start,
        requests: bucket?.requests ?? 0,
        failures: bucket?.failures ?? 0,
        p50: bucket ? round(bucket.latency.quantile(0.5)) : null,
        p95: bucket ? round(bucket.latency.quantile(0.95)) : null,
        p99: bucket ? round(bucket.latency.quantile(0.99)) : null,
      });
    }
    return points;
  }
}
