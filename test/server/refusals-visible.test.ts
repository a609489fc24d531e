import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { authSecret, tempLogPath } from '../helpers/keys.js';

/**
 * Nothing invisible: every request Detour refuses — a path it does not serve, a wrong method, a
 * body that is not JSON, too large or invalid, a missing or out-of-scope key, a rate limit, a
 * spent budget, an unknown model, and what Node's own parser refuses — is logged at info (the
 * unserved path with its method, path and user agent), counted in /metrics under a bounded path
 * label, and written to the request log and the dashboard's recent requests with its status,
 * error code and message. Read from outside: the JSON log, /metrics, /admin/api/requests and
 * /admin/api/recent of the real server.
 */
let sim: Simulator;
let gateway: RunningGateway;
const logLines: Array<Record<string, unknown>> = [];

const keys = {
  open: 'client-key-open-0123456789',
  scoped: 'client-key-scoped-0123456789',
  slow: 'client-key-slow-0123456789',
  capped: 'client-key-capped-0123456789',
};

beforeAll(async () => {
  sim = await startSim();
  const logger = pino({ level: 'info', base: undefined }, new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
  gateway = await startGateway(
    {
      server: { max_body_bytes: 4096, headers_timeout_ms: 1000 },
      providers: { primary: openAiProvider(sim) },
      models: {
        chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
        other: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
      },
      log: { path: tempLogPath(), flush_interval_ms: 10 },
      auth: {
        mode: 'keys',
        secret: authSecret,
        keys: [
          { name: 'open', key: keys.open },
          { name: 'scoped', key: keys.scoped, routes: ['other'] },
          { name: 'slow', key: keys.slow, rpm: 1 },
          { name: 'capped', key: keys.capped, budget_usd: 0.0001, period: 'day' },
        ],
      },
    },
    { logger },
  );
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await sim?.close();
});

const ask = { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] };

async function send(path: string, init: { method?: string; key?: string; body?: string; headers?: Record<string, string>; id: string }): Promise<Response> {
  const headers: Record<string, string> = { 'x-request-id': init.id, 'user-agent': `refusal-test/${init.id}`, ...init.headers };
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  return fetch(`${gateway.url}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, body: init.body });
}

/** Sends raw bytes and reads the whole answer until the server closes. */
function raw(bytes: string, options: { holdOpen?: boolean } = {}): Promise<string> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(bytes);
    if (!options.holdOpen) socket.end();
  });
}

interface Row {
  id: string;
  route: string;
  status: number;
  error_code: string | null;
  error_message: string | null;
}

/** The refusal each case must leave: its status, code and a message that says why. */
const cases: Array<{ id: string; status: number; code: string; message: RegExp; run: () => Promise<Response> }> = [
  { id: 'unserved-path', status: 404, code: 'NOT_FOUND', message: /^GET \/v1\/no-such-thing is not served here/, run: () => send('/v1/no-such-thing', { id: 'unserved-path', key: keys.open }) },
  { id: 'wrong-method', status: 405, code: 'METHOD_NOT_ALLOWED', message: /^DELETE \/v1\/chat\/completions is not served here/, run: () => send('/v1/chat/completions', { id: 'wrong-method', method: 'DELETE', key: keys.open }) },
  { id: 'not-json-type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: /must be JSON/, run: () => send('/v1/chat/completions', { id: 'not-json-type', key: keys.open, body: JSON.stringify(ask), headers: { 'content-type': 'text/plain' } }) },
  { id: 'no-key', status: 401, code: 'UNAUTHORIZED', message: /A Detour key is required/, run: () => send('/v1/chat/completions', { id: 'no-key', body: JSON.stringify(ask) }) },
  { id: 'out-of-scope', status: 403, code: 'FORBIDDEN', message: /chat/, run: () => send('/v1/chat/completions', { id: 'out-of-scope', key: keys.scoped, body: JSON.stringify(ask) }) },
  { id: 'bad-json', status: 400, code: 'INVALID_JSON', message: /not valid JSON/, run: () => send('/v1/chat/completions', { id: 'bad-json', key: keys.open, body: '{"model": ' }) },
  { id: 'invalid', status: 400, code: 'INVALID_REQUEST', message: /messages/, run: () => send('/v1/chat/completions', { id: 'invalid', key: keys.open, body: JSON.stringify({ model: 'chat' }) }) },
  { id: 'too-large', status: 413, code: 'BODY_TOO_LARGE', message: /4096/, run: () => send('/v1/chat/completions', { id: 'too-large', key: keys.open, body: JSON.stringify({ ...ask, padding: 'x'.repeat(8192) }) }) },
  { id: 'unknown-model', status: 404, code: 'ROUTE_NOT_FOUND', message: /"gpt-nine" is not a route/, run: () => send('/v1/chat/completions', { id: 'unknown-model', key: keys.open, body: JSON.stringify({ ...ask, model: 'gpt-nine' }) }) },
  { id: 'over-budget', status: 402, code: 'BUDGET_EXCEEDED', message: /budget of \$0\.000100 for the Detour key "capped" is spent/, run: () => send('/v1/chat/completions', { id: 'over-budget', key: keys.capped, body: JSON.stringify({ ...ask, max_tokens: 1_000_000 }) }) },
  {
    id: 'rate-limited',
    status: 429,
    code: 'RATE_LIMITED',
    message: /rpm|per minute/i,
    run: async () => {
      expect((await send('/v1/chat/completions', { id: 'rate-limited-first', key: keys.slow, body: JSON.stringify(ask) })).status).toBe(200);
      return send('/v1/chat/completions', { id: 'rate-limited', key: keys.slow, body: JSON.stringify(ask) });
    },
  },
  { id: 'gemini-unserved', status: 404, code: 'NOT_FOUND', message: /is not served here/, run: () => send('/v1beta/models/chat:bogusAction', { id: 'gemini-unserved', key: keys.open, body: '{}', headers: { 'x-goog-api-key': keys.open } }) },
];

async function rows(path: string): Promise<Row[]> {
  await gateway.observability.flush();
  const response = await fetch(`${gateway.url}${path}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Row[] }).data;
}

