import type { Clock } from '../../core/clock.js';
import type { IncidentManager } from '../alerts/incident-manager.js';
import type { StatsTracker } from '../stats/stats-tracker.js';
import type { TargetSnapshot, TargetStateView } from '../target-state.js';
import { providersOf, type Topology } from '../topology.js';
import { UptimeRing, type ComponentStatus } from './uptime-ring.js';

export type { ComponentStatus };

/** The status page's JSON: public-safe (names of routes and providers, no targets, keys or errors). */
export interface PublicStatus {
  status: ComponentStatus;
  updated_at: string;
  routes: PublicComponent[];
  providers: PublicComponent[];
  incidents: Array<{ summary: string; severity: string; status: 'ongoing' | 'resolved'; started_at: string; resolved_at: string | null; routes: string[]; providers: string[] }>;
}

export interface PublicComponent {
  name: string;
  status: ComponentStatus;
  uptime: { '24h': number | null; '7d': number | null };
}

const day = 86_400_000;
const worse = (a: ComponentStatus, b: ComponentStatus): ComponentStatus => (a === 'down' || b === 'down' ? 'down' : a === 'degraded' || b === 'degraded' ? 'degraded' : 'healthy');

function isUnavailable(target: TargetSnapshot): boolean {
  return target.circuit === 'open' || target.health === 'unhealthy' || target.traffic === 'failing';
}

/**
 * Each route and provider healthy, degraded or down, from live target state, recent traffic and
 * open incidents; sampled on a timer into a week of per-minute history for uptime.
 *
 * - A route is down when none of its targets is available, no target could answer its recent
 *   requests, or most of them failed in the last minute; degraded when one of its targets is
 *   unavailable (it is failing over), its SLO burns, or under 99 % of its recent requests succeeded.
 * - A provider is down when all its targets are unavailable, degraded when some are.
 */
export class StatusBoard {
  private readonly uptime = new Map<string, UptimeRing>();

  constructor(
    private readonly topology: Topology,
    private readonly deps: { clock: Clock; targets: TargetStateView; stats: StatsTracker; incidents: IncidentManager },
  ) {}

  routeStatus(name: string, targets: ReadonlyMap<string, TargetSnapshot>): ComponentStatus {
    const route = this.topology.routes.find((candidate) => candidate.name === name);
    if (!route) return 'healthy';
    const states = route.targets.map((target) => targets.get(target.id)).filter((state): state is TargetSnapshot => state !== undefined);
    const unavailable = states.filter(isUnavailable).length;
    const incidents = this.deps.incidents.incidents();
    const lastMinute = this.deps.stats.summary('route', name, 60_000);
    const recent = this.deps.stats.summary('route', name, 300_000);
    if (states.length > 0 && unavailable === states.length) return 'down';
    if (incidents.some((incident) => incident.type === 'all_targets_failed' && incident.route === name)) return 'down';
    if (lastMinute && lastMinute.failures >= 3 && (lastMinute.success_rate ?? 1) < 0.5) return 'down';
    if (unavailable > 0) return 'degraded';
    if (incidents.some((incident) => incident.affects.routes.includes(name))) return 'degraded';
    if (recent && recent.successes + recent.failures >= 5 && (recent.success_rate ?? 1) < 0.99) return 'degraded';
    return 'healthy';
  }

  providerStatus(name: string, targets: readonly TargetSnapshot[]): ComponentStatus {
    const own = targets.filter((target) => target.provider === name);
    const unavailable = own.filter(isUnavailable).length;
    if (own.length > 0 && unavailable === own.length) return 'down';
    if (unavailable > 0) return 'degraded';
    return 'healthy';
  }

  /** Records every component's current status; called every few seconds. */
  sample(): void {
    const now = this.deps.clock.now();
    const { routes, providers } = this.current();
    for (const [name, status] of routes) this.ring(`route:${name}`).sample(now, status);
    for (const [name, status] of providers) this.ring(`provider:${name}`).sample(now, status);
  }

  publicStatus(): PublicStatus {
    const now = this.deps.clock.now();
    const { routes, providers } = this.current();
    const component = (kind: string, name: string, status: ComponentStatus): PublicComponent => {
      const ring = this.uptime.get(`${kind}:${name}`);
      return { name, status, uptime: { '24h': ring?.uptime(now, day) ?? null, '7d': ring?.uptime(now, 7 * day) ?? null } };
    };
    const routeList = [...routes].map(([name, status]) => component('route', name, status));
    const providerList = [...providers].map(([name, status]) => component('provider', name, status));
    const overall = routeList.reduce<ComponentStatus>((acc, item) => worse(acc, item.status), 'healthy');
    const iso = (ms: number): string => new Date(ms).toISOString();
    const ongoing = this.deps.incidents.incidents().map((incident) => ({ incident, resolvedAt: null as number | null }));
    const resolved = this.deps.incidents.resolvedWithin(7 * day).map((entry) => ({ incident: entry.incident, resolvedAt: entry.resolvedAt as number | null }));
    return {
      status: overall,
      updated_at: iso(now),
      routes: routeList,
      providers: providerList,
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
  }

  private current(): { routes: Map<string, ComponentStatus>; providers: Map<string, ComponentStatus> } {
    const snapshot = this.deps.targets.snapshot();
    const byId = new Map(snapshot.map((target) => [target.id, target]));
    const routes = new Map(this.topology.routes.map((route) => [route.name, this.routeStatus(route.name, byId)]));
    const providers = new Map(providersOf(this.topology).map((name) => [name, this.providerStatus(name, snapshot)]));
    return { routes, providers };
  }

  private ring(key: string): UptimeRing {
    let ring = this.uptime.get(key);
    if (!ring) {
      ring = new UptimeRing();
      this.uptime.set(key, ring);
    }
    return ring;
  }
}
