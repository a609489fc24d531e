import type { RetryPolicy } from '../core/backoff.js';
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

  constructor(
    providers: readonly ProviderSettings[],
    routes: readonly RouteSettings[],
    private readonly defaults: RouteDefaults,
  ) {
    this.providers = new Map(providers.map((provider) => [provider.name, provider]));
    for (const route of routes) {
      this.routes.set(route.name, { settings: route, groups: route.targets.map((target) => this.group(target)), isDirect: false });
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
    if (slash <= 0) return undefined;
    const cached = this.direct.get(name);
    if (cached) return cached;
    const provider = this.providers.get(name.slice(0, slash));
    const model = name.slice(slash + 1);
    if (!provider || !model) return undefined;
    const settings: RouteSettings = { ...this.defaults, name, targets: [{ provider: provider.name, model, weight: 1 }] };
    const resolved: ResolvedRoute = { settings, groups: settings.targets.map((target) => this.group(target)), isDirect: true };
    // Bounded: a client must not grow this map without limit by inventing model names.
    if (this.direct.size < 1000) this.direct.set(name, resolved);
    return resolved;
  }

  private group(settings: TargetSettings): TargetGroup {
    const provider = this.providers.get(settings.provider);
    if (!provider) throw new Error(`unknown provider "${settings.provider}"`);
    const keys = provider.apiKeys.length > 0 ? provider.apiKeys : [''];
    const base = `${provider.name}/${settings.model}`;
    const targets = keys.map((apiKey, keyIndex) => ({
      id: keys.length > 1 ? `${base}#${keyIndex}` : base,
      provider,
      model: settings.model,
      apiKey,
      keyIndex,
      settings,
    }));
    return { settings, targets };
  }
}
