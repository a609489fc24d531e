import type { Clock } from '../../core/clock.js';
import type { IncidentManager } from '../alerts/incident-manager.js';
import type { StatsTracker } from '../stats/stats-tracker.js';
import type { TargetSnapshot, TargetStateView } from '../target-state.js';
import { allTargets, providersOf, regionsOf, type Topology } from '../topology.js';
import { StatusHistory, type ComponentStatus, type DayUptime, type StatusHistoryStore, type WindowUptime } from './status-history.js';

export type { ComponentStatus };

/** The status page's JSON: public-safe (names of routes and providers, no targets, keys or errors). */
export interface PublicStatus {
  status: ComponentStatus;
  updated_at: string;
  routes: PublicComponent[];
  providers: PublicComponent[];
  /** The declared regions, each with the providers that run there (empty when the config declares none). */
  regions: Array<PublicComponent & { providers: string[] }>;
  incidents: Array<{ summary: string; severity: string; status: 'ongoing' | 'resolved'; started_at: string; resolved_at: string | null; routes: string[]; providers: string[] }>;
}

/** Uptime over a window as observed: the share of the covered time the component was operational. */
export interface PublicUptime {
  uptime: number | null;
  /** What it covers: `24 h` when the whole window was observed, else `last 11 min`. */
  label: string;
  covered_ms: number;
  observed_ms: number;
  down_ms: number;
  degraded_ms: number;
}

export interface PublicComponent {
  name: string;
  status: ComponentStatus;
  /** The healthy share of the observed time over each window; null before any observation. */
  uptime: { '24h': number | null; '7d': number | null; '90d': number | null };
  /** The same windows with the period each actually covers and the time down and degraded. */
  uptime_detail: { '24h': PublicUptime; '7d': PublicUptime; '90d': PublicUptime };
  /** The last 90 UTC days, oldest first: the history bars. */
  history: Array<{ date: string; uptime: number | null; observed_ms: number; down_ms: number; degraded_ms: number }>;
}

const day = 86_400_000;
const windows = { '24h': day, '7d': 7 * day, '90d': 90 * day } as const;
/** /status.json is public: its answer is computed at most this often, however many ask. */
const publicCacheMs = 1000;

function publicUptime(window: WindowUptime): PublicUptime {
  return { uptime: window.uptime, label: window.label, covered_ms: window.coveredMs, observed_ms: window.observedMs, down_ms: window.downMs, degraded_ms: window.degradedMs };
}

function publicDay(entry: DayUptime): PublicComponent['history'][number] {
  return { date: entry.date, uptime: entry.uptime, observed_ms: entry.observedMs, down_ms: entry.downMs, degraded_ms: entry.degradedMs };
}
const worse = (a: ComponentStatus, b: ComponentStatus): ComponentStatus => (a === 'down' || b === 'down' ? 'down' : a === 'degraded' || b === 'degraded' ? 'degraded' : 'healthy');

function isUnavailable(target: TargetSnapshot): boolean {
  return target.state === 'failing';
}

/** An incident in its hold-down (no sign of it for this long) is recovering: it no longer degrades a route. */
const recoveringAfterMs = 5000;

/**
 * Each route and provider healthy, degraded or down, from live target state, recent traffic and
 * open incidents; sampled every second into per-minute history (a week of minutes, 90 days of
 * days, kept in the request log's database when there is one) for uptime and the history bars.
 *
 * - A route is down when none of its targets is available, no target could answer its recent
 *   requests, or most of them failed in the last minute; degraded when one of its targets is
 *   unavailable (it is failing over), its SLO burns, or under 99 % of its recent requests succeeded.
 * - A provider is down when all its targets are unavailable, degraded when some are.
 */
export class StatusBoard {
  readonly history: StatusHistory;
  /** Uptime and history per component, computed at most once a second: /status.json is public, and these walk a week of minutes. */
  private readonly uptimeCache = new Map<string, { at: number; value: Pick<PublicComponent, 'uptime' | 'uptime_detail' | 'history'> }>();

  constructor(
    private readonly topology: Topology,
    private readonly deps: { clock: Clock; targets: TargetStateView; stats: StatsTracker; incidents: IncidentManager; store?: StatusHistoryStore | undefined },
  ) {
    this.history = new StatusHistory(deps.store);
  }

  routeStatus(name: string, targets: ReadonlyMap<string, TargetSnapshot>): ComponentStatus {
    const route = this.topology.routes.find((candidate) => candidate.name === name);
    if (!route) return 'healthy';
    const states = route.targets.map((target) => targets.get(target.id)).filter((state): state is TargetSnapshot => state !== undefined);
    const unavailable = states.filter(isUnavailable).length;
    const incidents = this.deps.incidents.incidents();
    const lastMinute = this.deps.stats.summary('route', name, 60_000);
    // Half a minute, not five: a route is degraded while clients see failures, not for minutes after.
    const recent = this.deps.stats.summary('route', name, 30_000);
    if (states.length > 0 && unavailable === states.length) return 'down';
    const now = this.deps.clock.now();
    const ongoing = incidents.filter((incident) => now - incident.lastSeenAt < recoveringAfterMs);
    if (ongoing.some((incident) => incident.type === 'all_targets_failed' && incident.route === name)) return 'down';
    if (lastMinute && lastMinute.failures >= 3 && (lastMinute.success_rate ?? 1) < 0.5) return 'down';
    if (unavailable > 0) return 'degraded';
    if (ongoing.some((incident) => incident.affects.routes.includes(name))) return 'degraded';
    if (recent && recent.successes + recent.failures >= 5 && (recent.success_rate ?? 1) < 0.99) return 'degraded';
    return 'healthy';
  }

