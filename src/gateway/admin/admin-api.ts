import type { QueueState } from '../../engine/engine.js';
import type { Clock } from '../../core/clock.js';
import type { Incident } from '../../observability/alerts/incident.js';
import type { Observability } from '../../observability/observability.js';
import { parseRequestFilter } from '../../observability/request-log/log-query.js';
import type { WindowSummary } from '../../observability/stats/series.js';
import { isStatsWindow, statsScopes, statsWindows, type StatsScope } from '../../observability/stats/stats-tracker.js';
import type { TargetSnapshot } from '../../observability/target-state.js';
import { regionsOf, type Topology } from '../../observability/topology.js';
import { buildTrafficSeries, circuitOpenings, isTrafficRange, trafficRanges, type TrafficRow } from '../../observability/traffic-series.js';
import type { StoreStatus } from '../../state/redis-status.js';
import { queryOf, type GatewayRequest, type GatewayResponse } from '../http.js';
import { adminError, adminJson } from './admin-http.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The figures a dashboard row needs from a window summary. */
function brief(summary: WindowSummary | undefined): Record<string, number | null> {
  return {
    requests: summary?.requests ?? 0,
    failures: summary?.failures ?? 0,
    success_rate: summary?.success_rate ?? null,
    p50_ms: summary?.latency_ms.p50 ?? null,
    p95_ms: summary?.latency_ms.p95 ?? null,
    p99_ms: summary?.latency_ms.p99 ?? null,
    ttft_p95_ms: summary?.ttft_ms.p95 ?? null,
  };
}

/** An incident stays open through its hold-down after its last sign; meanwhile it is recovering, not failing. */
const recoveringAfterMs = 5000;

export function incidentState(incident: Incident, now: number): 'ongoing' | 'recovering' {
  return now - incident.lastSeenAt >= recoveringAfterMs ? 'recovering' : 'ongoing';
}

export function incidentJson(incident: Incident, now?: number): Record<string, unknown> {
  return {
    key: incident.key,
    type: incident.type,
    severity: incident.severity,
    title: incident.title,
    route: incident.route ?? null,
    target: incident.target ?? null,
    region: incident.region ?? null,
    serving_targets: incident.servingTargets,
    error: incident.error ?? null,
    started_at: iso(incident.startedAt),
    last_seen_at: iso(incident.lastSeenAt),
    ...(now === undefined ? {} : { state: incidentState(incident, now) }),
    notes: incident.notes.map((note) => ({ at: iso(note.at), text: note.text })),
  };
}

/** JSON endpoints under /admin/api: read-only views of the observability state. */
export class AdminApi {
  private readonly startedAt: number;

  constructor(
    private readonly observability: Observability,
    private readonly topology: Topology,
    /** Where circuit and health state lives now (memory, redis, local-fallback). */
    private readonly stateStatus: () => StoreStatus,
    private readonly clock: Clock,
    private readonly queues: () => readonly QueueState[] = () => [],
  ) {
    this.startedAt = clock.now();
  }

  /** Everything the dashboard's top half shows, in one call. */
  overview = (_request: GatewayRequest): GatewayResponse => {
    const { stats, targets, incidents, status } = this.observability;
    const snapshot = targets.snapshot();
    const byId = new Map(snapshot.map((target) => [target.id, target]));
    const queues = new Map(this.queues().map((queue) => [queue.route, queue]));
    return adminJson(200, {
      now: new Date(this.clock.now()).toISOString(),
      started_at: iso(this.startedAt),
      routes: this.topology.routes.map((route) => ({
        name: route.name,
        status: status.routeStatus(route.name, byId),
        targets: route.targets.map((target) => target.id),
        primary: route.primary,
        last_1m: brief(stats.summary('route', route.name, statsWindows['1m'])),
        last_5m: brief(stats.summary('route', route.name, statsWindows['5m'])),
        queue: queueJson(queues.get(route.name)),
      })),
      targets: snapshot.map((target) => this.targetJson(target)),
      regions: regionsOf(this.topology).map((name) => ({
        name,
        status: status.regionStatus(name, snapshot),
        targets: snapshot.filter((target) => target.region === name).map((target) => target.id),
        providers: [...new Set(snapshot.filter((target) => target.region === name).map((target) => target.provider))],
      })),
      totals: { last_1m: brief(stats.summary('all', '*', statsWindows['1m'])), last_5m: brief(stats.summary('all', '*', statsWindows['5m'])) },
      incidents: incidents.incidents().map((incident) => incidentJson(incident, this.clock.now())),
      request_log: { enabled: this.observability.requestLog !== undefined, available: this.observability.requestLog?.isAvailable ?? false, backend: this.observability.requestLog?.backend ?? null },
    });
  };

