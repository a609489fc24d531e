import type { Clock } from '../../core/clock.js';
import { classifyAttempt, type RequestOutcome } from '../outcome.js';
import type { TrafficRow } from '../traffic-series.js';
import { SeriesStats, type TimelinePoint, type WindowSummary } from './series.js';

/** What a series is kept for. `all` is the gateway as a whole (one series named `*`). */
export type StatsScope = 'all' | 'route' | 'target' | 'key';

export const statsScopes: readonly StatsScope[] = ['all', 'route', 'target', 'key'];

/** The windows the admin API and the dashboard speak of. */
export const statsWindows = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '24h': 86_400_000 } as const;
export type StatsWindow = keyof typeof statsWindows;

export function isStatsWindow(value: string): value is StatsWindow {
  return Object.hasOwn(statsWindows, value);
}

/** Series kept per scope; beyond it, the series idle the longest is forgotten (client keys can be many). */
const maxSeriesPerScope = 500;

/**
 * Success rate, latency and TTFT percentiles, error types and cost over sliding windows, per
 * route, per target (each attempt on it) and per client key. Fed with finished requests off the
 * request path.
 */
export class StatsTracker {
  private readonly series = new Map<StatsScope, Map<string, SeriesStats>>(statsScopes.map((scope) => [scope, new Map()]));

  constructor(private readonly clock: Clock) {}

  record(outcome: RequestOutcome): void {
    const now = this.clock.now();
    const sample = {
      outcome: outcome.outcome,
      latencyMs: outcome.latencyMs,
      ttftMs: outcome.ttftMs,
      errorCode: outcome.errorCode,
      successUsd: outcome.outcome === 'success' ? (outcome.cost.successUsd ?? 0) : 0,
      failedUsd: outcome.cost.failedUsd,
      hedgeUsd: outcome.cost.hedgeUsd,
      mirrorUsd: outcome.cost.mirrorUsd,
      inputTokens: outcome.tokens?.input,
      outputTokens: outcome.tokens?.output,
    };
    this.seriesFor('all', '*').record(now, sample);
    this.seriesFor('route', outcome.route).record(now, sample);
    if (outcome.clientKeyId !== undefined) this.seriesFor('key', outcome.clientKeyId).record(now, sample);
    for (const attempt of outcome.attempts) {
      const isServed = attempt.code === undefined && attempt.role === undefined && attempt.target === outcome.target;
      this.seriesFor('target', attempt.target).record(now, {
        outcome: classifyAttempt(attempt),
        latencyMs: attempt.durationMs,
        ttftMs: isServed ? outcome.ttftMs : undefined,
        errorCode: attempt.code,
        // A target's cost is what was spent on it, whatever became of the request.
        successUsd: isServed && outcome.outcome === 'success' ? (outcome.cost.successUsd ?? 0) : 0,
        failedUsd: isServed && outcome.outcome !== 'success' ? outcome.cost.failedUsd : 0,
        inputTokens: isServed ? outcome.tokens?.input : undefined,
        outputTokens: isServed ? outcome.tokens?.output : undefined,
      });
    }
  }

  /** Every series of a scope over one window, by name. */
  summaries(scope: StatsScope, windowMs: number): Record<string, WindowSummary> {
    const now = this.clock.now();
    const result: Record<string, WindowSummary> = {};
    for (const [name, series] of this.series.get(scope) ?? []) result[name] = series.summary(now, windowMs);
    return result;
  }

  summary(scope: StatsScope, name: string, windowMs: number): WindowSummary | undefined {
    return this.series.get(scope)?.get(name)?.summary(this.clock.now(), windowMs);
  }

  timeline(scope: StatsScope, name: string, windowMs: number): TimelinePoint[] {
    const series = this.series.get(scope)?.get(name) ?? new SeriesStats();
    return series.timeline(this.clock.now(), windowMs);
  }

  /**
   * Requests of the last `windowMs` (at most an hour) per `stepMs` bucket, as the dashboard's
   * traffic chart wants them: answers by the target that gave them (its successful attempts), and
   * the requests that failed (the whole gateway's, not attributed to a target).
   */
  trafficByTarget(windowMs: number, stepMs: number): TrafficRow[] {
    const now = this.clock.now();
    const rows = new Map<string, TrafficRow>();
    const add = (bucket: number, target: string, succeeded: number, failed: number): void => {
      const key = `${bucket} ${target}`;
      const row = rows.get(key) ?? { bucket, target, succeeded: 0, failed: 0 };
      row.succeeded += succeeded;
      row.failed += failed;
      rows.set(key, row);
    };
    for (const [name, series] of this.series.get('target') ?? []) {
      for (const point of series.timeline(now, windowMs)) add(Math.floor(point.t / stepMs) * stepMs, name, point.requests - point.failures, 0);
    }
    for (const point of this.timeline('all', '*', windowMs)) add(Math.floor(point.t / stepMs) * stepMs, '', 0, point.failures);
    return [...rows.values()];
  }

  names(scope: StatsScope): string[] {
    return [...(this.series.get(scope)?.keys() ?? [])];
  }

  private seriesFor(scope: StatsScope, name: string): SeriesStats {
    const map = this.series.get(scope) as Map<string, SeriesStats>;
    let series = map.get(name);
    if (!series) {
      if (map.size >= maxSeriesPerScope) this.forgetIdlest(map);
      series = new SeriesStats();
      map.set(name, series);
    }
    return series;
  }

  private forgetIdlest(map: Map<string, SeriesStats>): void {
    let idlest: string | undefined;
    let oldest = Infinity;
    for (const [name, series] of map) {
      if (series.lastSeenAt < oldest) {
        oldest = series.lastSeenAt;
        idlest = name;
      }
    }
    if (idlest !== undefined) map.delete(idlest);
  }
}
