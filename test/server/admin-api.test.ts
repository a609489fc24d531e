import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { Cleanup, deadPort, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
const folders: string[] = [];
afterEach(async () => {
  await cleanup.run();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const primaryKey = 'sk-primary-secret-key-1111';
const backupKey = 'sk-backup-secret-key-2222';

async function chat(gateway: RunningGateway, body: Record<string, unknown> = {}): Promise<Response> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }], ...body }),
  });
  await response.arrayBuffer();
  return response;
}

/** primary: a refused port; backup: a simulator. Every request fails over. */
async function failingOverGateway(extra: Record<string, unknown> = {}): Promise<RunningGateway> {
  const backup = cleanup.add(await startSim());
  const port = await deadPort();
  return cleanup.add(
    await startGateway(
      {
        providers: {
          primary: { type: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key: primaryKey },
          backup: openAiProvider(backup, backupKey),
        },
        models: {
          chat: {
            targets: [{ provider: 'primary', model: 'gpt-4o-mini' }, { provider: 'backup', model: 'gpt-4o-mini' }],
            retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 },
          },
        },
        ...extra,
      },
      { processMetrics: false },
    ),
  );
}

async function getText(gateway: RunningGateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${gateway.url}${path}`, { headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

function tempLogPath(): string {
  const folder = mkdtempSync(join(tmpdir(), 'detour-admin-'));
  folders.push(folder);
  return join(folder, 'requests.sqlite');
}

describe('GET /metrics', () => {
  it('counts requests, attempts, retries, failovers, tokens and cost in Prometheus format', async () => {
    const gateway = await failingOverGateway();
    // Two requests: four refused connections, one short of opening the primary's circuit.
    for (let request = 0; request < 2; request++) expect((await chat(gateway)).status).toBe(200);
    await gateway.observability.flush();
    const { status, text, headers } = await getText(gateway, '/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/plain');
    expect(metricValue(text, 'detour_requests_total', { route: 'chat', status: '200' })).toBe(2);
    expect(metricValue(text, 'detour_failovers_total', { route: 'chat', from: 'primary/gpt-4o-mini', to: 'backup/gpt-4o-mini', code: 'UPSTREAM_CONNECT_FAILED' })).toBe(2);
    expect(metricValue(text, 'detour_upstream_attempts_total', { target: 'primary/gpt-4o-mini', outcome: 'failure', code: 'UPSTREAM_CONNECT_FAILED' })).toBe(4);
    expect(metricValue(text, 'detour_upstream_attempts_total', { target: 'backup/gpt-4o-mini', outcome: 'success' })).toBe(2);
    expect(metricValue(text, 'detour_retries_total', { target: 'primary/gpt-4o-mini', code: 'UPSTREAM_CONNECT_FAILED' })).toBe(2);
    expect(metricValue(text, 'detour_request_duration_seconds_count', { route: 'chat', outcome: 'success' })).toBe(2);
    expect(metricValue(text, 'detour_tokens_total', { target: 'backup/gpt-4o-mini', type: 'output' })).toBeGreaterThan(0);
    expect(metricValue(text, 'detour_cost_usd_total', { route: 'chat', kind: 'success' })).toBeGreaterThan(0);
    expect(metricValue(text, 'detour_circuit_state', { target: 'primary/gpt-4o-mini', state: 'closed' })).toBeDefined();
    expect(text).not.toContain(primaryKey);
    expect(text).not.toContain(backupKey);
  });
});

describe('admin API', () => {
  it('serves the request log with filters, attempts and cost, and never a key', async () => {
    const gateway = await failingOverGateway({ log: { path: tempLogPath(), flush_interval_ms: 10 } });
    await chat(gateway);
    await chat(gateway, { stream: true });
    await gateway.observability.flush();
    const all = JSON.parse((await getText(gateway, '/admin/api/requests')).text) as { data: Array<Record<string, unknown>> };
    expect(all.data.map((entry) => entry.stream)).toEqual([true, false]);
    expect(all.data[0]?.ttft_ms).toEqual(expect.any(Number));
    const failovers = await getText(gateway, '/admin/api/requests?failover=true&target=primary/gpt-4o-mini&limit=1&status=200');
    const entry = (JSON.parse(failovers.text) as { data: Array<Record<string, unknown>> }).data[0];
    expect(entry).toMatchObject({ route: 'chat', target: 'backup/gpt-4o-mini', failover: true, status: 200 });
    expect(entry?.cost_usd).toBeGreaterThan(0);
    expect(entry?.attempts).toEqual([
      expect.objectContaining({ target: 'primary/gpt-4o-mini', error_code: 'UPSTREAM_CONNECT_FAILED' }),
      expect.objectContaining({ target: 'primary/gpt-4o-mini', error_code: 'UPSTREAM_CONNECT_FAILED' }),
      expect.objectContaining({ target: 'backup/gpt-4o-mini', status: 200 }),
    ]);
    expect(failovers.text).not.toContain(primaryKey);
    expect((await getText(gateway, '/admin/api/requests?status=teapot')).status).toBe(400);
  });

  it('finds the one request a client reports by the x-request-id it was answered with', async () => {
    const gateway = await failingOverGateway({ log: { path: tempLogPath(), flush_interval_ms: 10 } });
    const first = await chat(gateway);
    await chat(gateway, { stream: true });
    await gateway.observability.flush();
    const requestId = first.headers.get('x-request-id') ?? '';
    expect(requestId).not.toBe('');
    const found = JSON.parse((await getText(gateway, `/admin/api/requests?request_id=${encodeURIComponent(requestId)}`)).text) as { data: Array<Record<string, unknown>> };
    expect(found.data).toHaveLength(1);
    expect(found.data[0]).toMatchObject({ id: requestId, stream: false, target: 'backup/gpt-4o-mini' });
    const missing = JSON.parse((await getText(gateway, '/admin/api/requests?request_id=req_nobody')).text) as { data: unknown[] };
    expect(missing.data).toEqual([]);
  });

  it('keeps prompts and answers only when log.bodies asks, streams included', async () => {
    const plain = await failingOverGateway({ log: { path: tempLogPath(), flush_interval_ms: 10 } });
    await chat(plain, { messages: [{ role: 'user', content: 'secret prompt text' }] });
    await plain.observability.flush();
    expect((await getText(plain, '/admin/api/requests')).text).not.toContain('secret prompt text');

    const keeping = await failingOverGateway({ log: { path: tempLogPath(), flush_interval_ms: 10, bodies: true } });
    await chat(keeping, { messages: [{ role: 'user', content: 'kept prompt text' }] });
    await chat(keeping, { stream: true, messages: [{ role: 'user', content: 'streamed prompt' }] });
    await keeping.observability.flush();
    const entries = (JSON.parse((await getText(keeping, '/admin/api/requests')).text) as { data: Array<{ request_body?: string; response_body?: string }> }).data;
    expect(entries[1]?.request_body).toContain('kept prompt text');
    expect(entries[1]?.response_body).toContain('Detour simulator');
    expect(entries[0]?.request_body).toContain('streamed prompt');
    expect(entries[0]?.response_body).toContain('data: [DONE]');
    expect(JSON.stringify(entries)).not.toContain(primaryKey);
  });

  it('lists every target`s live state: circuit, cooldown end, health, latency, success rate, in flight', async () => {
    const gateway = await failingOverGateway({ breaker: { failure_threshold: 2, minimum_requests: 100 } });
    await chat(gateway);
    const { status, text } = await getText(gateway, '/admin/api/targets');
    expect(status).toBe(200);
    const body = JSON.parse(text) as { state: { mode: string }; targets: Array<Record<string, unknown>> };
    expect(body.state.mode).toBe('memory');
    const primary = body.targets.find((target) => target.id === 'primary/gpt-4o-mini');
    const backup = body.targets.find((target) => target.id === 'backup/gpt-4o-mini');
    expect(primary).toMatchObject({ circuit: 'open', open_reason: 'failure_count', open_until: expect.any(String), health: 'unknown' });
    expect(backup).toMatchObject({ circuit: 'closed', in_flight: 0, latency_ewma_ms: expect.any(Number), success_rate_ewma: 1 });
    expect(text).not.toContain(primaryKey);
  });

  it('says the request log is off rather than pretending it is empty', async () => {
    const gateway = await failingOverGateway();
    const { status, text } = await getText(gateway, '/admin/api/requests');
    expect(status).toBe(404);
    expect(text).toContain('REQUEST_LOG_DISABLED');
  });

  it('shows per-target statistics, the open circuit, and cost per successful request', async () => {
    const gateway = await failingOverGateway();
    for (let request = 0; request < 4; request++) await chat(gateway);
    await gateway.observability.flush();
    const stats = JSON.parse((await getText(gateway, '/admin/api/stats?scope=target&window=5m')).text) as { series: Record<string, Record<string, { requests: number; success_rate: number; errors: Record<string, number> }>> };
    const primary = stats.series['primary/gpt-4o-mini']?.['5m'];
    expect(primary?.success_rate).toBe(0);
    expect(primary?.errors.UPSTREAM_CONNECT_FAILED).toBe(primary?.requests);
    expect(stats.series['backup/gpt-4o-mini']?.['5m']?.success_rate).toBe(1);
    const costs = JSON.parse((await getText(gateway, '/admin/api/costs?window=1h')).text) as { by_route: Record<string, { successes: number; success_usd: number; per_success_usd: number }> };
    const chatCost = costs.by_route.chat;
    expect(chatCost?.successes).toBe(4);
    expect(chatCost?.per_success_usd).toBeCloseTo((chatCost?.success_usd ?? 0) / 4);
    const overview = JSON.parse((await getText(gateway, '/admin/api/overview')).text) as { targets: Array<{ id: string; circuit: string; last_error_code: string }>; routes: Array<{ status: string }> };
    expect(overview.targets.find((target) => target.id === 'primary/gpt-4o-mini')).toMatchObject({ circuit: 'open', last_error_code: 'UPSTREAM_CONNECT_FAILED' });
    expect(overview.routes[0]?.status).toBe('degraded');
  });
});

