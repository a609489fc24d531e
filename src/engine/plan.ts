import { filterByCapabilities, resolveCapabilities, type Capability, type RequestNeeds } from '../core/capabilities.js';
import type { Clock, Random } from '../core/clock.js';
import type { ModelCapabilities, ModelCatalog } from '../core/model-catalog.js';
import type { Target } from '../core/settings.js';
import { orderCandidates } from '../core/strategies.js';
import type { Resilience } from './resilience.js';
import type { ResolvedRoute, TargetGroup } from './route-table.js';

export interface PlannerOptions {
  resilience: Resilience;
  catalog: ModelCatalog;
  clock: Clock;
  random: Random;
  /** This instance's region, for the `nearest` strategy. */
  homeRegion?: string | undefined;
}

/** The candidates of one request, in the order failover walks them, and what was left out. */
export interface Plan {
  candidates: Target[];
  /** Targets that cannot serve this request, with what each lacked. */
  incapable: Array<{ target: Target; missing: Capability[] }>;
  /** Targets skipped because their circuit is open. */
  openTargets: Target[];
  /** When the first open circuit's cooldown ends (epoch ms), if any is open. */
  firstRecoveryAt: number | undefined;
}

/** What the planner may ask of the request, lazily: only routes whose targets differ in capability pay for it. */
export interface PlanRequest {
  needs(): RequestNeeds;
  /** The body's size: a small body cannot overflow a large context window, so its tokens need no estimate. */
  bodyBytes: number;
  /** The client key's upstream keys (`provider.key-name`); a provider named here is used only with these. */
  upstreamKeys?: readonly string[] | undefined;
}

interface RouteProfile {
  /** Some target lacks vision, tools or JSON. */
  isRestrictive: boolean;
  smallestWindow: number;
}

/**
 * Orders a route's targets for one request: each provider's keys rotated round-robin, targets
 * that cannot serve the request left out, open circuits skipped at no cost, the rest ordered by
 * the route's strategy (which keeps a provider's keys together, so a bad key falls through to
 * its siblings before the next provider).
 */
export class Planner {
  private readonly keyCursor = new WeakMap<TargetGroup, number>();
  private readonly turns = new WeakMap<ResolvedRoute, number>();
  private readonly profiles = new WeakMap<ResolvedRoute, RouteProfile>();
  private readonly capabilities = new WeakMap<Target, ModelCapabilities | undefined>();

  constructor(private readonly options: PlannerOptions) {}

  plan(route: ResolvedRoute, request: PlanRequest): Plan {
    const breakers = this.options.resilience.breakers;
    const now = this.options.clock.now();
    const plan: Plan = { candidates: [], incapable: [], openTargets: [], firstRecoveryAt: undefined };
    let eligible = this.rotatedKeys(route);
    if (request.upstreamKeys) eligible = boundToKeys(eligible, request.upstreamKeys);
    const profile = this.profile(route);
    if (profile.isRestrictive || request.bodyBytes > profile.smallestWindow) {
      const filtered = filterByCapabilities(eligible, request.needs(), (target) => this.capabilitiesOf(target));
      eligible = filtered.eligible;
      plan.incapable = filtered.skipped.map(({ candidate, missing }) => ({ target: candidate, missing }));
    }
    const admitted: Target[] = [];
    for (const target of eligible) {
      if (breakers.admission(target.id) !== 'skip') {
        admitted.push(target);
        continue;
      }
      plan.openTargets.push(target);
      const view = this.options.resilience.store.breakerView(target.id);
      if (view.status === 'open' && (plan.firstRecoveryAt === undefined || view.until < plan.firstRecoveryAt)) plan.firstRecoveryAt = view.until;
    }
    const turn = this.turns.get(route) ?? 0;
    this.turns.set(route, turn + 1);
    plan.candidates = orderCandidates(route.settings.strategy, admitted, {
      stats: (id) => this.options.resilience.store.statsView(id),
      random: this.options.random,
      now,
      catalog: this.options.catalog,
      statsSettings: this.options.resilience.statsSettings,
      turn,
      homeRegion: this.options.homeRegion,
    });
    return plan;
  }

  capabilitiesOf(target: Target): ModelCapabilities | undefined {
    if (!this.capabilities.has(target)) this.capabilities.set(target, resolveCapabilities(target.model, target.settings.capabilities, this.options.catalog));
    return this.capabilities.get(target);
  }

  private rotatedKeys(route: ResolvedRoute): Target[] {
    const candidates: Target[] = [];
    for (const group of route.groups) {
      const count = group.targets.length;
      if (count === 1) {
        candidates.push(group.targets[0] as Target);
        continue;
      }
      const start = this.keyCursor.get(group) ?? 0;
      this.keyCursor.set(group, (start + 1) % count);
      for (let offset = 0; offset < count; offset++) candidates.push(group.targets[(start + offset) % count] as Target);
    }
    return candidates;
  }

  private profile(route: ResolvedRoute): RouteProfile {
    let profile = this.profiles.get(route);
    if (!profile) {
      const all = route.groups.flatMap((group) => group.targets).map((target) => this.capabilitiesOf(target));
      profile = {
        isRestrictive: all.some((capabilities) => capabilities !== undefined && (!capabilities.vision || !capabilities.tools || !capabilities.json)),
        smallestWindow: Math.min(...all.map((capabilities) => capabilities?.contextWindow ?? Number.POSITIVE_INFINITY)),
      };
      this.profiles.set(route, profile);
    }
    return profile;
  }
}

/** The targets a client key bound to `upstreamKeys` may use: on a provider it names, only the named keys. */
function boundToKeys(targets: Target[], upstreamKeys: readonly string[]): Target[] {
  const boundProviders = new Set(upstreamKeys.map((reference) => reference.slice(0, reference.indexOf('.'))));
  return targets.filter((target) => {
    if (!boundProviders.has(target.provider.name)) return true;
    const keyName = target.provider.keyNames?.[target.keyIndex] ?? String(target.keyIndex);
    return upstreamKeys.includes(`${target.provider.name}.${keyName}`);
  });
}
