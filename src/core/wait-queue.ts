/** How urgent a request is (`x-detour-priority`); `normal` when it does not say. */
export type Priority = 'high' | 'normal' | 'low';

/** Highest first: the order a queue serves its priorities in. */
export const priorities: readonly Priority[] = ['high', 'normal', 'low'];

/** Reads a priority; undefined for anything else (the caller refuses it). */
export function parsePriority(value: string): Priority | undefined {
  const normalized = value.trim().toLowerCase();
  return (priorities as readonly string[]).includes(normalized) ? (normalized as Priority) : undefined;
}

/**
 * A bounded queue of waiting requests, served by priority and first come, first served within
 * one: the head is the oldest entry of the highest priority present, so a high-priority request
 * never waits behind a low one. Entries are any objects (compared by identity); leaving is O(1)
 * from anywhere in the queue (a client that gave up, a timeout).
 */
export class WaitQueue<T extends object> {
  private readonly lanes = new Map<Priority, Set<T>>(priorities.map((priority) => [priority, new Set<T>()]));

  constructor(readonly max: number) {}

  /** Adds `entry` at the back of its priority's lane; false (and nothing added) when the queue is full. */
  enter(entry: T, priority: Priority): boolean {
    if (this.size >= this.max) return false;
    (this.lanes.get(priority) as Set<T>).add(entry);
    return true;
  }

  /** Removes `entry` wherever it is; false when it was not queued. */
  leave(entry: T): boolean {
    for (const lane of this.lanes.values()) if (lane.delete(entry)) return true;
    return false;
  }

  /** The entry served next: the oldest of the highest priority waiting. */
  head(): T | undefined {
    for (const priority of priorities) {
      const lane = this.lanes.get(priority) as Set<T>;
      for (const entry of lane) return entry;
    }
    return undefined;
  }

  get size(): number {
    let total = 0;
    for (const lane of this.lanes.values()) total += lane.size;
    return total;
  }

  /** How many wait at each priority. */
  depthBy(): Record<Priority, number> {
    return { high: this.lanes.get('high')?.size ?? 0, normal: this.lanes.get('normal')?.size ?? 0, low: this.lanes.get('low')?.size ?? 0 };
  }
}
