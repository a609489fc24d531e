import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvents, RequestFinishedEvent } from '../../src/core/events.js';
import type { RunningGateway } from '../../src/server/gateway-server.js';
import { defaultAnswerStyle } from '../../src/sim/answer.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { openAiProvider, startGateway, startSim } from '../helpers/gateway.js';

/**
 * A stream that breaks after it reached the client is continued on the backup: for every ingress
 * (OpenAI Chat, Anthropic, Responses, Gemini) × every upstream format of the broken stream
 * (OpenAI Chat, Anthropic, Gemini, Responses), with a backup of another format, the client's
 * text is the whole answer exactly once, even from a backup that repeats the end of the prefix
 * (`continuationOverlap`). Where ingress and upstream formats match, the broken stream was
 * passed through untouched, and the continuation is written by a primed encoder.
 */
const full = defaultAnswerStyle.text;
const formats = ['openai', 'anthropic', 'gemini', 'responses'] as const;
type Format = (typeof formats)[number];
const backupOf: Record<Format, Format> = { openai: 'anthropic', anthropic: 'gemini', gemini: 'responses', responses: 'openai' };
const ingresses = ['openai', 'anthropic', 'responses', 'gemini'] as const;
type Ingress = (typeof ingresses)[number];

let broken: Simulator;
let repeating: Simulator;
let exact: Simulator;
let gateway: RunningGateway;
const finished: RequestFinishedEvent[] = [];
const continued: Array<EngineEvents['stream.continued']> = [];
const notContinued: Array<EngineEvents['stream.not_continued']> = [];

function provider(format: Format, sim: Simulator, key: string): Record<string, unknown> {
  if (format === 'openai') return openAiProvider(sim, `sk-${key}-0000000000000001`);
  if (format === 'responses') return { ...openAiProvider(sim, `sk-${key}-0000000000000001`), api: 'responses' };
  if (format === 'anthropic') return anthropicProvider(sim.url, `sk-ant-${key}-000000000001`);
  return { type: 'gemini', base_url: sim.url, api_key: `AIzaSy-${key}-00000000000000001` };
}
const model: Record<Format, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5', gemini: 'gemini-2.5-flash', responses: 'gpt-4.1-mini' };

beforeAll(async () => {
  // The broken primary drops every stream after three chunks: after bytes reached the client.
  broken = await startSim({ plan: { faults: [{ reset_after_chunks: 3 }] } });
  repeating = await startSim({ answer: { continuationOverlap: 12 } });
  exact = await startSim();
  const providers: Record<string, unknown> = {};
  const models: Record<string, unknown> = {};
  for (const format of formats) {
    providers[`broken-${format}`] = provider(format, broken, `broken${format}`);
    providers[`repeating-${format}`] = provider(format, repeating, `repeating${format}`);
    providers[`exact-${format}`] = provider(format, exact, `exact${format}`);
    const backup = backupOf[format];
    models[`${format}-then-repeating`] = { targets: [{ provider: `broken-${format}`, model: model[format] }, { provider: `repeating-${backup}`, model: model[backup] }] };
    models[`${format}-then-exact`] = { targets: [{ provider: `broken-${format}`, model: model[format] }, { provider: `exact-${backup}`, model: model[backup] }] };
    models[`${format}-error`] = { on_stream_failure: 'error', targets: [{ provider: `broken-${format}`, model: model[format] }, { provider: `exact-${backup}`, model: model[backup] }] };
  }
  // A model with a window wide enough for a tool of 600 KB.
  models['openai-wide'] = { targets: [{ provider: 'broken-openai', model: 'gpt-4.1' }, { provider: 'exact-anthropic', model: model.anthropic }] };
  // Breakers that never open: every test here breaks the primary's streams on purpose.
  gateway = await startGateway({ breaker: { failure_threshold: 1000, minimum_requests: 1000 }, providers, models });
  gateway.engine.events.on('request.finished', (event) => finished.push(event));
  gateway.engine.events.on('stream.continued', (event) => continued.push(event));
  gateway.engine.events.on('stream.not_continued', (event) => notContinued.push(event));
});
afterAll(async () => {
  await gateway.close();
  await Promise.all([broken.close(), repeating.close(), exact.close()]);
});

