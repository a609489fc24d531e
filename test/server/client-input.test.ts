import { connect } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function setup(server: Record<string, unknown> = {}) {
  const sim = cleanup.add(await startSim());
  const gateway = cleanup.add(
    await startGateway({
      server: { host: '127.0.0.1', port: 0, ...server },
      providers: { primary: openAiProvider(sim) },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
    }),
  );
  return { sim, gateway };
}

type ErrorBody = { error: { message: string; type: string; code: string; param: string | null } };

async function post(url: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: ErrorBody & { type?: string } }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as never };
}

/** `{"a":{"a":…}}` nested `depth` deep under `key`. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

/** Sends raw bytes and reads the whole answer until the server closes. */
function raw(url: string, bytes: string, options: { holdOpen?: boolean } = {}): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
    if (!options.holdOpen) socket.end();
  });
}

function bodyOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

describe('client input that cannot be served is refused before any upstream call', () => {
  it.each([
    ['a CR/LF', 'chat\r\nx-injected: yes'],
    ['non-latin1 characters', 'чат'],
    ['a control character', 'chat\u0007'],
    ['latin1 beyond ASCII', 'chât'],
  ])('a model name with %s: 400 naming `model`, no tokens spent upstream', async (_name, model) => {
    const { sim, gateway } = await setup();
    const client = await openAiClient(gateway.url);
    const error = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('model');
    expect(sim.stats.requests).toBe(0);
  });

  it('the same in Anthropic`s format for an Anthropic client', async () => {
    const { sim, gateway } = await setup();
    const client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
    const error = await client.messages.create({ model: 'chat\nx', max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(sim.stats.requests).toBe(0);
  });

  it('a tool schema nested 100,000 deep is a 400 naming the path, not a 500', async () => {
    const { sim, gateway } = await setup();
    const body = `{"model":"chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nested(100_000)}}}]}`;
    const result = await post(gateway.url, '/v1/chat/completions', body);
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe('INVALID_REQUEST');
    expect(result.body.error.param).toMatch(/^tools\[0\]\.function\.parameters(\.a)+$/);
    expect(result.body.error.message).toContain('more than 128 deep');
    expect(sim.stats.requests).toBe(0);
  });

  it('metadata nested 5,000 deep is a 400 INVALID_REQUEST naming the path (Anthropic format too)', async () => {
    const { sim, gateway } = await setup();
    const openai = await post(gateway.url, '/v1/chat/completions', `{"model":"chat","messages":[{"role":"user","content":"x"}],"metadata":${nested(5000)}}`);
    expect(openai.status).toBe(400);
    expect(openai.body.error.code).toBe('INVALID_REQUEST');
    expect(openai.body.error.param).toMatch(/^metadata(\.a)+$/);
    const anthropic = await post(gateway.url, '/v1/messages', `{"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"x"}],"metadata":${nested(5000)}}`, { 'anthropic-version': '2023-06-01' });
    expect(anthropic.status).toBe(400);
    expect(anthropic.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(anthropic.body.error.message).toContain('metadata.a');
    expect(sim.stats.requests).toBe(0);
  });

  it('nesting within the limit (server.max_json_depth) is served', async () => {
    const { sim, gateway } = await setup({ max_json_depth: 40 });
    const ok = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"chat","messages":[{"role":"user","content":"x"}],"metadata":${nested(30)}}`,
    });
    expect(ok.status).toBe(200);
    const refused = await post(gateway.url, '/v1/chat/completions', `{"model":"chat","messages":[{"role":"user","content":"x"}],"metadata":${nested(45)}}`);
    expect(refused.status).toBe(400);
    expect(sim.stats.requests).toBe(1);
  });

  it('invalid UTF-8 is refused, not silently replaced', async () => {
    const { sim, gateway } = await setup();
    const body = Buffer.concat([Buffer.from('{"model":"chat","messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
    const result = await post(gateway.url, '/v1/chat/completions', body);
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain('UTF-8');
    expect(sim.stats.requests).toBe(0);
  });
});

describe('Node`s own parser errors answer in the client`s format', () => {
  it('a malformed request: 400 with an OpenAI error body', async () => {
    const { gateway } = await setup();
    const answer = await raw(gateway.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(answer)).toMatchObject({ error: { code: 'BAD_REQUEST', type: 'invalid_request_error' } });
  });

  it('headers too large: 431 with an Anthropic error body for an Anthropic path', async () => {
    const { gateway } = await setup();
    const answer = await raw(gateway.url, `POST /v1/messages HTTP/1.1\r\nHost: x\r\nanthropic-version: 2023-06-01\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(answer)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('a malformed or oversized request to a Gemini path: 400 and 431 with a Gemini error body', async () => {
    const { gateway } = await setup();
    const malformed = await raw(gateway.url, 'POST /v1beta/models/chat:generateContent HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(malformed)).toMatchObject({ error: { code: 400, message: expect.any(String), status: 'INVALID_ARGUMENT' } });
    const oversized = await raw(gateway.url, `POST /v1beta/models/chat:streamGenerateContent?alt=sse HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(oversized).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(oversized)).toMatchObject({ error: { code: 431, message: expect.any(String) } });
  });

  it('headers that never finish: 408 with a body (server.headers_timeout_ms)', async () => {
    const { gateway } = await setup({ headers_timeout_ms: 300 });
    const answer = await raw(gateway.url, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', { holdOpen: true });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(answer)).toMatchObject({ error: { code: 'REQUEST_TIMEOUT' } });
  });
});