  /** A region is down when every target there is unavailable (or a regional incident is ongoing), degraded when some are. */
  regionStatus(name: string, targets: readonly TargetSnapshot[]): ComponentStatus {
    const own = targets.filter((target) => target.region === name);
    const unavailable = own.filter(isUnavailable).length;
    if (own.length > 0 && unavailable === own.length) return 'down';
    const now = this.deps.clock.now();
    if (this.deps.incidents.incidents().some((incident) => incident.type === 'region_down' && incident.region === name && now - incident.lastSeenAt < recoveringAfterMs)) return 'down';
    if (unavailable > 0) return 'degraded';
    return 'healthy';
  }

  providerStatus(name: string, targets: readonly TargetSnapshot[]): ComponentStatus {
    const own = targets.filter((target) => target.provider === name);
    const unavailable = own.filter(isUnavailable).length;
    if (own.length > 0 && unavailable === own.length) return 'down';
    if (unavailable > 0) return 'degraded';
    return 'healthy';
  }

  /** Records every component's current status for the time since the last sample; called every second. */
  sample(): void {
    const { routes, providers, regions } = this.current();
    const statuses = new Map<string, ComponentStatus>();
    for (const [name, status] of routes) statuses.set(`route:${name}`, status);
    for (const [name, status] of providers) statuses.set(`provider:${name}`, status);
    for (const [name, status] of regions) statuses.set(`region:${name}`, status);
    this.history.sample(this.deps.clock.now(), statuses);
  }

  publicStatus(): PublicStatus {
    const now = this.deps.clock.now();
    const { routes, providers, regions } = this.current();
    const component = (kind: string, name: string, status: ComponentStatus): PublicComponent => ({ name, status, ...this.uptimeOf(`${kind}:${name}`, now) });
    const routeList = [...routes].map(([name, status]) => component('route', name, status));
    const providerList = [...providers].map(([name, status]) => component('provider', name, status));
    const targets = allTargets(this.topology);
    const regionList = [...regions].map(([name, status]) => ({ ...component('region', name, status), providers: [...new Set(targets.filter((target) => target.region === name).map((target) => target.provider))] }));
    const overall = routeList.reduce<ComponentStatus>((acc, item) => worse(acc, item.status), 'healthy');
    const iso = (ms: number): string => new Date(ms).toISOString();
    const ongoing = this.deps.incidents.incidents().map((incident) => ({ incident, resolvedAt: null as number | null }));
    const resolved = this.deps.incidents.resolvedWithin(7 * day).map((entry) => ({ incident: entry.incident, resolvedAt: entry.resolvedAt as number | null }));
    const value: PublicStatus = {
      status: overall,
      updated_at: iso(now),
      routes: routeList,
      providers: providerList,
      regions: regionList,
      incidents: [...ongoing, ...resolved].map(({ incident, resolvedAt }) => ({
        summary: incident.publicSummary,
        severity: incident.severity,
        status: resolvedAt === null ? 'ongoing' : 'resolved',
        started_at: iso(incident.startedAt),
        resolved_at: resolvedAt === null ? null : iso(resolvedAt),
        routes: incident.affects.routes,
        providers: incident.affects.providers,
      })),
    };
    return value;
  }

  private uptimeOf(key: string, now: number): Pick<PublicComponent, 'uptime' | 'uptime_detail' | 'history'> {
    const cached = this.uptimeCache.get(key);
    if (cached && now >= cached.at && now - cached.at < publicCacheMs) return cached.value;
    const [d1, d7, d90] = [windows['24h'], windows['7d'], windows['90d']].map((windowMs) => this.history.window(key, now, windowMs)) as [WindowUptime, WindowUptime, WindowUptime];
    const value = {
      uptime: { '24h': d1.uptime, '7d': d7.uptime, '90d': d90.uptime },
      uptime_detail: { '24h': publicUptime(d1), '7d': publicUptime(d7), '90d': publicUptime(d90) },
      history: this.history.days(key, now).map(publicDay),
    };
    this.uptimeCache.set(key, { at: now, value });
    return value;
  }

  private current(): { routes: Map<string, ComponentStatus>; providers: Map<string, ComponentStatus>; regions: Map<string, ComponentStatus> } {
    const snapshot = this.deps.targets.snapshot();
    const byId = new Map(snapshot.map((target) => [target.id, target]));
    const routes = new Map(this.topology.routes.map((route) => [route.name, this.routeStatus(route.name, byId)]));
    const providers = new Map(providersOf(this.topology).map((name) => [name, this.providerStatus(name, snapshot)]));
    const regions = new Map(regionsOf(this.topology).map((name) => [name, this.regionStatus(name, snapshot)]));
    return { routes, providers, regions };
  }
}
