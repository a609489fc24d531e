import { randomBytes } from 'node:crypto';
import { initialBreakerState, type BreakerState } from '../core/breaker.js';
import type { Clock } from '../core/clock.js';
import { initialHealthState, type HealthState } from '../core/health.js';
import type { WindowSpec } from '../core/sliding-window.js';
import type { TargetStats } from '../core/target-stats.js';
import { MemoryStateSpace, MemoryStateStore } from './memory-store.js';
import { parseChangeMessage, type SharedKind, type SharedStates } from './redis-codec.js';
import { createRedisClients, type RedisClient, type RedisConnectionSettings } from './redis-connection.js';
import { RedisCounters } from './redis-counters.js';
import { RedisKeyspace } from './redis-keyspace.js';
import { RedisLink } from './redis-link.js';
import { scripts } from './redis-scripts.js';
import { RedisStateTable } from './redis-state-table.js';
import type { StatusReporting, StoreStatus } from './redis-status.js';
import type { StateChange, StateStore, StateTransition, TransitionResult } from './state-store.js';
import { ChangeListeners } from './change-listeners.js';

export interface RedisStateStoreOptions {
  clock: Clock;
  connection: RedisConnectionSettings;
  /** Prepended to every key and to the channel (default `detour:`), so that clusters can share a server. */
  prefix?: string | undefined;
  /** A command without an answer within this fails and the store decides locally (default 250 ms). */
  commandTimeoutMs?: number | undefined;
  /** A connection attempt gives up after this (default 2 000 ms). */
  connectTimeoutMs?: number | undefined;
  /** How often to try Redis again while it is away (default 1 000 ms). */
  recoveryIntervalMs?: number | undefined;
  /** Hears of every change of mode, e.g. to log an outage once and its end once. */
  onStatusChange?: ((status: StoreStatus) => void) | undefined;
  /** Replaces the ioredis connections (tests). */
  clients?: { commands: RedisClient; subscriber: RedisClient } | undefined;
}

/** Leases outlive their term in Redis by this factor before the server collects them; their expiry is judged by the store's clock. */
const leaseCollectionFactor = 2;

/**
 * The state store of a cluster: breakers, health, counters and leases shared through Redis, so
 * that every instance behind a load balancer sees the circuit another opened.
 *
 * - Views are synchronous reads of a local copy, refreshed by this instance's own writes and by
 *   every other instance's, announced on one pub/sub channel the moment they are written.
 * - Transitions are compare-and-set Lua scripts (`RedisStateTable`); leases and counters are
 *   single scripts: two instances can never both take a probe or a lease.
 * - Statistics stay local, as the contract wants.
 * - **Redis is not a single point of failure.** A command that fails or takes longer than
 *   `commandTimeoutMs` turns the store to local state at once (`status().mode` becomes
 *   `local-fallback`, listeners hear of it once): transitions, counters and leases are then
 *   applied here alone, so the instance keeps protecting itself and runs its own health checks,
 *   and no method rejects because Redis did. When Redis answers again the store re-subscribes,
 *   settles every known target with Redis (the later decision wins), replays its local counts,
 *   and goes back to `redis`.
 */
export class RedisStateStore implements StateStore, StatusReporting {
  private readonly clock: Clock;
  private readonly keyspace: RedisKeyspace;
  private readonly commands: RedisClient;
  private readonly link: RedisLink;
  private readonly breakers: RedisStateTable<'breaker'>;
  private readonly health: RedisStateTable<'health'>;
  private readonly counters: RedisCounters;
  /** Statistics, and counters and leases while Redis is away. */
  private readonly local: MemoryStateStore;
  private readonly localSpace = new MemoryStateSpace();
  private readonly listeners = new ChangeListeners();
  private isClosed = false;

  constructor(options: RedisStateStoreOptions) {
    this.clock = options.clock;
    this.keyspace = new RedisKeyspace(options.prefix ?? 'detour:');
    const commandTimeoutMs = options.commandTimeoutMs ?? 250;
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    const clients = options.clients ?? createRedisClients(options.connection, { commandTimeoutMs, connectTimeoutMs });
    this.commands = clients.commands;
    this.local = new MemoryStateStore({ clock: this.clock, space: this.localSpace });
    this.link = new RedisLink({
      commands: clients.commands,
      subscriber: clients.subscriber,
      channel: this.keyspace.channel,
      clock: this.clock,
      startTimeoutMs: connectTimeoutMs + commandTimeoutMs,
      recoveryIntervalMs: options.recoveryIntervalMs,
      reconcile: () => this.reconcile(),
    });
    if (options.onStatusChange) this.link.onStatusChange(options.onStatusChange);
    const origin = randomBytes(8).toString('hex');
    const table = <K extends SharedKind>(kind: K, initial: SharedStates[K]): RedisStateTable<K> =>
      new RedisStateTable({
        kind,
        initial,
        client: clients.commands,
        keyspace: this.keyspace,
        link: this.link,
        clock: this.clock,
        origin,
        echoTimeoutMs: commandTimeoutMs,
        notify: (targetId, previous, next, isLocal) => this.notify({ kind, targetId, previous, next, isLocal } as StateChange),
      });
    this.breakers = table('breaker', initialBreakerState);
    this.health = table('health', initialHealthState);
    this.counters = new RedisCounters({ client: clients.commands, keyspace: this.keyspace, link: this.link, clock: this.clock, local: this.local, space: this.localSpace });
    clients.subscriber.on('message', (channel, message) => {
      if (channel !== this.keyspace.channel || typeof message !== 'string') return;
      const change = parseChangeMessage(message);
      if (!change) return;
      this.breakers.hear(change);
      this.health.hear(change);
    });
  }