describe('every refused request says why, everywhere an operator looks', () => {
  beforeAll(async () => {
    for (const entry of cases) {
      const response = await entry.run();
      expect({ id: entry.id, status: response.status }).toStrictEqual({ id: entry.id, status: entry.status });
    }
    // Node's parser refuses these before any route: they reach the gateway's accounting all the same.
    expect(await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nUser-Agent: broken-client/1\r\nContent-Length: nope\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET /v1/models HTTP/1.1\r\nHost: x\r\nUser-Agent: huge-headers/1\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n', { holdOpen: true })).toMatch(/^HTTP\/1\.1 408 /);
    // No upstream saw any of them: only the rate limit's first, admitted request.
    expect(sim.stats.requests).toBe(1);
  }, 60_000);

  it.each(cases.map((entry) => [entry.id, entry] as const))('%s: the request log row (admin API) has its status, code and message', async (_id, entry) => {
    const logged = (await rows(`/admin/api/requests?limit=200`)).find((row) => row.id === entry.id);
    expect(logged).toMatchObject({ route: '(rejected)', status: entry.status, error_code: entry.code });
    expect(logged?.error_message).toMatch(entry.message);
  });

  it.each(cases.map((entry) => [entry.id, entry] as const))('%s: the dashboard`s recent requests say the same', async (_id, entry) => {
    const shown = (await rows('/admin/api/recent?limit=200')).find((row) => row.id === entry.id);
    expect(shown).toMatchObject({ status: entry.status, error_code: entry.code });
    expect(shown?.error_message).toMatch(entry.message);
  });

  it('Node`s parser refusals (400, 431, 408) are in the request log and the dashboard with their reason', async () => {
    for (const path of ['/admin/api/requests?limit=200', '/admin/api/recent?limit=200']) {
      const found = await rows(path);
      for (const [status, code, message] of [
        [400, 'BAD_REQUEST', /not valid HTTP/],
        [431, 'HEADERS_TOO_LARGE', /headers are larger/],
        [408, 'REQUEST_TIMEOUT', /did not arrive in time/],
      ] as const) {
        const row = found.find((entry) => entry.error_code === code);
        expect(row, `${path} ${code}`).toMatchObject({ status, route: '(rejected)' });
        expect(row?.error_message).toMatch(message);
      }
    }
  });

  it('a path Detour does not serve is logged at info with its method, path and user agent', () => {
    const line = logLines.find((entry) => entry.requestId === 'unserved-path');
    expect(line).toMatchObject({ level: 30, msg: 'request refused', method: 'GET', path: '/v1/no-such-thing', userAgent: 'refusal-test/unserved-path', status: 404, errorCode: 'NOT_FOUND' });
    const parser = logLines.find((entry) => entry.errorCode === 'BAD_REQUEST');
    expect(parser).toMatchObject({ level: 30, method: 'POST', path: '/v1/chat/completions', userAgent: 'broken-client/1', status: 400 });
    // Every other refusal has its line too, with its code and message.
    for (const entry of cases) expect(logLines.find((line) => line.requestId === entry.id)).toMatchObject({ status: entry.status, errorCode: entry.code, errorMessage: expect.stringMatching(entry.message) });
  });

  it('/metrics counts refusals by method, the served path (or "other") and code, never by the raw path', async () => {
    // A scanner's thousand paths are one series.
    for (let index = 0; index < 30; index++) expect((await send(`/wp-admin/probe-${index}.php`, { id: `scan-${index}` })).status).toBe(404);
    await gateway.observability.flush();
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const count = (labels: string): number => Number(new RegExp(`^detour_rejected_requests_total\\{${labels.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('method="GET",path="other",status="404",code="NOT_FOUND"')).toBe(31);
    expect(count('method="DELETE",path="/v1/chat/completions",status="405",code="METHOD_NOT_ALLOWED"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="415",code="UNSUPPORTED_MEDIA_TYPE"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="401",code="UNAUTHORIZED"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="403",code="FORBIDDEN"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="402",code="BUDGET_EXCEEDED"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="429",code="RATE_LIMITED"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="413",code="BODY_TOO_LARGE"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="404",code="ROUTE_NOT_FOUND"')).toBe(1);
    expect(count('method="POST",path="/v1beta/models/:action",status="404",code="NOT_FOUND"')).toBe(1);
    expect(count('method="POST",path="/v1/chat/completions",status="400",code="BAD_REQUEST"')).toBe(1);
    expect(count('method="GET",path="/v1/models",status="431",code="HEADERS_TOO_LARGE"')).toBe(1);
    // Node hands over no bytes of a request that timed out: it counts under "other".
    expect(count('method="other",path="other",status="408",code="REQUEST_TIMEOUT"')).toBe(1);
    expect(text).not.toContain('wp-admin');
    expect(text).not.toContain('no-such-thing');
    const series = text.split('\n').filter((line) => line.startsWith('detour_rejected_requests_total{'));
    expect(series.every((line) => /path="(other|\/[^"]*)"/.test(line))).toBe(true);
  });
});
