import { ApiError, GoogleGenAI } from '@google/genai';
import { afterEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { createKey, keysConfig } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const unknownKey = 'dtr_unknown-key-000000000000000000000000';
const contents = { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] };

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}

describe('virtual keys on the Gemini face and on count_tokens', () => {
  it('refuses Gemini calls without a valid key (401, Gemini`s shape), outside the key`s routes (403) and past its rpm (429), and serves a valid key in x-goog-api-key or ?key=', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(keysConfig(sim)));
    for (const path of ['/v1beta/models/chat:generateContent', '/v1beta/models/chat:streamGenerateContent?alt=sse', '/v1beta/models/chat:countTokens']) {
      const missing = await post(gateway.url, path, contents);
      expect(missing.status, path).toBe(401);
      expect(missing.json).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
      expect((await post(gateway.url, path, contents, { 'x-goog-api-key': unknownKey })).status, path).toBe(401);
    }
    const failure = await new GoogleGenAI({ apiKey: unknownKey, httpOptions: { baseUrl: gateway.url } }).models.generateContent({ model: 'chat', contents: 'Hello' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(401);
    expect(sim.stats.requests).toBe(0);

    const { key } = await createKey(gateway, { name: 'gemini-client', routes: ['other'], rpm: 2 });
    const scoped = await post(gateway.url, '/v1beta/models/chat:generateContent', contents, { 'x-goog-api-key': key });
    expect(scoped.status).toBe(403);
    expect(scoped.json).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    expect(sim.stats.requests).toBe(0);

    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gateway.url } });
    expect((await ai.models.generateContent({ model: 'other', contents: 'Hello' })).text).toBeTruthy();
    expect((await post(gateway.url, `/v1beta/models/other:generateContent?key=${key}`, contents)).status).toBe(200);
    // The key's rpm holds on this face as on the others.
    const limited = await post(gateway.url, '/v1beta/models/other:generateContent', contents, { 'x-goog-api-key': key });
    expect(limited.status).toBe(429);
    expect(sim.stats.requests).toBe(2);
    // The key's usage counts this face's requests.
    const keys = (await (await fetch(`${gateway.url}/admin/api/keys`)).json()) as { data: Array<{ name: string; usage: { requests_last_minute: number } }> };
    expect(keys.data.find((entry) => entry.name === 'gemini-client')?.usage.requests_last_minute).toBe(2);
  });

  it('refuses POST /v1/messages/count_tokens without a valid key (401) or outside the key`s routes (403), before any upstream call', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(keysConfig(sim, { providers: { primary: anthropicProvider(sim.url, 'sk-ant-upstream-0001'), spare: openAiProvider(sim) } })));
    const count = { model: 'chat', messages: [{ role: 'user', content: 'Hello' }] };
    const headers = { 'anthropic-version': '2023-06-01' };
    const missing = await post(gateway.url, '/v1/messages/count_tokens', count, headers);
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect((await post(gateway.url, '/v1/messages/count_tokens', count, { ...headers, 'x-api-key': unknownKey })).status).toBe(401);
    const { key } = await createKey(gateway, { name: 'claude-client', routes: ['other'] });
    const scoped = await post(gateway.url, '/v1/messages/count_tokens', count, { ...headers, 'x-api-key': key });
    expect(scoped.status).toBe(403);
    expect(scoped.json).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(sim.stats.requests).toBe(0);
    const served = await post(gateway.url, '/v1/messages/count_tokens', { ...count, model: 'other' }, { ...headers, 'x-api-key': key });
    expect(served.status).toBe(200);
    expect(served.json.input_tokens).toBeGreaterThan(0);
  });

  it('the models lists are for key holders too: 401 in the client`s format without a valid key, the list with one', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(keysConfig(sim)));
    const { key } = await createKey(gateway, { name: 'lister' });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${path}`, { headers });
    const openAi = await get('/v1/models');
    expect(openAi.status).toBe(401);
    expect(await openAi.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const anthropic = await get('/v1/models', { 'anthropic-version': '2023-06-01', 'x-api-key': unknownKey });
    expect(anthropic.status).toBe(401);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    for (const path of ['/v1beta/models', '/v1beta/models/chat']) {
      const gemini = await get(path);
      expect(gemini.status, path).toBe(401);
      expect(await gemini.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    }
    expect((await get('/v1/models', { authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await get('/v1/models', { 'anthropic-version': '2023-06-01', 'x-api-key': key })).status).toBe(200);
    const names: string[] = [];
    for await (const model of await new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gateway.url } }).models.list()) names.push(model.name ?? '');
    expect(names).toEqual(['models/chat', 'models/other']);
    expect((await get(`/v1beta/models/chat?key=${key}`)).status).toBe(200);
  });
});