  /**
   * Every target's live state: circuit and cooldown end, health, EWMA latency, success rate, in
   * flight; and where that state lives (`state.mode`: memory, redis, or local-fallback).
   */
  targets = (_request: GatewayRequest): GatewayResponse => {
    return adminJson(200, { state: this.stateStatus(), targets: this.observability.targets.snapshot().map((target) => this.targetJson(target)) });
  };

  private targetJson(target: TargetSnapshot): Record<string, unknown> {
    const stats = this.observability.stats;
    return {
      id: target.id,
      provider: target.provider,
      model: target.model,
      region: target.region ?? null,
      state: target.state,
      state_reason: target.stateReason,
      circuit: target.circuit,
      circuit_since: iso(target.circuitSince),
      open_until: iso(target.openUntil),
      open_reason: target.openReason,
      health: target.health,
      traffic: target.traffic,
      consecutive_failures: target.consecutiveFailures,
      last_error_code: target.lastErrorCode,
      last_error_at: iso(target.lastErrorAt),
      last_success_at: iso(target.lastSuccessAt),
      latency_ewma_ms: target.latencyMs,
      ttft_ewma_ms: target.ttftMs,
      success_rate_ewma: target.successRate,
      in_flight: target.inFlight,
      limits: target.limits.map((limit) => ({ kind: limit.kind, source: limit.source, remaining: limit.remaining, limit: limit.limit ?? null, per_minute: limit.perMinute ?? null, reset_at: iso(limit.resetAt ?? null) })),
      last_1m: brief(stats.summary('target', target.id, statsWindows['1m'])),
      last_5m: brief(stats.summary('target', target.id, statsWindows['5m'])),
    };
  }

  /** `?scope=route|target|key|all&window=1m|5m|15m|1h|24h` (every standard window when absent). */
  stats = (request: GatewayRequest): GatewayResponse => {
    const query = queryOf(request);
    const scope = query.get('scope') ?? 'route';
    if (!isScope(scope)) return adminError(400, 'INVALID_REQUEST', `scope: expected one of ${statsScopes.join(', ')}`);
    const window = query.get('window');
    if (window !== null && !isStatsWindow(window)) return adminError(400, 'INVALID_REQUEST', `window: expected one of ${Object.keys(statsWindows).join(', ')}`);
    const windows = window === null ? (['1m', '5m', '1h', '24h'] as const) : [window];
    const series: Record<string, Record<string, WindowSummary>> = {};
    for (const name of this.observability.stats.names(scope)) {
      series[name] = {};
      for (const each of windows) series[name][each] = this.observability.stats.summary(scope, name, statsWindows[each]) as WindowSummary;
    }
    return adminJson(200, { scope, windows, series });
  };

  /**
   * `?range=5m|1h|24h|7d`: requests per bucket by serving target (the stacked chart), failures
   * apart, with incidents and circuit openings to mark. From the request log, which keeps every
   * range; without it, from the in-memory statistics, which keep an hour.
   */
  traffic = async (request: GatewayRequest): Promise<GatewayResponse> => {
    const range = queryOf(request).get('range') ?? '5m';
    if (!isTrafficRange(range)) return adminError(400, 'INVALID_REQUEST', `range: expected one of ${Object.keys(trafficRanges).join(', ')}`);
    const now = this.clock.now();
    const { rangeMs, stepMs } = trafficRanges[range];
    const known = [...new Set(this.topology.routes.flatMap((route) => route.targets.map((target) => target.id)))];
    const log = this.observability.requestLog;
    let rows: TrafficRow[];
    let source: 'request_log' | 'memory';
    if (log) {
      await log.ready();
      if (!log.isAvailable) return adminError(503, 'REQUEST_LOG_UNAVAILABLE', 'The request log could not be opened or stopped working; see the server log.');
      // Records still queued are part of the picture: the newest seconds must not look empty.
      await log.flush();
      try {
        rows = await log.trafficByTarget(now - rangeMs - stepMs, stepMs);
      } catch (error) {
        return adminError(503, 'REQUEST_LOG_UNAVAILABLE', `The request log could not be read: ${error instanceof Error ? error.message : String(error)}`);
      }
      source = 'request_log';
    } else {
      if (rangeMs > statsWindows['1h']) return adminError(404, 'REQUEST_LOG_DISABLED', `range ${range} needs the request log (log.enabled: true); without it the last hour is kept in memory`);
      rows = this.observability.stats.trafficByTarget(rangeMs, stepMs);
      source = 'memory';
    }
    const series = buildTrafficSeries(range, now, rows, known);
    const { incidents } = this.observability;
    const incidentMarks = [
      ...incidents.incidents().map((incident) => ({ incident, resolvedAt: null as number | null })),
      ...incidents.resolvedWithin(rangeMs).map((entry) => ({ incident: entry.incident, resolvedAt: entry.resolvedAt as number | null })),
    ]
      .filter(({ resolvedAt }) => (resolvedAt ?? now) >= series.from)
      .map(({ incident, resolvedAt }) => ({
        title: incident.title,
        target: incident.target ?? null,
        route: incident.route ?? null,
        from: Math.max(series.from, incident.startedAt),
        to: resolvedAt,
        state: resolvedAt !== null ? ('resolved' as const) : incidentState(incident, now),
      }));
    return adminJson(200, { ...series, source, incidents: incidentMarks, circuit_openings: circuitOpenings(this.observability.feed.recent(300), series.from) });
  };

