import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { LogHistogram } from '../../src/observability/stats/log-histogram.js';
import { StatsTracker } from '../../src/observability/stats/stats-tracker.js';
import { attempt, failedAttempt, outcome } from './fixtures.js';

describe('latency histogram', () => {
  it('reports percentiles within 5 % of the exact ones', () => {
    const histogram = new LogHistogram();
    const samples = Array.from({ length: 10_000 }, (_, index) => 20 + ((index * 7919) % 10_000) / 5);
    for (const sample of samples) histogram.add(sample);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
      expect(Math.abs((histogram.quantile(q) as number) - exact) / exact).toBeLessThan(0.05);
    }
  });

  it('never reports beyond the largest sample, and nothing without samples', () => {
    const histogram = new LogHistogram();
    expect(histogram.quantile(0.5)).toBeUndefined();
    histogram.add(1234);
    expect(histogram.quantile(0.99)).toBe(1234);
  });
});

describe('sliding-window statistics', () => {
  it('forgets a request once it leaves the window, and keeps it in the longer ones', () => {
    const clock = new ManualClock(1_000_000);
    const stats = new StatsTracker(clock);
    stats.record(outcome({ status: 503, errorCode: 'ALL_TARGETS_FAILED', latencyMs: 50 }));
    stats.record(outcome({ latencyMs: 200 }));
    expect(stats.summary('route', 'chat', 60_000)).toMatchObject({ requests: 2, failures: 1, success_rate: 0.5, errors: { ALL_TARGETS_FAILED: 1 } });

    clock.advance(90_000);
    stats.record(outcome({ latencyMs: 400 }));
    expect(stats.summary('route', 'chat', 60_000)).toMatchObject({ requests: 1, success_rate: 1 });
    expect(stats.summary('route', 'chat', 300_000)).toMatchObject({ requests: 3, successes: 2, failures: 1 });
    clock.advance(3 * 3_600_000);
    expect(stats.summary('route', 'chat', 3_600_000)?.requests).toBe(0);
    expect(stats.summary('route', 'chat', 86_400_000)?.requests).toBe(3);
  });

  it('leaves client errors out of the success rate and failed answers out of latency', () => {
    const stats = new StatsTracker(new ManualClock(0));
    stats.record(outcome({ status: 400, errorCode: 'INVALID_REQUEST', latencyMs: 1 }));
    stats.record(outcome({ status: 502, latencyMs: 30_000 }));
    stats.record(outcome({ latencyMs: 100 }));
    const summary = stats.summary('route', 'chat', 60_000);
    expect(summary).toMatchObject({ requests: 3, client_errors: 1, success_rate: 0.5 });
    expect(summary?.latency_ms.p99).toBe(100);
  });

  it('counts every attempt against its own target, and the cost where it was spent', () => {
    const stats = new StatsTracker(new ManualClock(0));
    stats.record(
      outcome({
        target: 'backup/gpt-4o-mini',
        isFailover: true,
        attempts: [failedAttempt('primary/gpt-4o-mini'), failedAttempt('primary/gpt-4o-mini'), attempt('backup/gpt-4o-mini')],
        cost: { successUsd: 0.01, failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true },
      }),
    );
    expect(stats.summary('target', 'primary/gpt-4o-mini', 60_000)).toMatchObject({ requests: 2, failures: 2, success_rate: 0, errors: { UPSTREAM_CONNECT_FAILED: 2 } });
    expect(stats.summary('target', 'backup/gpt-4o-mini', 60_000)).toMatchObject({ requests: 1, success_rate: 1, cost: { success_usd: 0.01 } });
    expect(stats.summary('target', 'primary/gpt-4o-mini', 60_000)?.cost.success_usd).toBe(0);
  });

  it('gives cost per successful request per client key, with failed spend apart', () => {
    const stats = new StatsTracker(new ManualClock(0));
    stats.record(outcome({ clientKeyId: 'team-a', cost: { successUsd: 0.02, failedUsd: 0, hedgeUsd: 0, mirrorUsd: 0, isPriced: true } }));
    stats.record(outcome({ clientKeyId: 'team-a', cost: { successUsd: 0.04, failedUsd: 0, hedgeUsd: 0.01, mirrorUsd: 0, isPriced: true } }));
    stats.record(outcome({ clientKeyId: 'team-a', status: 502, cost: { successUsd: undefined, failedUsd: 0.005, hedgeUsd: 0, mirrorUsd: 0, isPriced: true } }));
    const cost = stats.summary('key', 'team-a', 3_600_000)?.cost;
    expect(cost?.success_usd).toBeCloseTo(0.06);
    expect(cost?.per_success_usd).toBeCloseTo(0.03);
    expect(cost?.failed_usd).toBeCloseTo(0.005);
    expect(cost?.hedge_usd).toBeCloseTo(0.01);
  });

  it('draws a timeline of 10-second points, empty ones included', () => {
    const clock = new ManualClock(1_000_000);
    const stats = new StatsTracker(clock);
    stats.record(outcome());
    clock.advance(30_000);
    stats.record(outcome({ status: 503 }));
    const points = stats.timeline('all', '*', 60_000);
    expect(points).toHaveLength(6);
    expect(points.map((point) => point.requests)).toEqual([0, 0, 1, 0, 0, 1]);
    expect(points[5]?.failures).toBe(1);
  });
});
