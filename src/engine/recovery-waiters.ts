import { waitOn, type Timers } from '../core/clock.js';
import type { StateStore } from '../state/state-store.js';
import { abortSignalOf, type AbortSource } from '../core/abort-source.js';

interface Waiter {
  targets: ReadonlySet<string>;
  wake(): void;
}

/**
 * The requests waiting for a down route to recover, or for room under its targets' rate limits
 * (`engine/capacity-queue.ts` orders those and wakes them through `wait`'s handle). A circuit that moves anywhere in the cluster
 * (its probe was taken, failed, or succeeded, here or on another instance) wakes every request
 * waiting on that target at once, so the first success releases them all without polling.
 */
export class RecoveryWaiters {
  private readonly waiters = new Set<Waiter>();
  private readonly unsubscribe: () => void;

  constructor(
    store: StateStore,
    private readonly timers: Timers,
  ) {
    this.unsubscribe = store.onChange((change) => {
      // Any move of a watched circuit matters: a close releases the waiters, a probe's end or a passed health check makes the next one due.
      if (change.kind !== 'breaker' || this.waiters.size === 0) return;
      for (const waiter of [...this.waiters]) if (waiter.targets.has(change.targetId)) waiter.wake();
    });
  }

  /** How many requests wait now (for metrics and the dashboard). */
  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves after `ms`, or as soon as the circuit of one of `targets` changes; rejects with the
   * signal's reason when the client leaves. `onWaiting` receives a function that ends this wait
   * early: the capacity queue wakes its next request with it (room opened, or its turn came).
   */
  async wait(targets: ReadonlySet<string>, ms: number, signal: AbortSource, onWaiting?: (wake: () => void) => void): Promise<void> {
    const woken = new AbortController();
    const waiter: Waiter = { targets, wake: () => woken.abort() };
    this.waiters.add(waiter);
    onWaiting?.(waiter.wake);
    try {
      await waitOn(this.timers, ms, AbortSignal.any([abortSignalOf(signal), woken.signal]));
    } catch (error) {
      if (signal.aborted) throw error;
    } finally {
      this.waiters.delete(waiter);
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.waiters.clear();
  }
}