describe('admin access', () => {
  it('answers only to localhost when no token is configured', async () => {
    const gateway = await failingOverGateway();
    expect((await getText(gateway, '/admin/api/overview')).status).toBe(200);
    const proxied = await getText(gateway, '/metrics', { 'x-forwarded-for': '203.0.113.7' });
    expect(proxied.status).toBe(403);
    expect(proxied.text).toContain('admin_token');
    expect((await getText(gateway, '/status', { 'x-forwarded-for': '203.0.113.7', accept: 'application/json' })).status).toBe(200);
  });

  it('requires the bearer token everywhere once one is configured; /status stays public', async () => {
    const token = 'admin-token-0123456789abcdef';
    const gateway = await failingOverGateway({ server: { host: '127.0.0.1', port: 0, admin_token: token } });
    for (const path of ['/metrics', '/admin/api/overview', '/admin/api/requests', '/admin/api/events']) {
      const denied = await getText(gateway, path);
      expect(denied.status, path).toBe(401);
      expect(denied.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await getText(gateway, '/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const allowed = await getText(gateway, '/metrics', { authorization: `Bearer ${token}` });
    expect(allowed.status).toBe(200);
    expect(allowed.text).not.toContain(token);
    const status = await getText(gateway, '/status.json');
    expect(status.status).toBe(200);
    expect(JSON.parse(status.text)).toMatchObject({ routes: [{ name: 'chat' }] });
  });

  it('signs a browser in with the token through a form and a cookie that is not the token', async () => {
    const token = 'admin-token-0123456789abcdef';
    const gateway = await failingOverGateway({ server: { host: '127.0.0.1', port: 0, admin_token: token } });
    const page = await getText(gateway, '/dashboard', { accept: 'text/html' });
    expect(page.status).toBe(401);
    expect(page.text).toContain('<form method="post" action="/admin/login">');
    const wrong = await fetch(`${gateway.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${gateway.url}/admin/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^detour_admin=/);
    expect(cookie).not.toContain(token);
    expect(login.headers.get('set-cookie')).toContain('HttpOnly');
    expect((await getText(gateway, '/dashboard', { cookie })).status).toBe(200);
    expect((await getText(gateway, '/admin/api/overview', { cookie })).status).toBe(200);
  });
});
