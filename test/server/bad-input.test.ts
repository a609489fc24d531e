import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function setup() {
  const sim = cleanup.add(await startSim({ chunkDelayMs: 40 }));
  const gateway = cleanup.add(
    await startGateway({
      server: { host: '127.0.0.1', port: 0, max_body_bytes: 4096 },
      providers: { primary: openAiProvider(sim) },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }, fast: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
    }),
  );
  return { sim, gateway };
}

async function post(url: string, body: string): Promise<{ status: number; body: { error: { message: string; type: string; code: string; param: string | null } } }> {
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, body: (await response.json()) as never };
}

describe('bad input', () => {
  it.each([
    ['invalid JSON', '{"model": "chat", "messages": [', 400, 'INVALID_JSON', null],
    ['a body that is not an object', '[1, 2]', 400, 'INVALID_REQUEST', null],
    ['missing messages', '{"model":"chat"}', 400, 'INVALID_REQUEST', 'messages'],
    ['empty messages', '{"model":"chat","messages":[]}', 400, 'INVALID_REQUEST', 'messages'],
    ['messages of the wrong type', '{"model":"chat","messages":"hi"}', 400, 'INVALID_REQUEST', 'messages'],
    ['a message without a valid role', '{"model":"chat","messages":[{"role":"wizard","content":"x"}]}', 400, 'INVALID_REQUEST', 'messages[0].role'],
    ['a temperature that is not a number', '{"model":"chat","messages":[{"role":"user","content":"x"}],"temperature":"hot"}', 400, 'INVALID_REQUEST', 'temperature'],
    ['stream that is not a boolean', '{"model":"chat","messages":[{"role":"user","content":"x"}],"stream":"yes"}', 400, 'INVALID_REQUEST', 'stream'],
    ['a missing model', '{"messages":[{"role":"user","content":"x"}]}', 400, 'INVALID_REQUEST', 'model'],
    ['an unknown route', '{"model":"gpt-5","messages":[{"role":"user","content":"x"}]}', 404, 'ROUTE_NOT_FOUND', 'model'],
    ['a body over the size limit', JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }), 413, 'BODY_TOO_LARGE', null],
  ])('answers %s with a clear OpenAI-style error and calls no upstream', async (_name, body, status, code, param) => {
    const { sim, gateway } = await setup();
    const result = await post(gateway.url, body);
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe(code);
    expect(result.body.error.param).toBe(param);
    expect(result.body.error.message.length).toBeGreaterThan(10);
    expect(sim.stats.requests).toBe(0);
  });

  it('counts refused requests in the metrics without naming the client`s invented model', async () => {
    const { gateway } = await setup();
    await post(gateway.url, '{not json');
    await post(gateway.url, '{"model":"invented-model-name","messages":[{"role":"user","content":"x"}]}');
    await gateway.observability.flush();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('detour_requests_total{route="(rejected)",status="400"} 1');
    expect(metrics).toContain('detour_requests_total{route="(rejected)",status="404"} 1');
    expect(metrics).not.toContain('invented-model-name');
  });

  it('lists the routes when the model is unknown, through the SDK', async () => {
    const { gateway } = await setup();
    const client = await openAiClient(gateway.url);
    const error = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as Error).message).toContain('chat, fast');
  });

  it('disturbs nothing else in flight', async () => {
    const { sim, gateway } = await setup();
    const client = await openAiClient(gateway.url);
    const streaming = (async () => {
      let text = '';
      for await (const chunk of await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'x' }] })) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
      return text;
    })();
    const bad = await Promise.all([
      post(gateway.url, '{not json'),
      post(gateway.url, JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'y'.repeat(10_000) }] })),
      post(gateway.url, '{"model":"chat"}'),
    ]);
    expect(bad.map((result) => result.status)).toEqual([400, 413, 400]);
    expect(await streaming).toContain('Detour simulator');
    expect(sim.stats.requests).toBe(1);
  });
});
