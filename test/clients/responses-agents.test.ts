import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { Agent, OpenAIProvider, Runner, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A route `chat` served by an OpenAI Chat Completions upstream and, behind it, an Anthropic one. */
async function gateway() {
  const sim = cleanup.add(await startSim({ capture: 20 }));
  const running = cleanup.add(
    await startGateway({
      providers: { openai: openAiProvider(sim), claude: anthropicProvider(sim.url) },
      models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'claude', model: 'claude-sonnet-4-5' }] } },
    }),
  );
  return { sim, url: running.url };
}

/** Every request the clients made went to `POST /v1/responses`, and Detour served it from chat completions. */
function expectResponsesTraffic(sim: { captured: Array<{ path: string }> }): void {
  expect(sim.captured.length).toBeGreaterThan(0);
  expect(new Set(sim.captured.map((request) => request.path))).toEqual(new Set(['/v1/chat/completions']));
}

describe('Vercel AI SDK openai(route): the Responses API by default', () => {
  it('generateText, streamText, tool calls and generateObject', async () => {
    const { sim, url } = await gateway();
    const requests: string[] = [];
    const openai = createOpenAI({
      baseURL: `${url}/v1`,
      apiKey: 'unused',
      fetch: async (input, init) => {
        requests.push(String(input));
        return fetch(input, init);
      },
    });
    const text = await generateText({ model: openai('chat'), prompt: 'Hello', maxRetries: 0 });
    expect(text.text).toBe(defaultAnswerStyle.text);
    expect(text.usage.inputTokens).toBeGreaterThan(0);
    expect(text.finishReason).toBe('stop');

    const streamed = streamText({ model: openai('chat'), prompt: 'Hello', maxRetries: 0 });
    let deltas = '';
    for await (const delta of streamed.textStream) deltas += delta;
    expect(deltas).toBe(defaultAnswerStyle.text);
    expect((await streamed.usage).outputTokens).toBeGreaterThan(0);

    const weather = tool({ description: 'Current weather', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `${city}: 18 degrees` });
    const withTools = await generateText({ model: openai('chat'), prompt: 'Weather in Paris?', tools: { weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
    expect(withTools.steps[0]?.toolCalls[0]?.toolName).toBe('weather');
    expect(withTools.steps[0]?.toolCalls[0]?.input).toEqual({ city: 'Paris' });
    expect(withTools.text).toBe('The tool returned: Paris: 18 degrees');

    const object = await generateObject({ model: openai('chat'), prompt: 'A city', schema: z.object({ city: z.string(), population: z.number().int().min(1) }), maxRetries: 0 });
    expect(object.object).toEqual({ city: 'Paris', population: 42 });

    expect(requests.every((request) => request.endsWith('/v1/responses'))).toBe(true);
    expectResponsesTraffic(sim);
  });
});

describe('OpenAI Agents SDK', () => {
  it('run() with a function tool completes through Detour', async () => {
    const { sim, url } = await gateway();
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const calls: string[] = [];
    const weather = agentTool({
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city);
        return `${city}: 18 degrees and sunny`;
      },
    });
    const agent = new Agent({ name: 'Weather', instructions: 'Answer with the weather.', model: 'chat', tools: [weather] });
    const runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: true }), tracingDisabled: true });
    const result = await runner.run(agent, 'Weather in Paris?');
    expect(calls).toEqual(['Paris']);
    expect(result.finalOutput).toBe('The tool returned: Paris: 18 degrees and sunny');
    expectResponsesTraffic(sim);
  });
});

/** A fetch that notes the path of every call a client makes, to show which API it spoke. */
function recordingFetch(): { paths: string[]; recording: typeof fetch } {
  const paths: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    paths.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  return { paths, recording };
}

describe('OpenAI Agents SDK, its defaults', () => {
  it('the default run() (the Responses API) with a function tool, the client set by setDefaultOpenAIClient', async () => {
    const { sim, url } = await gateway();
    const { paths, recording } = recordingFetch();
    setDefaultOpenAIClient(new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: recording }));
    setTracingDisabled(true);
    const weather = agentTool({ name: 'get_weather', description: 'Current weather in a city', parameters: z.object({ city: z.string() }), execute: async ({ city }) => `${city}: 18 degrees` });
    const result = await run(new Agent({ name: 'Weather', model: 'chat', tools: [weather] }), 'Weather in Paris?');
    expect(result.finalOutput).toBe('The tool returned: Paris: 18 degrees');
    // The SDK's default model speaks the Responses API to Detour.
    expect(paths.length).toBeGreaterThanOrEqual(2);
    expect(new Set(paths)).toEqual(new Set(['/v1/responses']));
    expectResponsesTraffic(sim);
  });
});

describe('LangChain ChatOpenAI({ useResponsesApi: true })', () => {
  it('invokes, streams and binds a tool', async () => {
    const { sim, url } = await gateway();
    const { paths, recording } = recordingFetch();
    const model = new ChatOpenAI({ model: 'chat', useResponsesApi: true, apiKey: 'unused', maxRetries: 0, configuration: { baseURL: `${url}/v1`, fetch: recording } });
    const answer = await model.invoke('Hello');
    expect(answer.text).toBe(defaultAnswerStyle.text);
    let streamed = '';
    for await (const chunk of await model.stream('Hello')) streamed += chunk.text;
    expect(streamed).toBe(defaultAnswerStyle.text);
    const withTool = await model.bindTools([{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]).invoke('Weather in Paris?');
    expect(withTool.tool_calls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
    expect(new Set(paths)).toEqual(new Set(['/v1/responses']));
    expectResponsesTraffic(sim);
  });
});
