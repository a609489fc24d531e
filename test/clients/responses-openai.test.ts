import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

type Upstream = 'openai-chat' | 'responses' | 'anthropic';

function providerFor(upstream: Upstream, sim: Simulator): Record<string, unknown> {
  if (upstream === 'anthropic') return anthropicProvider(sim.url);
  if (upstream === 'responses') return { ...openAiProvider(sim), api: 'responses' };
  return openAiProvider(sim);
}

async function gatewayWith(upstream: Upstream) {
  const sim = cleanup.add(await startSim());
  const gateway = cleanup.add(await startGateway({ providers: { up: providerFor(upstream, sim) }, models: { chat: { targets: [{ provider: 'up', model: 'model-a' }] } } }));
  return { sim, gateway, client: await openAiClient(gateway.url) };
}

describe.each<Upstream>(['openai-chat', 'responses', 'anthropic'])('openai SDK responses API through Detour to a %s upstream', (upstream) => {
  it('creates a response: output_text, usage, Detour headers', async () => {
    const { client } = await gatewayWith(upstream);
    const { data, response } = await client.responses.create({ model: 'chat', instructions: 'Be brief.', input: 'Hello' }).withResponse();
    expect(data.object).toBe('response');
    expect(data.status).toBe('completed');
    expect(data.id).toMatch(/^resp_/);
    expect(data.output_text).toBe(defaultAnswerStyle.text);
    expect(data.instructions).toBe('Be brief.');
    expect(data.usage?.input_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe((data.usage?.input_tokens ?? 0) + (data.usage?.output_tokens ?? 0));
    expect(response.headers.get('x-detour-provider')).toBe('up');
  });

  it('streams typed events in order and finalResponse() gives the whole answer', async () => {
    const { client } = await gatewayWith(upstream);
    const stream = client.responses.stream({ model: 'chat', input: [{ role: 'user', content: 'Hello' }] });
    const types: string[] = [];
    const sequence: number[] = [];
    let deltas = '';
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(defaultAnswerStyle.text);
    expect(deltas).toBe(defaultAnswerStyle.text);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.content_part.added');
    expect(types).toContain('response.output_text.done');
    expect(types).toContain('response.output_item.done');
    expect(types.at(-1)).toBe('response.completed');
    expect(sequence).toEqual(sequence.map((_, index) => sequence[0]! + index));
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('runs a function tool round trip, streamed and not', async () => {
    const { client } = await gatewayWith(upstream);
    const first = await client.responses.create({ model: 'chat', input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'required' });
    const call = first.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(call?.name).toBe('get_weather');
    expect(JSON.parse(call?.arguments ?? '{}')).toEqual({ city: 'Paris' });
    const stream = client.responses.stream({
      model: 'chat',
      input: [{ role: 'user', content: 'Weather in Paris?' }, call!, { type: 'function_call_output', call_id: call!.call_id, output: '18 degrees and sunny' }],
      tools: [weatherTool],
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('The tool returned: 18 degrees and sunny');

    const streamedCall = client.responses.stream({ model: 'chat', input: 'Weather?', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' } });
    const argumentDeltas: string[] = [];
    streamedCall.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
    const streamedFinal = await streamedCall.finalResponse();
    const streamedItem = streamedFinal.output.find((item) => item.type === 'function_call');
    expect(streamedItem?.type === 'function_call' && JSON.parse(streamedItem.arguments)).toEqual({ city: 'Paris' });
    expect(argumentDeltas.join('')).toBe(streamedItem?.type === 'function_call' ? streamedItem.arguments : '');
  });

  it('answers text.format json_schema with JSON that fits the schema', async () => {
    const { client } = await gatewayWith(upstream);
    const schema = { type: 'object', properties: { city: { type: 'string' }, temperature: { type: 'number', minimum: -50, maximum: 60 }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city', 'temperature', 'unit'], additionalProperties: false };
    const answer = await client.responses.parse({ model: 'chat', input: 'Weather in Paris as JSON', text: { format: { type: 'json_schema', name: 'weather', schema, strict: true } } });
    expect(answer.output_parsed).toEqual({ city: 'Paris', temperature: 42, unit: 'c' });
  });
});

describe('previous_response_id', () => {
  it('a follow-up is served by another provider while the first turn\'s target is down, with the whole conversation', async () => {
    const first = cleanup.add(await startSim({ answer: { mode: 'echo' } }));
    const second = cleanup.add(await startSim({ answer: { mode: 'echo' }, capture: 5 }));
    const gateway = cleanup.add(
      await startGateway({
        providers: { first: openAiProvider(first), second: anthropicProvider(second.url) },
        models: { chat: { targets: [{ provider: 'first', model: 'gpt-4o-mini' }, { provider: 'second', model: 'claude-sonnet-4-5' }], retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 } } },
      }),
    );
    const client = await openAiClient(gateway.url);
    const turn1 = await client.responses.create({ model: 'chat', input: 'My name is Ada.' }).withResponse();
    expect(turn1.response.headers.get('x-detour-provider')).toBe('first');
    await first.down();
    const turn2 = await client.responses.create({ model: 'chat', previous_response_id: turn1.data.id, input: 'What is my name?' }).withResponse();
    expect(turn2.response.headers.get('x-detour-provider')).toBe('second');
    expect(turn2.response.headers.get('x-detour-failover')).toBe('true');
    expect(turn2.data.previous_response_id).toBe(turn1.data.id);
    const items = await client.responses.inputItems.list(turn2.data.id, { order: 'asc' });
    const texts = items.data.map((item) => (item.type === 'message' ? item.content.map((part) => ('text' in part ? part.text : '')).join('') : item.type));
    expect(texts).toEqual(['My name is Ada.', 'My name is Ada.', 'What is my name?']);
    // The Anthropic upstream never saw the first turn, yet it received all of it.
    const sent = JSON.parse(second.captured.at(-1)?.body ?? '{}') as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent.messages[0])).toContain('My name is Ada.');
    const fetched = await client.responses.retrieve(turn2.data.id);
    expect(fetched.output_text).toBe(turn2.data.output_text);
    const deleted = await client.responses.delete(turn2.data.id);
    expect(deleted).toMatchObject({ id: turn2.data.id, deleted: true });
    await expect(client.responses.retrieve(turn2.data.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: 'chat', previous_response_id: 'resp_unknown', input: 'Hi' })).rejects.toMatchObject({ status: 400 });
  });
});
