import Anthropic from '@anthropic-ai/sdk';
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
 * (OpenAI, Anthropic) × every upstream format of the broken stream, with a backup of another
 * format, the client's text is the whole answer exactly once, even from a backup that repeats the
 * end of the prefix (`continuationOverlap`).
 */
const full = defaultAnswerStyle.text;
const formats = ['openai', 'anthropic', 'gemini'] as const;
type Format = (typeof formats)[number];
const backupOf: Record<Format, Format> = { openai: 'anthropic', anthropic: 'gemini', gemini: 'openai' };

let broken: Simulator;
let repeating: Simulator;
let exact: Simulator;
let gateway: RunningGateway;
const finished: RequestFinishedEvent[] = [];
const continued: Array<EngineEvents['stream.continued']> = [];
const notContinued: Array<EngineEvents['stream.not_continued']> = [];

function provider(format: Format, sim: Simulator, key: string): Record<string, unknown> {
  if (format === 'openai') return openAiProvider(sim, `sk-${key}-0000000000000001`);
  if (format === 'anthropic') return anthropicProvider(sim.url, `sk-ant-${key}-000000000001`);
  return { type: 'gemini', base_url: sim.url, api_key: `AIzaSy-${key}-00000000000000001` };
}
const model: Record<Format, string> = { openai: 'gpt-4o-mini', anthropic: 'claude-haiku-4-5', gemini: 'gemini-2.5-flash' };

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

async function openAiText(route: string): Promise<{ text: string; finish: string | null; usage: OpenAI.CompletionUsage | undefined; requestId: string | null }> {
  const { data, response } = await openAi()
    .chat.completions.create({ model: route, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })
    .withResponse();
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of data) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  return { text, finish, usage, requestId: response.headers.get('x-request-id') };
}

async function anthropicText(route: string): Promise<{ text: string; stop: string | null; outputTokens: number; requestId: string | null }> {
  const { data, response } = await anthropic().messages.create({ model: route, max_tokens: 256, stream: true, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
  let text = '';
  let stop: string | null = null;
  let outputTokens = 0;
  const blocks = new Set<number>();
  for await (const event of data) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
      text += event.delta.text;
      blocks.add(event.index);
    }
    if (event.type === 'message_delta') {
      stop = event.delta.stop_reason;
      outputTokens = event.usage.output_tokens;
    }
  }
  // One message, one text block: the continuation was written into the block the client had open.
  expect([...blocks]).toEqual([0]);
  return { text, stop, outputTokens, requestId: response.headers.get('x-request-id') };
}

describe.each(formats)('a %s stream that breaks after it started', (format) => {
  it.each(['repeating', 'exact'] as const)('reaches an OpenAI client whole, exactly once, continued on a %s backup', async (backup) => {
    const seen = await openAiText(`${format}-then-${backup}`);
    expect(seen.text).toBe(full);
    expect(seen.finish).toBe('stop');
    // Usage is both attempts': at least the whole answer's tokens.
    expect(seen.usage?.completion_tokens).toBeGreaterThanOrEqual(Math.ceil(full.length / 4) - 2);
    const event = finished.find((candidate) => candidate.requestId === seen.requestId);
    expect(event).toMatchObject({ status: 200, continuations: 1 });
    expect(event?.attempts.map((attempt) => attempt.role)).toEqual([undefined, 'continuation']);
    expect(continued.find((candidate) => candidate.requestId === seen.requestId)).toMatchObject({ count: 1, to: expect.stringContaining(backupOf[format]) });
  });

  it.each(['repeating', 'exact'] as const)('reaches an Anthropic client whole, exactly once, continued on a %s backup', async (backup) => {
    const seen = await anthropicText(`${format}-then-${backup}`);
    expect(seen.text).toBe(full);
    expect(seen.stop).toBe('end_turn');
    expect(seen.outputTokens).toBeGreaterThanOrEqual(Math.ceil(full.length / 4) - 2);
    expect(finished.find((candidate) => candidate.requestId === seen.requestId)).toMatchObject({ status: 200, continuations: 1 });
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

describe('a tool call', () => {
  it('broken inside its arguments is never continued: the stream fails explicitly', async () => {
    const before = exact.stats.requests;
    const stream = await openAi().chat.completions.create({
      model: 'openai-then-exact',
      stream: true,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const error = await (async () => {
      for await (const _chunk of stream);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(notContinued.at(-1)).toMatchObject({ reason: 'tool_call', target: 'broken-openai/gpt-4o-mini' });
    expect(exact.stats.requests).toBe(before);
  });
});
