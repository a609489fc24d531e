import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('Azure OpenAI upstream', () => {
  it('calls the deployment URL with the api-version and the api-key header, streaming and not', async () => {
    const sim = cleanup.add(await startSim());
    const gateway = cleanup.add(
      await startGateway({
        providers: { azure: { type: 'azure-openai', base_url: sim.url, api_key: 'azure-key-0000000001', api_version: '2024-10-21' } },
        models: { chat: { targets: [{ provider: 'azure', model: 'my-gpt4o-deployment' }] } },
      }),
    );
    const client = await openAiClient(gateway.url);
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toContain('Detour simulator');
    expect(data.model).toBe('my-gpt4o-deployment');
    expect(response.headers.get('x-detour-provider')).toBe('azure');
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hi' }] })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('Detour simulator');
    expect(sim.stats.countForKey('azure-key-0000000001')).toBe(2);
    expect(sim.stats.countFor('my-gpt4o-deployment')).toBe(2);
  });
});
