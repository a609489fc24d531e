import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, startSim } from '../helpers/gateway.js';
import { detourCli, killLeftovers, startDetourProcess } from '../helpers/detour-process.js';

/**
 * Reload proven on a real `detour start` process: SIGHUP and `server.watch_config` with a
 * valid and an invalid config, under steady load. Nothing here is in process: the config is a
 * file, the signal a signal, the evidence what clients received, the logs and `/metrics`.
 */

const cli = detourCli;
const cleanup = new Cleanup();
const children: ChildProcess[] = [];
afterEach(async () => {
  killLeftovers(children);
  await cleanup.run();
});

interface Detour {
  url: string;
  child: ChildProcess;
  path: string;
  folder: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** A config with `chat` (and any extra routes) on the given simulators. */
function yaml(sims: Record<string, Simulator>, routes: Record<string, string>, server = ''): string {
  const providers = Object.entries(sims).map(([name, sim]) => `  ${name}: { type: openai, base_url: ${sim.url}/v1, api_key: sk-test-key-${name}-0001 }`);
  const models = Object.entries(routes).map(([route, provider]) => `  ${route}:\n    targets: [{ provider: ${provider}, model: gpt-4o-mini }]\n    timeout_ms: 60000\n    attempt_timeout_ms: 60000`);
  return `server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 5000${server} }\nlog: { enabled: false }\nproviders:\n${providers.join('\n')}\nmodels:\n${models.join('\n')}\n`;
}

async function startDetour(config: string): Promise<Detour> {
  const folder = mkdtempSync(join(tmpdir(), 'detour-reload-'));
  cleanup.add({ close: () => rmSync(folder, { recursive: true, force: true }) });
  const path = join(folder, 'detour.yaml');
  writeFileSync(path, config);
  const { url, child, exited, output: outputOf } = await startDetourProcess(path, { children });
  return { url, child, path, folder, output: outputOf, exited };
}

/** The process's JSON log lines with this message (pino writes asynchronously: wait for them). */
function logLines(detour: Detour, message: string): Array<Record<string, unknown>> {
  return detour
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => typeof line.msg === 'string' && line.msg.startsWith(message));
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ask(url: string, model: string): Promise<{ status: number; text: string | undefined }> {
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
    return { status: response.status, text: body.choices?.[0]?.message?.content };
  } catch (error) {
    return { status: 0, text: String(error) };
  }
}

/** Steady load on `chat` until stopped: every answer with when it started (ms since load start). */
function steadyLoad(url: string, workers = 4): { stop(): Promise<Array<{ startedAt: number; status: number; text: string | undefined }>> } {
  const results: Array<{ startedAt: number; status: number; text: string | undefined }> = [];
  let isStopped = false;
  const loops = Array.from({ length: workers }, async () => {
    while (!isStopped) {
      const startedAt = Date.now();
      results.push({ startedAt, ...(await ask(url, 'chat')) });
    }
  });
  return {
    async stop() {
      isStopped = true;
      await Promise.all(loops);
      return results;
    },
  };
}

/** A stream that has received its first bytes; `rest` resolves with the whole text. */
async function openStream(url: string): Promise<{ rest: Promise<string>; isDone: () => boolean }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  let isDone = false;
  const rest = (async () => {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        isDone = true;
        return text;
      }
      text += decoder.decode(next.value, { stream: true });
    }
  })();
  return { rest, isDone: () => isDone };
}

/** The content a streamed answer carried, from its SSE text. */
function streamedContent(sse: string): string {
  let content = '';
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
    content += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return content;
}

