import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthProbedEvent } from '../../src/core/events.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/**
 * Health checks every minute would leave a route that went wholly down unchecked for a minute.
 * While every target of a route is down, a configured health check probes each open circuit at
 * the recovery cadence (`breaker.recovery_probe_ms`) instead, and a passing check lets the next
 * request probe at once, whatever the circuit's cooldown.
 */
describe('health checks while a route is down', () => {
  it('probe the open circuits every recovery_probe_ms instead of every interval_ms, and a passing one lets traffic back at once', async () => {
    const sims = [cleanup.add(await startSim()), cleanup.add(await startSim())];
    const healthCheck = { interval_ms: 60_000, unhealthy_interval_ms: 60_000, timeout_ms: 500, unhealthy_threshold: 1, healthy_threshold: 1 };
    const gateway = cleanup.add(
      await startGateway({
        breaker: { failure_threshold: 1, open_ms: 60_000, recovery_probe_ms: 200 },
        providers: {
          a: { ...openAiProvider(sims[0]!, 'sk-route-down-a-000001'), health_check: healthCheck },
          b: { ...openAiProvider(sims[1]!, 'sk-route-down-b-000001'), health_check: healthCheck },
        },
        // No waiting for recovery: only the health checks can notice the upstreams' return.
        models: { chat: { wait_for_recovery_ms: 0, retry: { attempts: 1 }, targets: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }] } },
      }),
    );
    const probes: HealthProbedEvent[] = [];
    gateway.engine.events.on('health.probed', (event) => probes.push(event));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    // Let the start-up checks pass, then take both upstreams down: one request opens both circuits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all(sims.map((sim) => sim.down()));
    await expect(ask()).rejects.toThrow();
    expect(gateway.engine.targets().map((target) => target.circuit)).toEqual(['open', 'open']);
    const downAt = probes.length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // At a 60 s interval no check would have come in these 2 s; at the 200 ms recovery cadence, about ten per target.
    const whileDown = probes.slice(downAt);
    expect(whileDown.filter((event) => event.target === 'a/m').length).toBeGreaterThanOrEqual(3);
    expect(whileDown.filter((event) => event.target === 'b/m').length).toBeGreaterThanOrEqual(3);
    expect(whileDown.every((event) => !event.isHealthy)).toBe(true);
    // The upstreams return: the next passing check lets a request probe at once, though each cooldown has 58 s to run.
    await Promise.all(sims.map((sim) => sim.up()));
    const upAt = probes.length;
    while (!probes.slice(upAt).some((event) => event.isHealthy)) await new Promise((resolve) => setTimeout(resolve, 50));
    const answer = await ask();
    expect(answer.response.status).toBe(200);
  }, 30_000);
});
