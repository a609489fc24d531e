/**
 * What routing needs to know of a target. `Target` (settings.ts) satisfies it as it is, and
 * tests can build one from plain objects.
 */
export interface RoutingCandidate {
  /** `provider/model`, plus `#n` for the n-th key of a provider with several. */
  readonly id: string;
  readonly model: string;
  readonly provider: { readonly name: string };
  /** `weight` is the route entry's relative share, shared by all keys of that entry. */
  readonly settings: { readonly weight: number };
  /** Where the target's upstream runs (its route entry's `region`, else its provider's); `nearest` orders by it. */
  readonly region?: string | undefined;
}

/** The group of a candidate: its provider and model, whatever the key. */
export function groupOf(candidate: RoutingCandidate): string {
  return `${candidate.provider.name}/${candidate.model}`;
}

/** How many candidates share each group. */
export function groupSizes(candidates: readonly RoutingCandidate[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const candidate of candidates) {
    const group = groupOf(candidate);
    sizes.set(group, (sizes.get(group) ?? 0) + 1);
  }
  return sizes;
}

/**
 * Pulls the other keys of each group right behind the first of them, keeping every other
 * relation of the order. A strategy chooses which key leads; this makes a 429 or 401 on one key
 * fail over to the same provider's other keys before any other provider.
 */
export function keepGroupsTogether<T extends RoutingCandidate>(ordered: readonly T[]): T[] {
  const members = new Map<string, T[]>();
  for (const candidate of ordered) {
    const group = groupOf(candidate);
    const list = members.get(group);
    if (list) list.push(candidate);
    else members.set(group, [candidate]);
  }
  if (members.size === ordered.length) return [...ordered];
  const result: T[] = [];
  for (const list of members.values()) result.push(...list);
  return result;
}
