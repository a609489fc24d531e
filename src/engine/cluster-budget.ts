import type { Clock } from '../core/clock.js';
import type { RetryBudgetSettings } from '../core/retry-budget.js';
import { SlidingWindowCounter, type WindowSpec } from '../core/sliding-window.js';
import type { StateStore } from '../state/state-store.js';

/** What the attempt loop asks of a retry (or hedge) budget. */
export interface Budget {
  recordRequest(): void;
  tryAcquire(): boolean;
  available(): number;
}

/**
 * A retry budget shared by a cluster: requests and retries are counted locally at once (so a
 * decision never waits on the network) and pushed to the state store's shared counters every
 * `syncMs`, whose totals then stand for the whole cluster. Between syncs, the cluster's last
 * totals plus this instance's unsynced counts are used. If the store is unreachable the last
 * totals age out with the window and the budget falls back to this instance's own counts.
 */
export class ClusterBudget implements Budget {
  private readonly spec: WindowSpec;
  private readonly localRequests: SlidingWindowCounter;
  private readonly localRetries: SlidingWindowCounter;
  /** Counted here and not yet in the cluster's totals (including those of a sync under way). */
  private unsyncedRequests = 0;
  private unsyncedRetries = 0;
  private sendingRequests = 0;
  private sendingRetries = 0;
  private clusterRequests = 0;
  private clusterRetries = 0;
  private syncedAt = Number.NEGATIVE_INFINITY;
  private isSyncing = false;

  constructor(
    private readonly name: string,
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
    private readonly store: StateStore,
    private readonly syncMs = 1000,
  ) {
    this.spec = { windowMs: settings.windowMs, bucketCount: settings.bucketCount };
    this.localRequests = new SlidingWindowCounter(this.spec);
    this.localRetries = new SlidingWindowCounter(this.spec);
  }

  recordRequest(): void {
    this.localRequests.add(this.clock.now());
    this.unsyncedRequests++;
    this.maybeSync();
  }

  tryAcquire(): boolean {
    if (this.available() < 1) return false;
    this.localRetries.add(this.clock.now());
    this.unsyncedRetries++;
    this.maybeSync();
    return true;
  }

  available(): number {
    const now = this.clock.now();
    const isFresh = now - this.syncedAt < this.settings.windowMs;
    const requests = isFresh ? this.clusterRequests + this.sendingRequests + this.unsyncedRequests : this.localRequests.total(now);
    const retries = isFresh ? this.clusterRetries + this.sendingRetries + this.unsyncedRetries : this.localRetries.total(now);
    const allowed = Math.max(this.settings.minPerWindow, Math.floor(this.settings.ratio * requests));
    return Math.max(0, allowed - retries);
  }

  private maybeSync(): void {
    if (this.isSyncing || this.clock.now() - this.syncedAt < this.syncMs) return;
    this.isSyncing = true;
    const requests = (this.sendingRequests = this.unsyncedRequests);
    const retries = (this.sendingRetries = this.unsyncedRetries);
    this.unsyncedRequests = 0;
    this.unsyncedRetries = 0;
    Promise.all([this.store.addToCounter(`budget:${this.name}:requests`, requests, this.spec), this.store.addToCounter(`budget:${this.name}:retries`, retries, this.spec)])
      .then(([clusterRequests, clusterRetries]) => {
        this.clusterRequests = clusterRequests;
        this.clusterRetries = clusterRetries;
        this.syncedAt = this.clock.now();
      })
      .catch(() => {
        // The store is away: these counts stay local (the window still holds them), and the next sync tries again.
        this.syncedAt = Number.NEGATIVE_INFINITY;
      })
      .finally(() => {
        this.sendingRequests = 0;
        this.sendingRetries = 0;
        this.isSyncing = false;
      });
  }
}