/** What `detour check` prints for a config: its exit code and the problem lines. */
async function check(path: string): Promise<{ code: number | null; problems: string[] }> {
  const child = spawn(process.execPath, [cli, 'check', '--config', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, problems: stderr.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim()) };
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function simulators(): Promise<{ a: Simulator; b: Simulator }> {
  // Each answer takes a while, so that requests are always in flight when the config changes.
  // a's streams send a chunk a second (6 of them): one opened before a reload is still open after it.
  const a = cleanup.add(await startSim({ answer: { text: 'from a', chunks: 6 }, chunkDelayMs: 1000, plan: { faults: [{ latency_ms: 40 }] } }));
  const b = cleanup.add(await startSim({ answer: { text: 'from b' }, plan: { faults: [{ latency_ms: 40 }] } }));
  return { a, b };
}

describe('detour start reloads its config (a real process)', () => {
  it('SIGHUP under steady load: a valid config swaps in (in-flight requests finish on the old one, the new route serves), an invalid one is refused with check’s errors, logged and counted; no request fails', async () => {
    const { a, b } = await simulators();
    const detour = await startDetour(yaml({ a, b }, { chat: 'a' }));
    const load = steadyLoad(detour.url);
    await waitFor('the first answers', async () => ((await ask(detour.url, 'chat')).text === 'from a' ? true : undefined));
    // A stream under way on the old config (its upstream sends a chunk a second).
    const stream = await openStream(detour.url);

    writeFileSync(detour.path, yaml({ a, b }, { chat: 'b', fresh: 'b' }));
    const signalledAt = Date.now();
    detour.child.kill('SIGHUP');
    await waitFor('the reload', () => (logLines(detour, 'config reloaded').length > 0 ? true : undefined));
    // The log line is written once the new engine serves; whatever starts after it is the new config's.
    const reloadedAt = Date.now();
    expect(stream.isDone(), 'the stream opened before the reload is still open after it').toBe(false);
    const fresh = await ask(detour.url, 'fresh');
    expect(fresh).toEqual({ status: 200, text: 'from b' });
    expect(streamedContent(await stream.rest)).toBe('from a');

    // Invalid: a target naming a provider that does not exist.
    const invalid = yaml({ a, b }, { chat: 'bakup', fresh: 'b' });
    writeFileSync(detour.path, invalid);
    const checked = await check(detour.path);
    expect(checked.code).toBe(2);
    expect(checked.problems.join('\n')).toContain('unknown provider "bakup"');
    detour.child.kill('SIGHUP');
    const refused = await waitFor('the refusal', () => logLines(detour, 'config reload refused')[0]);
    expect(refused.problems).toEqual(checked.problems);
    expect(refused.level).toBe(50);
    const stillServing = await ask(detour.url, 'chat');
    expect(stillServing).toEqual({ status: 200, text: 'from b' });

    const results = await load.stop();
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    // After the reload only b answers; around it either may (a request is on the engine it was admitted by), never anything else.
    expect(results.some((result) => result.startedAt < signalledAt && result.text === 'from a')).toBe(true);
    expect(results.every((result) => result.text === 'from a' || result.text === 'from b')).toBe(true);
    expect(results.filter((result) => result.startedAt > reloadedAt).every((result) => result.text === 'from b')).toBe(true);
    expect(results.some((result) => result.startedAt > reloadedAt)).toBe(true);
    expect(await metric(detour.url, 'detour_config_reloads_total{result="success"}')).toBe(1);
    expect(await metric(detour.url, 'detour_config_reloads_total{result="failure"}')).toBe(1);

    detour.child.kill('SIGTERM');
    expect(await detour.exited).toBe(0);
  });

  it('server.watch_config: a file replaced on disk (renamed over, as editors and ConfigMaps do) or rewritten in place is reloaded under load; an invalid one is refused; no request fails', async () => {
    const { a, b } = await simulators();
    const watching = ', watch_config: true';
    const detour = await startDetour(yaml({ a, b }, { chat: 'a' }, watching));
    const load = steadyLoad(detour.url);
    await waitFor('the first answers', async () => ((await ask(detour.url, 'chat')).text === 'from a' ? true : undefined));

    // Replaced: a new file renamed over the old one.
    const next = join(detour.folder, 'detour.yaml.next');
    writeFileSync(next, yaml({ a, b }, { chat: 'a', fresh: 'b' }, watching));
    renameSync(next, detour.path);
    expect(await waitFor('the new route', async () => ((await ask(detour.url, 'fresh')).status === 200 ? (await ask(detour.url, 'fresh')).text : undefined))).toBe('from b');

    // Invalid, in place: refused, and the running config stays.
    writeFileSync(detour.path, yaml({ a, b }, { chat: 'bakup', fresh: 'b' }, watching));
    const refused = await waitFor('the refusal', () => logLines(detour, 'config reload refused')[0]);
    expect(JSON.stringify(refused.problems)).toContain('unknown provider \\"bakup\\"');
    expect(await ask(detour.url, 'fresh')).toEqual({ status: 200, text: 'from b' });

    // Rewritten in place, valid: chat moves to b.
    writeFileSync(detour.path, yaml({ a, b }, { chat: 'b', fresh: 'b' }, watching));
    await waitFor('chat on b', async () => ((await ask(detour.url, 'chat')).text === 'from b' ? true : undefined));

    const results = await load.stop();
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    expect(await metric(detour.url, 'detour_config_reloads_total{result="failure"}')).toBeGreaterThanOrEqual(1);
    expect(await metric(detour.url, 'detour_config_reloads_total{result="success"}')).toBeGreaterThanOrEqual(2);
    detour.child.kill('SIGTERM');
    expect(await detour.exited).toBe(0);
  });
});
