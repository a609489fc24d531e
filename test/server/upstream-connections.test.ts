import { afterEach, describe, expect, it } from 'vitest';
import { BadUpstream } from '../helpers/bad-upstream.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim, twoTargetConfig } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const ask = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hello' }] };
const completion = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'from the slow upstream' }, finish_reason: 'stop', logprobs: null }],
});

/** An upstream that answers correctly after `delayMs`. */
async function slowUpstream(delayMs: number): Promise<BadUpstream> {
  return cleanup.add(
    await new BadUpstream((_request, response) => {
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(completion);
      }, delayMs);
    }).listen(),
  );
}

describe('providers.*.max_connections', () => {
  it('caps the connections open to one origin; the requests beyond it wait their turn and are served', async () => {
    const upstream = await slowUpstream(50);
    const backup = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway(twoTargetConfig({ type: 'openai', base_url: `${upstream.url}/v1`, api_key: 'sk-primary-key-0000001', max_connections: 3 }, openAiProvider(backup))),
    );
    const client = await openAiClient(gateway.url);
    const answers = await Promise.all(Array.from({ length: 30 }, () => client.chat.completions.create(ask)));
    expect(answers.every((answer) => answer.choices[0]?.message.content === 'from the slow upstream')).toBe(true);
    expect(upstream.requests).toBe(30);
    expect(upstream.peakConnections).toBeLessThanOrEqual(3);
    expect(upstream.peakActiveRequests).toBe(3);
    expect(backup.stats.requests).toBe(0);
  });

  it('a request waiting for a connection spends its own attempt time: past it, it fails over', async () => {
    const upstream = await slowUpstream(1500);
    const backup = cleanup.add(await startSim({ answer: { text: 'from backup' } }));
    const gateway = cleanup.add(
      await startGateway(
        twoTargetConfig({ type: 'openai', base_url: `${upstream.url}/v1`, api_key: 'sk-primary-key-0000001', max_connections: 1 }, openAiProvider(backup), {
          attempt_timeout_ms: 3000,
          timeout_ms: 10_000,
        }),
      ),
    );
    const client = await openAiClient(gateway.url);
    // The first holds the only connection for 1.5 s; the second waits, then is sent, and both get the slow upstream's answer.
    // A third and fourth wait longer than their 3 s attempt allows (1.5 + 1.5 + 1.5 s) and go to the backup instead.
    const answers = await Promise.all(Array.from({ length: 4 }, () => client.chat.completions.create(ask).withResponse()));
    const providers = answers.map(({ response }) => response.headers.get('x-detour-provider'));
    expect(providers.filter((provider) => provider === 'primary').length).toBeGreaterThanOrEqual(1);
    expect(providers.filter((provider) => provider === 'backup').length).toBeGreaterThanOrEqual(1);
    // A connection cut by an attempt's timeout may still be closing on the server's side when the next opens: count requests.
    expect(upstream.peakActiveRequests).toBe(1);
  });

  it('defaults to 256 per origin', async () => {
    const { validateConfig } = await import('../../src/config/load.js');
    const config = validateConfig({ providers: { p: { type: 'openai', base_url: 'http://127.0.0.1:1/v1' } }, models: { chat: { targets: [{ provider: 'p', model: 'm' }] } } }, { providerTypes: ['openai'], env: {} });
    expect(config.providers.p?.max_connections).toBe(256);
    expect(config.server.max_upstream_body_bytes).toBe(32 * 1024 * 1024);
  });
});
