import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { defaultBreakerSettings, openBreaker } from '../../src/core/breaker.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { Cleanup, openAiClient, startSim } from '../helpers/gateway.js';
import { describeWithRedis, RedisServer, waitUntil } from '../helpers/redis.js';
import { ask, circuitOf, percentile, startInstance } from './cluster.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describeWithRedis('a cluster shares its circuits through Redis', () => {
  let redis: RedisServer;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.close());

  async function twoInstances() {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const options = { redisUrl: redis.url, prefix: `circuits${prefixes++}:`, primary, backup };
    const a = cleanup.add(await startInstance(options));
    const b = cleanup.add(await startInstance(options));
    return { primary, backup, a, b, options };
  }

  it('B skips a primary it never called as soon as A opens its circuit', async () => {
    const { primary, backup, a, b } = await twoInstances();
    let openedAt = 0;
    let heardAt = 0;
    // Opened: A's own view shows it (its write is in Redis). B hears through the channel; both
    // replies leave Redis in the same pass, so B may even hear first (a negative figure).
    a.engine.resilience.store.onChange((change) => {
      if (change.kind === 'breaker' && change.next.status === 'open' && change.isLocal) openedAt = performance.now();
    });
    b.engine.resilience.store.onChange((change) => {
      if (change.kind === 'breaker' && change.next.status === 'open' && !change.isLocal) heardAt = performance.now();
    });

    primary.setPlan({ faults: [{ status: 503 }] });
    const clientA = await openAiClient(a.url);
    for (let i = 0; i < 2; i++) await clientA.chat.completions.create(ask);
    // A's write to Redis is not awaited by the request that tripped it: one round trip later, A skips the primary.
    expect(await waitUntil(() => circuitOf(a, 'primary/m') === 'open', 1_000)).toBe(true);
    expect(await waitUntil(() => circuitOf(b, 'primary/m') === 'open', 1_000)).toBe(true);
    const propagationMs = heardAt - openedAt;
    console.info(`circuit propagation A → B through Redis: B heard ${propagationMs.toFixed(2)} ms after A's view opened`);
    expect(openedAt).toBeGreaterThan(0);
    // B heard it through the change channel (printed above, not bounded: a timed assertion fails on a loaded machine, not on a slow Redis path).
    expect(heardAt).toBeGreaterThan(0);

    const clientB = await openAiClient(b.url);
    for (let i = 0; i < 5; i++) {
      const { data, response } = await clientB.chat.completions.create(ask).withResponse();
      expect(data.choices[0]?.message.content).toBe('from backup');
      expect(response.headers.get('x-detour-attempts')).toBe('1');
    }
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(5 + 2);
  });

  it('brings traffic back everywhere once one instance’s probe sees the primary recover, and only one probe goes', async () => {
    const { primary, a, b, options } = await twoInstances();
    const c = cleanup.add(await startInstance(options));
    const instances: RunningGateway[] = [a, b, c];
    primary.setPlan({ faults: [{ status: 503 }] });
    const clientA = await openAiClient(a.url);
    for (let i = 0; i < 2; i++) await clientA.chat.completions.create(ask);
    expect(await waitUntil(() => instances.every((instance) => circuitOf(instance, 'primary/m') === 'open'), 1_000)).toBe(true);

    // The primary recovers but answers slowly, so every instance's requests arrive while the probe is out.
    primary.setPlan({ faults: [{ latency_ms: 300 }] });
    await new Promise((resolve) => setTimeout(resolve, 350));
    const before = primary.stats.requests;
    const clients = await Promise.all(instances.map((instance) => openAiClient(instance.url)));
    await Promise.all(clients.flatMap((client) => Array.from({ length: 6 }, () => client.chat.completions.create(ask))));
    expect(primary.stats.requests - before).toBe(1);

    expect(await waitUntil(() => instances.every((instance) => circuitOf(instance, 'primary/m') === 'closed'), 1_000)).toBe(true);
    primary.clearFaults();
    const { response } = await clients[1]!.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-detour-provider')).toBe('primary');
  });

  it('measures how long an opened circuit takes to reach another instance', async () => {
    const { a, b } = await twoInstances();
    const storeA = a.engine.resilience.store;
    const storeB = b.engine.resilience.store;
    const samples: number[] = [];
    for (let round = 0; round < 100; round++) {
      const target = `bench/target-${round}`;
      const heard = new Promise<number>((resolve) => {
        const stop = storeB.onChange((change) => {
          if (change.targetId !== target || change.next.status !== 'open') return;
          stop();
          resolve(performance.now());
        });
      });
      const started = performance.now();
      await storeA.transitionBreaker(target, (state, now) => openBreaker(state, { reason: 'failure_count' }, now, defaultBreakerSettings));
      samples.push((await heard) - started);
      expect(b.engine.resilience.store.breakerView(target).status).toBe('open');
    }
    const figures = { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), max: Math.max(...samples) };
    console.info(`circuit propagation over ${samples.length} openings (write + pub/sub, ms): p50 ${figures.p50.toFixed(2)}, p99 ${figures.p99.toFixed(2)}, max ${figures.max.toFixed(2)}`);
    expect(figures.p99).toBeLessThan(100);
  });
});
