import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Cleanup, startGateway, startSim } from '../helpers/gateway.js';
import { describeWithRedis, RedisServer } from '../helpers/redis.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }], max_tokens: 20 };

describeWithRedis('per-target rate limits across a cluster on Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.close());

  it("two instances keep a key's combined rate within 5% of its declared limit", async () => {
    const sim = cleanup.add(await startSim());
    // 59 rpm is kept over a whole minute (a burst that takes a loaded machine seconds stays in one window); no queue, so every request past it is a 429 at once.
    const config = {
      state: { store: 'redis', url: redis.url, prefix: 'target-limits:' },
      providers: { p: { type: 'openai', base_url: `${sim.url}/v1`, api_key: 'sk-cluster-limit-0001', limits: { rpm: 59 } } },
      models: { chat: { retry: { attempts: 1 }, targets: [{ provider: 'p', model: 'm' }], queue: { max: 0 } } },
    };
    const a = cleanup.add(await startGateway(config));
    const b = cleanup.add(await startGateway(config));
    const clients = [a, b].map((instance) => new OpenAI({ baseURL: `${instance.url}/v1`, apiKey: 'unused', maxRetries: 0 }));
    const results = await Promise.allSettled(Array.from({ length: 180 }, (_, index) => (clients[index % 2] as OpenAI).chat.completions.create(ask)));
    const served = results.filter((result) => result.status === 'fulfilled').length;
    const limited = results.filter((result) => result.status === 'rejected' && result.reason instanceof OpenAI.RateLimitError).length;
    expect(served + limited).toBe(180);
    const allowance = 59;
    expect(Math.abs(served - allowance)).toBeLessThanOrEqual(allowance * 0.05);
    // What the provider saw is what was served: the refused never left Detour.
    expect(sim.stats.requests).toBe(served);
    // Both instances served part of it: the limit is the cluster's, not each instance's.
    const servedBy = [0, 1].map((side) => results.filter((result, index) => index % 2 === side && result.status === 'fulfilled').length);
    expect(servedBy.every((count) => count > 0)).toBe(true);
  }, 60_000);
});
