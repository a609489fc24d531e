import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startGateway } from '../helpers/gateway.js';
import { tempLogPath } from '../helpers/keys.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const upstreamKey = 'sk-proj-upstream-secret-7Hq2Lm9Xw4';
const orgSecret = 'org-header-secret-Zk81Pq';
const authSecret = 'detour-auth-secret-Vb62Rt0Ys5Ue';
const clientKey = 'client-config-key-Jd93Nf7Ka2';
const adminToken = 'admin-token-Qw47Er58Ty69Ui';
const secrets = { upstreamKey, orgSecret, authSecret, clientKey, adminToken };

const everyChar = (text: string, encode: (code: number) => string): string => [...text].map((char) => encode(char.charCodeAt(0))).join('');
const jsonEscaped = (text: string): string => everyChar(text, (code) => `\\u${code.toString(16).padStart(4, '0')}`);
const urlEncoded = (text: string): string => everyChar(text, (code) => `%${code.toString(16).padStart(2, '0').toUpperCase()}`);

/** How an upstream may echo what it was sent: each a way a secret could slip past a raw-text match. */
const echoes: Record<string, (value: string) => string> = {
  raw: (value) => value,
  jsonEscaped,
  urlEncoded,
  basicAuth: (value) => `Basic ${Buffer.from(`user:${value}`).toString('base64')}`,
  basicAuthAsUser: (value) => `Basic ${Buffer.from(`${value}:`).toString('base64')}`,
};

/** Every form a secret must never appear in, in any sink. */
function leaksIn(text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    const forms = [secret, jsonEscaped(secret), urlEncoded(secret), encodeURIComponent(secret), Buffer.from(secret).toString('base64').slice(0, -4)];
    for (const offset of [1, 2]) forms.push(Buffer.from(`${'x'.repeat(offset)}${secret}`).toString('base64').slice(4, -4));
    for (const form of forms) if (form.length >= 8 && text.includes(form)) found.push(`${name} as ${form.slice(0, 12)}…`);
  }
  return found;
}

interface Scripted {
  status: number;
  contentType: string;
  body: (headers: IncomingHttpHeaders) => string;
}

/** An upstream that answers with whatever the test scripts next, echoing the headers it received. */
async function echoingUpstream(): Promise<{ url: string; script: Scripted[]; received: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const script: Scripted[] = [];
  const received: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push(request.headers);
      const next = script.shift() ?? { status: 500, contentType: 'application/json', body: () => '{"error":{"message":"unscripted"}}' };
      response.writeHead(next.status, { 'content-type': next.contentType });
      response.end(next.body(request.headers));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, script, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** What an upstream echoing its request headers writes, for each error shape. */
function errorShapes(encode: (value: string) => string): Array<{ shape: string; status: number; contentType: string; body: (headers: IncomingHttpHeaders) => string }> {
  const echoed = (headers: IncomingHttpHeaders): Record<string, string> => ({
    authorization: encode(String(headers.authorization ?? '').replace(/^Bearer /, '')),
    'openai-organization': encode(String(headers['openai-organization'] ?? '')),
    // Secrets the upstream was never sent: echoed as if it had them, so that redaction is proven for them too.
    guess: `${encode(authSecret)} ${encode(clientKey)} ${encode(adminToken)}`,
  });
  const message = (headers: IncomingHttpHeaders): string => Object.values(echoed(headers)).join(' | ');
  // The encoded forms are written into the JSON text verbatim, as a server that escapes by hand would.
  const rawJson = (status: number) => (headers: IncomingHttpHeaders) => `{"error":{"message":"bad request: ${message(headers)}","type":"invalid_request_error","param":"${echoed(headers).authorization}","code":"${status}"},"echo":{"headers":{"authorization":"${echoed(headers).authorization}","org":"${echoed(headers)['openai-organization']}"}}}`;
  return [
    { shape: 'openai 400', status: 400, contentType: 'application/json', body: rawJson(400) },
    { shape: 'openai 401', status: 401, contentType: 'application/json', body: rawJson(401) },
    { shape: 'openai 403', status: 403, contentType: 'application/json', body: rawJson(403) },
    { shape: 'openai 404', status: 404, contentType: 'application/json', body: rawJson(404) },
    { shape: 'openai 422', status: 422, contentType: 'application/json', body: rawJson(422) },
    { shape: 'openai 429', status: 429, contentType: 'application/json', body: rawJson(429) },
    { shape: 'openai 500', status: 500, contentType: 'application/json', body: rawJson(500) },
    { shape: 'text 400', status: 400, contentType: 'text/plain', body: (headers) => `Bad Request. You sent: ${message(headers)}` },
    { shape: 'html 502', status: 502, contentType: 'text/html', body: (headers) => `<html><body>upstream broke: ${message(headers)}</body></html>` },
    { shape: 'anthropic-style 400', status: 400, contentType: 'application/json', body: (headers) => `{"type":"error","error":{"type":"invalid_request_error","message":"${message(headers)}"}}` },
  ];
}

/** Reads an SSE stream for a while and returns what arrived. */
async function readEvents(url: string, forMs: number): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { authorization: `Bearer ${adminToken}` } });
  const reader = response.body?.getReader();
  let text = '';
  const timer = setTimeout(() => controller.abort(), forMs);
  try {
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += Buffer.from(chunk.value).toString('utf8');
    }
  } catch {
    // aborted: the time is up
  } finally {
    clearTimeout(timer);
  }
  return text;
}

