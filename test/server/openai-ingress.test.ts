import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, deadPort, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

describe('OpenAI-compatible endpoint', () => {
  it('answers through the first target and says who served it', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(await startGateway({
      providers: { primary: openAiProvider(sim) },
      models: { chat: { targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] } },
    }));
    const { data, response } = await client(gateway.url).chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain('Detour simulator');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-detour-provider')).toBe('primary');
    expect(response.headers.get('x-detour-model')).toBe('gpt-4o-mini');
    expect(response.headers.get('x-detour-attempts')).toBe('1');
    expect(response.headers.get('x-detour-failover')).toBe('false');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('fails over from a refused connection to the backup, streaming too', async () => {
    const backup = cleanup.add(await startSim());
    const port = await deadPort();
    const gateway = cleanup.add(await startGateway({
      providers: { primary: { type: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key: 'sk-a' }, backup: openAiProvider(backup) },
      models: { chat: { targets: [{ provider: 'primary', model: 'm' }, { provider: 'backup', model: 'm' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } } },
    }));
    const { data: stream, response } = await client(gateway.url).chat.completions
      .create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('Detour simulator');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
  });
});
