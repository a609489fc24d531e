import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { Cleanup, openAiClient, openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const geminiKey = 'AIzaSyTest-gemini-upstream-0000000001';

/** A `gemini`-type provider entry pointing at a simulator (which speaks Gemini under `/v1beta`). */
function geminiProvider(sim: Simulator, apiKeys: string[] = [geminiKey]): Record<string, unknown> {
  return { type: 'gemini', base_url: sim.url, api_keys: apiKeys };
}

/** A gateway whose route `chat` goes to one Gemini target, or to the targets given. */
async function gatewayTo(providers: Record<string, unknown>, targets: Array<{ provider: string; model: string }>, retry = { attempts: 2, backoff_ms: 1, max_backoff_ms: 5 }) {
  const gateway = cleanup.add(await startGateway({ providers, models: { chat: { targets, retry } } }));
  return { gateway, client: await openAiClient(gateway.url) };
}

async function geminiOnly(sim: Simulator) {
  return gatewayTo({ google: geminiProvider(sim) }, [{ provider: 'google', model: 'gemini-2.5-flash' }]);
}

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** A 1×1 PNG. */
const tinyPng = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('OpenAI clients served by a Gemini upstream', () => {
  it('answers a chat completion with usage; the key goes to Gemini in its own header', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.content).toBe(defaultAnswerStyle.text);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.model).toBe('gemini-2.5-flash');
    expect(data.usage?.total_tokens).toBe((data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0));
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-detour-provider')).toBe('google');
    expect(response.headers.get('x-detour-model')).toBe('gemini-2.5-flash');
    expect(sim.stats.countForKey(geminiKey)).toBe(1);
  });

  it('streams: text deltas, the finish, then usage when asked for', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] });
    let text = '';
    const finishes: Array<string | null | undefined> = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let deltas = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) deltas++;
      text += choice?.delta.content ?? '';
      if (choice?.finish_reason) finishes.push(choice.finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(defaultAnswerStyle.text);
    expect(deltas).toBeGreaterThan(1);
    expect(finishes).toEqual(['stop']);
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it('a tool call round trip: the id is generated, and the result is matched back to the call by name', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await client.chat.completions.create({ model: 'chat', messages: [question], tools: [weatherTool] });
    const message = first.choices[0]?.message;
    const call = message?.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    expect(call?.id).toMatch(/^call_/);

    // The simulator pairs a function response with a call of the same name, or refuses it (400).
    const second = await client.chat.completions.create({
      model: 'chat',
      tools: [weatherTool],
      messages: [question, { role: 'assistant', content: null, tool_calls: message?.tool_calls ?? [] }, { role: 'tool', tool_call_id: call?.id ?? '', content: '{"temp_c":18}' }],
    });
    expect(second.choices[0]?.message.content).toBe('The tool returned: {"temp_c":18}');
    expect(second.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams a tool call as one delta with id, name and whole arguments', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, tools: [weatherTool], tool_choice: 'required', messages: [{ role: 'user', content: 'Weather?' }] });
    const calls: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(finish).toBe('tool_calls');
  });

  it('sends images: an inline one as inlineData and a remote one as fileData', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    const data = await client.chat.completions.create({
      model: 'chat',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What are these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${tinyPng}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(data.choices[0]?.message.content).toMatch(/^I see 2 images\./);
  });

  it('a 429 is retried after the RetryInfo delay Gemini put in its body', async () => {
    const sim = cleanup.add(await startSim());
    const { client } = await geminiOnly(sim);
    sim.setPlan({ faults: [{ status: 429, times: 1, retry_after_s: 0.3 }] });
    const startedAt = Date.now();
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    expect(data.choices[0]?.message.content).toBe(defaultAnswerStyle.text);
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(response.headers.get('x-detour-failover')).toBe('false');
  });

  it('a per-day quota 429 is not retried: it fails over at once', async () => {
    const primary = cleanup.add(await startSim());
    const backup = cleanup.add(await startSim({ answer: { text: 'from the backup' } }));
    const { client } = await gatewayTo({ first: geminiProvider(primary), second: geminiProvider(backup) }, [
      { provider: 'first', model: 'gemini-2.5-flash' },
      { provider: 'second', model: 'gemini-2.5-flash' },
    ]);
    primary.setPlan({ faults: [{ status: 429, error_code: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', retry_after_s: 40 }] });
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('from the backup');
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(primary.stats.requests).toBe(1);
  });

  it('a key Gemini calls invalid (400 API_KEY_INVALID) fails over to the next key', async () => {
    const sim = cleanup.add(await startSim());
    const badKey = 'AIzaSyTest-gemini-revoked-00000000009';
    const { client } = await gatewayTo({ google: geminiProvider(sim, [badKey, geminiKey]) }, [{ provider: 'google', model: 'gemini-2.5-flash' }]);
    sim.setPlan({ faults: [{ api_key: badKey, status: 400, error_code: 'API_KEY_INVALID', error_message: 'API key not valid. Please pass a valid API key.' }] });
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe(defaultAnswerStyle.text);
    expect(response.headers.get('x-detour-attempts')).toBe('2');
    expect(sim.stats.countForKey(badKey)).toBe(1);
    expect(sim.stats.countForKey(geminiKey)).toBe(1);
  });

  it('a request Gemini cannot express skips the Gemini target without calling it', async () => {
    const gemini = cleanup.add(await startSim());
    const openai = cleanup.add(await startSim({ answer: { text: 'from OpenAI' } }));
    const { client } = await gatewayTo({ google: geminiProvider(gemini), backup: openAiProvider(openai) }, [
      { provider: 'google', model: 'gemini-2.5-flash' },
      { provider: 'backup', model: 'gpt-4o-mini' },
    ]);
    const { data, response } = await client.chat.completions.create({ model: 'chat', logprobs: true, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('from OpenAI');
    expect(response.headers.get('x-detour-provider')).toBe('backup');
    expect(gemini.stats.requests).toBe(0);
  });
});

describe('failover from an overloaded Anthropic target to Gemini', () => {
  async function setup() {
    const claude = cleanup.add(await startSim());
    const gemini = cleanup.add(await startSim({ answer: { text: 'Served by Gemini.' } }));
    claude.setPlan({ faults: [{ status: 529 }] });
    const { client } = await gatewayTo({ claude: anthropicProvider(claude.url), google: geminiProvider(gemini) }, [
      { provider: 'claude', model: 'claude-sonnet-4-5' },
      { provider: 'google', model: 'gemini-2.5-flash' },
    ]);
    return { claude, gemini, client };
  }

  it('is invisible to the client but for the x-detour-* headers', async () => {
    const { claude, client } = await setup();
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Served by Gemini.');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(response.headers.get('x-detour-provider')).toBe('google');
    expect(response.headers.get('x-detour-failover')).toBe('true');
    expect(response.headers.get('x-detour-attempts')).toBe('3');
    expect(claude.stats.requests).toBe(2);
  });

  it('streaming too', async () => {
    const { client } = await setup();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Served by Gemini.');
    expect(response.headers.get('x-detour-provider')).toBe('google');
    expect(response.headers.get('x-detour-failover')).toBe('true');
  });
});

describe('@google/genai against the simulator', () => {
  async function genai(options: Parameters<typeof startSim>[0] = {}) {
    const sim = cleanup.add(await startSim(options));
    return { sim, ai: new GoogleGenAI({ apiKey: geminiKey, httpOptions: { baseUrl: sim.url } }) };
  }

  it('generateContent: text, finish reason and usage', async () => {
    const { sim, ai } = await genai();
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello', config: { systemInstruction: 'Be brief.', temperature: 0.1, maxOutputTokens: 500 } });
    expect(response.text).toBe(defaultAnswerStyle.text);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.modelVersion).toBe('gemini-2.5-flash');
    expect(response.usageMetadata?.totalTokenCount).toBe((response.usageMetadata?.promptTokenCount ?? 0) + (response.usageMetadata?.candidatesTokenCount ?? 0));
    expect(sim.stats.countForKey(geminiKey)).toBe(1);
  });

  it('generateContentStream: text in pieces, the finish and usage on the last event', async () => {
    const { ai } = await genai();
    const chunks: GenerateContentResponse[] = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hello' })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((chunk) => chunk.text ?? '').join('')).toBe(defaultAnswerStyle.text);
    const last = chunks[chunks.length - 1];
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
  });

  it('function calling, both ways, streaming and not', async () => {
    const { ai } = await genai();
    const config = { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }] };
    const question = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: [question], config });
    expect(response.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);

    const streamed: GenerateContentResponse[] = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: [question], config })) streamed.push(chunk);
    expect(streamed.flatMap((chunk) => chunk.functionCalls ?? [])).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);

    const answer = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      config,
      contents: [question, { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny, 18°C' } } }] }],
    });
    expect(answer.text).toBe('The tool returned: sunny, 18°C');
  });

  it('errors arrive as ApiError with Google\'s status and RetryInfo; models are listed in Gemini\'s shape', async () => {
    const { sim, ai } = await genai({ models: ['gemini-2.5-flash', 'gemini-2.5-pro'] });
    sim.setPlan({ faults: [{ status: 429, times: 1, retry_after_s: 7 }] });
    const error = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    const body = JSON.parse((error as ApiError).message) as { error: { status: string; details: Array<Record<string, unknown>> } };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' });

    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    expect(names).toEqual(['models/gemini-2.5-flash', 'models/gemini-2.5-pro']);
  });
});
