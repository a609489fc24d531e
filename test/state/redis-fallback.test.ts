import { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { defaultBreakerSettings, initialBreakerState, openBreaker, type BreakerState } from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';
import { defaultHealthSettings, recordHealthCheck } from '../../src/core/health.js';
import type { WindowSpec } from '../../src/core/sliding-window.js';
import { RedisStateStore } from '../../src/state/redis-store.js';
import type { StoreStatus } from '../../src/state/redis-status.js';
import type { StateChange } from '../../src/state/state-store.js';
import { describeWithRedis, freePort, RedisServer, waitUntil } from '../helpers/redis.js';

const x = 'openai/gpt-4o';
const y = 'anthropic/claude-sonnet-4';
const window: WindowSpec = { windowMs: 60_000, bucketCount: 6 };
const open = (state: BreakerState, now: number): BreakerState => openBreaker(state, { reason: 'failure_count' }, now, defaultBreakerSettings);

describeWithRedis('RedisStateStore when Redis fails', () => {
  let server: RedisServer;
  let clock: ManualClock;
  const stores: RedisStateStore[] = [];
  let prefixes = 0;
  let prefix: string;

  const makeStore = async (targets: readonly string[] = [x, y]): Promise<RedisStateStore> => {
    const store = new RedisStateStore({ clock, connection: { kind: 'standalone', url: server.url }, prefix, commandTimeoutMs: 100, recoveryIntervalMs: 50 });
    stores.push(store);
    await store.preload(targets);
    return store;
  };
  const statuses = (store: RedisStateStore): StoreStatus[] => {
    const heard: StoreStatus[] = [];
    store.onStatusChange((status) => heard.push(status));
    return heard;
  };
  const isShared = (store: RedisStateStore) => () => store.status().mode === 'redis';

  beforeEach(async () => {
    server = await RedisServer.start();
    clock = new ManualClock(1_000_000);
    prefix = `fallback${prefixes++}:`;
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await server.close();
  });

  it('decides locally once Redis is gone, says so once, and rejects nothing', async () => {
    const store = await makeStore();
    expect(store.status()).toMatchObject({ mode: 'redis', fallbacks: 0 });
    const heard = statuses(store);
    await server.kill();

    await expect(store.transitionBreaker(x, open)).resolves.toMatchObject({ isChanged: true, next: { status: 'open' } });
    expect(store.breakerView(x)).toMatchObject({ status: 'open', since: 1_000_000 });
    await expect(store.addToCounter('requests', 2, window)).resolves.toBe(2);
    await expect(store.readCounter('requests', window)).resolves.toBe(2);
    // Alone, an instance leads its own health checks.
    await expect(store.acquireLease('health:openai', 'i1', 10_000)).resolves.toBe(true);
    await expect(store.releaseLease('health:openai', 'i1')).resolves.toBeUndefined();
    await expect(store.transitionHealth(x, (state, now) => recordHealthCheck(state, { isHealthy: true }, now, defaultHealthSettings))).resolves.toMatchObject({ isChanged: true });

    expect(store.status()).toMatchObject({ mode: 'local-fallback', fallbacks: 1 });
    expect(store.status().reason).toEqual(expect.any(String));
    expect(heard.map((status) => status.mode)).toEqual(['local-fallback']);
  });

  it('reconciles when Redis returns empty: what each instance decided alone reaches every other', async () => {
    const one = await makeStore();
    const two = await makeStore();
    const heardByTwo: StateChange[] = [];
    two.onChange((change) => heardByTwo.push(change));
    await server.kill();

    await one.transitionBreaker(x, open);
    await one.transitionHealth(y, (state, now) => recordHealthCheck(state, { isHealthy: false, error: 'HTTP 503' }, now, defaultHealthSettings));
    clock.advance(1_000);
    await two.transitionBreaker(y, open);
    // The later check wins: y was found healthy by `two` after `one` found it failing.
    await two.transitionHealth(y, (state, now) => recordHealthCheck(state, { isHealthy: true }, now, defaultHealthSettings));
    expect(two.breakerView(x)).toEqual(initialBreakerState);

    await server.start();
    expect(await waitUntil(() => isShared(one)() && isShared(two)())).toBe(true);
    expect(await waitUntil(() => two.breakerView(x).status === 'open' && one.breakerView(y).status === 'open')).toBe(true);
    expect(two.breakerView(x)).toMatchObject({ status: 'open', since: 1_000_000 });
    expect(one.breakerView(y)).toMatchObject({ status: 'open', since: 1_001_000 });
    expect(await waitUntil(() => one.healthView(y).status === 'healthy')).toBe(true);
    expect(two.healthView(y).status).toBe('healthy');
    expect(heardByTwo).toContainEqual(expect.objectContaining({ kind: 'breaker', targetId: x, isLocal: false, next: expect.objectContaining({ status: 'open' }) }));

    // A newcomer finds in Redis what the instances wrote back.
    const three = await makeStore();
    expect(three.breakerView(x)).toMatchObject({ status: 'open', since: 1_000_000 });
    expect(three.breakerView(y)).toMatchObject({ status: 'open', since: 1_001_000 });
  });

  it('takes the newer state when another instance decided later than its own fallback', async () => {
    const one = await makeStore();
    await server.kill();
    await one.transitionBreaker(x, open);
    await server.start();
    // `two` joins the restarted Redis first and closes x later than `one` opened it.
    const two = await makeStore();
    clock.advance(5_000);
    await two.transitionBreaker(x, (_state, now) => ({ status: 'closed', since: now }));
    expect(await waitUntil(isShared(one))).toBe(true);
    expect(await waitUntil(() => one.breakerView(x).status === 'closed')).toBe(true);
    expect(two.breakerView(x)).toEqual({ status: 'closed', since: 1_005_000 });
  });

  it('keeps a decision made alone against an older one heard meanwhile, and yields to a later one', async () => {
    // `one` cannot send commands (its command connection points at a dead port) but hears the channel.
    const deadPort = await freePort();
    const subscriber = new Redis(server.url, { lazyConnect: true });
    const commands = new Redis({ host: '127.0.0.1', port: deadPort, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 1_000 });
    const one = new RedisStateStore({ clock, connection: { kind: 'standalone', url: server.url }, prefix, clients: { commands, subscriber } });
    stores.push(one);
    await one.preload([x]);
    expect(one.status().mode).toBe('local-fallback');
    await subscriber.subscribe(`${prefix}changes`);

    const twoClock = new ManualClock(1_000_000);
    const two = new RedisStateStore({ clock: twoClock, connection: { kind: 'standalone', url: server.url }, prefix });
    stores.push(two);
    await two.preload([x]);
    clock.advance(5_000);
    await one.transitionBreaker(x, open);
    const heard: StateChange[] = [];
    one.onChange((change) => heard.push(change));
    // `two` decides later by the version, earlier by its clock: `one`'s own decision stands.
    await two.transitionBreaker(x, (_state, now) => ({ status: 'closed', since: now }));
    twoClock.set(1_010_000);
    await two.transitionBreaker(x, open);
    expect(await waitUntil(() => heard.length > 0)).toBe(true);
    expect(heard).toEqual([expect.objectContaining({ isLocal: false, previous: expect.objectContaining({ since: 1_005_000 }), next: expect.objectContaining({ status: 'open', since: 1_010_000 }) })]);
    expect(one.breakerView(x)).toMatchObject({ status: 'open', since: 1_010_000 });
  });

  it('replays counts made alone into the shared counter', async () => {
    const one = await makeStore();
    const two = await makeStore();
    await server.kill();
    await one.addToCounter('spend:key-1', 2, window);
    clock.advance(10_000);
    await one.addToCounter('spend:key-1', 0.5, window);
    await server.start();
    expect(await waitUntil(() => isShared(one)() && isShared(two)())).toBe(true);
    // `two` may not have noticed the outage before Redis came back: a read during its own reconnect
    // falls back to its local count (0), so it is asked until its link is back, as a client would retry.
    let seen = await two.readCounter('spend:key-1', window);
    for (let tries = 0; seen !== 2.5 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await two.readCounter('spend:key-1', window);
    }
    expect(seen).toBe(2.5);
    await expect(one.addToCounter('spend:key-1', 1, window)).resolves.toBe(3.5);
  });

  it('gives up on a Redis that hangs after one command timeout, and comes back when it answers', async () => {
    const store = await makeStore();
    server.pause();
    const started = performance.now();
    await expect(store.transitionBreaker(x, open)).resolves.toMatchObject({ isChanged: true });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(store.status().mode).toBe('local-fallback');
    // Already local: the next call does not wait for another timeout.
    const next = performance.now();
    await store.addToCounter('requests', 1, window);
    expect(performance.now() - next).toBeLessThan(50);

    server.resume();
    expect(await waitUntil(isShared(store))).toBe(true);
    const peer = await makeStore();
    expect(peer.breakerView(x)).toMatchObject({ status: 'open' });
  });

  it('starts in local fallback when Redis is unreachable, and joins when it appears', async () => {
    await server.kill();
    const started = performance.now();
    const store = await makeStore();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(store.status()).toMatchObject({ mode: 'local-fallback', fallbacks: 1 });
    await expect(store.transitionBreaker(x, open)).resolves.toMatchObject({ isChanged: true });

    await server.start();
    expect(await waitUntil(isShared(store))).toBe(true);
    const peer = await makeStore();
    expect(peer.breakerView(x)).toMatchObject({ status: 'open' });
  });

  it('ignores what is not a state: noise on the channel, a foreign value in a key', async () => {
    const store = await makeStore();
    const raw = new Redis(server.url);
    try {
      await raw.publish(`${prefix}changes`, 'not a change');
      await raw.publish(`${prefix}changes`, `99999999999999\n${JSON.stringify({ o: 'other', k: 'breaker', t: x, s: '{"status":"exploded"}' })}`);
      await raw.hset(`${prefix}breaker:${y}`, 'v', '5', 's', 'garbage');
      // A later, valid message still gets through: the noise broke nothing.
      const peer = await makeStore();
      await peer.transitionBreaker(x, open);
      expect(await waitUntil(() => store.breakerView(x).status === 'open')).toBe(true);
      // The foreign value reads as a closed breaker, and the next transition replaces it.
      await expect(store.transitionBreaker(y, open)).resolves.toMatchObject({ previous: initialBreakerState, isChanged: true });
      expect(JSON.parse((await raw.hget(`${prefix}breaker:${y}`, 's')) ?? 'null')).toMatchObject({ status: 'open' });
    } finally {
      raw.disconnect();
    }
  });
});
