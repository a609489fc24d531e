import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startGateway, startSim } from '../helpers/gateway.js';
import { createKey, keysConfig } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('virtual keys on the Responses API', () => {
  it('refuses a missing or unknown key with 401, a route outside the scope with 403, and serves a valid key', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(keysConfig(sim)));
    const client = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    const unknown = await client('dtr_unknown-key-000000000000000000000000').responses.create({ model: 'chat', input: 'Hello' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);
    const { key } = await createKey(gateway, { name: 'responses', routes: ['other'] });
    const scoped = await client(key).responses.create({ model: 'chat', input: 'Hello' }).catch((error: unknown) => error);
    expect(scoped).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(sim.stats.requests).toBe(0);
    const served = await client(key).responses.create({ model: 'other', input: 'Hello' });
    expect(served.output_text).toBeTruthy();
    const read = await client('dtr_unknown-key-000000000000000000000000').responses.retrieve(served.id).catch((error: unknown) => error);
    expect(read).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await client(key).responses.retrieve(served.id)).id).toBe(served.id);
  });
});
