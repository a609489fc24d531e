import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { BindRefusedError } from '../../src/server/gateway-server.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { authSecret, tempLogPath } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const chatBody = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] });

function config(sim: { url: string }, server: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, ...server },
    providers: { primary: openAiProvider(sim as never) },
    models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
    ...extra,
  };
}

/** A raw HTTP request, so that Host and every other header are exactly what a browser or attacker would send. */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('the public API accepts JSON only (cross-site forms and text/plain cannot spend keys)', () => {
  it.each([
    ['text/plain', 'text/plain;charset=UTF-8', chatBody],
    ['a form', 'application/x-www-form-urlencoded', 'model=chat&messages=hi'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--'],
    ['no content type', undefined, chatBody],
  ])('answers 415 to %s and calls no upstream', async (_name, contentType, body) => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim)));
    const headers: Record<string, string> = { origin: 'https://evil.example' };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const response = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers, body });
    expect(response.status).toBe(415);
    expect(JSON.parse(response.text)).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const anthropic = await raw(gateway.url, { method: 'POST', path: '/v1/messages', headers, body });
    expect(anthropic.status).toBe(415);
    expect(JSON.parse(anthropic.text)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(sim.stats.requests).toBe(0);
  });

  it('serves application/json (with a charset) as before', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim)));
    const response = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json; charset=utf-8' }, body: chatBody });
    expect(response.status).toBe(200);
  });
});

describe('CORS only for server.cors_origins', () => {
  it('answers a preflight and a request from a listed origin, and nothing for any other', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim, { cors_origins: ['https://app.example'] })));
    const preflight = (origin: string) =>
      raw(gateway.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const post = (origin: string) => raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin, 'content-type': 'application/json' }, body: chatBody });
    expect((await post('https://app.example')).headers['access-control-allow-origin']).toBe('https://app.example');
    expect((await post('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS headers at all by default', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim)));
    const preflight = await raw(gateway.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('Host check against DNS rebinding (no admin token)', () => {
  it.each(['/admin/api/requests', '/metrics', '/admin/api/overview', '/v1/models'])('refuses %s under a foreign Host and serves it under the listen address', async (path) => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim)));
    const port = new URL(gateway.url).port;
    const rebound = await raw(gateway.url, { path, headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.text).toMatch(/allowed_hosts/);
    expect((await raw(gateway.url, { path, headers: { host: `127.0.0.1:${port}` } })).status).not.toBe(403);
    expect((await raw(gateway.url, { path, headers: { host: `localhost:${port}` } })).status).not.toBe(403);
  });

  it('refuses a rebound chat request before any upstream call, and accepts names in server.allowed_hosts', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim, { allowed_hosts: ['detour.internal'] })));
    const rebound = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { host: 'attacker.example', 'content-type': 'application/json' }, body: chatBody });
    expect(rebound.status).toBe(403);
    expect(sim.stats.requests).toBe(0);
    const named = await raw(gateway.url, { method: 'POST', path: '/v1/chat/completions', headers: { host: 'detour.internal:8787', 'content-type': 'application/json' }, body: chatBody });
    expect(named.status).toBe(200);
  });
});

describe('bind refusal', () => {
  it('refuses a non-loopback address with auth.mode none, saying why and how', async () => {
    const sim = cleanup.add(await startSim());
    const error = await startGateway(config(sim, { host: '0.0.0.0' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BindRefusedError);
    expect((error as Error).message).toMatch(/auth\.mode: none/);
    expect((error as Error).message).toMatch(/server\.allow_unauthenticated: true/);
    expect((error as Error).message).toMatch(/auth\.mode: keys/);
  });

  it('listens there with server.allow_unauthenticated, or with client keys', async () => {
    const sim = cleanup.add(await startSim());
    const open = cleanup.add(await startGateway(config(sim, { host: '0.0.0.0', allow_unauthenticated: true })));
    expect(open.host).toBe('0.0.0.0');
    const keyed = cleanup.add(await startGateway(config(sim, { host: '0.0.0.0' }, { auth: { mode: 'keys', keys: [{ name: 'a', key: 'client-key-0123456789abcdef' }] } })));
    expect(keyed.host).toBe('0.0.0.0');
  });
});

describe('bounded cardinality', () => {
  it('does not address provider/model by default', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim)));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'primary/gpt-4o', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(sim.stats.requests).toBe(0);
  });

  it('keeps /metrics to configured names however many models a pattern lets clients address', async () => {
    const sim = cleanup.add(await startSim());
    const provider = { ...openAiProvider(sim), models: ['gpt-*'] };
    const gateway = cleanup.add(await startGateway({ ...config(sim, { direct_addressing: true }), providers: { primary: provider } }, { processMetrics: false }));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const before = (await (await fetch(`${gateway.url}/metrics`)).text()).length;
    const unlisted = await client.chat.completions.create({ model: 'primary/claude-x', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(unlisted).toBeInstanceOf(OpenAI.NotFoundError);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 20 }, (_, index) => client.chat.completions.create({ model: `primary/gpt-invented-${batch}-${index}`, messages: [{ role: 'user', content: 'x' }] })));
    }
    await gateway.observability.flush();
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics.split('\n').filter((line) => line.includes('gpt-invented')).slice(0, 3)).toEqual([]);
    expect(metrics).toMatch(/detour_requests_total\{route="other",status="200"\} 200/);
    // A fixed set of new series (route "other", target "other"), not one per invented model.
    expect(metrics.length - before).toBeLessThan(30_000);
    const stats = (await (await fetch(`${gateway.url}/admin/api/stats?scope=route&window=1m`)).json()) as { series: Record<string, unknown> };
    expect(Object.keys(stats.series).filter((name) => name.includes('invented'))).toEqual([]);
  });
});

