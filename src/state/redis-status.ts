import type { StateStore } from './state-store.js';

/**
 * Where a store's shared state lives right now, for `/metrics`, `/admin/api/targets` and the logs:
 * - `memory`: this process only (the single-machine default);
 * - `connecting`: a Redis store before its first connection, deciding locally meanwhile;
 * - `redis`: shared with the cluster through Redis;
 * - `local-fallback`: Redis is unreachable or too slow; this instance decides alone (its circuits,
 *   health checks, counters and leases are its own) and reconciles when Redis answers again.
 */
export type StoreMode = 'memory' | 'connecting' | 'redis' | 'local-fallback';

export interface StoreStatus {
  mode: StoreMode;
  /** When `mode` began (epoch ms, the store's clock). */
  since: number;
  /** Why the store is not in `redis` mode (the last connection or command error), or null. */
  reason: string | null;
  /** How often this store has fallen back to local state since it started. */
  fallbacks: number;
}

/** A store that can say where its state lives; the Redis store is one. */
export interface StatusReporting {
  status(): StoreStatus;
  /** Calls `listener` on every change of mode (not on every failed command): log from here, once per outage. */
  onStatusChange(listener: (status: StoreStatus) => void): () => void;
}

const memoryStatus: StoreStatus = Object.freeze({ mode: 'memory', since: 0, reason: null, fallbacks: 0 });

/** Any store's status: its own report when it has one, `memory` otherwise. */
export function storeStatusOf(store: StateStore): StoreStatus {
  return isStatusReporting(store) ? store.status() : memoryStatus;
}

export function isStatusReporting(store: StateStore): store is StateStore & StatusReporting {
  const candidate = store as Partial<StatusReporting>;
  return typeof candidate.status === 'function' && typeof candidate.onStatusChange === 'function';
}
