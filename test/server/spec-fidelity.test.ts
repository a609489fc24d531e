import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { SseParser } from '../../src/providers/shared/sse.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { openAiProvider, startGateway, startSim } from '../helpers/gateway.js';
import { specStatus, type SpecCheck, type Specs } from '../helpers/spec-schemas.js';

/**
 * Every answer Detour writes on its OpenAI Chat and Anthropic Messages faces, from every upstream
 * format (OpenAI Chat, Anthropic, Gemini, the Responses API passed through a provider set to
 * `api: responses`), validated against the official schemas in `../shared/spec/`: whole answers
 * and every stream event, for text, a forced tool call, an answer cut at `max_tokens`, the
 * upstream's own 400, every target failing (503), a stream broken midway, an unknown model, a
 * body that is not JSON, and the models list. Strictly typed clients (Java, Go, C#) must be able
 * to read each of them: a field the schema requires is a failure when missing; fields it lists
 * as added later are printed as notes.
 */
const status = specStatus();
const upstreams = ['openai', 'anthropic', 'gemini', 'responses'] as const;
type Upstream = (typeof upstreams)[number];

let sim: Simulator;
let gateway: RunningGateway;
/** Each note (a field added later, missing) and how many answers showed it. */
const notes = new Map<string, number>();

function routes(upstream: Upstream): Record<string, unknown> {
  const single = { retry: { attempts: 1 }, wait_for_recovery_ms: 0, on_stream_failure: 'error' };
  return {
    [upstream]: { targets: [{ provider: upstream, model: 'sim-model' }] },
    [`${upstream}-400`]: { targets: [{ provider: upstream, model: 'bad-400' }], ...single },
    [`${upstream}-503`]: { targets: [{ provider: upstream, model: 'bad-503' }], ...single },
    [`${upstream}-cut`]: { targets: [{ provider: upstream, model: 'cut' }], ...single },
  };
}

beforeAll(async () => {
  sim = await startSim({
    plan: {
      faults: [
        { model: 'bad-400', status: 400, error_message: 'The request is not valid for this model.' },
        { model: 'bad-503', status: 503 },
        { model: 'cut', reset_after_chunks: 3 },
      ],
    },
  });
  gateway = await startGateway({
    providers: {
      openai: openAiProvider(sim),
      anthropic: anthropicProvider(sim.url),
      gemini: { type: 'gemini', base_url: sim.url, api_key: 'AIzaSyTest-spec-0000000000000000001' },
      responses: { ...openAiProvider(sim), api: 'responses' },
    },
    models: Object.assign({}, ...upstreams.map(routes)),
  });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await sim?.close();
  const lines = [...notes].map(([note, count]) => `  ${note} (${count}×)`);
  if (lines.length > 0) console.info(`[wire schemas] fields the SDKs read as absent (x-added-later), not failures:\n${lines.join('\n')}`);
});

/** Fails with every problem the schema found; keeps the notes for the summary. */
function expectValid(check: SpecCheck, value: unknown, where: string): void {
  const verdict = check(value);
  for (const note of verdict.notes) {
    const key = `${where.split(' ')[0] ?? where}: ${note}`;
    notes.set(key, (notes.get(key) ?? 0) + 1);
  }
  expect(verdict.problems, `${where}: ${JSON.stringify(value)}`).toStrictEqual([]);
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
  events: Array<{ event: string | undefined; data: string }>;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (!contentType.startsWith('text/event-stream')) return { status: response.status, contentType, body: JSON.parse(text) as unknown, events: [] };
  const parser = new SseParser();
  const events = [...parser.feed(text), ...parser.flush()].map((event) => ({ event: event.event, data: event.data }));
  return { status: response.status, contentType, body: undefined, events };
}

const weatherParameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

type Case = 'text' | 'tools' | 'max_tokens';

function openAiBody(route: string, kind: Case, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: route, messages: [{ role: 'user', content: 'Say something about the weather in Paris.' }] };
  if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  if (kind === 'tools') Object.assign(body, { tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherParameters } }], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  if (kind === 'max_tokens') body.max_tokens = 3;
  return body;
}

function anthropicBody(route: string, kind: Case, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: route, max_tokens: kind === 'max_tokens' ? 3 : 256, messages: [{ role: 'user', content: 'Say something about the weather in Paris.' }] };
  if (stream) body.stream = true;
  if (kind === 'tools') Object.assign(body, { tools: [{ name: 'get_weather', input_schema: weatherParameters }], tool_choice: { type: 'tool', name: 'get_weather' } });
  return body;
}

