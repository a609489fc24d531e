import { afterEach, describe, expect, it } from 'vitest';
import { anthropicProvider } from '../helpers/anthropic.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const request = {
  model: 'chat',
  instructions: 'Be brief.',
  input: [{ role: 'user' as const, content: [{ type: 'input_text' as const, text: 'What is this?' }, { type: 'input_image' as const, image_url: `data:image/png;base64,${png}`, detail: 'auto' as const }] }],
  reasoning: { effort: 'low' as const },
  metadata: { team: 'a' },
  max_output_tokens: 200,
};

async function gatewayWith(provider: (sim: Simulator) => Record<string, unknown>) {
  const sim = cleanup.add(await startSim({ capture: 5 }));
  const gateway = cleanup.add(await startGateway({ providers: { up: provider(sim) }, models: { chat: { targets: [{ provider: 'up', model: 'model-a' }] } } }));
  return { sim, client: await openAiClient(gateway.url) };
}

describe('a Responses API request translated for other upstreams', () => {
  it('to Chat Completions: instructions as the system message, an image part, reasoning effort, max tokens, json_object; metadata echoed', async () => {
    const { sim, client } = await gatewayWith((sim) => openAiProvider(sim));
    const answer = await client.responses.create({ ...request, text: { format: { type: 'json_object' } } });
    expect(answer.metadata).toEqual({ team: 'a' });
    expect(answer.reasoning?.effort).toBe('low');
    expect(answer.max_output_tokens).toBe(200);
    const sent = JSON.parse(sim.captured.at(-1)!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: 'model-a',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'auto' } }] },
      ],
      max_tokens: 200,
      reasoning_effort: 'low',
      response_format: { type: 'json_object' },
    });
  });

  it('to Anthropic: instructions as system, the image as a base64 image block, max_tokens', async () => {
    const { sim, client } = await gatewayWith((sim) => anthropicProvider(sim.url));
    const answer = await client.responses.create(request);
    expect(answer.status).toBe('completed');
    const sent = JSON.parse(sim.captured.at(-1)!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: 'model-a',
      system: 'Be brief.',
      max_tokens: 200,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }] }],
    });
  });

  it('to Gemini: systemInstruction, the image as inlineData, maxOutputTokens', async () => {
    const { sim, client } = await gatewayWith((sim) => ({ type: 'gemini', base_url: sim.url, api_key: 'gemini-key-0001' }));
    await client.responses.create(request);
    const sent = JSON.parse(sim.captured.at(-1)!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: png } }] }],
      generationConfig: { maxOutputTokens: 200 },
    });
  });
});
