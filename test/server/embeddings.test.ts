import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestFinishedEvent } from '../../src/core/events.js';
import { simVector } from '../../src/sim/embeddings.js';
import { BadUpstream } from '../helpers/bad-upstream.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { tempLogPath } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const model = 'text-embedding-3-small';
const fastRetry = { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 };

/** An embeddings route `embed` over the given targets, beside a chat route `chat` on the first provider. */
function embeddingsConfig(providers: Record<string, Record<string, unknown>>, targets: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const first = Object.keys(providers)[0] as string;
  return {
    providers,
    models: {
      embed: { kind: 'embeddings', targets, retry: fastRetry },
      chat: { targets: [{ provider: first, model: 'gpt-4o-mini' }] },
    },
    ...extra,
  };
}

/** The float32 value a number becomes in a base64 vector, for comparing with what an SDK decoded. */
const float32 = (values: readonly number[]): number[] => values.map((value) => Math.fround(value));

async function post(url: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

describe('POST /v1/embeddings with the openai SDK', () => {
  it('answers float vectors by default (the SDK asks for base64 and decodes it) and when asked for floats', async () => {
    const sim = cleanup.add(await startSim({ capture: 10 }));
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }])));
    const client = await openAiClient(gateway.url);
    const byDefault = await client.embeddings.create({ model: 'embed', input: 'The quick brown fox' });
    expect(byDefault.object).toBe('list');
    expect(byDefault.data).toHaveLength(1);
    expect(byDefault.data[0]?.embedding).toEqual(float32(simVector(model, 'The quick brown fox', 1536)));
    expect(byDefault.usage.prompt_tokens).toBeGreaterThan(0);
    // The SDK asked for base64, and the upstream was asked for the same: the vector travelled as base64.
    expect(JSON.parse(sim.captured.at(-1)?.body ?? '{}')).toMatchObject({ model, encoding_format: 'base64', input: 'The quick brown fox' });

    const asFloats = await client.embeddings.create({ model: 'embed', input: 'The quick brown fox', encoding_format: 'float' });
    expect(asFloats.data[0]?.embedding).toEqual(byDefault.data[0]?.embedding);
    expect(JSON.parse(sim.captured.at(-1)?.body ?? '{}')).toMatchObject({ encoding_format: 'float' });
  });

  it('answers base64 as OpenAI does (little-endian float32) when the client asks for it', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model, dimensions: 64 }])));
    const client = await openAiClient(gateway.url);
    const answer = await client.embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'base64' });
    const base64 = answer.data[0]?.embedding as unknown as string;
    expect(typeof base64).toBe('string');
    const bytes = Buffer.from(base64, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
    // The target's configured dimensions went upstream, since the client asked for none.
    expect(decoded).toEqual(float32(simVector(model, 'hello', 64)));
  });

  it('embeds a batch of strings and of token arrays, one vector per input in input order', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }])));
    const client = await openAiClient(gateway.url);
    const inputs = ['first', 'second', 'third'];
    const batch = await client.embeddings.create({ model: 'embed', input: inputs, encoding_format: 'float', dimensions: 32 });
    expect(batch.data.map((item) => item.index)).toEqual([0, 1, 2]);
    batch.data.forEach((item, index) => expect(item.embedding).toEqual(simVector(model, inputs[index] as string, 32)));
    const tokens = await client.embeddings.create({ model: 'embed', input: [[1, 2, 3], [4, 5]], dimensions: 8 });
    expect(tokens.data).toHaveLength(2);
    expect(tokens.data[1]?.embedding).toEqual(float32(simVector(model, [4, 5], 8)));
    expect(tokens.usage.prompt_tokens).toBe(5);
  });
});

