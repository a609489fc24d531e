import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { describeWithRedis, RedisServer, waitUntil } from '../helpers/redis.js';
import { startInstance } from './cluster.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

// Long enough that a lease (half of it) outlives the event-loop stalls of a loaded CI machine.
const intervalMs = 600;
const timeoutMs = 300;
/** The lease the prober takes: half an interval, renewed every quarter (`engine/health-prober.ts`). */
const leaseMs = intervalMs / 2;
const healthCheck = { health_check: { interval_ms: intervalMs, unhealthy_interval_ms: intervalMs, timeout_ms: timeoutMs, unhealthy_threshold: 2, healthy_threshold: 1 } };

describeWithRedis('a cluster runs its health checks once', () => {
  let redis: RedisServer;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.close());

  /** Three instances whose health probes are counted, each by its own events. */
  async function threeInstances() {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim());
    const options = { redisUrl: redis.url, prefix: `health${prefixes++}:`, primary, backup, primaryExtra: healthCheck };
    const instances: RunningGateway[] = [];
    const probes = new Map<RunningGateway, number[]>();
    const closed = new Set<RunningGateway>();
    for (let i = 0; i < 3; i++) {
      const instance = await startInstance(options);
      cleanup.add({ close: () => (closed.has(instance) ? undefined : instance.close()) });
      probes.set(instance, []);
      instance.engine.events.on('health.probed', () => probes.get(instance)?.push(performance.now()));
      instances.push(instance);
    }
    const probers = (since = 0) => instances.filter((instance) => (probes.get(instance) ?? []).some((at) => at >= since));
    /** Shuts an instance down as an operator would (the lease is given up); the cleanup then skips it. */
    const shutDown = async (instance: RunningGateway) => {
      closed.add(instance);
      await instance.close();
    };
    return { primary, instances, probes, probers, shutDown };
  }

  it('one instance probes, the others only watch the lease', async () => {
    const { primary, instances, probers } = await threeInstances();
    // Ten intervals: each instance's first check falls within the first.
    const startedAt = performance.now();
    const probesBefore = Number(primary.stats.snapshot().probes);
    await new Promise((resolve) => setTimeout(resolve, 10 * intervalMs));
    const probeCount = Number(primary.stats.snapshot().probes) - probesBefore;
    // A loaded machine wakes the timer late: the bound counts the intervals that really passed.
    const intervals = (performance.now() - startedAt) / intervalMs;
    expect(probers()).toHaveLength(1);
    // One prober checks the one target about once an interval, not three times.
    expect(probeCount).toBeGreaterThanOrEqual(5);
    expect(probeCount).toBeLessThanOrEqual(Math.ceil(intervals) + 2);
    // Its verdict reaches every instance.
    for (const instance of instances) expect(instance.engine.targets().find((target) => target.id === 'primary/m')?.health).toBe('healthy');
  });

  it('another instance takes over within an interval when the prober shuts down', async () => {
    const { instances, probes, probers, shutDown } = await threeInstances();
    expect(await waitUntil(() => probers().length === 1, 2 * intervalMs)).toBe(true);
    const [leader] = probers();
    await shutDown(leader!);
    const stoppedAt = performance.now();
    expect(await waitUntil(() => probers(stoppedAt).length === 1, 4 * intervalMs)).toBe(true);
    const [successor] = probers(stoppedAt);
    const takeoverMs = (probes.get(successor!)?.find((at) => at >= stoppedAt) ?? Number.NaN) - stoppedAt;
    expect(successor).not.toBe(leader);
    expect(instances).toContain(successor);
    console.info(`health-check lease after a clean shutdown: taken over within ${takeoverMs.toFixed(0)} ms (interval ${intervalMs} ms)`);
    expect(takeoverMs).toBeLessThan(intervalMs * 1.5);
  });

  it('another instance takes over within an interval when the prober dies without giving the lease up', async () => {
    const { probes, probers } = await threeInstances();
    expect(await waitUntil(() => probers().length === 1, 2 * intervalMs)).toBe(true);
    const [leader] = probers();
    // A crash: the leader's connection to Redis dies without giving the lease up.
    await leader!.engine.resilience.store.close();
    const diedAt = performance.now();
    expect(await waitUntil(() => probers(diedAt).some((instance) => instance !== leader), leaseMs + 3 * intervalMs)).toBe(true);
    const [successor] = probers(diedAt).filter((instance) => instance !== leader);
    const takeoverMs = (probes.get(successor!)?.find((at) => at >= diedAt) ?? Number.NaN) - diedAt;
    console.info(`health-check lease after a crash: taken over after ${takeoverMs.toFixed(0)} ms (lease ${leaseMs} ms, interval ${intervalMs} ms)`);
    // The lease lapses within half an interval and is watched every quarter; the successor's first check follows the shared cadence.
    expect(takeoverMs).toBeLessThan(intervalMs * 1.5);
    expect(probers(diedAt + 1)).toHaveLength(1);
  });
});