const openAi = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 });
const gemini = () => new GoogleGenAI({ apiKey: 'AIzaSy-detour-client-key', httpOptions: { baseUrl: gateway.url } });

/** What a client made of a stream: its text, how it said it ended, its output tokens and the request id. */
interface Seen {
  text: string;
  finish: string | null | undefined;
  outputTokens: number;
  requestId: string | null | undefined;
}

const normalFinish: Record<Ingress, string> = { openai: 'stop', anthropic: 'end_turn', responses: 'completed', gemini: 'STOP' };

async function openAiText(route: string): Promise<Seen> {
  const { data, response } = await openAi()
    .chat.completions.create({ model: route, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })
    .withResponse();
  const seen: Seen = { text: '', finish: null, outputTokens: 0, requestId: response.headers.get('x-request-id') };
  for await (const chunk of data) {
    seen.text += chunk.choices[0]?.delta.content ?? '';
    seen.finish = chunk.choices[0]?.finish_reason ?? seen.finish;
    seen.outputTokens = chunk.usage?.completion_tokens ?? seen.outputTokens;
  }
  return seen;
}

async function anthropicText(route: string): Promise<Seen> {
  const { data, response } = await anthropic().messages.create({ model: route, max_tokens: 256, stream: true, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
  const seen: Seen = { text: '', finish: null, outputTokens: 0, requestId: response.headers.get('x-request-id') };
  const blocks = new Set<number>();
  for await (const event of data) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
      seen.text += event.delta.text;
      blocks.add(event.index);
    }
    if (event.type === 'message_delta') {
      seen.finish = event.delta.stop_reason;
      seen.outputTokens = event.usage.output_tokens;
    }
  }
  // One message, one text block: the continuation was written into the block the client had open.
  expect([...blocks]).toEqual([0]);
  return seen;
}

async function responsesText(route: string): Promise<Seen> {
  const stream = openAi().responses.stream({ model: route, input: 'Hello' });
  const seen: Seen = { text: '', finish: null, outputTokens: 0, requestId: undefined };
  const items = new Set<string>();
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') {
      seen.text += event.delta;
      items.add(`${event.output_index}/${event.content_index}`);
    }
    if (event.type === 'response.completed') {
      seen.finish = event.response.status;
      seen.outputTokens = event.response.usage?.output_tokens ?? 0;
    }
  }
  const final = await stream.finalResponse();
  // The SDK's own assembly agrees: one message, one text part, the whole answer.
  expect(final.output_text).toBe(seen.text);
  expect([...items]).toEqual(['0/0']);
  return seen;
}

async function geminiText(route: string): Promise<Seen> {
  const seen: Seen = { text: '', finish: undefined, outputTokens: 0, requestId: undefined };
  for await (const chunk of await gemini().models.generateContentStream({ model: route, contents: 'Hello' })) {
    seen.text += chunk.text ?? '';
    seen.finish = chunk.candidates?.[0]?.finishReason ?? seen.finish;
    seen.outputTokens = chunk.usageMetadata?.candidatesTokenCount ?? seen.outputTokens;
  }
  return seen;
}

const readers: Record<Ingress, (route: string) => Promise<Seen>> = { openai: openAiText, anthropic: anthropicText, responses: responsesText, gemini: geminiText };

/** The request.finished event of a stream a client read, by its request id or, lacking one, as the last for its route. */
function finishedFor(seen: Seen, route: string): RequestFinishedEvent | undefined {
  if (seen.requestId) return finished.find((candidate) => candidate.requestId === seen.requestId);
  return finished.filter((candidate) => candidate.route === route).at(-1);
}

