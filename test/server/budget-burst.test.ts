import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/core/model-catalog.js';
import { Cleanup, startGateway, startSim } from '../helpers/gateway.js';
import { createKey, keysConfig } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Hello' }] };

describe('a budget under a burst', () => {
  it('serves at most 10 of 200 concurrent requests when the budget covers 10, and never spends past it', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(keysConfig(sim)));
    // One request's actual cost, measured on an unlimited key: the budget then covers exactly ten and a half.
    const probe = await createKey(gateway, { name: 'probe' });
    const measured = await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: probe.key, maxRetries: 0 }).chat.completions.create(ask);
    const usage = measured.usage;
    if (!usage) throw new Error('the simulator reported no usage');
    const perRequestUsd = new ModelCatalog().cost('gpt-4o-mini', { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }) ?? 0;
    expect(perRequestUsd).toBeGreaterThan(0);
    const budgetUsd = perRequestUsd * 10.5;
    const { key } = await createKey(gateway, { name: 'burst', budget_usd: budgetUsd, period: 'day' });
    sim.stats.reset();

    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => client.chat.completions.create(ask)));
    const served = results.filter((result) => result.status === 'fulfilled').length;
    const refused = results.filter((result) => result.status === 'rejected' && result.reason instanceof OpenAI.APIError && result.reason.status === 402).length;
    expect(served).toBeGreaterThanOrEqual(1);
    expect(served).toBeLessThanOrEqual(10);
    expect(served + refused).toBe(200);
    expect(sim.stats.requests).toBe(served);

    // Keep spending after the burst: the budget still holds, counted on settled actual costs.
    let more = 0;
    for (let index = 0; index < 20; index++) {
      const ok = await client.chat.completions.create(ask).then(
        () => true,
        () => false,
      );
      if (ok) more++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(served + more).toBeLessThanOrEqual(10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const listed = (await (await fetch(`${gateway.url}/admin/api/keys`)).json()) as { data: Array<{ name: string; usage: { spent_usd: number } }> };
    const spent = listed.data.find((entry) => entry.name === 'burst')?.usage.spent_usd ?? Number.NaN;
    expect(spent).toBeLessThanOrEqual(budgetUsd + 1e-9);
    expect(spent).toBeCloseTo((served + more) * perRequestUsd, 6);
  });
});
