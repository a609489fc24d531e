import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../helpers/anthropic.js';
import { BadUpstream, writeForever } from '../helpers/bad-upstream.js';
import { Cleanup, deadPort, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const beta = 'claude-code-20250219,context-management-2025-06-27,interleaved-thinking-2025-05-14';

/** What Claude Code sends: fields Detour has no slot for, a system message mid-conversation, cache marks. */
const claudeCodeBody = {
  model: 'chat',
  max_tokens: 64,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Say hi', cache_control: { type: 'ephemeral' } }] },
    { role: 'assistant', content: 'Hi.' },
    { role: 'system', content: 'The user changed directory.' },
    { role: 'user', content: 'Again' },
  ],
  thinking: { type: 'enabled', budget_tokens: 1024 },
  context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
  output_config: { effort: 'low' },
  metadata: { user_id: 'user_1' },
  a_field_no_one_knows_yet: { nested: [1, 2, 3] },
};

function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'unused', ...headers }, body: JSON.stringify(body) });
}

describe('Anthropic Messages to an Anthropic upstream: transparent', () => {
  it.each([false, true])('passes the body untouched but for the model, unknown fields included, with anthropic-beta, anthropic-version and ?beta=true (stream: %s)', async (stream) => {
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(await startGateway({ providers: { claude: anthropicProvider(sim.url) }, models: { chat: { targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] } } }));
    const sent = { ...claudeCodeBody, stream };
    const response = await post(gateway.url, '/v1/messages?beta=true', sent, { 'anthropic-beta': beta });
    expect(response.status).toBe(200);
    await response.text();
    const upstream = sim.captured.at(-1)!;
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.query).toBe('beta=true');
    expect(upstream.headers['anthropic-beta']).toBe(beta);
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
    expect(JSON.parse(upstream.body)).toEqual({ ...sent, model: 'claude-sonnet-4-5' });
  });
});

describe('Anthropic Messages to another upstream: translated', () => {
  it('keeps a mid-conversation system message in place, maps output_config.effort to a reasoning effort for a reasoning model, and logs what it left behind at debug', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug', base: undefined }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(await startGateway({ providers: { openai: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'openai', model: 'o4-mini' }] } } }, { logger }));
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
    const { a_field_no_one_knows_yet: _unknown, ...body } = claudeCodeBody;
    const answer = await anthropic.messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming);
    expect(answer.type).toBe('message');
    const upstream = JSON.parse(sim.captured.at(-1)!.body) as { messages: Array<{ role: string; content: unknown }>; reasoning_effort?: string; thinking?: unknown; context_management?: unknown };
    expect(upstream.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'system', 'user']);
    expect(JSON.stringify(upstream.messages[3]?.content)).toContain('The user changed directory.');
    expect(upstream.reasoning_effort).toBe('low');
    expect(upstream.thinking).toBeUndefined();
    expect(upstream.context_management).toBeUndefined();
    const dropped = lines.find((line) => Array.isArray(line.dropped));
    expect(dropped?.level).toBe(20);
    expect(dropped?.dropped).toEqual(expect.arrayContaining(['context_management']));
  });
});