  breakerView(targetId: string): BreakerState {
    return this.breakers.view(targetId);
  }

  async transitionBreaker(targetId: string, transition: StateTransition<BreakerState>): Promise<TransitionResult<BreakerState>> {
    this.assertOpen();
    return this.breakers.transition(targetId, transition);
  }

  healthView(targetId: string): HealthState {
    return this.health.view(targetId);
  }

  async transitionHealth(targetId: string, transition: StateTransition<HealthState>): Promise<TransitionResult<HealthState>> {
    this.assertOpen();
    return this.health.transition(targetId, transition);
  }

  statsView(targetId: string): TargetStats {
    return this.local.statsView(targetId);
  }

  updateStats(targetId: string, update: (current: TargetStats) => TargetStats): void {
    this.local.updateStats(targetId, update);
  }

  async addToCounter(name: string, amount: number, window: WindowSpec, at?: number): Promise<number> {
    this.assertOpen();
    return this.counters.add(name, amount, window, at);
  }

  async readCounter(name: string, window: WindowSpec): Promise<number> {
    this.assertOpen();
    return this.counters.read(name, window);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    // A fleet that starts together must not all lead while connecting: a lease can wait for the first connection (a connect timeout at most).
    if (this.link.isConnecting) await this.link.started;
    if (!this.link.isUsable) return this.local.acquireLease(name, holder, ttlMs);
    const now = this.clock.now();
    try {
      const args = [holder, String(now), String(now + ttlMs), String(Math.max(1, Math.ceil(ttlMs * leaseCollectionFactor)))];
      return (await scripts.acquireLease.run(this.commands, [this.keyspace.lease(name)], args)) === 1;
    } catch (error) {
      // Alone, an instance leads its own health checks: probing twice beats probing never.
      this.link.fail(error);
      return this.local.acquireLease(name, holder, ttlMs);
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.assertOpen();
    await this.local.releaseLease(name, holder);
    if (!this.link.isUsable) return;
    try {
      await scripts.releaseLease.run(this.commands, [this.keyspace.lease(name)], [holder]);
    } catch (error) {
      // The lease then lapses at its expiry, as a crashed holder's would.
      this.link.fail(error);
    }
  }

  async putDocument(name: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    // Kept locally too: while Redis is away this instance still serves its own conversations.
    await this.local.putDocument(name, value, ttlMs);
    if (!this.link.isUsable) return;
    try {
      // The expiry is judged by the store's clock (read back in getDocument); Redis's own TTL only collects the garbage.
      const expiresAt = this.clock.now() + ttlMs;
      await this.commands.set(this.keyspace.document(name), `${expiresAt}\n${value}`, 'PX', Math.max(1, Math.ceil(ttlMs * leaseCollectionFactor)));
    } catch (error) {
      this.link.fail(error);
    }
  }

  async getDocument(name: string): Promise<string | undefined> {
    this.assertOpen();
    if (this.link.isUsable) {
      try {
        const stored = await this.commands.get(this.keyspace.document(name));
        // Redis is the truth while it answers: what another instance deleted is gone here too.
        if (typeof stored !== 'string') return undefined;
        const newline = stored.indexOf('\n');
        return Number(stored.slice(0, newline)) > this.clock.now() ? stored.slice(newline + 1) : undefined;
      } catch (error) {
        this.link.fail(error);
      }
    }
    return this.local.getDocument(name);
  }

  async deleteDocument(name: string): Promise<boolean> {
    this.assertOpen();
    const wasLocal = await this.local.deleteDocument(name);
    if (!this.link.isUsable) return wasLocal;
    try {
      // While Redis answers it alone says whether there was one: a local copy may outlive another instance's delete.
      return (await this.commands.del(this.keyspace.document(name))) === 1;
    } catch (error) {
      this.link.fail(error);
      return wasLocal;
    }
  }

  onChange(listener: (change: StateChange) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Waits for the first connection (or its failure: the store then starts in local fallback) and reads these targets' state. Never rejects. */
  async preload(targetIds: readonly string[]): Promise<void> {
    this.assertOpen();
    this.breakers.track(targetIds);
    this.health.track(targetIds);
    await this.link.started;
    if (!this.link.isUsable) return;
    try {
      await Promise.all(targetIds.flatMap((targetId) => [this.breakers.reconcile(targetId), this.health.reconcile(targetId)]));
    } catch (error) {
      this.link.fail(error);
    }
  }

  status(): StoreStatus {
    return this.link.current();
  }

  onStatusChange(listener: (status: StoreStatus) => void): () => void {
    return this.link.onStatusChange(listener);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.listeners.clear();
    this.breakers.dispose();
    this.health.dispose();
    await this.link.close();
    await this.local.close();
  }

  /** Settles every known target with Redis and replays local counts; local leases end, Redis's rule again. */
  private async reconcile(): Promise<void> {
    const jobs = [...this.breakers.targetIds().map((targetId) => this.breakers.reconcile(targetId)), ...this.health.targetIds().map((targetId) => this.health.reconcile(targetId))];
    await Promise.all(jobs);
    await this.counters.replay();
    this.localSpace.leases.clear();
  }

  private notify(change: StateChange): void {
    this.listeners.notify(change);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error('the state store is closed');
  }
}
