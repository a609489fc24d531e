import type { Clock } from '../../core/clock.js';
import type { IncidentManager } from '../alerts/incident-manager.js';
import type { DetourMetrics } from '../metrics/metrics.js';
import type { RequestOutcome } from '../outcome.js';
import type { SloSettings } from '../settings.js';
import { BucketRing } from '../stats/bucket-ring.js';
import { burnPolicies, burnRate, evaluateBurn, type BurnVerdict, type WindowCounts } from './burn-rate.js';

export type Objective = 'availability' | 'latency';

class SloBucket {
  /** Requests that count for availability (client errors do not). */
  total = 0;
  failures = 0;
  /** Successful requests, and those slower than the latency target. */
  answered = 0;
  slow = 0;
}

const bucketMs = 30_000;
/** Six hours and one bucket: the slow policy's long window. */
const ringSize = 721;
const windowsShown: ReadonlyArray<[string, number]> = [
  ['5m', 300_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['6h', 21_600_000],
];

interface RouteSlo {
  settings: SloSettings;
  ring: BucketRing<SloBucket>;
}

export interface ObjectiveStatus {
  /** The target ratio of good events: the success rate, or 0.95 for "95 % under p95_ms". */
  target: number;
  threshold_ms?: number;
  windows: Record<string, { total: number; bad: number; sli: number | null; burn_rate: number }>;
  policies: Array<{ speed: string; long_burn: number; short_burn: number; threshold: number; firing: boolean }>;
}

/**
 * Tracks each route's SLOs from finished requests and evaluates the burn-rate policies on a
 * timer, raising an `slo_burn` incident per route and objective while one fires.
 */
export class SloMonitor {
  private readonly routes = new Map<string, RouteSlo>();

  constructor(
    slos: readonly SloSettings[],
    private readonly deps: { clock: Clock; incidents: IncidentManager; metrics: DetourMetrics },
  ) {
    for (const settings of slos) this.routes.set(settings.route, { settings, ring: new BucketRing(bucketMs, ringSize, () => new SloBucket()) });
  }

  record(outcome: RequestOutcome): void {
    const slo = this.routes.get(outcome.route);
    if (!slo || outcome.outcome === 'client_error') return;
    const bucket = slo.ring.at(this.deps.clock.now());
    bucket.total++;
    if (outcome.outcome === 'failure') {
      bucket.failures++;
      return;
    }
    bucket.answered++;
    if (slo.settings.p95Ms !== undefined && outcome.latencyMs > slo.settings.p95Ms) bucket.slow++;
  }

  /** Evaluates every policy, updates the burn-rate gauges and raises or clears incidents. */
  evaluate(): void {
    for (const [route, slo] of this.routes) {
      for (const objective of objectivesOf(slo.settings)) {
        const verdicts = this.verdicts(slo, objective.name, objective.target);
        for (const [window, windowMs] of windowsShown) {
          this.deps.metrics.sloBurnRate.set({ route, objective: objective.name, window }, burnRate(this.counts(slo, objective.name, windowMs), objective.target));
        }
        const key = `slo_burn:${route}:${objective.name}`;
        const firing = verdicts.filter((verdict) => verdict.isFiring);
        if (firing.length === 0) {
          this.deps.incidents.clear(key);
          continue;
        }
        const isFast = firing.some((verdict) => verdict.speed === 'fast');
        const worst = firing[0] as BurnVerdict;
        this.deps.incidents.raise({
          key,
          type: 'slo_burn',
          severity: isFast ? 'critical' : 'warning',
          title: `Route ${route}: ${objective.name} SLO (${describe(objective.name, slo.settings)}) burning its error budget ${isFast ? 'fast' : 'slowly'}`,
          route,
          error: `burn rate ${worst.longBurn.toFixed(1)}× over the ${worst.speed === 'fast' ? '1 h' : '6 h'} window, ${worst.shortBurn.toFixed(1)}× over the ${worst.speed === 'fast' ? '5 min' : '30 min'} window`,
          note: `${worst.speed} burn`,
          publicSummary: objective.name === 'latency' ? `Requests to ${route} are slower than usual.` : `Requests to ${route} are failing more often than usual.`,
          affects: { routes: [route], providers: [] },
        });
      }
    }
  }

  status(): Record<string, Record<string, ObjectiveStatus>> {
    const result: Record<string, Record<string, ObjectiveStatus>> = {};
    for (const [route, slo] of this.routes) {
      const objectives: Record<string, ObjectiveStatus> = {};
      for (const objective of objectivesOf(slo.settings)) {
        const windows: ObjectiveStatus['windows'] = {};
        for (const [window, windowMs] of windowsShown) {
          const counts = this.counts(slo, objective.name, windowMs);
          windows[window] = { ...counts, sli: counts.total === 0 ? null : 1 - counts.bad / counts.total, burn_rate: burnRate(counts, objective.target) };
        }
        const policies = this.verdicts(slo, objective.name, objective.target).map((verdict, index) => ({
          speed: verdict.speed,
          long_burn: verdict.longBurn,
          short_burn: verdict.shortBurn,
          threshold: burnPolicies[index]?.threshold ?? 0,
          firing: verdict.isFiring,
        }));
        objectives[objective.name] = { target: objective.target, ...(objective.name === 'latency' ? { threshold_ms: slo.settings.p95Ms } : {}), windows, policies };
      }
      result[route] = objectives;
    }
    return result;
  }

  private verdicts(slo: RouteSlo, objective: Objective, target: number): BurnVerdict[] {
    return burnPolicies.map((policy) =>
      evaluateBurn(policy, this.counts(slo, objective, policy.longMs), this.counts(slo, objective, policy.shortMs), target, slo.settings.minRequests),
    );
  }

  private counts(slo: RouteSlo, objective: Objective, windowMs: number): WindowCounts {
    const counts = { total: 0, bad: 0 };
    for (const { bucket } of slo.ring.within(this.deps.clock.now(), windowMs)) {
      counts.total += objective === 'availability' ? bucket.total : bucket.answered;
      counts.bad += objective === 'availability' ? bucket.failures : bucket.slow;
    }
    return counts;
  }
}

function objectivesOf(settings: SloSettings): Array<{ name: Objective; target: number }> {
  const objectives: Array<{ name: Objective; target: number }> = [];
  if (settings.successRate !== undefined) objectives.push({ name: 'availability', target: settings.successRate });
  // "p95 under N ms" is an objective of 95 % good events, each good when it is under N ms.
  if (settings.p95Ms !== undefined) objectives.push({ name: 'latency', target: 0.95 });
  return objectives;
}

function describe(objective: Objective, settings: SloSettings): string {
  return objective === 'availability' ? `${((settings.successRate ?? 0) * 100).toFixed(2).replace(/\.?0+$/, '')} % success` : `p95 ≤ ${settings.p95Ms} ms`;
}