describe('Anthropic Messages on a route of mixed formats', () => {
  it('skips a target that cannot express the request for one that can, and answers 400 only when none can', async () => {
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(
      await startGateway({
        providers: { openai: openAiProvider(sim), claude: anthropicProvider(sim.url) },
        models: { mixed: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'claude', model: 'claude-sonnet-4-5' }] }, openai: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
      }),
    );
    const body = { max_tokens: 32, messages: [{ role: 'user', content: 'Hi' }], a_field_no_one_knows_yet: { nested: true } };
    const mixed = await post(gateway.url, '/v1/messages', { ...body, model: 'mixed' });
    expect(mixed.status).toBe(200);
    expect(mixed.headers.get('x-detour-provider')).toBe('claude');
    expect(mixed.headers.get('x-detour-failover')).toBe('false');
    expect(sim.captured.map((request) => request.path)).toEqual(['/v1/messages']);
    const none = await post(gateway.url, '/v1/messages', { ...body, model: 'openai' });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', details: { error_code: 'UNSUPPORTED_FEATURE' } } });
    expect(sim.captured).toHaveLength(1);
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it('goes to the route`s Anthropic targets, failing over from a down one, with the client`s betas, and says so in its log line', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info', base: undefined }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(
      await startGateway(
        {
          providers: { openai: openAiProvider(sim), down: anthropicProvider(`http://127.0.0.1:${await deadPort()}`), claude: anthropicProvider(sim.url) },
          models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'down', model: 'claude-a' }, { provider: 'claude', model: 'claude-b' }] } },
        },
        { logger },
      ),
    );
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'anthropic-beta': beta } });
    const { data, response } = await anthropic.messages.countTokens({ model: 'chat', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-detour-provider')).toBe('claude');
    expect(response.headers.get('x-detour-estimated')).toBeNull();
    const upstream = sim.captured.at(-1)!;
    expect(upstream.path).toBe('/v1/messages/count_tokens');
    expect(upstream.headers['anthropic-beta']).toBe(beta);
    expect((JSON.parse(upstream.body) as { model: string }).model).toBe('claude-b');
    expect(sim.captured.filter((request) => request.path === '/v1/chat/completions')).toHaveLength(0);
    expect(lines.find((line) => line.msg === 'tokens counted')).toMatchObject({ route: 'chat', status: 200, target: 'claude/claude-b', estimated: false, failed: ['down/claude-a: UPSTREAM_CONNECT_FAILED'] });
  });

  it('answers an estimate marked x-detour-estimated: true on a route without an Anthropic target, and an unknown route in Anthropic`s shape', async () => {
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(await startGateway({ providers: { openai: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } } }));
    const short = await post(gateway.url, '/v1/messages/count_tokens', { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] });
    const long = await post(gateway.url, '/v1/messages/count_tokens', { model: 'chat', messages: [{ role: 'user', content: 'Hi '.repeat(400) }] });
    expect(short.status).toBe(200);
    expect(short.headers.get('x-detour-estimated')).toBe('true');
    const [shortCount, longCount] = [(await short.json()) as { input_tokens: number }, (await long.json()) as { input_tokens: number }];
    expect(longCount.input_tokens).toBeGreaterThan(shortCount.input_tokens + 200);
    expect(sim.captured).toHaveLength(0);
    const unknown = await post(gateway.url, '/v1/messages/count_tokens', { model: 'nope', messages: [] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('reads an upstream count as every answer is: bounded by server.max_upstream_body_bytes and checked, failing over past both', async () => {
    const endless = cleanup.add(await new BadUpstream((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"input_tokens": 1, "padding": "');
      writeForever(response, Buffer.alloc(64 * 1024, 'x'));
    }).listen());
    const garbage = cleanup.add(await new BadUpstream((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>')).listen());
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({
        server: { max_upstream_body_bytes: 1024 * 1024 },
        providers: { endless: anthropicProvider(endless.url), garbage: anthropicProvider(garbage.url), claude: anthropicProvider(sim.url) },
        models: { chat: { targets: [{ provider: 'endless', model: 'claude-a' }, { provider: 'garbage', model: 'claude-b' }, { provider: 'claude', model: 'claude-c' }] } },
      }),
    );
    const answer = await post(gateway.url, '/v1/messages/count_tokens', { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-detour-provider')).toBe('claude');
    expect([endless.requests, garbage.requests]).toEqual([1, 1]);
    // Cut near the cap, not read until a timeout.
    expect(endless.bytesSent).toBeLessThan(16 * 1024 * 1024);
  });

  it('calls upstreams through the connection pools: providers.*.max_connections holds', async () => {
    const slow = cleanup.add(await new BadUpstream((_request, response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"input_tokens": 7}'), 30);
    }).listen());
    const gateway = cleanup.add(await startGateway({ providers: { claude: { ...anthropicProvider(slow.url), max_connections: 1 } }, models: { chat: { targets: [{ provider: 'claude', model: 'claude-a' }] } } }));
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(gateway.url, '/v1/messages/count_tokens', { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] })));
    expect(await Promise.all(answers.map(async (answer) => [answer.status, await answer.json()]))).toEqual(Array.from({ length: 4 }, () => [200, { input_tokens: 7 }]));
    expect(slow.requests).toBe(4);
    expect(slow.peakConnections).toBe(1);
    expect(slow.peakActiveRequests).toBe(1);
  });
});
