import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk';
const weatherTool = { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };
const openAiWeatherTool: OpenAI.ChatCompletionTool = { type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.input_schema } };

function anthropicClient(url: string): Anthropic {
  return new Anthropic({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
}

function openAiClient(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

/**
 * One simulator speaking both formats, and a gateway with a route per upstream format, plus one
 * whose OpenAI target is down (503) in front of an Anthropic backup.
 */
async function setup(): Promise<{ sim: Simulator; url: string }> {
  const sim = cleanup.add(await startSim({ plan: { faults: [{ model: 'gpt-down', status: 503 }] } }));
  const gateway = cleanup.add(await startGateway({
    providers: { claude: anthropicProvider(sim.url), gpt: openAiProvider(sim) },
    models: {
      claude: { targets: [{ provider: 'claude', model: 'claude-sim' }] },
      gpt: { targets: [{ provider: 'gpt', model: 'gpt-sim' }] },
      resilient: { targets: [{ provider: 'gpt', model: 'gpt-down' }, { provider: 'claude', model: 'claude-backup' }], retry: { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 } },
    },
  }));
  return { sim, url: gateway.url };
}

const imageBlocks: Anthropic.ContentBlockParam[] = [
  { type: 'text', text: 'What is in these?' },
  { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
];

/** The second turn of a tool round trip: the model's tool call, and our result for it. */
function toolRoundTrip(first: Anthropic.Message): Anthropic.MessageParam[] {
  const call = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
  if (!call) throw new Error('expected a tool call');
  return [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: call.name, input: call.input }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '{"temp_c":18}' }] },
  ];
}

function text(message: Anthropic.Message): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