/** Every event of an OpenAI stream: chunks, then `[DONE]`, or an error object last (as OpenAI ends a failed stream). */
function expectOpenAiStream(specs: Specs, answer: Answer, where: string): Array<Record<string, unknown>> {
  const payloads = answer.events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data) as Record<string, unknown>);
  const last = payloads.at(-1);
  expect(answer.events.at(-1)?.data === '[DONE]' || (last !== undefined && 'error' in last), `${where}: ends with [DONE] or an error`).toBe(true);
  expect(answer.events.slice(0, -1).some((event) => event.data === '[DONE]'), `${where}: [DONE] only last`).toBe(false);
  for (const payload of payloads) expectValid('error' in payload ? specs.openai.error : specs.openai.chunk, payload, `${where} (stream event)`);
  return payloads;
}

/** Every event of an Anthropic stream: named after its type, each a stream event or an error. */
function expectAnthropicStream(specs: Specs, answer: Answer, where: string): Array<Record<string, unknown>> {
  const payloads = answer.events.map((event) => {
    const payload = JSON.parse(event.data) as Record<string, unknown>;
    expect(event.event, `${where}: event name`).toBe(payload.type);
    expectValid(payload.type === 'error' ? specs.anthropic.error : specs.anthropic.streamEvent, payload, `${where} (${String(payload.type)})`);
    return payload;
  });
  return payloads;
}