describe('admin hardening', () => {
  const token = 'admin-token-0123456789abcdef';

  it('throttles sign-in per address with exponential backoff, refusing even the right token while it waits', async () => {
    const sim = cleanup.add(await startSim());
    // Time stands still: the backoff, not the test's speed, decides what is checked.
    const gateway = cleanup.add(await startGateway(config(sim, { admin_token: token }), { clock: new ManualClock(Date.now()) }));
    const login = (value: string) => fetch(`${gateway.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: value }), redirect: 'manual' });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 200; attempt++) statuses.push((await login(`wrong-${attempt}`)).status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(196);
    const throttled = await login(token);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('holds random sessions on the server: each sign-in gets its own, and POST /admin/logout revokes it', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim, { admin_token: token })));
    const signIn = async (): Promise<string> => {
      const response = await fetch(`${gateway.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
      expect(response.status).toBe(303);
      return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    };
    const first = await signIn();
    const second = await signIn();
    expect(first).not.toBe(second);
    const session = (await (await fetch(`${gateway.url}/admin/api/session`, { headers: { cookie: first } })).json()) as { csrf_token: string };
    expect(session.csrf_token).toBeTruthy();
    const withoutCsrf = await fetch(`${gateway.url}/admin/logout`, { method: 'POST', headers: { cookie: first } });
    expect(withoutCsrf.status).toBe(403);
    const logout = await fetch(`${gateway.url}/admin/logout`, { method: 'POST', headers: { cookie: first, 'x-detour-csrf': session.csrf_token } });
    expect(logout.status).toBe(204);
    expect((await fetch(`${gateway.url}/admin/api/overview`, { headers: { cookie: first } })).status).toBe(401);
    expect((await fetch(`${gateway.url}/admin/api/overview`, { headers: { cookie: second } })).status).toBe(200);
  });

  it('refuses cross-site state changes and cookie requests without the CSRF token; a bearer token needs neither', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim, { admin_token: token }, { auth: { secret: authSecret }, log: { enabled: false, path: tempLogPath() } })));
    const body = JSON.stringify({ name: 'svc' });
    const login = await fetch(`${gateway.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const crossSite = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' }, body });
    expect(crossSite.status).toBe(403);
    const noToken = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body });
    expect(noToken.status).toBe(403);
    const { csrf_token: csrf } = (await (await fetch(`${gateway.url}/admin/api/session`, { headers: { cookie } })).json()) as { csrf_token: string };
    const withToken = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { cookie, 'x-detour-csrf': csrf, 'content-type': 'application/json' }, body });
    expect(withToken.status).toBe(201);
    const bearer = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'svc2' }) });
    expect(bearer.status).toBe(201);
    const crossSiteLogin = await fetch(`${gateway.url}/admin/login`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: new URLSearchParams({ token }), redirect: 'manual' });
    expect(crossSiteLogin.status).toBe(403);
    const audit = (await (await fetch(`${gateway.url}/admin/api/audit`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: Array<{ action: string }> };
    const actions = audit.data.map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['key.created', 'admin.login', 'config.loaded']));
  });

  it('refuses a cross-site state change on loopback without a token', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway(config(sim, {}, { auth: { secret: authSecret }, log: { enabled: false, path: tempLogPath() } })));
    const forged = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged' }) });
    expect(forged.status).toBe(403);
    const fetchSite = await fetch(`${gateway.url}/admin/api/keys`, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged' }) });
    expect(fetchSite.status).toBe(403);
    const keys = (await (await fetch(`${gateway.url}/admin/api/keys`)).json()) as { data: unknown[] };
    expect(keys.data).toHaveLength(0);
  });
});
