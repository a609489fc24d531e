import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireProbe, defaultBreakerSettings, initialBreakerState, isProbeHolder, openBreaker, settleProbe, type BreakerState } from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';
import { defaultHealthSettings, initialHealthState, recordHealthCheck } from '../../src/core/health.js';
import type { WindowSpec } from '../../src/core/sliding-window.js';
import { attemptStarted, emptyTargetStats } from '../../src/core/target-stats.js';
import type { StateChange, StateStore } from '../../src/state/state-store.js';

/**
 * Two stores that share their state, as two gateway instances share one Redis: what is written
 * through one must be visible through the other. `dispose` stops them and frees what they used.
 */
export interface StoreCluster {
  stores: readonly [StateStore, StateStore];
  dispose(): Promise<void>;
}

/** Builds a fresh, empty cluster whose stores judge time by `clock`. */
export type MakeStoreCluster = (clock: ManualClock) => Promise<StoreCluster>;

const settings = defaultBreakerSettings;
const target = 'openai/gpt-4o#0';
const other = 'anthropic/claude-sonnet-4';
const counterWindow: WindowSpec = { windowMs: 10_000, bucketCount: 10 };

const open = (state: BreakerState, now: number): BreakerState => openBreaker(state, { reason: 'failure_count' }, now, settings);

/**
 * Resolves with the next change `store` hears of about `targetId` that `isIt` accepts (a
 * notification of an earlier change may still be on its way); awaiting a promise, never a sleep.
 */
function nextChange(store: StateStore, targetId: string, isIt: (change: StateChange) => boolean = () => true): Promise<StateChange> {
  return new Promise((resolve) => {
    const stop = store.onChange((change) => {
      if (change.targetId !== targetId || !isIt(change)) return;
      stop();
      resolve(change);
    });
  });
}

/**
 * The behaviour every `StateStore` promises, run against one implementation. A Redis store
 * reuses it unchanged: `describeStateStoreContract('redis', makeRedisCluster)`.
 */