describe('no configured secret leaves in any encoding, through any sink', () => {
  it('redacts every secret from every upstream error shape and echo encoding, in client bodies, debug logs, /metrics, the admin API, the event stream and the request log', async () => {
    const upstream = cleanup.add(await echoingUpstream());
    const logLines: string[] = [];
    const logger = pino({ level: 'debug', base: undefined }, new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString()), done()) }));
    const logPath = tempLogPath();
    const gateway = cleanup.add(
      await startGateway(
        {
          server: { host: '127.0.0.1', port: 0, admin_token: adminToken },
          providers: { up: { type: 'openai', base_url: `${upstream.url}/v1`, api_key: upstreamKey, headers: { 'openai-organization': orgSecret } } },
          models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }], retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } } },
          breaker: { failure_threshold: 1000, minimum_requests: 1000 },
          log: { enabled: true, path: logPath, bodies: true, flush_interval_ms: 10 },
          auth: { mode: 'keys', secret: authSecret, keys: [{ name: 'svc', key: clientKey }] },
        },
        { logger },
      ),
    );
    const events = readEvents(`${gateway.url}/admin/api/events`, 4000);
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: clientKey, maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: clientKey, maxRetries: 0 });
    const clientSeen: string[] = [];
    let calls = 0;
    for (const [encoding, encode] of Object.entries(echoes)) {
      for (const shape of errorShapes(encode)) {
        for (const client of ['openai', 'anthropic'] as const) {
          upstream.script.push(shape);
          calls++;
          const error = await (client === 'openai'
            ? openai.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
            : anthropic.messages.create({ model: 'chat', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
          ).then(
            () => undefined,
            (reason: unknown) => reason as { status?: number; error?: unknown; message?: string; headers?: Headers },
          );
          expect(error, `${encoding} ${shape.shape} via ${client}`).toBeDefined();
          clientSeen.push(`${encoding} ${shape.shape} ${client}: ${JSON.stringify(error?.error)} ${error?.message} ${JSON.stringify(Object.fromEntries(error?.headers?.entries() ?? []))}`);
        }
      }
    }
    expect(upstream.received.length).toBeGreaterThanOrEqual(calls);
    // The client's key and the auth secret never travel upstream.
    expect(leaksIn(JSON.stringify(upstream.received.map(({ authorization: _a, 'openai-organization': _o, ...rest }) => rest)))).toEqual([]);

    await gateway.observability.flush();
    const bearer = { authorization: `Bearer ${adminToken}` };
    const admin = async (path: string): Promise<string> => (await fetch(`${gateway.url}${path}`, { headers: bearer })).text();
    const sinks: Record<string, string> = {
      client: clientSeen.join('\n'),
      metrics: await admin('/metrics'),
      requests: await admin('/admin/api/requests?limit=500'),
      recent: await admin('/admin/api/recent?limit=200'),
      overview: await admin('/admin/api/overview'),
      targets: await admin('/admin/api/targets'),
      incidents: await admin('/admin/api/incidents'),
      keys: await admin('/admin/api/keys'),
      audit: await admin('/admin/api/audit'),
      events: await events,
      logs: logLines.join(''),
    };
    // Every file of the request-log database (WAL included), as bytes on disk.
    await gateway.close();
    const directory = dirname(logPath);
    sinks.requestLog = readdirSync(directory)
      .map((file) => readFileSync(join(directory, file)).toString('latin1'))
      .join('\n');
    expect(sinks.client).toMatch(/redacted/);
    expect(sinks.logs).toMatch(/attempt failed/);
    expect(sinks.requests?.length).toBeGreaterThan(1000);
    for (const [sink, text] of Object.entries(sinks)) expect(leaksIn(text), sink).toEqual([]);
  }, 60_000);
});
