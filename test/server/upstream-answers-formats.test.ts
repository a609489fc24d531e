import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../helpers/anthropic.js';
import { BadUpstream, type BadAnswer } from '../helpers/bad-upstream.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function json(status: number, body: string | Buffer, headers: Record<string, string> = {}): BadAnswer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
}

/** A 200 (or a redirect) that is no answer, whatever format the upstream speaks. */
const garbage: Array<[string, BadAnswer]> = [
  ['invalid JSON', json(200, '{"content": [')],
  ['HTML', json(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' })],
  ['an error object', json(200, JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }))],
  ['an empty body', json(200, '')],
  ['JSON of the wrong shape', json(200, JSON.stringify({ id: 'x', surprise: true }))],
  ['gzip bytes without content-encoding', json(200, gzipSync('{"id":"x"}'))],
  ['an encoding Detour cannot decode', json(200, Buffer.from('garbage'), { 'content-encoding': 'zstd' })],
  ['a redirect', json(302, '', { location: 'http://127.0.0.1:1/' })],
];

/** Each upstream format but OpenAI Chat Completions (test/server/upstream-answers.test.ts), and the client face that reaches it. */
const formats: Array<[string, (url: string) => Record<string, unknown>, { path: string; streamPath: string; body: Record<string, unknown>; stream: Record<string, unknown> }]> = [
  ['anthropic', (url) => anthropicProvider(url, 'sk-ant-bad-upstream-01'), { path: '/v1/messages', streamPath: '/v1/messages', body: { model: 'chat', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }] }, stream: { stream: true } }],
  ['gemini', (url) => ({ type: 'gemini', base_url: url, api_key: 'gemini-bad-upstream-01' }), { path: '/v1beta/models/chat:generateContent', streamPath: '/v1beta/models/chat:streamGenerateContent?alt=sse', body: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }, stream: {} }],
  ['openai api: responses', (url) => ({ type: 'openai', api: 'responses', base_url: `${url}/v1`, api_key: 'sk-bad-upstream-resp-01' }), { path: '/v1/responses', streamPath: '/v1/responses', body: { model: 'chat', input: 'Hi' }, stream: { stream: true } }],
  ['azure-openai', (url) => ({ type: 'azure-openai', base_url: url, api_key: 'azure-bad-upstream-01', api_version: '2024-10-21' }), { path: '/v1/chat/completions', streamPath: '/v1/chat/completions', body: { model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }, stream: { stream: true } }],
];

describe.each(formats)('a %s upstream answering garbage', (_format, provider, face) => {
  it.each(garbage)('%s is UPSTREAM_BAD_RESPONSE: fails over to the backup, whole and streamed, without retrying that target, counting against its breaker', async (_name, answer) => {
    const bad = cleanup.add(await new BadUpstream(answer).listen());
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const gateway = cleanup.add(
      await startGateway({
        providers: { primary: provider(bad.url), backup: openAiProvider(backup) },
        models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 1 } } },
        // Three bad answers open the primary's circuit: each one counts against it.
        breaker: { failure_threshold: 3, window_ms: 60_000, minimum_requests: 100 },
      }),
    );
    const failures: string[] = [];
    gateway.engine.events.on('attempt.failed', (event) => failures.push(event.record.code ?? ''));
    for (const isStream of [false, true]) {
      const response = await fetch(`${gateway.url}${isStream ? face.streamPath : face.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...face.body, ...(isStream ? face.stream : {}) }),
      });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      expect(response.headers.get('x-detour-provider')).toBe('backup');
      // A stream's text comes in pieces: the whole answer only says it plainly.
      if (!isStream) expect(text).toContain('from backup');
    }
    expect(backup.stats.requests).toBe(2);
    // Not retried on the target, whole or streamed (garbage again), though retry.attempts is 2.
    expect(bad.requests).toBe(2);
    expect(failures).toEqual(['UPSTREAM_BAD_RESPONSE', 'UPSTREAM_BAD_RESPONSE']);
    // Each one counted against the breaker: a third opens the circuit.
    await fetch(`${gateway.url}${face.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(face.body) });
    expect(gateway.engine.targets().find((target) => target.id === 'primary/m')?.circuit).toBe('open');
  });
});
