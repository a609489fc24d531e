import { initialBreakerState, type BreakerState } from '../core/breaker.js';
import type { Clock } from '../core/clock.js';
import { initialHealthState, type HealthState } from '../core/health.js';
import { addToWindow, addToWindowAt, pruneWindow, windowTotal, type WindowSpec, type WindowState } from '../core/sliding-window.js';
import { emptyTargetStats, type TargetStats } from '../core/target-stats.js';
import type { StateChange, StateStore, StateTransition, TransitionResult } from './state-store.js';
import { ChangeListeners } from './change-listeners.js';

type SharedChange = DistributiveOmit<StateChange, 'isLocal'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Lease {
  holder: string;
  /** Epoch ms, judged by the acting store's clock. */
  expiresAt: number;
}

/**
 * The state several memory stores share: what one Redis server is to a cluster. One space per
 * process is the normal case; tests give two stores one space to play two instances.
 */
export class MemoryStateSpace {
  readonly breakers = new Map<string, BreakerState>();
  readonly health = new Map<string, HealthState>();
  readonly counters = new Map<string, WindowState>();
  readonly leases = new Map<string, Lease>();
  /** Documents in insertion order, so that the oldest goes first when the space is full. */
  readonly documents = new Map<string, { value: string; expiresAt: number }>();
  /** Characters held by `documents`, to bound them. */
  documentChars = 0;
  private readonly members = new Set<(change: SharedChange, origin: object) => void>();

  join(member: (change: SharedChange, origin: object) => void): () => void {
    this.members.add(member);
    return () => this.members.delete(member);
  }

  publish(change: SharedChange, origin: object): void {
    for (const member of [...this.members]) member(change, origin);
  }
}

/** At most this many documents, and this many bytes of them, are kept in memory. */
const maxDocuments = 10_000;
const maxDocumentChars = 128 * 1024 * 1024;

export interface MemoryStateStoreOptions {
  clock: Clock;
  /** Share state with other stores (defaults to a space of its own). */
  space?: MemoryStateSpace | undefined;
}

/**
 * The state store of a single machine: everything in this process's memory, transitions applied
 * synchronously (and so atomically, JavaScript being single-threaded), nothing to configure.
 * Statistics stay with each store, as they would with a shared store.
 */
export class MemoryStateStore implements StateStore {
  private readonly clock: Clock;
  private readonly space: MemoryStateSpace;
  private readonly stats = new Map<string, TargetStats>();
  private readonly listeners = new ChangeListeners();
  private readonly leave: () => void;
  private isClosed = false;

  constructor(options: MemoryStateStoreOptions) {
    this.clock = options.clock;
    this.space = options.space ?? new MemoryStateSpace();
    this.leave = this.space.join((change, origin) => this.notify({ ...change, isLocal: origin === this }));
  }

  breakerView(targetId: string): BreakerState {
    return this.space.breakers.get(targetId) ?? initialBreakerState;
  }

  async transitionBreaker(targetId: string, transition: StateTransition<BreakerState>): Promise<TransitionResult<BreakerState>> {
    this.assertOpen();
    const previous = this.breakerView(targetId);
    const next = transition(previous, this.clock.now());
    if (next === previous) return { previous, next, isChanged: false };
    this.space.breakers.set(targetId, next);
    this.space.publish({ kind: 'breaker', targetId, previous, next }, this);
    return { previous, next, isChanged: true };
  }

  healthView(targetId: string): HealthState {
    return this.space.health.get(targetId) ?? initialHealthState;
  }

  async transitionHealth(targetId: string, transition: StateTransition<HealthState>): Promise<TransitionResult<HealthState>> {
    this.assertOpen();
    const previous = this.healthView(targetId);
    const next = transition(previous, this.clock.now());
    if (next === previous) return { previous, next, isChanged: false };
    this.space.health.set(targetId, next);
    this.space.publish({ kind: 'health', targetId, previous, next }, this);
    return { previous, next, isChanged: true };
  }

  statsView(targetId: string): TargetStats {
    return this.stats.get(targetId) ?? emptyTargetStats;
  }

  updateStats(targetId: string, update: (current: TargetStats) => TargetStats): void {
    const previous = this.statsView(targetId);
    const next = update(previous);
    if (next !== previous) this.stats.set(targetId, next);
  }

  async addToCounter(name: string, amount: number, window: WindowSpec, at?: number): Promise<number> {
    this.assertOpen();
    const now = this.clock.now();
    const current = this.space.counters.get(name) ?? [];
    const next = at === undefined ? addToWindow(current, window, now, amount) : addToWindowAt(current, window, now, at, amount);
    this.space.counters.set(name, next);
    return windowTotal(next, window, now);
  }

  async readCounter(name: string, window: WindowSpec): Promise<number> {
    this.assertOpen();
    const state = this.space.counters.get(name);
    if (!state) return 0;
    const now = this.clock.now();
    const live = pruneWindow(state, window, now);
    // Forget counters nobody has touched for a window, so that per-key names do not pile up.
    if (live.length === 0) this.space.counters.delete(name);
    else if (live !== state) this.space.counters.set(name, live);
    return windowTotal(live, window, now);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    const now = this.clock.now();
    const lease = this.space.leases.get(name);
    if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
    this.space.leases.set(name, { holder, expiresAt: now + ttlMs });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.assertOpen();
    if (this.space.leases.get(name)?.holder === holder) this.space.leases.delete(name);
  }

  async putDocument(name: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    const documents = this.space.documents;
    this.dropDocument(name);
    documents.set(name, { value, expiresAt: this.clock.now() + ttlMs });
    this.space.documentChars += value.length;
    // Bounded: past the limit the oldest documents go, expired or not, so that memory stays flat.
    while (documents.size > maxDocuments || this.space.documentChars > maxDocumentChars) {
      const oldest = documents.keys().next();
      if (oldest.done) break;
      this.dropDocument(oldest.value);
    }
  }

  async getDocument(name: string): Promise<string | undefined> {
    this.assertOpen();
    const document = this.space.documents.get(name);
    if (!document) return undefined;
    if (document.expiresAt <= this.clock.now()) {
      this.dropDocument(name);
      return undefined;
    }
    return document.value;
  }

  async deleteDocument(name: string): Promise<boolean> {
    this.assertOpen();
    const document = this.space.documents.get(name);
    if (!document) return false;
    this.dropDocument(name);
    return document.expiresAt > this.clock.now();
  }

  onChange(listener: (change: StateChange) => void): () => void {
    return this.listeners.add(listener);
  }

  async preload(_targetIds: readonly string[]): Promise<void> {
    // Everything is already here.
  }

  async close(): Promise<void> {
    this.isClosed = true;
    this.leave();
    this.listeners.clear();
  }

  private notify(change: StateChange): void {
    this.listeners.notify(change);
  }

  private dropDocument(name: string): void {
    const document = this.space.documents.get(name);
    if (!document) return;
    this.space.documents.delete(name);
    this.space.documentChars -= document.value.length;
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('the state store is closed');
  }
}
