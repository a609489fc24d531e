import type { Clock } from '../core/clock.js';
import { encodeChangeBody, parseState, parseVersion, type ChangeMessage, type SharedKind, type SharedStates } from './redis-codec.js';
import type { RedisClient } from './redis-connection.js';
import type { RedisKeyspace } from './redis-keyspace.js';
import type { RedisLink } from './redis-link.js';
import { VersionedMirror, type MirrorEntry } from './redis-mirror.js';
import { mergeRules } from './redis-reconcile.js';
import { scripts } from './redis-scripts.js';
import type { StateTransition, TransitionResult } from './state-store.js';

export interface RedisStateTableOptions<K extends SharedKind> {
  kind: K;
  initial: SharedStates[K];
  client: RedisClient;
  keyspace: RedisKeyspace;
  link: RedisLink;
  clock: Clock;
  /** This store's id on the channel, to recognise its own echoes. */
  origin: string;
  /** The longest a write waits for its own echo on the channel before resolving anyway. */
  echoTimeoutMs: number;
  /** Tells the store's listeners of a change the view now shows. */
  notify(targetId: string, previous: SharedStates[K], next: SharedStates[K], isLocal: boolean): void;
}

/**
 * Compare-and-set attempts before a transition gives up. Writes of one target from this instance
 * are queued, so conflicts come only from other instances: each retry means another instance
 * wrote in between, and many in a row mean a storm that waiting cannot fix.
 */
const maxAttempts = 25;

type CompareAndSetOutcome<S> = { isWritten: true; version: number } | { isWritten: false; current: MirrorEntry<S> };

/**
 * One kind of shared per-target state (breakers, or health) over Redis: a versioned copy read
 * synchronously, transitions as optimistic compare-and-set scripts that publish what they wrote,
 * and the same transitions applied to the copy alone while Redis is away.
 *
 * A transition first runs on the copy's state and version, so that an up-to-date copy costs one
 * round trip; a stale one costs a second, with the state the script sent back. A transition
 * that changes nothing on the copy does not ask Redis at all: it was decided on a view that
 * may lag, as every view may.
 */
export class RedisStateTable<K extends SharedKind> {
  private readonly mirror: VersionedMirror<SharedStates[K]>;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly tracked = new Set<string>();
  private readonly echoWaiters = new Set<{ targetId: string; version: number; settle: () => void }>();
  /** The last version of each target this store heard its own echo of: an echo may arrive before the reply it follows. */
  private readonly echoed = new Map<string, number>();

  constructor(private readonly options: RedisStateTableOptions<K>) {
    this.mirror = new VersionedMirror(options.initial);
  }

  view(targetId: string): SharedStates[K] {
    return this.mirror.view(targetId);
  }

  /** Targets this table knows of: preloaded, changed, or heard of. */
  targetIds(): string[] {
    return [...this.tracked];
  }

  track(targetIds: readonly string[]): void {
    for (const targetId of targetIds) this.tracked.add(targetId);
  }

  transition(targetId: string, transition: StateTransition<SharedStates[K]>): Promise<TransitionResult<SharedStates[K]>> {
    this.tracked.add(targetId);
    return this.serialize(targetId, () => (this.options.link.isUsable ? this.transitionShared(targetId, transition, this.mirror.entry(targetId)) : this.transitionLocal(targetId, transition)));
  }

  /** A change heard on the channel: taken when it is newer than what the copy holds; the echo of this store's own write releases its waiter. */
  hear(message: ChangeMessage): void {
    if (message.kind !== this.options.kind) return;
    if (message.origin === this.options.origin) {
      this.echoed.set(message.targetId, Math.max(message.version, this.echoed.get(message.targetId) ?? 0));
      for (const waiter of this.echoWaiters) if (waiter.targetId === message.targetId && waiter.version <= message.version) waiter.settle();
      return;
    }
    const state = parseState(this.options.kind, message.json);
    if (state === undefined) return;
    this.tracked.add(message.targetId);
    this.learn(message.targetId, { state, json: message.json, version: message.version });
  }

  /**
   * Reads a target from Redis and settles it with the copy (`mergeRules`): the newer state wins,
   * in Redis and here. Queued behind the target's pending transitions, and ahead of later ones.
   */
  reconcile(targetId: string): Promise<void> {
    return this.serialize(targetId, async () => {
      const remote = await this.read(targetId);
      const local = this.mirror.entry(targetId);
      const rule = mergeRules[this.options.kind];
      if (rule(local.state, remote.state) !== local.state || local.json === remote.json) {
        this.adopt(targetId, remote);
        return;
      }
      // This instance's state is newer: write it back, unless a still newer one lands first.
      await this.transitionShared(targetId, (current) => (rule(local.state, current) === local.state ? local.state : current), remote, true);
    });
  }

