/**
 * The shape of the gateway as observability needs it: routes and their targets in order, by id
 * only. The server builds it from the engine's route table; it never holds a key.
 */
export interface TargetInfo {
  /** `provider/model`, plus `#n` for the n-th key. */
  id: string;
  provider: string;
  model: string;
  /** Where its upstream runs (`region:` of its route entry or provider); absent when not declared. */
  region?: string | undefined;
}

export interface RouteInfo {
  name: string;
  /** Targets in the route's order, keys of one provider entry side by side. */
  targets: readonly TargetInfo[];
  /** Targets of the route's first entry: while one of them serves, the route is not failed over. */
  primary: readonly string[];
}

export interface Topology {
  routes: readonly RouteInfo[];
}

export function allTargets(topology: Topology): TargetInfo[] {
  const byId = new Map<string, TargetInfo>();
  for (const route of topology.routes) for (const target of route.targets) byId.set(target.id, target);
  return [...byId.values()];
}

/** The declared regions of the topology's targets, in first-seen order. */
export function regionsOf(topology: Topology): string[] {
  return [...new Set(allTargets(topology).flatMap((target) => (target.region === undefined ? [] : [target.region])))];
}

export function providersOf(topology: Topology): string[] {
  return [...new Set(allTargets(topology).map((target) => target.provider))];
}
