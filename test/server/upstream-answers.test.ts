import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BadUpstream, type BadAnswer } from '../helpers/bad-upstream.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };
const completion = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'from the compressing upstream' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

function json(status: number, body: string | Buffer, headers: Record<string, string> = {}): BadAnswer {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
}

async function setup(answer: BadAnswer, server: Record<string, unknown> = {}) {
  const bad = cleanup.add(await new BadUpstream(answer).listen());
  const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
  const gateway = cleanup.add(
    await startGateway({
      ...twoTargetConfig({ type: 'openai', base_url: `${bad.url}/v1`, api_key: 'sk-bad-upstream-key-000001' }, openAiProvider(backup)),
      // Every garbage answer counts: ten of them open the primary's circuit.
      breaker: { failure_threshold: 10, window_ms: 60_000, minimum_requests: 100 },
      server,
    }),
  );
  return { bad, backup, gateway, client: await openAiClient(gateway.url) };
}

const garbage: Array<[string, BadAnswer]> = [
  ['invalid JSON', json(200, '{"choices": [')],
  ['HTML', json(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'text/html' })],
  ['an error object', json(200, JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }))],
  ['an empty body', json(200, '')],
  ['JSON of the wrong shape', json(200, JSON.stringify({ id: 'x', object: 'chat.completion', choices: [null] }))],
  ['gzip bytes without content-encoding', json(200, gzipSync(completion))],
  ['an encoding Detour cannot decode', json(200, Buffer.from('(\xb5/\xfd garbage', 'latin1'), { 'content-encoding': 'zstd' })],
  ['a corrupt gzip body', json(200, Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' })],
  ['a redirect', json(302, '', { location: 'http://127.0.0.1:1/v1/chat/completions' })],
  ['a 204 with nothing', json(204, '')],
];

describe('upstream answers are checked before they are called a success', () => {
  it.each(garbage)('%s is UPSTREAM_BAD_RESPONSE: fails over to the backup, counts against the breaker', async (_name, answer) => {
    const { bad, backup, gateway, client } = await setup(answer);
    for (let index = 0; index < 12; index++) {
      const { data, response } = await client.chat.completions.create(ask).withResponse();
      expect(data.choices[0]?.message.content).toBe('from backup');
      expect(response.headers.get('x-detour-provider')).toBe('backup');
    }
    // Not retried on the same target (a 200 of garbage will be garbage again), and the circuit opened after ten.
    expect(bad.requests).toBe(10);
    expect(backup.stats.requests).toBe(12);
    const primary = gateway.engine.targets().find((target) => target.id.startsWith('primary/'));
    expect(primary?.circuit).toBe('open');
  });

  it('decodes a gzip answer that says so, instead of passing compressed bytes on', async () => {
    const { bad, backup, client } = await setup(json(200, gzipSync(completion), { 'content-encoding': 'gzip' }));
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]?.message.content).toBe('from the compressing upstream');
    expect(response.headers.get('x-detour-provider')).toBe('primary');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(bad.requests).toBe(1);
    expect(backup.stats.requests).toBe(0);
  });

  it('undoes two codings in the order they were applied (gzip, then br)', async () => {
    const { bad, backup, client } = await setup(json(200, brotliCompressSync(gzipSync(completion)), { 'content-encoding': 'gzip, br' }));
    const data = await client.chat.completions.create(ask);
    expect(data.choices[0]?.message.content).toBe('from the compressing upstream');
    expect(bad.requests).toBe(1);
    expect(backup.stats.requests).toBe(0);
  });

  it('a small gzip body that decodes past server.max_upstream_body_bytes is refused as too large and fails over', async () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20));
    const { gateway, backup, client } = await setup(json(200, bomb, { 'content-encoding': 'gzip' }), { max_upstream_body_bytes: 256 * 1024 });
    expect(bomb.length).toBeLessThan(256 * 1024);
    const seen: string[] = [];
    gateway.engine.events.on('attempt.failed', (event) => seen.push(`${event.record.code}:${event.message}`));
    const data = await client.chat.completions.create(ask);
    expect(data.choices[0]?.message.content).toBe('from backup');
    expect(backup.stats.requests).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^UPSTREAM_BAD_RESPONSE:.*larger than server\.max_upstream_body_bytes/);
  });

  it('a stream that answers 200 with an error object fails over before the client saw a byte', async () => {
    const { backup, client } = await setup(json(200, JSON.stringify({ error: { message: 'nope' } })));
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('from backup');
    expect(backup.stats.requests).toBe(1);
  });

  it('the failure reaches the attempt records with its code', async () => {
    const { gateway, client } = await setup(json(200, '<html></html>', { 'content-type': 'text/html' }));
    const seen: string[] = [];
    gateway.engine.events.on('attempt.failed', (event) => seen.push(`${event.record.code}:${event.record.kind}`));
    await client.chat.completions.create(ask);
    expect(seen).toEqual(['UPSTREAM_BAD_RESPONSE:failover']);
  });
});
