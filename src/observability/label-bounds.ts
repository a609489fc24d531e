import type { AttemptRecord } from '../core/events.js';
import type { RequestOutcome } from './outcome.js';
import { allTargets, type Topology } from './topology.js';

/** What any name outside the configured ones is counted as. */
export const otherLabel = 'other';

/** Client keys named in metrics and statistics at most; later ones count as `other`. */
const maxClientKeys = 1000;

/**
 * Keeps metric labels and statistics series to names the operator configured: the routes,
 * targets, providers and models of the topology, and up to a thousand client keys (names of
 * keys that passed authentication, never what a client typed). Anything else (a directly
 * addressed model matched by a pattern, say) is counted as `other`, so that no client input can
 * grow `/metrics` or memory without bound.
 */
export class LabelBounds {
  private readonly routes: ReadonlySet<string>;
  private readonly targets: ReadonlySet<string>;
  private readonly providers: ReadonlySet<string>;
  private readonly models: ReadonlySet<string>;
  private readonly clientKeys = new Set<string>();
  private readonly regions: ReadonlyMap<string, string>;

  constructor(topology: Topology) {
    this.routes = new Set(topology.routes.map((route) => route.name));
    const targets = allTargets(topology);
    this.regions = new Map(targets.flatMap((target) => (target.region === undefined ? [] : [[target.id, target.region] as const])));
    this.targets = new Set(targets.map((target) => target.id));
    this.providers = new Set(targets.map((target) => target.provider));
    this.models = new Set(targets.map((target) => target.model));
  }

  route(name: string): string {
    return this.routes.has(name) || name === '(rejected)' ? name : otherLabel;
  }

  target(id: string): string {
    return this.targets.has(id) ? id : otherLabel;
  }

  provider(name: string): string {
    return this.providers.has(name) ? name : otherLabel;
  }

  /** A configured target's declared region (a config name, validated); undefined for any other. */
  regionOf(targetId: string): string | undefined {
    return this.regions.get(targetId);
  }

  model(name: string): string {
    return this.models.has(name) ? name : otherLabel;
  }

  clientKey(name: string): string {
    if (this.clientKeys.has(name)) return name;
    if (this.clientKeys.size >= maxClientKeys) return otherLabel;
    this.clientKeys.add(name);
    return name;
  }

  /** The outcome with every label-bound name kept to the configured ones (the request log keeps the originals). */
  outcome(outcome: RequestOutcome): RequestOutcome {
    const route = this.route(outcome.route);
    const target = outcome.target === undefined ? undefined : this.target(outcome.target);
    const clientKeyId = outcome.clientKeyId === undefined ? undefined : this.clientKey(outcome.clientKeyId);
    const isBounded = route === outcome.route && target === outcome.target && clientKeyId === outcome.clientKeyId && outcome.attempts.every((attempt) => this.targets.has(attempt.target));
    if (isBounded) return outcome;
    return {
      ...outcome,
      route,
      target,
      provider: outcome.provider === undefined ? undefined : this.provider(outcome.provider),
      model: outcome.model === undefined ? undefined : this.model(outcome.model),
      clientKeyId,
      attempts: outcome.attempts.map((attempt) => this.attempt(attempt)),
    };
  }

  private attempt(attempt: AttemptRecord): AttemptRecord {
    if (this.targets.has(attempt.target)) return attempt;
    return { ...attempt, target: otherLabel, provider: this.provider(attempt.provider), model: this.model(attempt.model) };
  }
}
