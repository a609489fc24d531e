import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { killLeftovers, startDetourProcess } from '../helpers/detour-process.js';

const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  killLeftovers(children);
  await cleanup.run();
});

interface Running {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
}

async function startDetour(simUrl: string, server: string): Promise<Running & { logPath: string }> {
  const folder = mkdtempSync(join(tmpdir(), 'detour-shutdown-'));
  cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
  const logPath = join(folder, 'requests.sqlite');
  const config = join(folder, 'detour.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: 0, ${server} }
log: { path: ${logPath} }
providers:
  primary: { type: openai, base_url: ${simUrl}/v1, api_key: sk-test-key-0001 }
models:
  chat:
    targets: [{ provider: primary, model: gpt-4o-mini }]
    timeout_ms: 120000
    attempt_timeout_ms: 120000
    stream_idle_timeout_ms: 60000
`,
  );
  const { url, child, exited, output: stdoutOf } = await startDetourProcess(config, { children });
  return { url, child, exited, stdout: stdoutOf, logPath };
}

/** A streamed request that resolves once its first bytes arrived, with the whole text later (boxed: a promise of a promise would flatten). */
async function openStream(url: string): Promise<{ text: Promise<string> }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  let text = decoder.decode(first.value, { stream: true });
  const whole = (async () => {
    for (;;) {
      const next = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (next.done) return text;
      text += decoder.decode(next.value, { stream: true });
    }
  })();
  return { text: whole };
}

function refusesConnections(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function loggedStatuses(logPath: string): number[] {
  const db = new Database(logPath, { readonly: true });
  try {
    return (db.prepare('SELECT status FROM requests ORDER BY seq').all() as Array<{ status: number }>).map((row) => row.status);
  } finally {
    db.close();
  }
}

describe('graceful shutdown (SIGTERM, SIGINT)', () => {
  it('lets 20 streams in flight finish, refuses new connections, logs every request, exits 0', async () => {
    // 8 chunks 300 ms apart: each stream runs about 2.5 s after the signal.
    const sim = cleanup.add(await startSim({ chunkDelayMs: 300 }));
    const detour = await startDetour(sim.url, 'shutdown_grace_ms: 30000');
    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream(detour.url)));
    detour.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await refusesConnections(detour.url)).toBe(true);
    const texts = await Promise.all(streams.map((stream) => stream.text));
    for (const text of texts) {
      expect(text).toContain('data: [DONE]');
      expect(text).not.toContain('"error"');
    }
    expect(await detour.exited).toBe(0);
    expect(loggedStatuses(detour.logPath)).toEqual(Array.from({ length: 20 }, () => 200));
    // One log line per request reached stdout before the process exited, each whole JSON.
    const finished = detour
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"request finished"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(finished).toHaveLength(20);
    for (const line of finished) {
      expect(line).toMatchObject({ level: 30, route: 'chat', status: 200, attempts: 1, stream: true, format: 'openai', msg: 'request finished' });
      expect(line.requestId).toMatch(/^req_/);
      expect(typeof line.time).toBe('number');
      expect(typeof line.latencyMs).toBe('number');
    }
  }, 60_000);

  it('ends streams still running after server.shutdown_grace_ms with an explicit error event, logs them, exits 0', async () => {
    // 8 chunks 2 s apart: about 15 s each, far past the 1 s grace.
    const sim = cleanup.add(await startSim({ chunkDelayMs: 2000 }));
    const detour = await startDetour(sim.url, 'shutdown_grace_ms: 1000');
    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream(detour.url)));
    detour.child.kill('SIGINT');
    const texts = await Promise.all(streams.map((stream) => stream.text));
    for (const text of texts) {
      expect(text).toMatch(/data: \{"error":\{[^\n]*shutting down/);
      expect(text).not.toContain('data: [DONE]');
    }
    expect(await detour.exited).toBe(0);
    const statuses = loggedStatuses(detour.logPath);
    expect(statuses).toHaveLength(20);
    expect(statuses.every((status) => status === 502)).toBe(true);
    expect(sim.stats.clientClosedCount).toBe(20);
  }, 60_000);

  it('with server.shutdown_drain_ms, /healthz answers 503 draining while requests are still served (connection: close), then the port closes', async () => {
    const sim = cleanup.add(await startSim());
    const detour = await startDetour(sim.url, 'shutdown_drain_ms: 3000');
    // Whatever Host a load balancer's check sends (none, a backend address) is answered.
    expect(await healthz(detour.url, 'evil.example')).toEqual({ status: 200, body: '{"status":"ok"}' });
    detour.child.kill('SIGTERM');
    await waitFor(async () => (await healthz(detour.url)).status === 503);
    expect(await healthz(detour.url, '10.0.0.7:8787')).toEqual({ status: 503, body: '{"status":"draining"}' });
    const during = await fetch(`${detour.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    await during.text();
    await waitFor(() => refusesConnections(detour.url));
    expect(await detour.exited).toBe(0);
    expect(loggedStatuses(detour.logPath)).toEqual([200]);
  }, 60_000);
});

function healthz(url: string, host?: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: Number(port), path: '/healthz', headers: host === undefined ? {} : { host }, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function waitFor(check: () => Promise<boolean> | boolean): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > 30_000) throw new Error('condition not reached within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
