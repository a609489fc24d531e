import { afterEach, beforeEach, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { Cleanup, openAiClient, startSim } from '../helpers/gateway.js';
import { describeWithRedis, RedisServer, waitUntil } from '../helpers/redis.js';
import { circuitOf, modeOf, percentile, startInstance } from './cluster.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Two routes on every instance, so that each instance's load reaches a primary of its own. */
const routes = {
  models: {
    chat: { targets: [{ provider: 'primary', model: 'one' }, { provider: 'backup', model: 'one' }], retry: { attempts: 1 } },
    other: { targets: [{ provider: 'primary', model: 'two' }, { provider: 'backup', model: 'two' }], retry: { attempts: 1 } },
  },
};

interface Load {
  ok: number;
  failed: number;
  latenciesMs: number[];
  stop(): Promise<void>;
}

/** `loops` clients sending requests one after another to `gateway` until stopped. */
async function startLoad(gateway: RunningGateway, model: string, loops: number): Promise<Load> {
  const client = await openAiClient(gateway.url);
  let isStopped = false;
  const load: Load = { ok: 0, failed: 0, latenciesMs: [], stop: async () => undefined };
  const loop = async () => {
    while (!isStopped) {
      const started = performance.now();
      try {
        await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] });
        load.ok++;
        load.latenciesMs.push(performance.now() - started);
      } catch {
        load.failed++;
      }
    }
  };
  const running = Array.from({ length: loops }, loop);
  load.stop = async () => {
    isStopped = true;
    await Promise.all(running);
  };
  return load;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('a cluster keeps serving when Redis fails', () => {
  let redis: RedisServer;
  beforeEach(async () => {
    redis = await RedisServer.start();
    cleanup.add(redis);
  });

  async function cluster() {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const options = { redisUrl: redis.url, prefix: 'outage:', primary, backup, config: routes };
    const a = cleanup.add(await startInstance(options));
    const b = cleanup.add(await startInstance(options));
    return { primary, a, b };
  }

  it('Redis killed under load: every request succeeds, each instance protects itself, and state converges after the restart', async () => {
    const { primary, a, b } = await cluster();
    expect([modeOf(a), modeOf(b)]).toEqual(['redis', 'redis']);
    const loads = [await startLoad(a, 'chat', 3), await startLoad(b, 'other', 3)];
    await sleep(300);

    await redis.kill();
    expect(await waitUntil(() => modeOf(a) === 'local-fallback' && modeOf(b) === 'local-fallback', 1_000)).toBe(true);
    // The primary's model `one` fails while Redis is away: only A calls it, only A can know.
    primary.setPlan({ faults: [{ model: 'one', status: 503 }] });
    expect(await waitUntil(() => circuitOf(a, 'primary/one') === 'open', 2_000)).toBe(true);
    expect(circuitOf(b, 'primary/one')).toBe('closed');
    // Operators see the fallback: in the targets API and in the metrics.
    const targets = (await (await fetch(`${a.url}/admin/api/targets`)).json()) as { state: { mode: string; fallbacks: number }; targets: Array<{ id: string; circuit: string }> };
    expect(targets.state).toMatchObject({ mode: 'local-fallback', fallbacks: 1 });
    expect(targets.targets.find((target) => target.id === 'primary/one')?.circuit).toBe('open');
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toContain('detour_state_store_mode{mode="local-fallback"} 1');
    expect(metrics).toContain('detour_state_store_mode{mode="redis"} 0');
    await sleep(300);

    await redis.start();
    expect(await waitUntil(() => modeOf(a) === 'redis' && modeOf(b) === 'redis', 5_000)).toBe(true);
    expect(((await (await fetch(`${b.url}/admin/api/targets`)).json()) as { state: { mode: string } }).state.mode).toBe('redis');
    // A wrote back the circuit it opened alone; B, which never called the primary's `one`, now skips it too.
    expect(await waitUntil(() => circuitOf(b, 'primary/one') === 'open', 1_000)).toBe(true);
    await sleep(200);
    for (const load of loads) await load.stop();

    const served = loads.reduce((sum, load) => sum + load.ok, 0);
    const failed = loads.reduce((sum, load) => sum + load.failed, 0);
    console.info(`Redis killed and restarted under load: ${served} requests served, ${failed} failed`);
    expect(failed).toBe(0);
    expect(served).toBeGreaterThan(50);
    for (const instance of [a, b]) expect(instance.engine.resilience.store.breakerView('primary/one').status).toBe('open');
  });

  it('Redis hangs under load: no request waits on it for longer than one command timeout', async () => {
    const { primary, a, b } = await cluster();
    const loads = [await startLoad(a, 'chat', 2), await startLoad(b, 'other', 2)];
    await sleep(200);
    const before = loads.map((load) => load.latenciesMs.length);
    redis.pause();
    // Failures make A open a circuit: its write to the hung Redis times out, and A decides alone.
    primary.setPlan({ faults: [{ model: 'one', status: 503 }] });
    expect(await waitUntil(() => modeOf(a) === 'local-fallback', 2_000)).toBe(true);
    expect(circuitOf(a, 'primary/one')).toBe('open');
    await sleep(500);
    const during = loads.flatMap((load, index) => load.latenciesMs.slice(before[index]));
    redis.resume();
    expect(await waitUntil(() => modeOf(a) === 'redis', 5_000)).toBe(true);
    expect(await waitUntil(() => circuitOf(b, 'primary/one') === 'open', 1_000)).toBe(true);
    for (const load of loads) await load.stop();

    expect(loads.reduce((sum, load) => sum + load.failed, 0)).toBe(0);
    expect(during.length).toBeGreaterThan(20);
    console.info(`while Redis hung: ${during.length} requests, p50 ${percentile(during, 0.5).toFixed(1)} ms, p99 ${percentile(during, 0.99).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms`);
    // Only a half-open probe waits on the store; the command timeout (250 ms) bounds it.
    expect(Math.max(...during)).toBeLessThan(250 + 200);
  });
});
