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

  it('with api: responses, passes the Responses API through to the resource`s /openai/responses, the deployment as the model', async () => {
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(
      await startGateway({
        providers: { azure: { type: 'azure-openai', api: 'responses', base_url: sim.url, api_key: 'azure-key-0000000002', api_version: '2025-04-01-preview' } },
        models: { chat: { targets: [{ provider: 'azure', model: 'my-gpt5-deployment' }] } },
      }),
    );
    const client = await openAiClient(gateway.url);
    const answer = await client.responses.create({ model: 'chat', input: 'Hi' });
    expect(answer.output_text).toContain('Detour simulator');
    const streamed = await client.responses.stream({ model: 'chat', input: 'Hi' }).finalResponse();
    expect(streamed.output_text).toBe(answer.output_text);
    for (const request of sim.captured) {
      expect(request.path).toBe('/openai/responses');
      expect(request.query).toBe('api-version=2025-04-01-preview');
      expect(request.headers['api-key']).toBe('azure-key-0000000002');
      expect((JSON.parse(request.body) as { model: string }).model).toBe('my-gpt5-deployment');
    }
    expect(sim.captured).toHaveLength(2);
  });
});
