/**
 * Regions: where a target's upstream runs (`us-east`, `eu-west`), where this instance runs, and
 * which regions a route may use. Pure helpers; the config validates the names, the route table
 * applies a route's restriction once at start, and the `nearest` strategy orders by them.
 */

/** Lower-case letters, digits and dashes, starting and ending with a letter or digit, at most 32 characters. */
export const regionNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export const maxRegionNameLength = 32;

/** Something that may run in a region. */
export interface Regioned {
  /** The region of its upstream; undefined when the config does not say. */
  readonly region?: string | undefined;
}

/**
 * Whether `item` may serve a route restricted to `allowed` (undefined: unrestricted). An item
 * whose region is not declared is never inside a restriction: data residency cannot be assumed.
 */
export function isWithinRegions(item: Regioned, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  return item.region !== undefined && allowed.includes(item.region);
}

/** The items that may serve a route restricted to `allowed`, in their order. */
export function restrictToRegions<T extends Regioned>(items: readonly T[], allowed: readonly string[] | undefined): T[] {
  if (allowed === undefined) return [...items];
  return items.filter((item) => isWithinRegions(item, allowed));
}

/** A target's region: the route entry's `region`, else its provider's. */
export function effectiveRegion(entryRegion: string | undefined, providerRegion: string | undefined): string | undefined {
  return entryRegion ?? providerRegion;
}

/** The label a target's region gets where one must be shown (metrics, status): `none` when undeclared. */
export function regionLabel(region: string | undefined): string {
  return region ?? 'none';
}
