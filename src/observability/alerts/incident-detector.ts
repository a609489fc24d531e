import type { Clock } from '../../core/clock.js';
import type { DetourErrorCode } from '../../core/errors.js';
import type { EventBus } from '../../core/events.js';
import type { RequestOutcome } from '../outcome.js';
import type { Topology } from '../topology.js';
import type { IncidentManager } from './incident-manager.js';

/**
 * Failover codes that say nothing about the target's health: this request could not be served
 * there (too long, refused by policy, a feature it lacks), the next one may well be.
 */
const requestSpecificCodes: ReadonlySet<DetourErrorCode> = new Set(['CONTEXT_LENGTH_EXCEEDED', 'CONTENT_POLICY', 'UNSUPPORTED_FEATURE', 'UPSTREAM_INVALID_REQUEST']);

/** Request failures that mean the route as a whole could not answer. */
const routeDownCodes: ReadonlySet<DetourErrorCode> = new Set(['ALL_TARGETS_FAILED', 'NO_TARGET_AVAILABLE', 'DEADLINE_EXCEEDED', 'RATE_LIMITED']);

const failoverWindowMs = 60_000;

interface TargetCondition {
  isCircuitOpen: boolean;
  isUnhealthy: boolean;
  failoverTimes: number[];
  lastFailureAt: number;
  lastSuccessAt: number;
  lastError: string | undefined;
}

export interface DetectorOptions {
  clock: Clock;
  topology: Topology;
  incidents: IncidentManager;
  /** Failovers away from a target within a minute before it is reported down. */
  minFailovers: number;
  /** Removes secrets from upstream error messages. */
  redact: (text: string) => string;
}

/**
 * Turns engine events into incidents: a target is down when its circuit opens, its health check
 * fails, or traffic keeps failing over away from it; it is back when its circuit closes, its
 * check passes and a call to it succeeds. A route is down when a request finds no target able
 * to answer, and back at its next success. Listeners are cheap: a map lookup, and work only
 * while something is wrong.
 */
export class IncidentDetector {
  private readonly conditions = new Map<string, TargetCondition>();
  private readonly routesOf = new Map<string, string[]>();
  private readonly providerOf = new Map<string, string>();
  private readonly unsubscribes: Array<() => void> = [];
  /** Declared regions of configured targets, and each region's targets. */
  private readonly regionOf = new Map<string, string>();
  private readonly targetsIn = new Map<string, string[]>();
  /** Targets reported down and not yet back: a region is down when all its targets are. */
  private readonly down = new Set<string>();

  constructor(
    events: EventBus,
    private readonly options: DetectorOptions,
  ) {
    for (const route of options.topology.routes) {
      for (const target of route.targets) {
        this.routesOf.set(target.id, [...(this.routesOf.get(target.id) ?? []), route.name]);
        this.providerOf.set(target.id, target.provider);
        if (target.region === undefined || this.regionOf.has(target.id)) continue;
        this.regionOf.set(target.id, target.region);
        this.targetsIn.set(target.region, [...(this.targetsIn.get(target.region) ?? []), target.id]);
      }
    }
    this.unsubscribes.push(
      events.on('circuit.opened', (event) => {
        this.condition(event.target).isCircuitOpen = true;
        this.raiseTargetDown(event.target, `circuit opened (${event.reason.replace('_', ' ')})`);
      }),
      events.on('circuit.closed', (event) => {
        this.condition(event.target).isCircuitOpen = false;
        this.maybeClearTarget(event.target);
      }),
      events.on('health.changed', (event) => {
        const condition = this.condition(event.target);
        condition.isUnhealthy = event.to === 'unhealthy';
        const checkError = event.error === undefined ? undefined : `health check: ${this.options.redact(event.error)}`;
        // Traffic's own error reads better in an alert than a probe's; the probe's is the fallback.
        condition.lastError ??= checkError;
        if (condition.isUnhealthy) this.raiseTargetDown(event.target, checkError ?? 'health check failing');
        else this.maybeClearTarget(event.target);
      }),
      events.on('attempt.failed', (event) => {
        if (event.record.kind === 'fatal') return;
        const condition = this.condition(event.record.target);
        condition.lastFailureAt = this.options.clock.now();
        condition.lastError = `${event.record.code ?? 'error'}: ${this.options.redact(event.message)}`;
      }),
      events.on('attempt.succeeded', (event) => {
        const condition = this.conditions.get(event.record.target);
        if (!condition) return;
        condition.lastSuccessAt = this.options.clock.now();
        this.maybeClearTarget(event.record.target);
      }),
      events.on('failover.performed', (event) => {
        if (requestSpecificCodes.has(event.code)) return;
        const now = this.options.clock.now();
        const condition = this.condition(event.from);
        condition.failoverTimes = condition.failoverTimes.filter((at) => now - at < failoverWindowMs);
        condition.failoverTimes.push(now);
        const isActive = this.options.incidents.isActive(targetKey(event.from));
        if (isActive || condition.failoverTimes.length >= this.options.minFailovers) {
          this.raiseTargetDown(event.from, `route ${event.route} failing over to ${event.to} (${event.code})`, { route: event.route, target: event.to });
        }
      }),
    );
  }