  /** `?scope=all|route|target|key&name=…&window=15m`: 10-second points for charts. */
  timeseries = (request: GatewayRequest): GatewayResponse => {
    const query = queryOf(request);
    const scope = query.get('scope') ?? 'all';
    if (!isScope(scope)) return adminError(400, 'INVALID_REQUEST', `scope: expected one of ${statsScopes.join(', ')}`);
    const window = query.get('window') ?? '15m';
    if (!isStatsWindow(window) || statsWindows[window] > statsWindows['1h']) return adminError(400, 'INVALID_REQUEST', 'window: expected 1m, 5m, 15m or 1h');
    const name = query.get('name') ?? '*';
    return adminJson(200, { scope, name, window, step_ms: 10_000, points: this.observability.stats.timeline(scope, name, statsWindows[window]) });
  };

  /** `?window=24h`: spend by route, target and client key; cost per successful request, failed/hedge/mirror apart. */
  costs = (request: GatewayRequest): GatewayResponse => {
    const window = queryOf(request).get('window') ?? '24h';
    if (!isStatsWindow(window)) return adminError(400, 'INVALID_REQUEST', `window: expected one of ${Object.keys(statsWindows).join(', ')}`);
    const windowMs = statsWindows[window];
    const costsOf = (scope: StatsScope): Record<string, unknown> =>
      Object.fromEntries(
        Object.entries(this.observability.stats.summaries(scope, windowMs)).map(([name, summary]) => [
          name,
          { requests: summary.requests, successes: summary.successes, ...summary.cost, tokens: summary.tokens },
        ]),
      );
    const total = this.observability.stats.summary('all', '*', windowMs);
    return adminJson(200, {
      window,
      currency: 'USD',
      total: total ? { requests: total.requests, successes: total.successes, ...total.cost, tokens: total.tokens } : null,
      by_route: costsOf('route'),
      by_target: costsOf('target'),
      by_key: costsOf('key'),
    });
  };

  slo = (_request: GatewayRequest): GatewayResponse => {
    return adminJson(200, { routes: this.observability.slo.status() });
  };

  incidents = (_request: GatewayRequest): GatewayResponse => {
    const { incidents } = this.observability;
    return adminJson(200, {
      active: incidents.incidents().map(incidentJson),
      resolved: incidents.resolvedWithin(86_400_000).map((entry) => ({ ...incidentJson(entry.incident), resolved_at: iso(entry.resolvedAt) })),
    });
  };

  /** The in-memory last requests (works with the request log off). */
  recent = (request: GatewayRequest): GatewayResponse => {
    const limit = Math.min(200, Math.max(1, Number(queryOf(request).get('limit') ?? 50) || 50));
    return adminJson(200, { data: this.observability.recent.latest(limit) });
  };

  /** The request log, filtered and paged (see `parseRequestFilter`). */
  requests = async (request: GatewayRequest): Promise<GatewayResponse> => {
    const log = this.observability.requestLog;
    if (!log) return adminError(404, 'REQUEST_LOG_DISABLED', 'The request log is off (log.enabled: false).');
    const parsed = parseRequestFilter(queryOf(request));
    if ('error' in parsed) return adminError(400, 'INVALID_REQUEST', parsed.error);
    await log.ready();
    if (!log.isAvailable) return adminError(503, 'REQUEST_LOG_UNAVAILABLE', 'The request log could not be opened or stopped working; see the server log.');
    try {
      return adminJson(200, await log.query(parsed.filter));
    } catch (error) {
      return adminError(503, 'REQUEST_LOG_UNAVAILABLE', `The request log could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

function isScope(value: string): value is StatsScope {
  return (statsScopes as readonly string[]).includes(value);
}

/** A route's queue for the dashboard: who waits now (by priority, and for recovery), and the last waits; null before anyone queued. */
function queueJson(queue: QueueState | undefined): Record<string, unknown> | null {
  if (!queue) return null;
  const { high, normal, low, recovery } = queue.depth;
  return { max: queue.max, timeout_ms: queue.timeoutMs, waiting: high + normal + low + recovery, by_priority: { high, normal, low }, recovery, recent_waits: queue.waits.count, wait_p50_ms: queue.waits.p50Ms, wait_p95_ms: queue.waits.p95Ms };
}
