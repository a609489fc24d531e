import type { RetryPolicy } from '../core/backoff.js';
import { effectiveRegion, isWithinRegions } from '../core/regions.js';
import type { ProviderSettings, RouteSettings, Target, TargetSettings } from '../core/settings.js';

/** One entry of a route: a provider + model, expanded into one target per key. */
export interface TargetGroup {
  settings: TargetSettings;
  targets: readonly Target[];
}

export interface ResolvedRoute {
  settings: RouteSettings;
  groups: readonly TargetGroup[];
  /** A `provider/model` request that addresses one target directly. */
  isDirect: boolean;
}

/** Settings for routes made on the fly by `provider/model` addressing. */
export type RouteDefaults = Omit<RouteSettings, 'name' | 'targets'> & { retry: RetryPolicy };

/** Turns route names (and `provider/model` addresses) into targets, once, at start. */
export class RouteTable {
  private readonly routes = new Map<string, ResolvedRoute>();
  private readonly providers: ReadonlyMap<string, ProviderSettings>;
  private readonly direct = new Map<string, ResolvedRoute>();
  /** Per provider: the models its routes use and the patterns its `models:` lists, when direct addressing is on. */
  private readonly addressable = new Map<string, { names: Set<string>; patterns: RegExp[] }>();

  constructor(
    providers: readonly ProviderSettings[],
    routes: readonly RouteSettings[],
    private readonly defaults: RouteDefaults,
    /** Whether `provider/model` addresses a target directly (`server.direct_addressing`); off by default. */
    readonly isDirectAddressingOn = false,
  ) {
    this.providers = new Map(providers.map((provider) => [provider.name, provider]));
    for (const route of routes) {
      // A route restricted to regions never holds a target outside them: everything that walks a
      // route's targets (failover, hedging, continuation, recovery probes) then stays inside.
      const groups = route.targets.map((target) => this.group(target)).filter((group) => isWithinRegions({ region: group.targets[0]?.region }, route.regions));
      this.routes.set(route.name, { settings: route, groups, isDirect: false });
    }
    for (const provider of providers) {
      const names = new Set<string>();
      const patterns: RegExp[] = [];
      for (const model of provider.models ?? []) {
        if (model.includes('*')) patterns.push(globPattern(model));
        else names.add(model);
      }
      for (const route of routes) for (const target of route.targets) if (target.provider === provider.name) names.add(target.model);
      this.addressable.set(provider.name, { names, patterns });
    }
  }

  names(): string[] {
    return [...this.routes.keys()];
  }

  all(): ResolvedRoute[] {
    return [...this.routes.values()];
  }

  resolve(name: string): ResolvedRoute | undefined {
    const route = this.routes.get(name);
    if (route) return route;
    const slash = name.indexOf('/');
    if (slash <= 0 || !this.isDirectAddressingOn) return undefined;
    const cached = this.direct.get(name);
    if (cached) return cached;
    const provider = this.providers.get(name.slice(0, slash));
    const model = name.slice(slash + 1);
    if (!provider || !model || !this.isAddressable(provider.name, model)) return undefined;
    const settings: RouteSettings = { ...this.defaults, name, targets: [{ provider: provider.name, model, weight: 1 }] };
    const resolved: ResolvedRoute = { settings, groups: settings.targets.map((target) => this.group(target)), isDirect: true };
    // Bounded: a client must not grow this map without limit by inventing model names.
    if (this.direct.size < 1000) this.direct.set(name, resolved);
    return resolved;
  }

  /** Whether the operator let clients address this model of this provider directly. */
  isAddressable(providerName: string, model: string): boolean {
    const addressable = this.addressable.get(providerName);
    return addressable !== undefined && (addressable.names.has(model) || addressable.patterns.some((pattern) => pattern.test(model)));
  }

  private group(settings: TargetSettings): TargetGroup {
    const provider = this.providers.get(settings.provider);
    if (!provider) throw new Error(`unknown provider "${settings.provider}"`);
    const keys = provider.apiKeys.length > 0 ? provider.apiKeys : [''];
    const base = `${provider.name}/${settings.model}`;
    const region = effectiveRegion(settings.region, provider.region);
    const targets = keys.map((apiKey, keyIndex) => ({
      id: keys.length > 1 ? `${base}#${keyIndex}` : base,
      provider,
      model: settings.model,
      apiKey,
      keyIndex,
      settings,
      region,
    }));
    return { settings, targets };
  }
}

/** `gpt-4o*` as an anchored expression; every other character stands for itself. */
function globPattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