describe('embeddings upstreams', () => {
  it('calls Gemini with batchEmbedContents for several inputs and embedContent for one, the key in x-goog-api-key', async () => {
    const sim = cleanup.add(await startSim({ capture: 10 }));
    const gemini = { type: 'gemini', base_url: sim.url, api_key: 'gemini-key-000000001' };
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ gemini }, [{ provider: 'gemini', model: 'gemini-embedding-001' }])));
    const client = await openAiClient(gateway.url);
    const batch = await client.embeddings.create({ model: 'embed', input: ['alpha', 'beta'], dimensions: 16 });
    const call = sim.captured.at(-1);
    expect(call?.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(call?.headers['x-goog-api-key']).toBe('gemini-key-000000001');
    expect(call?.query).not.toContain('key=');
    expect(JSON.parse(call?.body ?? '{}')).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'alpha' }] }, outputDimensionality: 16 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'beta' }] }, outputDimensionality: 16 },
      ],
    });
    // The SDK asked for base64: Detour encoded Gemini's floats itself.
    expect(batch.data[0]?.embedding).toEqual(float32(simVector('gemini-embedding-001', 'alpha', 16)));
    expect(batch.data[1]?.embedding).toEqual(float32(simVector('gemini-embedding-001', 'beta', 16)));
    const { data: one, response } = await client.embeddings.create({ model: 'embed', input: 'alpha', dimensions: 16, encoding_format: 'float' }).withResponse();
    // Gemini counts no tokens for embeddings: the usage is Detour's estimate, and says so.
    expect(response.headers.get('x-detour-usage-estimated')).toBe('true');
    expect(one.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    expect(sim.captured.at(-1)?.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    expect(one.data[0]?.embedding).toEqual(batch.data[0]?.embedding);
  });

  it('calls Azure OpenAI at the deployment URL with the api-key header', async () => {
    const sim = cleanup.add(await startSim({ capture: 10 }));
    const azure = { type: 'azure-openai', base_url: sim.url, api_key: 'azure-key-0000000001', api_version: '2024-10-21' };
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ azure }, [{ provider: 'azure', model, dimensions: 24 }])));
    const client = await openAiClient(gateway.url);
    const answer = await client.embeddings.create({ model: 'embed', input: ['one', 'two'], encoding_format: 'float' });
    const call = sim.captured.at(-1);
    expect(call?.path).toBe(`/openai/deployments/${model}/embeddings`);
    expect(call?.query).toBe('api-version=2024-10-21');
    expect(call?.headers['api-key']).toBe('azure-key-0000000001');
    expect(call?.headers.authorization).toBeUndefined();
    expect(answer.data[1]?.embedding).toEqual(simVector(model, 'two', 24));
  });
});

describe('embeddings failover', () => {
  it('fails over from a 503ing primary to another provider of the same model, with identical vectors', async () => {
    const primary = cleanup.add(await startSim({ plan: { faults: [{ status: 503 }] } }));
    const backup = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway(
        embeddingsConfig(
          { primary: openAiProvider(primary, 'sk-primary-000000001'), backup: { type: 'azure-openai', base_url: backup.url, api_key: 'azure-key-0000000002' } },
          [
            { provider: 'primary', model, dimensions: 32 },
            { provider: 'backup', model, embedding_model: model, dimensions: 32 },
          ],
        ),
      ),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const client = await openAiClient(gateway.url);
    const { data, response } = await client.embeddings.create({ model: 'embed', input: ['failover', 'works'] }).withResponse();
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
    expect(data.data.map((item) => item.embedding)).toEqual([float32(simVector(model, 'failover', 32)), float32(simVector(model, 'works', 32))]);
    expect(primary.stats.requests).toBe(2);
    expect(backup.stats.requests).toBe(1);
    expect(finished.at(-1)).toMatchObject({ route: 'embed', status: 200, target: 'backup/text-embedding-3-small', isFailover: true });
    expect(finished.at(-1)?.attempts.map((attempt) => attempt.code ?? 'ok')).toEqual(['UPSTREAM_OVERLOADED', 'UPSTREAM_OVERLOADED', 'ok']);
  });

  it('fails over from a hung primary after attempt_timeout_ms, and skips it once its circuit opens', async () => {
    const primary = cleanup.add(await startSim({ plan: { faults: [{ hang: true }] } }));
    const backup = cleanup.add(await startSim());
    const config = embeddingsConfig({ primary: openAiProvider(primary), backup: openAiProvider(backup) }, [
      { provider: 'primary', model, dimensions: 4 },
      { provider: 'backup', model, dimensions: 4 },
    ]);
    const route = (config.models as Record<string, Record<string, unknown>>).embed as Record<string, unknown>;
    Object.assign(route, { attempt_timeout_ms: 300, retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } });
    const gateway = cleanup.add(await startGateway({ ...config, breaker: { failure_threshold: 2, window_ms: 60_000, open_ms: 60_000 } }));
    const opened: string[] = [];
    gateway.engine.events.on('circuit.opened', (event) => opened.push(event.target));
    const client = await openAiClient(gateway.url);
    for (let call = 0; call < 2; call++) {
      const { response } = await client.embeddings.create({ model: 'embed', input: 'slow' }).withResponse();
      expect(response.headers.get('x-detour-provider')).toBe('backup');
    }
    expect(opened).toEqual(['primary/text-embedding-3-small']);
    const { response } = await client.embeddings.create({ model: 'embed', input: 'slow' }).withResponse();
    expect(response.headers.get('x-detour-attempts')).toBe('1');
    expect(primary.stats.requests).toBe(2);
  });

  it('takes an answer with the wrong number of vectors for a bad response, and fails over without retrying it', async () => {
    const liar = cleanup.add(
      await new BadUpstream((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model, usage: { prompt_tokens: 2, total_tokens: 2 } }));
      }).listen(),
    );
    const backup = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway(
        embeddingsConfig({ liar: { type: 'openai', base_url: `${liar.url}/v1`, api_key: 'sk-liar-0000000001' }, backup: openAiProvider(backup) }, [
          { provider: 'liar', model },
          { provider: 'backup', model },
        ]),
      ),
    );
    const finished: RequestFinishedEvent[] = [];
    gateway.engine.events.on('request.finished', (event) => finished.push(event));
    const client = await openAiClient(gateway.url);
    const { data, response } = await client.embeddings.create({ model: 'embed', input: ['a', 'b'], dimensions: 8, encoding_format: 'float' }).withResponse();
    expect(data.data).toHaveLength(2);
    expect(data.data[1]?.embedding).toEqual(simVector(model, 'b', 8));
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(liar.requests).toBe(1);
    expect(finished.at(-1)?.attempts[0]).toMatchObject({ target: 'liar/text-embedding-3-small', code: 'UPSTREAM_BAD_RESPONSE' });
  });

  it('refuses vectors of a size other than the one asked for, and answers 503 when no target gives a good answer', async () => {
    const liar = cleanup.add(
      await new BadUpstream((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
      }).listen(),
    );
    const config = embeddingsConfig({ liar: { type: 'openai', base_url: `${liar.url}/v1`, api_key: 'sk-liar-0000000001' } }, [{ provider: 'liar', model, dimensions: 4 }]);
    (config.models as Record<string, Record<string, unknown>>).embed = { ...(config.models as Record<string, Record<string, unknown>>).embed, wait_for_recovery_ms: 0 };
    const gateway = cleanup.add(await startGateway(config));
    const failures: string[] = [];
    gateway.engine.events.on('attempt.failed', (event) => failures.push(event.message));
    const answer = await post(gateway.url, '/v1/embeddings', { model: 'embed', input: 'x', encoding_format: 'float' });
    expect(answer.status).toBe(503);
    expect(answer.json.error).toMatchObject({ code: 'ALL_TARGETS_FAILED', attempts: [expect.objectContaining({ code: 'UPSTREAM_BAD_RESPONSE' })] });
    expect(failures).toEqual(['liar/text-embedding-3-small answered 3-dimensional embeddings where 4 were asked for']);
  });
});

