import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { describeWithRedis, RedisServer } from '../helpers/redis.js';
import { authSecret } from '../helpers/keys.js';
import { ask, startInstance } from './cluster.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const clientKey = 'cluster-client-key-0123456789';

describeWithRedis('client key limits across a cluster on Redis', () => {
  let redis: RedisServer;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.close());

  async function twoInstances(key: Record<string, unknown>) {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim());
    const config = { auth: { mode: 'keys', secret: authSecret, keys: [{ name: 'shared', key: clientKey, ...key }] } };
    const options = { redisUrl: redis.url, prefix: `keys${prefixes++}:`, primary, backup, config };
    const a = cleanup.add(await startInstance(options));
    const b = cleanup.add(await startInstance(options));
    const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: clientKey, maxRetries: 0 });
    return { primary, backup, a, b, clients: [client(a.url), client(b.url)] };
  }

  it("holds a key's rpm within 5% of its limit across two instances", async () => {
    const rpm = 60;
    const { primary, backup, clients } = await twoInstances({ rpm });
    const results = await Promise.allSettled(Array.from({ length: 180 }, (_, index) => (clients[index % 2] as OpenAI).chat.completions.create(ask)));
    const served = results.filter((result) => result.status === 'fulfilled').length;
    const limited = results.filter((result) => result.status === 'rejected' && result.reason instanceof OpenAI.RateLimitError).length;
    expect(served + limited).toBe(180);
    expect(Math.abs(served - rpm)).toBeLessThanOrEqual(rpm * 0.05);
    expect(primary.stats.requests + backup.stats.requests).toBe(served);
    // Both instances served part of it: the limit is the cluster's, not each instance's.
    const servedBy = [0, 1].map((side) => results.filter((result, index) => index % 2 === side && result.status === 'fulfilled').length);
    expect(servedBy.every((count) => count > 0)).toBe(true);
  });

  it('serves at most 10 of a 200-request burst split between two instances when the budget covers 10', async () => {
    const prices = { m: { input_per_million: 1000, output_per_million: 1000 } };
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim());
    const probeKey = 'cluster-probe-key-0123456789';
    const probeConfig = { prices, auth: { mode: 'keys', secret: authSecret, keys: [{ name: 'probe', key: probeKey }] } };
    const probeInstance = cleanup.add(await startInstance({ redisUrl: redis.url, prefix: `keys${prefixes++}:`, primary, backup, config: probeConfig }));
    const measured = await new OpenAI({ baseURL: `${probeInstance.url}/v1`, apiKey: probeKey, maxRetries: 0 }).chat.completions.create({ ...ask, max_tokens: 50 });
    const usage = measured.usage;
    if (!usage) throw new Error('no usage');
    const perRequestUsd = new ModelCatalog({ m: { price: { inputPerMillion: 1000, outputPerMillion: 1000 } } }).cost('m', { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }) ?? 0;
    expect(perRequestUsd).toBeGreaterThan(0);
    primary.stats.reset();

    const config = { prices, auth: { mode: 'keys', secret: authSecret, keys: [{ name: 'shared', key: clientKey, budget_usd: perRequestUsd * 10.5, period: 'day' }] } };
    const options = { redisUrl: redis.url, prefix: `keys${prefixes++}:`, primary, backup, config };
    const a = cleanup.add(await startInstance(options));
    const b = cleanup.add(await startInstance(options));
    const clients = [a, b].map((instance) => new OpenAI({ baseURL: `${instance.url}/v1`, apiKey: clientKey, maxRetries: 0 }));
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, index) => (clients[index % 2] as OpenAI).chat.completions.create({ ...ask, max_tokens: 50 })));
    const served = results.filter((result) => result.status === 'fulfilled').length;
    const refused = results.filter((result) => result.status === 'rejected' && result.reason instanceof OpenAI.APIError && result.reason.status === 402).length;
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(10);
    expect(served + refused).toBe(200);
    expect(primary.stats.requests).toBe(served);
  });
});