describe.each(formats)('a %s stream that breaks after it started', (format) => {
  describe.each(ingresses)('read by a %s client', (ingress) => {
    it.each(['repeating', 'exact'] as const)('reaches it whole, exactly once, continued on a %s backup', async (backup) => {
      const route = `${format}-then-${backup}`;
      const seen = await readers[ingress](route);
      expect(seen.text).toBe(full);
      expect(seen.finish).toBe(normalFinish[ingress]);
      // Usage is both attempts': at least the whole answer's tokens.
      expect(seen.outputTokens).toBeGreaterThanOrEqual(Math.ceil(full.length / 4) - 2);
      await expect.poll(() => finishedFor(seen, route)).toMatchObject({ status: 200, continuations: 1 });
      const event = finishedFor(seen, route);
      expect(event?.attempts.map((attempt) => attempt.role)).toEqual([undefined, 'continuation']);
      expect(continued.find((candidate) => candidate.requestId === event?.requestId)).toMatchObject({ count: 1, from: `broken-${format}/${model[format]}`, to: `${backup}-${backupOf[format]}/${model[backupOf[format]]}` });
    });
  });

  it('ends with the explicit error event when the route says on_stream_failure: error', async () => {
    const error = await openAiText(`${format}-error`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
  });
});

describe('how a continued stream is marked', () => {
  it('in an SSE comment and in the final event’s metadata, on the wire', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai-then-exact', stream: true, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    const raw = await response.text();
    expect(raw).toMatch(/^: detour continued this stream on exact-anthropic\/claude-haiku-4-5 after broken-openai\/gpt-4o-mini broke, from character \d+$/m);
    const events = raw.split('\n\n').filter((block) => block.startsWith('data: {'));
    const last = JSON.parse((events.at(-1) as string).slice(6)) as { detour?: unknown; choices: Array<{ finish_reason: string | null }> };
    expect(last.detour).toEqual({ continued: true, count: 1, targets: ['broken-openai/gpt-4o-mini', 'exact-anthropic/claude-haiku-4-5'] });
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });
});

const weather: OpenAI.Chat.Completions.ChatCompletionTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('a tool call', () => {
  it.each(formats)('broken inside its arguments from a %s upstream reaches an OpenAI client whole, once: nothing of it had gone out, so the request went again', async (format) => {
    const { data, response } = await openAi()
      .chat.completions.create({ model: `${format}-then-exact`, stream: true, tools: [weather], messages: [{ role: 'user', content: 'Weather in Paris?' }] })
      .withResponse();
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let finish: string | null = null;
    for await (const chunk of data) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        const known = calls.get(call.index) ?? { id: '', name: '', arguments: '' };
        known.id += call.id ?? '';
        known.name += call.function?.name ?? '';
        known.arguments += call.function?.arguments ?? '';
        calls.set(call.index, known);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([...calls.values()]).toEqual([{ id: expect.stringMatching(/.+/), name: 'get_weather', arguments: expect.any(String) }]);
    expect(JSON.parse(calls.get(0)?.arguments ?? '')).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
    const event = finished.find((candidate) => candidate.requestId === response.headers.get('x-request-id'));
    // Gemini sends a function call whole, in one event, so that stream breaks after it instead, and is whole.
    expect(event).toMatchObject({ status: 200, ...(format === 'gemini' ? {} : { continuations: 1 }) });
  });

  it('broken inside its arguments reaches an Anthropic client as one whole tool_use block', async () => {
    const before = continued.length;
    const message = await anthropic()
      .messages.stream({ model: 'anthropic-then-exact', max_tokens: 256, tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }], messages: [{ role: 'user', content: 'Weather in Paris?' }] })
      .finalMessage();
    expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', id: expect.stringMatching(/.+/), name: 'get_weather', input: { city: 'Paris' } })]);
    expect(message.stop_reason).toBe('tool_use');
    expect(continued.slice(before)).toEqual([expect.objectContaining({ from: 'broken-anthropic/claude-haiku-4-5', keptChars: 0 })]);
  });

  it('already flowing to the client (held past its bound) is never continued: the stream fails explicitly', async () => {
    // Arguments of 600 KB: past the 256 KiB a held tool call may grow to, so the first half went out before the break.
    const huge: OpenAI.Chat.Completions.ChatCompletionTool = { type: 'function', function: { name: 'write_file', parameters: { type: 'object', properties: { text: { type: 'string', const: 'x'.repeat(600_000) } } } } };
    const before = exact.stats.requests;
    const stream = await openAi().chat.completions.create({ model: 'openai-wide', stream: true, tools: [huge], messages: [{ role: 'user', content: 'Write it.' }] });
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments?.length ?? 0;
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(received).toBeGreaterThan(256 * 1024);
    expect(notContinued.at(-1)).toMatchObject({ reason: 'tool_call', target: 'broken-openai/gpt-4.1' });
    expect(exact.stats.requests).toBe(before);
  });
});