describe('Anthropic Messages endpoint', () => {
  it('passes an Anthropic client through to an Anthropic upstream', async () => {
    const { sim, url } = await setup();
    const { data, response } = await anthropicClient(url).messages.create({ model: 'claude', max_tokens: 200, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(text(data)).toContain('Detour simulator');
    expect(data.model).toBe('claude-sim');
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-detour-provider')).toBe('claude');
    expect(response.headers.get('x-detour-attempts')).toBe('1');
    expect(sim.stats.countFor('claude-sim')).toBe(1);
  });

  it('streams from an Anthropic upstream, events and usage intact', async () => {
    const { url } = await setup();
    const { data: stream, response } = await anthropicClient(url).messages.create({ model: 'claude', max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    const types: string[] = [];
    let streamed = '';
    let outputTokens = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') streamed += event.delta.text;
      if (event.type === 'message_delta') outputTokens = event.usage.output_tokens;
    }
    expect(streamed).toContain('Detour simulator');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(outputTokens).toBeGreaterThan(0);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-detour-model')).toBe('claude-sim');
  });

  it('serves an Anthropic client from an OpenAI upstream: images and a tool round trip', async () => {
    const { sim, url } = await setup();
    const client = anthropicClient(url);
    const seen = await client.messages.create({ model: 'gpt', max_tokens: 200, messages: [{ role: 'user', content: imageBlocks }] });
    expect(text(seen)).toMatch(/^I see 2 images\./);

    const first = await client.messages.create({ model: 'gpt', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } }]);
    const second = await client.messages.create({ model: 'gpt', max_tokens: 200, tools: [weatherTool], messages: toolRoundTrip(first) });
    expect(second.stop_reason).toBe('end_turn');
    expect(text(second)).toBe('The tool returned: {"temp_c":18}');
    expect(second.model).toBe('gpt-sim');
    expect(sim.stats.countFor('gpt-sim')).toBe(3);
  });

  it('streams to an Anthropic client from an OpenAI upstream, which the SDK assembles', async () => {
    const { url } = await setup();
    const client = anthropicClient(url);
    const seen = await client.messages.stream({ model: 'gpt', max_tokens: 200, messages: [{ role: 'user', content: imageBlocks }] }).finalMessage();
    expect(text(seen)).toMatch(/^I see 2 images\. Hello from the Detour simulator/);
    expect(seen.stop_reason).toBe('end_turn');

    const first = await client.messages.stream({ model: 'gpt', max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } }]);
    const second = await client.messages.stream({ model: 'gpt', max_tokens: 200, tools: [weatherTool], messages: toolRoundTrip(first) }).finalMessage();
    expect(text(second)).toBe('The tool returned: {"temp_c":18}');
  });

  it('carries the usage that follows the finish reason into a translated stream, however the chunks are paced', async () => {
    const sim = cleanup.add(await startSim({ chunkDelayMs: 5 }));
    const gateway = cleanup.add(await startGateway({ providers: { gpt: openAiProvider(sim) }, models: { gpt: { targets: [{ provider: 'gpt', model: 'gpt-sim' }] } } }));
    const seen = await anthropicClient(gateway.url).messages.stream({ model: 'gpt', max_tokens: 200, messages: [{ role: 'user', content: 'Hello there' }] }).finalMessage();
    expect(seen.usage.output_tokens).toBeGreaterThan(5);
    expect(seen.usage.input_tokens).toBeGreaterThan(0);
  });

  it('lists the routes in Anthropic`s shape to the Anthropic SDK', async () => {
    const { url } = await setup();
    const page = await anthropicClient(url).models.list();
    expect(page.data.map((model) => model.id)).toEqual(['claude', 'gpt', 'resilient']);
    expect(page.data[0]?.type).toBe('model');
  });

  it('answers a bad request with an Anthropic-style 400 and calls nothing', async () => {
    const { sim, url } = await setup();
    const request = { model: 'claude', messages: [{ role: 'user', content: 'Hello' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const error = await anthropicClient(url).messages.create(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const badRequest = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(badRequest.status).toBe(400);
    expect(badRequest.type).toBe('invalid_request_error');
    expect(badRequest.errorCode).toBe('INVALID_REQUEST');
    expect(badRequest.apiMessage).toMatch(/max_tokens: Field required/);
    expect(sim.stats.requests).toBe(0);
  });

  it('answers an unknown route with not_found_error', async () => {
    const { url } = await setup();
    const error = await anthropicClient(url).messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.NotFoundError>).type).toBe('not_found_error');
  });

  it('refuses with a 400 what no target of the route can express, without calling it', async () => {
    const { sim, url } = await setup();
    const error = await anthropicClient(url)
      .messages.create({ model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'Give JSON' }, { role: 'assistant', content: '{' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).errorCode).toBe('UNSUPPORTED_FEATURE');
    expect((error as Error).message).toMatch(/prefill/);
    expect(sim.stats.requests).toBe(0);
  });

  it('fails over from a down OpenAI target to an Anthropic one, invisibly but for the headers', async () => {
    const { sim, url } = await setup();
    const { data, response } = await anthropicClient(url).messages.create({ model: 'resilient', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(text(data)).toContain('Detour simulator');
    expect(response.headers.get('x-detour-provider')).toBe('claude');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
    expect(sim.stats.countFor('gpt-down')).toBe(2);
  });
});

describe('OpenAI clients served by an Anthropic upstream', () => {
  const imageParts: OpenAI.ChatCompletionContentPart[] = [
    { type: 'text', text: 'What is in these?' },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
  ];

  function roundTrip(call: OpenAI.ChatCompletionMessageToolCall): OpenAI.ChatCompletionMessageParam[] {
    return [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '{"temp_c":18}' },
    ];
  }

  it('answers images and a tool round trip', async () => {
    const { sim, url } = await setup();
    const client = openAiClient(url);
    const seen = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: imageParts }] });
    expect(seen.choices[0]?.message.content).toMatch(/^I see 2 images\./);
    expect(seen.usage?.prompt_tokens).toBeGreaterThan(0);

    const first = await client.chat.completions.create({ model: 'claude', tools: [openAiWeatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? [call.function.name, JSON.parse(call.function.arguments)] : undefined).toEqual(['get_weather', { city: 'Paris' }]);
    const second = await client.chat.completions.create({ model: 'claude', tools: [openAiWeatherTool], messages: roundTrip(call as OpenAI.ChatCompletionMessageToolCall) });
    expect(second.choices[0]?.message.content).toBe('The tool returned: {"temp_c":18}');
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(sim.stats.countFor('claude-sim')).toBe(3);
  });

  it('streams images and a tool round trip', async () => {
    const { url } = await setup();
    const client = openAiClient(url);
    const collect = async (messages: OpenAI.ChatCompletionMessageParam[], tools?: OpenAI.ChatCompletionTool[]) => {
      const stream = await client.chat.completions.create({ model: 'claude', stream: true, stream_options: { include_usage: true }, messages, ...(tools ? { tools } : {}) });
      let content = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      const calls: Array<{ id: string; name: string; arguments: string }> = [];
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        content += choice?.delta.content ?? '';
        for (const delta of choice?.delta.tool_calls ?? []) {
          const entry = (calls[delta.index] ??= { id: '', name: '', arguments: '' });
          entry.id ||= delta.id ?? '';
          entry.name ||= delta.function?.name ?? '';
          entry.arguments += delta.function?.arguments ?? '';
        }
        finish = choice?.finish_reason ?? finish;
      }
      return { content, finish, usage, calls };
    };
    const seen = await collect([{ role: 'user', content: imageParts }]);
    expect(seen.content).toMatch(/^I see 2 images\. Hello from the Detour simulator/);
    expect(seen.usage?.completion_tokens).toBeGreaterThan(0);

    const first = await collect([{ role: 'user', content: 'Weather in Paris?' }], [openAiWeatherTool]);
    expect(first.finish).toBe('tool_calls');
    expect(first.calls).toHaveLength(1);
    const call = first.calls[0] as { id: string; name: string; arguments: string };
    expect([call.name, JSON.parse(call.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
    const second = await collect(roundTrip({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }), [openAiWeatherTool]);
    expect(second.content).toBe('The tool returned: {"temp_c":18}');
    expect(second.finish).toBe('stop');
  });

  it('fails over from a down OpenAI target to an Anthropic one mid-route, streaming', async () => {
    const { url } = await setup();
    const { data: stream, response } = await openAiClient(url).chat.completions.create({ model: 'resilient', stream: true, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    expect(content).toContain('Detour simulator');
    expect(response.headers.get('x-detour-provider')).toBe('claude');
    expect(response.headers.get('x-detour-model')).toBe('claude-backup');
    expect(response.headers.get('x-detour-failover')).toBe('true');
  });
});

describe('the simulator speaking Anthropic', () => {
  it('answers the Anthropic SDK directly, streaming or not, and lists models in Anthropic`s shape', async () => {
    const sim = cleanup.add(await startSim());
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-sim-key-9999', maxRetries: 0 });
    const message = await client.messages.create({ model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] });
    expect(message.id).toMatch(/^msg_/);
    expect(text(message)).toContain('Detour simulator');

    const streamed = await client.messages.stream({ model: 'claude-x', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(streamed.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } }]);
    expect(streamed.usage.output_tokens).toBeGreaterThan(0);

    const models: string[] = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(['sim-small', 'sim-large']);
    expect(sim.stats.countForKey('sk-ant-sim-key-9999')).toBe(2);
    // Without the Anthropic header, the same path still lists models the OpenAI way.
    const openAiModels = (await (await fetch(`${sim.url}/v1/models`)).json()) as { object?: string };
    expect(openAiModels.object).toBe('list');
  });

  it('answers a scripted 529 with an overloaded_error the SDK recognises', async () => {
    const sim = cleanup.add(await startSim({ plan: { faults: [{ status: 529 }] } }));
    const client = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const error = await client.messages.create({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
  });
});