export function describeStateStoreContract(name: string, makeCluster: MakeStoreCluster): void {
  describe(`StateStore contract: ${name}`, () => {
    let clock: ManualClock;
    let cluster: StoreCluster;
    let store: StateStore;
    let peer: StateStore;

    beforeEach(async () => {
      clock = new ManualClock(1_000_000);
      cluster = await makeCluster(clock);
      [store, peer] = cluster.stores;
    });

    afterEach(async () => {
      await cluster.dispose();
    });

    describe('breakers', () => {
      it('shows a target never seen as closed', () => {
        expect(store.breakerView('never/seen')).toEqual(initialBreakerState);
      });

      it('applies a transition with the store clock’s time and reports it', async () => {
        const result = await store.transitionBreaker(target, (state, now) => open(state, now));
        const opened = { status: 'open', since: 1_000_000, until: 1_030_000, cooldownMs: 30_000, reason: 'failure_count' };
        expect(result).toEqual({ previous: initialBreakerState, next: opened, isChanged: true });
        expect(store.breakerView(target)).toEqual(opened);
        expect(store.breakerView(other)).toEqual(initialBreakerState);
      });

      it('writes and announces nothing when the transition returns the current state', async () => {
        const heard: StateChange[] = [];
        store.onChange((change) => heard.push(change));
        const result = await store.transitionBreaker(target, (state) => state);
        expect(result.isChanged).toBe(false);
        expect(heard).toEqual([]);
      });

      it('keeps states as plain JSON', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        clock.advance(30_000);
        await store.transitionBreaker(target, (state, now) => acquireProbe(state, 'i1/r1', now, settings));
        const view = store.breakerView(target);
        expect(JSON.parse(JSON.stringify(view))).toStrictEqual(view);
      });

      it('rejects when the transition throws, and keeps the state it had', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        const before = store.breakerView(target);
        await expect(
          store.transitionBreaker(target, () => {
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(store.breakerView(target)).toEqual(before);
      });

      it('serializes concurrent transitions of one target: none is lost', async () => {
        // Each transition extends the cooldown by one second from what it reads.
        const extend = (state: BreakerState): BreakerState => (state.status === 'open' ? { ...state, until: state.until + 1_000 } : state);
        await store.transitionBreaker(target, (state, now) => open(state, now));
        const results = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? store : peer).transitionBreaker(target, extend)));
        // Each read what the one before it wrote: the last of them carries all ten seconds.
        expect(Math.max(...results.map((result) => (result.next.status === 'open' ? result.next.until : 0)))).toBe(1_040_000);
        // The peer's last transitions reach this instance's view by notification, a moment later on a shared store.
        for (let tries = 0; tries < 100 && (store.breakerView(target) as { until?: number }).until !== 1_040_000; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(store.breakerView(target)).toMatchObject({ until: 1_040_000 });
      });

      it('lets exactly one of two instances take the half-open probe', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        clock.advance(30_000);
        const [mine, theirs] = await Promise.all([
          store.transitionBreaker(target, (state, now) => acquireProbe(state, 'i1/r1', now, settings)),
          peer.transitionBreaker(target, (state, now) => acquireProbe(state, 'i2/r7', now, settings)),
        ]);
        const winners = [mine.isChanged && isProbeHolder(mine.next, 'i1/r1'), theirs.isChanged && isProbeHolder(theirs.next, 'i2/r7')];
        expect(winners.filter(Boolean)).toHaveLength(1);
      });

      it('lets exactly one of many concurrent contenders take the probe', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        clock.advance(30_000);
        const holders = Array.from({ length: 8 }, (_, index) => `i${index % 2}/r${index}`);
        const results = await Promise.all(
          holders.map((holder, index) => (index % 2 === 0 ? store : peer).transitionBreaker(target, (state, now) => acquireProbe(state, holder, now, settings))),
        );
        const winners = holders.filter((holder, index) => results[index]?.isChanged === true && isProbeHolder(results[index].next, holder));
        expect(winners).toHaveLength(1);
      });

      it('tells its own listeners of its changes, as local', async () => {
        const heard = nextChange(store, target);
        await store.transitionBreaker(target, (state, now) => open(state, now));
        expect(await heard).toMatchObject({ kind: 'breaker', targetId: target, previous: initialBreakerState, next: { status: 'open' }, isLocal: true });
      });

      it('tells another instance, which then sees the change in its local view', async () => {
        const heard = nextChange(peer, target);
        await store.transitionBreaker(target, (state, now) => open(state, now));
        const change = await heard;
        expect(change).toMatchObject({ kind: 'breaker', next: { status: 'open' }, isLocal: false });
        expect(peer.breakerView(target)).toMatchObject({ status: 'open', until: 1_030_000 });
      });

      it('follows a whole life across instances: opened here, probed and closed there', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        clock.advance(30_000);
        await peer.transitionBreaker(target, (state, now) => acquireProbe(state, 'i2/r1', now, settings));
        // The peer's half-open may reach this instance after the close was asked for: the close is the change awaited.
        const closed = nextChange(store, target, (change) => change.kind === 'breaker' && (change.next as BreakerState).status === 'closed');
        await peer.transitionBreaker(target, (state, now) => settleProbe(state, 'i2/r1', 'success', now, settings));
        expect(await closed).toMatchObject({ next: { status: 'closed', since: 1_030_000 }, isLocal: false });
        expect(store.breakerView(target)).toEqual({ status: 'closed', since: 1_030_000 });
      });

      it('stops telling a listener that unsubscribed', async () => {
        const heard: StateChange[] = [];
        const stop = store.onChange((change) => heard.push(change));
        stop();
        await store.transitionBreaker(target, (state, now) => open(state, now));
        expect(heard).toEqual([]);
      });

      it('isolates a listener that throws', async () => {
        store.onChange(() => {
          throw new Error('broken listener');
        });
        const heard = nextChange(store, target);
        await expect(store.transitionBreaker(target, (state, now) => open(state, now))).resolves.toMatchObject({ isChanged: true });
        await expect(heard).resolves.toMatchObject({ kind: 'breaker' });
      });

      it('preloads without changing anything', async () => {
        await store.transitionBreaker(target, (state, now) => open(state, now));
        await peer.preload([target, other]);
        expect(peer.breakerView(target)).toMatchObject({ status: 'open' });
        expect(peer.breakerView(other)).toEqual(initialBreakerState);
      });
    });

    describe('health', () => {
      it('shows a target never checked as unknown', () => {
        expect(store.healthView(target)).toEqual(initialHealthState);
      });

      it('applies transitions atomically, keeps JSON, and tells both instances', async () => {
        const fail = { isHealthy: false, error: 'HTTP 503' };
        await store.transitionHealth(target, (state, now) => recordHealthCheck(state, fail, now, defaultHealthSettings));
        const heard = nextChange(peer, target);
        // The other instance hears of it by its own notification, which may come a moment after the writer's.
        const heardByOther = nextChange(store, target);
        const result = await peer.transitionHealth(target, (state, now) => recordHealthCheck(state, fail, now, defaultHealthSettings));
        expect(result).toMatchObject({ previous: { status: 'unknown', consecutiveFailures: 1 }, next: { status: 'unhealthy', consecutiveFailures: 2 }, isChanged: true });
        expect(await heard).toMatchObject({ kind: 'health', isLocal: true });
        expect(await heardByOther).toMatchObject({ kind: 'health', isLocal: false });
        expect(store.healthView(target)).toMatchObject({ status: 'unhealthy', lastError: 'HTTP 503' });
        const view = store.healthView(target);
        expect(JSON.parse(JSON.stringify(view))).toStrictEqual(view);
      });
    });

    describe('statistics', () => {
      it('updates synchronously and reads back at once', () => {
        expect(store.statsView(target)).toEqual(emptyTargetStats);
        store.updateStats(target, attemptStarted);
        store.updateStats(target, attemptStarted);
        expect(store.statsView(target).inFlight).toBe(2);
        expect(store.statsView(other)).toEqual(emptyTargetStats);
        const view = store.statsView(target);
        expect(JSON.parse(JSON.stringify(view))).toStrictEqual(view);
      });
    });

    describe('counters', () => {
      it('counts 0 for a counter never added to', async () => {
        expect(await store.readCounter('retries:chat', counterWindow)).toBe(0);
      });

      it('adds, shares between instances, and forgets what leaves the window', async () => {
        expect(await store.addToCounter('retries:chat', 3, counterWindow)).toBe(3);
        clock.advance(5_000);
        expect(await peer.addToCounter('retries:chat', 2, counterWindow)).toBe(5);
        expect(await store.readCounter('retries:chat', counterWindow)).toBe(5);
        clock.advance(6_000);
        expect(await store.readCounter('retries:chat', counterWindow)).toBe(2);
        clock.advance(10_000);
        expect(await peer.readCounter('retries:chat', counterWindow)).toBe(0);
        expect(await store.readCounter('retries:other', counterWindow)).toBe(0);
      });

      it('loses no concurrent addition', async () => {
        await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? store : peer).addToCounter('requests:chat', 1, counterWindow)));
        expect(await store.readCounter('requests:chat', counterWindow)).toBe(20);
      });
    });

    describe('leases', () => {
      it('grants a free lease, refuses it to another holder, renews it for its holder', async () => {
        expect(await store.acquireLease('health:openai', 'i1', 10_000)).toBe(true);
        expect(await peer.acquireLease('health:openai', 'i2', 10_000)).toBe(false);
        clock.advance(8_000);
        expect(await store.acquireLease('health:openai', 'i1', 10_000)).toBe(true);
        clock.advance(8_000);
        // Renewed at 8 s for 10 s: still held at 16 s.
        expect(await peer.acquireLease('health:openai', 'i2', 10_000)).toBe(false);
        expect(await peer.acquireLease('health:anthropic', 'i2', 10_000)).toBe(true);
      });

      it('lets another holder take an expired lease', async () => {
        expect(await store.acquireLease('health:openai', 'i1', 10_000)).toBe(true);
        clock.advance(10_000);
        expect(await peer.acquireLease('health:openai', 'i2', 10_000)).toBe(true);
        expect(await store.acquireLease('health:openai', 'i1', 10_000)).toBe(false);
      });

      it('releases for its holder only', async () => {
        await store.acquireLease('health:openai', 'i1', 10_000);
        await peer.releaseLease('health:openai', 'i2');
        expect(await peer.acquireLease('health:openai', 'i2', 10_000)).toBe(false);
        await store.releaseLease('health:openai', 'i1');
        expect(await peer.acquireLease('health:openai', 'i2', 10_000)).toBe(true);
      });

      it('grants a contested lease to exactly one holder', async () => {
        const results = await Promise.all(Array.from({ length: 6 }, (_, index) => (index % 2 === 0 ? store : peer).acquireLease('health:gemini', `i${index}`, 10_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('documents', () => {
      it('keeps a document for its TTL, shared with the other instance, then forgets it', async () => {
        expect(await store.getDocument('response:a')).toBeUndefined();
        await store.putDocument('response:a', '{"turn":1}', 10_000);
        expect(await peer.getDocument('response:a')).toBe('{"turn":1}');
        await peer.putDocument('response:a', '{"turn":2}', 10_000);
        expect(await store.getDocument('response:a')).toBe('{"turn":2}');
        clock.advance(10_000);
        expect(await store.getDocument('response:a')).toBeUndefined();
        expect(await peer.getDocument('response:a')).toBeUndefined();
      });

      it('deletes a document for every instance, and says whether there was one', async () => {
        await store.putDocument('response:b', 'text with\nnewlines', 10_000);
        expect(await peer.getDocument('response:b')).toBe('text with\nnewlines');
        expect(await peer.deleteDocument('response:b')).toBe(true);
        expect(await store.getDocument('response:b')).toBeUndefined();
        expect(await store.deleteDocument('response:b')).toBe(false);
      });
    });
  });
}