  /** Fed by the outcome pipeline: whole-route failures, recoveries, and who serves during an incident. */
  recordOutcome(outcome: RequestOutcome): void {
    const key = `all_targets_failed:${outcome.route}`;
    if (outcome.outcome === 'failure' && outcome.errorCode !== undefined && routeDownCodes.has(outcome.errorCode)) {
      const last = outcome.attempts[outcome.attempts.length - 1];
      const providers = [...new Set(outcome.attempts.map((attempt) => attempt.provider))];
      this.options.incidents.raise({
        key,
        type: 'all_targets_failed',
        severity: 'critical',
        title: `Route ${outcome.route}: no target could answer (${outcome.status} ${outcome.errorCode})`,
        route: outcome.route,
        error: last ? `${last.target}: ${last.code ?? last.status ?? 'error'}` : outcome.errorCode,
        note: `${outcome.errorCode} after ${outcome.attempts.length} attempt(s)`,
        publicSummary: `Requests to ${outcome.route} are failing.`,
        affects: { routes: [outcome.route], providers },
      });
      return;
    }
    if (outcome.outcome !== 'success') return;
    this.options.incidents.clear(key);
    if (outcome.target === undefined) return;
    for (const [region, targets] of this.targetsIn) {
      if (!this.options.incidents.isActive(regionKey(region)) || targets.includes(outcome.target)) continue;
      if (targets.some((target) => (this.routesOf.get(target) ?? []).includes(outcome.route))) this.raiseRegionDown(region, undefined, { route: outcome.route, target: outcome.target });
    }
    for (const [target, condition] of this.conditions) {
      if (target === outcome.target || !this.options.incidents.isActive(targetKey(target))) continue;
      if (!(this.routesOf.get(target) ?? []).includes(outcome.route)) continue;
      // Updates who serves instead, without a note per request.
      if (condition.isCircuitOpen || condition.lastFailureAt > condition.lastSuccessAt) {
        this.raiseTargetDown(target, undefined, { route: outcome.route, target: outcome.target });
      }
    }
  }

  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  private raiseTargetDown(target: string, note: string | undefined, serving?: { route: string; target: string }): void {
    if (this.down.size < 1000 || this.down.has(target)) this.down.add(target);
    const region = this.regionOf.get(target);
    if (region !== undefined && this.isRegionDown(region)) {
      this.raiseRegionDown(region, note, serving);
      return;
    }
    const condition = this.condition(target);
    const provider = this.providerOf.get(target) ?? target.split('/')[0] ?? target;
    this.options.incidents.raise({
      key: targetKey(target),
      type: 'target_down',
      severity: 'critical',
      title: `${target} is failing`,
      target,
      servingTarget: serving,
      error: condition.lastError,
      note,
      publicSummary: `Provider ${provider} is having problems; requests are being routed to fallbacks.`,
      affects: { routes: this.routesOf.get(target) ?? [], providers: [provider] },
    });
  }

  private maybeClearTarget(target: string): void {
    const condition = this.conditions.get(target);
    if (!condition || condition.isCircuitOpen || condition.isUnhealthy) return;
    if (condition.lastSuccessAt < condition.lastFailureAt) return;
    condition.failoverTimes = [];
    this.options.incidents.clear(targetKey(target));
    this.down.delete(target);
    const region = this.regionOf.get(target);
    if (region === undefined || !this.options.incidents.isActive(regionKey(region))) return;
    // The region answers again, in part: what is still down there is a target's incident again.
    this.options.incidents.clear(regionKey(region));
    for (const other of this.targetsIn.get(region) ?? []) if (this.down.has(other)) this.raiseTargetDown(other, 'its region is partly back; this target is still failing');
  }

  /**
   * Whether every target of a region (of two or more; a region of one target is that target) is
   * failing: then one regional incident stands for all of them.
   */
  private isRegionDown(region: string): boolean {
    const targets = this.targetsIn.get(region) ?? [];
    return targets.length >= 2 && targets.every((target) => this.down.has(target));
  }

  private raiseRegionDown(region: string, note: string | undefined, serving?: { route: string; target: string }): void {
    const targets = this.targetsIn.get(region) ?? [];
    // The region's own target incidents, not yet announced, are folded into this one.
    for (const target of targets) this.options.incidents.withdraw(targetKey(target));
    const providers = [...new Set(targets.map((target) => this.providerOf.get(target) ?? target))];
    const lastError = targets.map((target) => this.conditions.get(target)?.lastError).find((error) => error !== undefined);
    this.options.incidents.raise({
      key: regionKey(region),
      type: 'region_down',
      severity: 'critical',
      title: `Region ${region} is failing`,
      region,
      servingTarget: serving,
      error: lastError,
      note: note ?? (this.options.incidents.isActive(regionKey(region)) ? undefined : `every target in ${region} is failing (${targets.join(', ')})`),
      publicSummary: `Region ${region} is having problems; requests are being routed to other regions.`,
      affects: { routes: [...new Set(targets.flatMap((target) => this.routesOf.get(target) ?? []))], providers },
    });
  }

  private condition(target: string): TargetCondition {
    let condition = this.conditions.get(target);
    if (!condition) {
      condition = { isCircuitOpen: false, isUnhealthy: false, failoverTimes: [], lastFailureAt: -Infinity, lastSuccessAt: -Infinity, lastError: undefined };
      if (this.conditions.size < 1000) this.conditions.set(target, condition);
    }
    return condition;
  }
}

export function targetKey(target: string): string {
  return `target_down:${target}`;
}

export function regionKey(region: string): string {
  return `region_down:${region}`;
}