describe('embeddings refusals', () => {
  it('refuses a chat request to an embeddings route and an embeddings request to a chat route before any upstream call', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }])));
    const client = await openAiClient(gateway.url);
    const chatError = await client.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(chatError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chatError as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('WRONG_ROUTE_KIND');
    expect((chatError as Error).message).toContain('POST /v1/embeddings');
    const embedError = await client.embeddings.create({ model: 'chat', input: 'hi' }).catch((error: unknown) => error);
    expect(embedError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((embedError as Error).message).toContain('kind: embeddings');
    const responsesError = await post(gateway.url, '/v1/responses', { model: 'embed', input: 'hi' });
    expect(responsesError.status).toBe(400);
    const anthropicError = await post(gateway.url, '/v1/messages', { model: 'embed', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(anthropicError.status).toBe(400);
    expect(anthropicError.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('embeddings route') } });
    const priority = await fetch(`${gateway.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-detour-priority': 'urgent' }, body: JSON.stringify({ model: 'embed', input: 'hi' }) });
    expect(priority.status).toBe(400);
    expect(((await priority.json()) as { error: { param: string } }).error.param).toBe('x-detour-priority');
    const unknown = await client.embeddings.create({ model: 'nope', input: 'hi' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(sim.stats.requests).toBe(0);
  });

  it.each([
    [{ model: 'embed' }, 'input'],
    [{ model: 'embed', input: '' }, 'input'],
    [{ model: 'embed', input: [] }, 'input'],
    [{ model: 'embed', input: ['ok', 3] }, 'input[1]'],
    [{ model: 'embed', input: [[1, -2]] }, 'input[0]'],
    [{ model: 'embed', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    [{ model: 'embed', input: 'x', dimensions: 0 }, 'dimensions'],
    [{ model: 'embed', input: 'x', user: 7 }, 'user'],
    [{ input: 'x' }, 'model'],
  ])('refuses %j with a 400 naming %s, in OpenAI error shape, without an upstream call', async (body, param) => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }])));
    const answer = await post(gateway.url, '/v1/embeddings', body);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(sim.stats.requests).toBe(0);
  });

  it('answers 400 for what no target of the route can take (tokens, or more than 100 inputs, for Gemini), with no upstream call', async () => {
    const sim = cleanup.add(await startSim());
    const gemini = { type: 'gemini', base_url: sim.url, api_key: 'gemini-key-000000001' };
    const gateway = cleanup.add(await startGateway(embeddingsConfig({ gemini }, [{ provider: 'gemini', model: 'gemini-embedding-001' }])));
    const tokens = await post(gateway.url, '/v1/embeddings', { model: 'embed', input: [[1, 2]] });
    expect(tokens.status).toBe(400);
    expect(tokens.json.error).toMatchObject({ code: 'UNSUPPORTED_FEATURE', message: expect.stringContaining('token inputs') });
    const many = await post(gateway.url, '/v1/embeddings', { model: 'embed', input: Array.from({ length: 101 }, (_, index) => `text ${index}`) });
    expect(many.status).toBe(400);
    expect(many.json.error).toMatchObject({ code: 'UNSUPPORTED_FEATURE', message: expect.stringContaining('at most 100') });
    expect(sim.stats.requests).toBe(0);
  });

  it('admits virtual keys as the chat endpoint does: 401 without one, 403 outside its routes', async () => {
    const sim = cleanup.add(await startSim());
    const config = embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }], {
      log: { enabled: false, path: tempLogPath() },
      auth: { mode: 'keys', secret: 'test-auth-secret-0123456789abcdef', keys: [{ name: 'chat-only', key: 'config-key-chat-only-01234', routes: ['chat'] }, { name: 'embedder', key: 'config-key-embedder-0123456', routes: ['embed'] }] },
    });
    const gateway = cleanup.add(await startGateway(config));
    const client = (apiKey: string): OpenAI => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
    expect(await client('not-a-key-at-all-0123456').embeddings.create({ model: 'embed', input: 'x' }).catch((error: unknown) => error)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await client('config-key-chat-only-01234').embeddings.create({ model: 'embed', input: 'x' }).catch((error: unknown) => error)).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(sim.stats.requests).toBe(0);
    const served = await client('config-key-embedder-0123456').embeddings.create({ model: 'embed', input: 'x', dimensions: 4 });
    expect(served.data[0]?.embedding).toHaveLength(4);
  });
});

describe('embeddings health checks', () => {
  it('checks an embeddings target in completion mode by embedding one word, never by chatting', async () => {
    const sim = cleanup.add(await startSim({ capture: 20 }));
    const provider = { ...openAiProvider(sim), health_check: { mode: 'completion', interval_ms: 50, unhealthy_interval_ms: 50 } };
    const gateway = cleanup.add(await startGateway({ providers: { primary: provider }, models: { embed: { kind: 'embeddings', targets: [{ provider: 'primary', model, dimensions: 4 }] } } }));
    const probed: boolean[] = [];
    gateway.engine.events.on('health.probed', (event) => probed.push(event.isHealthy));
    for (let waited = 0; probed.length < 2 && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(probed.slice(0, 2)).toEqual([true, true]);
    const paths = new Set(sim.captured.map((call) => call.path));
    expect(paths).toEqual(new Set(['/v1/embeddings']));
    expect(JSON.parse(sim.captured[0]?.body ?? '{}')).toMatchObject({ model, input: 'ping', dimensions: 4 });
  });
});

describe('embeddings observability', () => {
  it('counts embeddings in /metrics and the request log, with usage and cost', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway(embeddingsConfig({ primary: openAiProvider(sim) }, [{ provider: 'primary', model }], { log: { path: tempLogPath(), flush_interval_ms: 10 } })),
    );
    const client = await openAiClient(gateway.url);
    await client.embeddings.create({ model: 'embed', input: ['count me', 'and me'], dimensions: 8 });
    await gateway.observability.flush();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/detour_requests_total\{[^}]*route="embed"[^}]*status="200"[^}]*\} 1/);
    const log = (await (await fetch(`${gateway.url}/admin/api/requests?route=embed`)).json()) as { data: Array<Record<string, unknown>> };
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ route: 'embed', status: 200, target: 'primary/text-embedding-3-small' });
    // The simulator counts about four characters a token: "count me" and "and me" are 2 + 2.
    expect(log.data[0]?.usage).toEqual({ input_tokens: 4, output_tokens: 0, cached_tokens: 0 });
    expect(log.data[0]?.cost_usd).toBeGreaterThan(0);
  });
});
