import type { Target } from '../core/settings.js';
import type { ResolvedRoute, TargetGroup } from './route-table.js';

/**
 * Orders a route's targets for one request: groups in the route's order, and within a group
 * the provider's keys rotated round-robin, so healthy keys share the load and a failing key
 * falls through to its siblings before the next provider.
 */
export class Planner {
  private readonly keyCursor = new WeakMap<TargetGroup, number>();

  plan(route: ResolvedRoute): Target[] {
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
}
