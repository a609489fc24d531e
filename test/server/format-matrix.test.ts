import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

/**
 * Every ingress × every upstream format (6 paths), streaming and not: an image survives the
 * translation (the simulator says how many it saw) and a tool call makes the round trip (its id
 * matched back, even where the upstream has none).
 */
let sim: Simulator;
let gateway: RunningGateway;
beforeAll(async () => {
  sim = await startSim();
  gateway = await startGateway({
    providers: {
      openai: openAiProvider(sim),
      anthropic: anthropicProvider(sim.url),
      gemini: { type: 'gemini', base_url: sim.url, api_key: 'AIzaSyTest-matrix-000000000000001' },
    },
    models: {
      openai: { targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      anthropic: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      gemini: { targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
    },
  });
});
afterAll(async () => {
  await gateway.close();
  await sim.close();
});

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk';
const upstreams = ['openai', 'anthropic', 'gemini'] as const;

describe.each(upstreams)('OpenAI client → %s upstream', (upstream) => {
  const client = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const image: OpenAI.ChatCompletionMessageParam = { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] };

  async function ask(messages: OpenAI.ChatCompletionMessageParam[], stream: boolean, withTools = false): Promise<{ text: string; calls: OpenAI.ChatCompletionMessageToolCall[]; finish: string | null; provider: string | null }> {
    const params = { model: upstream, messages, ...(withTools ? { tools } : {}) };
    if (!stream) {
      const { data, response } = await client().chat.completions.create(params).withResponse();
      const choice = data.choices[0];
      return { text: choice?.message.content ?? '', calls: choice?.message.tool_calls ?? [], finish: choice?.finish_reason ?? null, provider: response.headers.get('x-detour-provider') };
    }
    const { data, response } = await client().chat.completions.create({ ...params, stream: true }).withResponse();
    let text = '';
    let finish: string | null = null;
    const calls: Array<{ id: string; name: string; args: string }> = [];
    for await (const chunk of data) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? '';
      for (const delta of choice?.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { id: '', name: '', args: '' });
        call.id ||= delta.id ?? '';
        call.name ||= delta.function?.name ?? '';
        call.args += delta.function?.arguments ?? '';
      }
      finish = choice?.finish_reason ?? finish;
    }
    return { text, finish, provider: response.headers.get('x-detour-provider'), calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.args } })) };
  }

  it.each([false, true])('carries an image and a tool round trip (stream: %s)', async (stream) => {
    const seen = await ask([image], stream);
    expect(seen.provider).toBe(upstream);
    expect(seen.text).toMatch(/^I see 1 image\./);
    expect(seen.finish).toBe('stop');

    const first = await ask([{ role: 'user', content: 'Weather in Paris?' }], stream, true);
    expect(first.finish).toBe('tool_calls');
    const call = first.calls[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    const second = await ask(
      [{ role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: null, tool_calls: first.calls }, { role: 'tool', tool_call_id: call?.id ?? '', content: '{"temp_c":18}' }],
      stream,
      true,
    );
    expect(second.text).toBe('The tool returned: {"temp_c":18}');
  });
});

describe.each(upstreams)('Anthropic client → %s upstream', (upstream) => {
  const client = () => new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
  const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
  const image: Anthropic.MessageParam = { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } }] };

  async function ask(messages: Anthropic.MessageParam[], stream: boolean, withTools = false): Promise<Anthropic.Message> {
    const params = { model: upstream, max_tokens: 256, messages, ...(withTools ? { tools } : {}) };
    return stream ? client().messages.stream(params).finalMessage() : client().messages.create(params);
  }
  const text = (message: Anthropic.Message) => message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

  it.each([false, true])('carries an image and a tool round trip (stream: %s)', async (stream) => {
    const seen = await ask([image], stream);
    expect(text(seen)).toMatch(/^I see 1 image\./);
    expect(seen.stop_reason).toBe('end_turn');
    expect(seen.usage.output_tokens).toBeGreaterThan(0);

    const first = await ask([{ role: 'user', content: 'Weather in Paris?' }], stream, true);
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(call?.name).toBe('get_weather');
    expect(call?.input).toEqual({ city: 'Paris' });
    const second = await ask(
      [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call?.id ?? '', content: '{"temp_c":18}' }] },
      ],
      stream,
      true,
    );
    expect(text(second)).toBe('The tool returned: {"temp_c":18}');
  });
});