describe.runIf(status.state === 'present').each(upstreams)('answers from a %s upstream against the official schemas', (upstream) => {
  const specs = (): Specs => (status as { specs: Specs }).specs;

  describe('OpenAI Chat Completions face', () => {
    it.each<Case>(['text', 'tools', 'max_tokens'])('%s, whole and streamed', async (kind) => {
      const whole = await post('/v1/chat/completions', openAiBody(upstream, kind, false));
      expect(whole.status).toBe(200);
      expectValid(specs().openai.response, whole.body, `openai ← ${upstream} ${kind}`);
      const choice = (whole.body as { choices: Array<{ finish_reason: string }> }).choices[0];
      expect(choice?.finish_reason).toBe({ text: 'stop', tools: 'tool_calls', max_tokens: 'length' }[kind]);

      const streamed = await post('/v1/chat/completions', openAiBody(upstream, kind, true));
      expect(streamed.status).toBe(200);
      const chunks = expectOpenAiStream(specs(), streamed, `openai ← ${upstream} ${kind} stream`);
      const finishes = chunks.flatMap((chunk) => (chunk.choices as Array<{ finish_reason: string | null }>).map((entry) => entry.finish_reason).filter((reason) => reason !== null));
      expect(finishes).toStrictEqual([{ text: 'stop', tools: 'tool_calls', max_tokens: 'length' }[kind]]);
      // Asked for with include_usage: the last chunk has no choices and the whole usage.
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
    });

    it('errors: the upstream refusing the request, every target failing, a stream cut midway, an unknown model, a body that is not JSON', async () => {
      const refused = await post('/v1/chat/completions', openAiBody(`${upstream}-400`, 'text', false));
      expect(refused.status).toBe(400);
      expectValid(specs().openai.error, refused.body, `openai ← ${upstream} 400`);
      const refusedStream = await post('/v1/chat/completions', openAiBody(`${upstream}-400`, 'text', true));
      expect(refusedStream.status).toBe(400);
      expectValid(specs().openai.error, refusedStream.body, `openai ← ${upstream} 400 (stream asked)`);
      const failed = await post('/v1/chat/completions', openAiBody(`${upstream}-503`, 'text', false));
      expect(failed.status).toBe(503);
      expectValid(specs().openai.error, failed.body, `openai ← ${upstream} 503`);

      const cut = await post('/v1/chat/completions', openAiBody(`${upstream}-cut`, 'text', true));
      expect(cut.status).toBe(200);
      const events = expectOpenAiStream(specs(), cut, `openai ← ${upstream} cut stream`);
      expect(events.at(-1)).toHaveProperty('error');

      const unknown = await post('/v1/chat/completions', openAiBody('no-such-route', 'text', false));
      expect(unknown.status).toBe(404);
      expectValid(specs().openai.error, unknown.body, 'openai unknown model');
      const garbage = await post('/v1/chat/completions', '{"model": ');
      expect(garbage.status).toBe(400);
      expectValid(specs().openai.error, garbage.body, 'openai invalid JSON');
    });
  });

  describe('Anthropic Messages face', () => {
    it.each<Case>(['text', 'tools', 'max_tokens'])('%s, whole and streamed', async (kind) => {
      const stopReason = { text: 'end_turn', tools: 'tool_use', max_tokens: 'max_tokens' }[kind];
      const whole = await post('/v1/messages', anthropicBody(upstream, kind, false), { 'anthropic-version': '2023-06-01' });
      expect(whole.status).toBe(200);
      expectValid(specs().anthropic.message, whole.body, `anthropic ← ${upstream} ${kind}`);
      expect((whole.body as { stop_reason: string }).stop_reason).toBe(stopReason);

      const streamed = await post('/v1/messages', anthropicBody(upstream, kind, true), { 'anthropic-version': '2023-06-01' });
      expect(streamed.status).toBe(200);
      const events = expectAnthropicStream(specs(), streamed, `anthropic ← ${upstream} ${kind} stream`);
      const types = events.map((event) => event.type).filter((type) => type !== 'ping');
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toStrictEqual(['message_delta', 'message_stop']);
      expect(events.find((event) => event.type === 'message_delta')).toMatchObject({ delta: { stop_reason: stopReason } });
      // Anthropic and Gemini count the prompt on their first event: message_start says it, as Anthropic's own does.
      const start = events[0] as { message: { usage: { input_tokens: number } } };
      if (upstream === 'anthropic' || upstream === 'gemini') expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    });

    it('errors: the upstream refusing the request, every target failing, a stream cut midway, an unknown model, a body that is not JSON', async () => {
      const headers = { 'anthropic-version': '2023-06-01' };
      const refused = await post('/v1/messages', anthropicBody(`${upstream}-400`, 'text', false), headers);
      expect(refused.status).toBe(400);
      expectValid(specs().anthropic.error, refused.body, `anthropic ← ${upstream} 400`);
      const refusedStream = await post('/v1/messages', anthropicBody(`${upstream}-400`, 'text', true), headers);
      expect(refusedStream.status).toBe(400);
      expectValid(specs().anthropic.error, refusedStream.body, `anthropic ← ${upstream} 400 (stream asked)`);
      const failed = await post('/v1/messages', anthropicBody(`${upstream}-503`, 'text', false), headers);
      expect([503, 529]).toContain(failed.status);
      expectValid(specs().anthropic.error, failed.body, `anthropic ← ${upstream} 503`);

      const cut = await post('/v1/messages', anthropicBody(`${upstream}-cut`, 'text', true), headers);
      expect(cut.status).toBe(200);
      const events = expectAnthropicStream(specs(), cut, `anthropic ← ${upstream} cut stream`);
      expect(events.at(-1)?.type).toBe('error');

      const unknown = await post('/v1/messages', anthropicBody('no-such-route', 'text', false), headers);
      expect(unknown.status).toBe(404);
      expectValid(specs().anthropic.error, unknown.body, 'anthropic unknown model');
      const garbage = await post('/v1/messages', '{"model": ', headers);
      expect(garbage.status).toBe(400);
      expectValid(specs().anthropic.error, garbage.body, 'anthropic invalid JSON');
    });
  });
});

