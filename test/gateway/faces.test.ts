import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import type { RequestFinishedEvent } from '../../src/core/events.js';
import { buildGateway, type BuiltGateway } from '../../src/gateway/build-gateway.js';
import { createFetchHandler, type FetchFunction } from '../../src/library/fetch-handler.js';
import { callForBody } from '../../src/library/in-process-call.js';
import { providerTypes } from '../../src/providers/registry.js';
import { DetourServer } from '../../src/server/http-server.js';
import { Cleanup, openAiProvider, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A clock that only moves when told to: every time the gateway stamps must come from it. */
function manualClock(start: number): { now(): number; advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

interface Faces {
  built: BuiltGateway;
  url: string;
  fetch: FetchFunction;
}

async function faces(clock = manualClock(1_700_000_000_000)): Promise<Faces> {
  const sim = cleanup.add(await startSim());
  const config = validateConfig(
    { server: { host: '127.0.0.1', port: 0 }, log: { enabled: false }, providers: { sim: openAiProvider(sim) }, models: { chat: { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } } },
    { providerTypes: providerTypes(), env: {} },
  );
  const built = await buildGateway(config, { clock, observability: { processMetrics: false } });
  cleanup.add(built);
  const server = new DetourServer({ gateway: built.core });
  const { url } = await server.listen(0, '127.0.0.1');
  cleanup.add({ close: () => server.close(100) });
  return { built, url, fetch: createFetchHandler({ gateway: built.core, assertOpen: () => undefined }) };
}

async function seen(response: Response): Promise<{ status: number; type: string | null; body: unknown }> {
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe('one gateway core behind both faces', () => {
  it.each([
    ['an unknown path, OpenAI client', 'GET', '/v1/nothing', {}],
    ['an unknown path, Anthropic client', 'GET', '/v1/nothing', { 'anthropic-version': '2023-06-01' }],
    ['a wrong method on a chat endpoint', 'GET', '/v1/chat/completions', {}],
    ['a wrong method on the Anthropic endpoint', 'GET', '/v1/messages', {}],
    ['a handler that fails, OpenAI client', 'GET', '/boom', {}],
    ['a handler that fails, Anthropic client', 'GET', '/boom', { 'anthropic-version': '2023-06-01' }],
  ] as const)('answers %s identically', async (_name, method, path, headers) => {
    const gateway = await faces();
    // One line adds an endpoint, and both faces serve it at once.
    gateway.built.core.routes.get('/boom', () => {
      throw new Error('a bug in a handler');
    });
    const overHttp = await seen(await fetch(`${gateway.url}${path}`, { method, headers }));
    const inProcess = await seen(await gateway.fetch(`http://detour.local${path}`, { method, headers }));
    expect(inProcess).toEqual(overHttp);
    expect([404, 405, 500]).toContain(overHttp.status);
    const isAnthropic = 'anthropic-version' in headers || path.startsWith('/v1/messages');
    if (isAnthropic) expect(overHttp.body).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
    else expect(overHttp.body).toMatchObject({ error: { message: expect.any(String), code: expect.any(String) } });
  });

  it('serves the admin API and the status page through the same table, refusing a remote-looking in-process caller without a token', async () => {
    const gateway = await faces();
    const overHttp = await fetch(`${gateway.url}/admin/api/targets`);
    expect(overHttp.status).toBe(200);
    expect(((await overHttp.json()) as { targets: unknown[] }).targets).toHaveLength(1);
    // In process there is no peer address: the call is not taken for a loopback one.
    expect((await gateway.fetch('http://detour.local/admin/api/targets')).status).toBe(403);
    const status = await gateway.fetch('http://detour.local/status.json');
    expect(status.status).toBe(200);
    expect(await status.json()).toEqual(await (await fetch(`${gateway.url}/status.json`)).json());
  });

  it('stamps every request with the injected clock, whichever face it came through', async () => {
    const clock = manualClock(1_700_000_000_000);
    const gateway = await faces(clock);
    const finished: RequestFinishedEvent[] = [];
    gateway.built.engine.events.on('request.finished', (event) => finished.push(event));
    const body = { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] };
    await (await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).text();
    clock.advance(1000);
    await (await gateway.fetch('http://detour.local/v1/chat/completions', { method: 'POST', body: JSON.stringify(body) })).text();
    clock.advance(1000);
    await callForBody({ gateway: gateway.built.core, format: 'openai', path: '/v1/chat/completions' }, body, {});
    clock.advance(1000);
    await (await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).text();
    expect(finished.map((event) => [event.startedAt, event.latencyMs])).toEqual([
      [1_700_000_000_000, 0],
      [1_700_000_001_000, 0],
      [1_700_000_002_000, 0],
      [1_700_000_003_000, 0],
    ]);
    const models = (await (await gateway.fetch('http://detour.local/v1/models')).json()) as { data: Array<{ created: number }> };
    expect(models.data[0]?.created).toBe(1_700_000_000);
  });

  it('hands an in-process body to the engine as the caller built it, without a JSON round trip', async () => {
    const gateway = await faces();
    const handle = vi.spyOn(gateway.built.engine, 'handle');
    const messages = [{ role: 'user', content: 'Hi' }];
    const result = await callForBody<{ choices: unknown[] }>({ gateway: gateway.built.core, format: 'openai', path: '/v1/chat/completions' }, { model: 'chat', messages, temperature: undefined }, {});
    expect(result.response.choices).toHaveLength(1);
    const received = handle.mock.calls[0]?.[0];
    expect(received?.body.messages).toBe(messages);
    expect('temperature' in (received?.body ?? {})).toBe(false);
  });
});

describe('layering', () => {
  it('the engine never holds a client codec: encoding for the client happens in the gateway', () => {
    const folder = join(import.meta.dirname, '../../src/engine');
    for (const file of readdirSync(folder)) {
      const text = readFileSync(join(folder, file), 'utf8');
      expect(text, file).not.toMatch(/IngressCodec|encodeResponse\(|createStreamEncoder\(|encodeError\(|streamEndMarker/);
    }
  });

  it('the library imports the gateway core, never the HTTP server', () => {
    const folder = join(import.meta.dirname, '../../src/library');
    for (const file of readdirSync(folder)) {
      const text = readFileSync(join(folder, file), 'utf8');
      expect(text, file).not.toMatch(/from '\.\.\/server\//);
      expect(text, file).not.toMatch(/import\('\.\.\/server\//);
    }
  });
});

describe('request bodies as streams', () => {
  it('gives a handler the body as it arrives, from either face', async () => {
    const gateway = await faces();
    gateway.built.core.routes.post('/echo-size', async (request) => {
      let size = 0;
      if (request.body.type === 'stream') for await (const chunk of request.body.stream()) size += chunk.byteLength;
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size }) };
    });
    const body = 'x'.repeat(100_000);
    const overHttp = await (await fetch(`${gateway.url}/echo-size`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
    const inProcess = await (await gateway.fetch('http://detour.local/echo-size', { method: 'POST', body })).json();
    const fromRequest = await (await gateway.fetch(new Request('http://detour.local/echo-size', { method: 'POST', body }))).json();
    expect([overHttp, inProcess, fromRequest]).toEqual([{ size: 100_000 }, { size: 100_000 }, { size: 100_000 }]);
  });
});
