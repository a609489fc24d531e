import { APICallError, embed, embedMany } from 'ai';
import OpenAI from 'openai';
import { createDetour } from '../../src/ai-sdk/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/index.js';
import { simVector } from '../../src/sim/embeddings.js';
import { Cleanup, openAiProvider, startSim } from '../helpers/gateway.js';
import { startLibraryGateway } from './library-helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const model = 'text-embedding-3-small';

describe('gateway.embeddings in process', () => {
  it('fails over between two providers of one model and says who served, as the server does', async () => {
    const primary = cleanup.add(await startSim({ plan: { faults: [{ status: 503 }] } }));
    const backup = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startLibraryGateway({
        providers: { primary: openAiProvider(primary), backup: openAiProvider(backup) },
        models: {
          embed: { kind: 'embeddings', targets: [{ provider: 'primary', model, dimensions: 8 }, { provider: 'backup', model, dimensions: 8 }], retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } },
          chat: { targets: [{ provider: 'backup', model: 'gpt-4o-mini' }] },
        },
      }),
    );
    const { response, served } = await gateway.embeddings({ model: 'embed', input: ['in process'] });
    expect(response.data[0]?.embedding).toEqual(simVector(model, 'in process', 8));
    expect(served).toMatchObject({ route: 'embed', provider: 'backup', isFailover: true, upstreamCalls: 2 });

    const refused = await gateway.embeddings({ model: 'chat', input: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 400, code: 'WRONG_ROUTE_KIND' });

    // The official SDK over `gateway.fetch`, with its default (base64, decoded by the SDK).
    const client = new OpenAI({ apiKey: 'unused', baseURL: 'http://detour.local/v1', fetch: gateway.fetch, maxRetries: 0 });
    const viaFetch = await client.embeddings.create({ model: 'embed', input: 'in process' });
    expect(viaFetch.data[0]?.embedding).toEqual(simVector(model, 'in process', 8));
  });

  it('serves the AI SDK: embedMany and embed through createDetour(gateway).embeddingModel', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startLibraryGateway({
        providers: { primary: openAiProvider(sim) },
        models: { embed: { kind: 'embeddings', targets: [{ provider: 'primary', model, dimensions: 8 }] }, chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
      }),
    );
    const detour = createDetour(gateway);
    const many = await embedMany({ model: detour.embeddingModel('embed'), values: ['one', 'two'], maxRetries: 0 });
    expect(many.embeddings).toEqual([simVector(model, 'one', 8), simVector(model, 'two', 8)]);
    expect(many.usage.tokens).toBe(2);
    const one = await embed({ model: detour.embeddingModel('embed'), value: 'one', maxRetries: 0 });
    expect(one.embedding).toEqual(many.embeddings[0]);
    expect(one.providerMetadata?.detour).toMatchObject({ route: 'embed', target: 'primary/text-embedding-3-small', isFailover: false });
    const refused = await embed({ model: detour.embeddingModel('chat'), value: 'one', maxRetries: 0 }).catch((error: unknown) => error);
    expect(APICallError.isInstance(refused)).toBe(true);
    expect((refused as APICallError).statusCode).toBe(400);
  });
});