describe.runIf(status.state === 'present')('the models lists against the official schemas', () => {
  it('OpenAI’s, and Anthropic’s for a client that sends anthropic-version', async () => {
    const specs = (status as { specs: Specs }).specs;
    const openAi = (await (await fetch(`${gateway.url}/v1/models`)).json()) as unknown;
    expectValid(specs.openai.models, openAi, 'openai models');
    const anthropic = (await (await fetch(`${gateway.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })).json()) as { data: Array<{ lifecycle: string }> };
    expectValid(specs.anthropic.models, anthropic, 'anthropic models');
    expect(anthropic.data.map((model) => model.lifecycle)).toContain('active');
  });
});

if (status.state === 'required-missing') {
  describe('the wire schemas', () => {
    it('are present (required on CI)', () => {
      throw new Error(status.reason);
    });
  });
}

if (status.state === 'skipped') {
  console.info(`[wire schemas] spec-fidelity skipped: ${status.reason}`);
  describe.skip(`answers against the official schemas (skipped: ${status.reason})`, () => {
    it('run when ../shared/spec is present', () => undefined);
  });
}

/**
 * The Responses and Gemini faces have no schema in `../shared/spec/`: their answers are read by
 * the official SDKs instead (`openai`'s Responses stream helpers assemble and check the typed
 * events; `@google/genai` parses into its own classes), from every upstream format, and the
 * fields those SDKs' types require are checked present and typed.
 */
describe.each(upstreams)('the Responses and Gemini faces, read by the official SDKs, from a %s upstream', (upstream) => {
  const tools = [{ type: 'function' as const, name: 'get_weather', parameters: weatherParameters, strict: false }];

  function expectResponseShape(response: Record<string, unknown>, where: string): void {
    // Required (non-optional) fields of the SDK's `Response` type.
    for (const field of ['id', 'object', 'created_at', 'model', 'output', 'status', 'error', 'incomplete_details', 'instructions', 'metadata', 'parallel_tool_calls', 'temperature', 'tool_choice', 'tools', 'top_p']) {
      expect(response, `${where}: ${field}`).toHaveProperty(field);
    }
    expect(response.object).toBe('response');
    expect(typeof response.created_at).toBe('number');
    expect(Array.isArray(response.output)).toBe(true);
    for (const item of response.output as Array<Record<string, unknown>>) {
      if (item.type === 'message') expect(item).toMatchObject({ id: expect.any(String), role: 'assistant', status: expect.any(String), content: expect.any(Array) });
      else expect(item).toMatchObject({ type: 'function_call', call_id: expect.any(String), name: 'get_weather', arguments: expect.any(String) });
    }
    expect(response.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number), total_tokens: expect.any(Number), input_tokens_details: { cached_tokens: expect.any(Number) }, output_tokens_details: { reasoning_tokens: expect.any(Number) } });
  }

  it('responses.create and responses.stream().finalResponse(): text, a forced tool call, a max_output_tokens cut, an upstream error', async () => {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const text = await client.responses.create({ model: upstream, input: 'Say something about the weather in Paris.' });
    expectResponseShape(text as unknown as Record<string, unknown>, `${upstream} text`);
    expect(text.status).toBe('completed');
    expect(text.output_text.length).toBeGreaterThan(0);

    const called = await client.responses.stream({ model: upstream, input: 'Weather in Paris?', tools, tool_choice: { type: 'function', name: 'get_weather' } }).finalResponse();
    expectResponseShape(called as unknown as Record<string, unknown>, `${upstream} tool stream`);
    const call = called.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' && JSON.parse(call.arguments)).toEqual({ city: expect.any(String) });

    const cut = await client.responses.stream({ model: upstream, input: 'Say something about the weather in Paris.', max_output_tokens: 3 }).finalResponse();
    expectResponseShape(cut as unknown as Record<string, unknown>, `${upstream} cut`);
    expect(cut.status).toBe('incomplete');
    expect(cut.incomplete_details?.reason).toBe('max_output_tokens');

    const refused = await client.responses.create({ model: `${upstream}-400`, input: 'Hi' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused).toMatchObject({ status: 400, error: { message: expect.any(String), type: expect.any(String) } });
  });

  it('@google/genai generateContent and generateContentStream: text, a forced call, a MAX_TOKENS cut, an upstream error', async () => {
    const { ApiError, FinishReason, FunctionCallingConfigMode, GoogleGenAI } = await import('@google/genai');
    const ai = new GoogleGenAI({ apiKey: 'AIzaSy-detour-client-key', httpOptions: { baseUrl: gateway.url } });
    const answer = await ai.models.generateContent({ model: upstream, contents: 'Say something about the weather in Paris.' });
    expect(answer.text?.length).toBeGreaterThan(0);
    expect(answer.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(answer.usageMetadata?.promptTokenCount).toBeGreaterThan(0);

    const called = await ai.models.generateContent({
      model: upstream,
      contents: 'Weather in Paris?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherParameters }] }], toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } } },
    });
    expect(called.functionCalls?.[0]).toMatchObject({ name: 'get_weather', args: { city: expect.any(String) } });

    let streamed = '';
    let finish: string | undefined;
    let firstPromptCount: number | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: upstream, contents: 'Say something about the weather in Paris.', config: { maxOutputTokens: 3 } })) {
      streamed += chunk.text ?? '';
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
      firstPromptCount ??= chunk.usageMetadata?.promptTokenCount;
    }
    expect(streamed.length).toBeGreaterThan(0);
    expect(finish).toBe(FinishReason.MAX_TOKENS);
    // Gemini counts the prompt on every event; so does Detour once an upstream has said it.
    if (upstream === 'anthropic' || upstream === 'gemini') expect(firstPromptCount).toBeGreaterThan(0);

    const refused = await ai.models.generateContent({ model: `${upstream}-400`, contents: 'Hi' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400 });
  });
});
