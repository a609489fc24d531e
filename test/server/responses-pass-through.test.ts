import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

type Item = { id?: string; type?: string; role?: string };

describe('the Responses API passed through to an upstream of api: responses', () => {
  it('sends the body as the client wrote it but for the model; a follow-up`s conversation is expanded, its input items in the API`s input shape (no ids on user messages)', async () => {
    const sim = cleanup.add(await startSim({ capture: 5 }));
    const gateway = cleanup.add(await startGateway({ providers: { openai: { ...openAiProvider(sim), api: 'responses' } }, models: { chat: { targets: [{ provider: 'openai', model: 'gpt-5' }] } } }));
    const client = await openAiClient(gateway.url);
    const sent = {
      model: 'chat',
      instructions: 'Be brief.',
      input: [{ role: 'user' as const, content: 'My name is Ada.' }],
      reasoning: { effort: 'low' as const },
      metadata: { team: 'a' },
      max_output_tokens: 200,
      text: { format: { type: 'json_object' as const } },
    };
    const first = await client.responses.create(sent);
    const upstream = JSON.parse(sim.captured.at(-1)!.body) as Record<string, unknown> & { input: Item[] };
    expect(upstream).toEqual({ ...sent, model: 'gpt-5' });

    await client.responses.create({ model: 'chat', previous_response_id: first.id, input: [{ role: 'user', content: 'What is my name?' }] });
    const followUp = (JSON.parse(sim.captured.at(-1)!.body) as { input: Item[] }).input;
    expect(followUp.map((item) => item.role ?? item.type)).toEqual(['user', 'assistant', 'user']);
    for (const item of followUp) if (item.role !== 'assistant') expect(item).not.toHaveProperty('id');
    // The assistant's output item keeps the id it was answered with.
    expect(followUp[1]?.id).toBe((first.output[0] as Item).id);
    // Listing the input items still gives each its id, as OpenAI does.
    const listed = await client.responses.inputItems.list(first.id);
    expect(listed.data.every((item) => typeof item.id === 'string' && item.id.length > 0)).toBe(true);
  });
});
