import type { Clock } from '../core/clock.js';
import type { QueueSettings, RouteSettings } from '../core/settings.js';
import { WaitQueue, type Priority } from '../core/wait-queue.js';
import type { RecoveryWaiters } from './recovery-waiters.js';
import type { AbortSource } from '../core/abort-source.js';

/** How many of the last waits a queue keeps for its percentiles. */
const recentWaitCount = 500;

/** How many requests of a route wait now: for room by priority, and for a down route to recover. */
export type QueueDepth = Record<Priority, number> & { recovery: number };

interface QueueEntry {
  priority: Priority;
  /** Ends the entry's current wait early (its turn came, or room may have opened). */
  wake?: (() => void) | undefined;
}

/**
 * The requests of one route waiting for room under its targets' rate limits, in priority order
 * (`core/wait-queue.ts`). Only the head tries the targets again; the others sleep until they
 * become the head, so a burst of waiting requests costs one store call per moment room may open,
 * not one per request. Requests waiting for a down route to recover count against `max` too.
 */
export class CapacityQueue {
  private readonly queue: WaitQueue<QueueEntry>;
  /** Requests of this route waiting for recovery (`RequestRun.recover`): they count against `max` and in the depth. */
  private recovering = 0;
  /** The last waits of requests that left the queue (ms), newest last, for the dashboard. */
  private readonly recentWaits: number[] = [];

  constructor(
    readonly route: string,
    readonly settings: QueueSettings,
  ) {
    this.queue = new WaitQueue(settings.max);
  }

  /** Queues a request; undefined when the queue is full. */
  enter(priority: Priority): QueueEntry | undefined {
    if (this.queue.size + this.recovering >= this.settings.max) return undefined;
    const entry: QueueEntry = { priority };
    return this.queue.enter(entry, priority) ? entry : undefined;
  }

  /** Takes a request out (it got room, gave up or timed out); the next head is woken to take its turn. */
  leave(entry: QueueEntry): void {
    const wasHead = this.queue.head() === entry;
    if (this.queue.leave(entry) && wasHead) this.wakeHead();
  }

  isHead(entry: QueueEntry): boolean {
    return this.queue.head() === entry;
  }

  wakeHead(): void {
    this.queue.head()?.wake?.();
  }

  /** A request starts waiting for recovery; false when the queue is full. */
  enterRecovery(): boolean {
    if (this.queue.size + this.recovering >= this.settings.max) return false;
    this.recovering++;
    return true;
  }

  leaveRecovery(): void {
    this.recovering = Math.max(0, this.recovering - 1);
  }

  /** How many wait now, by priority, and for recovery. */
  depth(): QueueDepth {
    return { ...this.queue.depthBy(), recovery: this.recovering };
  }

  /** A request left the queue after `ms` (served, timed out or gone). */
  recordWait(ms: number): void {
    this.recentWaits.push(ms);
    if (this.recentWaits.length > recentWaitCount) this.recentWaits.shift();
  }

  /** The median and 95th percentile (nearest rank) of the last waits, and how many they are. */
  waits(): { count: number; p50Ms: number | null; p95Ms: number | null } {
    const sorted = [...this.recentWaits].sort((a, b) => a - b);
    const rank = (quantile: number): number | null => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)] as number));
    return { count: sorted.length, p50Ms: rank(0.5), p95Ms: rank(0.95) };
  }
}

/** Every route's queue, made on first use; a target whose room opens wakes the heads of its routes' queues. */
export class CapacityQueues {
  private readonly byRoute = new Map<string, CapacityQueue>();
  private readonly byTarget = new Map<string, Set<CapacityQueue>>();

  of(route: RouteSettings, targetIds: Iterable<string>): CapacityQueue {
    let queue = this.byRoute.get(route.name);
    if (!queue) {
      queue = new CapacityQueue(route.name, route.queue);
      this.byRoute.set(route.name, queue);
      for (const id of targetIds) {
        const queues = this.byTarget.get(id) ?? new Set<CapacityQueue>();
        queues.add(queue);
        this.byTarget.set(id, queues);
      }
    }
    return queue;
  }

  /** Room may have opened on `targetId`: each queue holding requests for it lets its head look. */
  wakeFor(targetId: string): void {
    for (const queue of this.byTarget.get(targetId) ?? []) queue.wakeHead();
  }

  all(): CapacityQueue[] {
    return [...this.byRoute.values()];
  }
}

/** How one look at the targets went, from the waiting request's side. */
export type CapacityLook<T> = { type: 'done'; value: T } | { type: 'at_limit'; freeAt: number };

export interface CapacityWait<T> {
  queue: CapacityQueue;
  waiters: RecoveryWaiters;
  clock: Clock;
  priority: Priority;
  /** The route's targets: a circuit change of one wakes the wait too. */
  targets: ReadonlySet<string>;
  signal: AbortSource;
  /** The wait ends here at the latest: the queue's timeout, or the request's deadline. */
  until: number;
  /** When room may open first. */
  freeAt: number;
  /**
   * Walks the route's targets once more. `leaveQueue` must be called as soon as a target's limit
   * admitted the request, so that the next request takes its turn while this one is served.
   */
  look(leaveQueue: () => void): Promise<CapacityLook<T>>;
}

export type CapacityWaitEnd<T> = { type: 'done'; value: T; waitedMs: number } | { type: 'full' } | { type: 'timeout'; waitedMs: number; freeAt: number };

/**
 * Waits in the route's queue until the request's turn comes and a target has room, then lets it
 * through (`look`). Sleeps through the recovery waiters (one waiting mechanism for the engine);
 * the head wakes when room may open (the next bucket of a window leaves it, a learned limit
 * resets, tokens are given back), any other entry when it becomes the head.
 */
export async function waitForCapacity<T>(input: CapacityWait<T>): Promise<CapacityWaitEnd<T>> {
  const { queue, clock } = input;
  let entry = queue.enter(input.priority);
  if (!entry) return { type: 'full' };
  const startedAt = clock.now();
  let freeAt = input.freeAt;
  let hasLeft = false;
  const leave = (): void => {
    if (hasLeft) return;
    hasLeft = true;
    if (entry) queue.leave(entry);
  };
  try {
    for (;;) {
      const now = clock.now();
      if (queue.isHead(entry) && now >= freeAt) {
        const look = await input.look(leave);
        if (look.type === 'done') return { type: 'done', value: look.value, waitedMs: clock.now() - startedAt };
        freeAt = Math.max(look.freeAt, clock.now() + 1);
        if (hasLeft) {
          // Admitted by one target, then refused by its answer (a 429) while the others were still full: back in line, at the back.
          entry = queue.enter(input.priority);
          if (!entry) return { type: 'full' };
          hasLeft = false;
        }
        continue;
      }
      if (now >= input.until) return { type: 'timeout', waitedMs: now - startedAt, freeAt };
      const wakeAt = queue.isHead(entry) ? Math.min(freeAt, input.until) : input.until;
      const waiting = entry;
      await input.waiters.wait(input.targets, Math.max(1, wakeAt - now), input.signal, (wake) => (waiting.wake = wake));
      waiting.wake = undefined;
    }
  } finally {
    leave();
    queue.recordWait(clock.now() - startedAt);
  }
}