  private async transitionShared(
    targetId: string,
    transition: StateTransition<SharedStates[K]>,
    start: MirrorEntry<SharedStates[K]>,
    isFailureFatal = false,
  ): Promise<TransitionResult<SharedStates[K]>> {
    let base = start;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const next = transition(base.state, this.options.clock.now());
      if (next === base.state) return { previous: base.state, next, isChanged: false };
      const json = JSON.stringify(next);
      let outcome: CompareAndSetOutcome<SharedStates[K]>;
      try {
        outcome = await this.compareAndSet(targetId, base.version, json);
      } catch (error) {
        this.options.link.fail(error);
        if (isFailureFatal) throw error;
        return this.transitionLocal(targetId, transition);
      }
      if (outcome.isWritten) {
        const shown = this.mirror.entry(targetId);
        // The reply and the channel race: a newer state heard while the reply was on its way stays.
        if (outcome.version > shown.version) {
          this.mirror.put(targetId, { state: next, json, version: outcome.version });
          // A reconciliation writing back what the view already shows is no change to hear of.
          if (shown.json !== json) this.options.notify(targetId, shown.state, next, true);
        }
        await this.echoOf(targetId, outcome.version);
        return { previous: base.state, next, isChanged: true };
      }
      base = outcome.current;
      this.learn(targetId, base);
    }
    throw new Error(`the ${this.options.kind} of ${targetId} changed under ${maxAttempts} writes in a row; giving up this transition`);
  }

  /** The transition on the copy alone, while Redis is away: the instance keeps protecting itself. */
  private async transitionLocal(targetId: string, transition: StateTransition<SharedStates[K]>): Promise<TransitionResult<SharedStates[K]>> {
    const current = this.mirror.entry(targetId);
    const next = transition(current.state, this.options.clock.now());
    if (next === current.state) return { previous: current.state, next, isChanged: false };
    // The version stays the last one read from Redis: reconciliation settles it by `mergeRules`.
    this.mirror.put(targetId, { state: next, json: JSON.stringify(next), version: current.version, isUnsynced: true });
    this.options.notify(targetId, current.state, next, true);
    return { previous: current.state, next, isChanged: true };
  }

  /** Releases every write still waiting for its echo (the store is closing). */
  dispose(): void {
    for (const waiter of this.echoWaiters) waiter.settle();
  }

  /**
   * Waits until this store's subscriber has heard its own write. One channel is delivered in
   * order, so by then this instance has also heard every change published before it, and Redis
   * sent the message to every other subscriber in the same pass: a caller that goes on to act
   * (or another instance in this process) finds the views caught up, instead of racing the
   * channel. `setImmediate` lets the other sockets that became readable with it be read first.
   * Bounded: a lost echo delays a resolved write by `echoTimeoutMs` at most.
   */
  private echoOf(targetId: string, version: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = {
        targetId,
        version,
        settle: () => {
          if (!this.echoWaiters.delete(waiter)) return;
          clearTimeout(timer);
          setImmediate(resolve);
        },
      };
      const timer = setTimeout(waiter.settle, this.options.echoTimeoutMs);
      timer.unref();
      this.echoWaiters.add(waiter);
      if ((this.echoed.get(targetId) ?? 0) >= version) waiter.settle();
    });
  }

  private async compareAndSet(targetId: string, version: number, json: string): Promise<CompareAndSetOutcome<SharedStates[K]>> {
    const { keyspace, kind, origin } = this.options;
    const reply = await scripts.compareAndSet.run(this.options.client, [keyspace.state(kind, targetId)], [String(version), json, keyspace.channel, encodeChangeBody(origin, kind, targetId, json)]);
    if (!Array.isArray(reply)) throw new Error(`unexpected compare-and-set reply: ${String(reply)}`);
    const [isWritten, versionText, currentJson] = reply as unknown[];
    const replyVersion = parseVersion(typeof versionText === 'number' ? String(versionText) : versionText);
    if (replyVersion === undefined) throw new Error(`unexpected compare-and-set version: ${String(versionText)}`);
    if (isWritten === 1) return { isWritten: true, version: replyVersion };
    return { isWritten: false, current: this.entryOf(replyVersion, currentJson) };
  }

  private async read(targetId: string): Promise<MirrorEntry<SharedStates[K]>> {
    const reply = await this.options.client.hmget(this.options.keyspace.state(this.options.kind, targetId), 'v', 's');
    const [versionText, json] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return this.entryOf(parseVersion(versionText) ?? 0, json);
  }

  /**
   * A state as Redis holds it. A missing key, or one that is not a state (another version's, a
   * hand edit), reads as the initial state at its version, so that the next write replaces it.
   */
  private entryOf(version: number, json: unknown): MirrorEntry<SharedStates[K]> {
    const state = typeof json === 'string' ? parseState(this.options.kind, json) : undefined;
    if (state === undefined || typeof json !== 'string') return { state: this.options.initial, json: JSON.stringify(this.options.initial), version };
    return { state, json, version };
  }

  private learn(targetId: string, entry: MirrorEntry<SharedStates[K]>): void {
    const current = this.mirror.entry(targetId);
    // A decision this instance made alone and has not written back yet gives way only to a later one.
    if (current.isUnsynced === true && mergeRules[this.options.kind](current.state, entry.state) === current.state) return;
    const change = this.mirror.offer(targetId, entry);
    if (change) this.options.notify(targetId, change.previous, entry.state, false);
  }

  /**
   * Takes the state read from Redis, also at the version the copy already has (the copy may hold
   * a local decision made at that version while Redis was away); a newer one heard while the read
   * was on its way stays.
   */
  private adopt(targetId: string, entry: MirrorEntry<SharedStates[K]>): void {
    const current = this.mirror.entry(targetId);
    if (entry.version < current.version) return;
    this.mirror.put(targetId, entry);
    if (current.json !== entry.json) this.options.notify(targetId, current.state, entry.state, false);
  }

  /** Runs `job` after every earlier job of the same target: one read-modify-write at a time per target from this instance. */
  private serialize<T>(targetId: string, job: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(targetId) ?? Promise.resolve();
    const result = previous.then(job, job);
    const tail = result.catch(() => undefined);
    this.queues.set(targetId, tail);
    void tail.then(() => {
      if (this.queues.get(targetId) === tail) this.queues.delete(targetId);
    });
    return result;
  }
}
