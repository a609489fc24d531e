import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { loadReplay } from '../../src/sim/replay.js';
import type { Simulator } from '../../src/sim/simulator.js';
import { anthropicProvider } from '../helpers/anthropic.js';
import { answerFacts, streamFacts, type AnswerFacts } from '../helpers/fixture-oracle.js';
import { describeEachFixtureSet, fixtureFormats, type FixtureAnswer, type FixtureFormat, type FixtureSet } from '../helpers/fixture-sets.js';
import { Cleanup, openAiClient, startGateway, startSim } from '../helpers/gateway.js';

/**
 * Every provider answer of every fixture set (the project's, and the captured one when present),
 * played back by the simulator to the provider's official SDK, and through Detour, translated,
 * to an OpenAI client. Expectations come from each file itself (its id, its text, its calls).
 */

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const prompt = 'Hi';

describeEachFixtureSet('the simulator replays', (set) => {
  for (const format of fixtureFormats) {
    describe(format, () => {
      for (const answer of set.answers(format).filter((candidate) => !candidate.isError)) {
        if (answer.json) {
          it(`${answer.json} to the official SDK, verbatim`, async () => sdkWhole[format](await simFor(set, answer), set.json(answer.json as string)));
          if (format !== 'openai') it(`${answer.json} through Detour to an OpenAI client, translated`, async () => detourWhole(await simFor(set, answer), format, answerFacts(format, set.json(answer.json as string))));
        }
        if (answer.chunks) {
          it(`${answer.chunks} to the official SDK, as a stream`, async () => sdkStream[format](await simFor(set, answer), set.events(answer.chunks as string)));
          if (format !== 'openai') it(`${answer.chunks} through Detour to an OpenAI client, translated`, async () => detourStream(await simFor(set, answer), format, streamFacts(format, set.events(answer.chunks as string))));
        }
      }
    });
  }
});

async function simFor(set: FixtureSet, answer: FixtureAnswer): Promise<Simulator> {
  const replay = loadReplay({ json: answer.json && set.path(answer.json), chunks: answer.chunks && set.path(answer.chunks) });
  return cleanup.add(await startSim({ replay: { '*': replay } }));
}

const openAiSdk = (sim: Simulator) => new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-fixture-test', maxRetries: 0 });
const anthropicSdk = (sim: Simulator) => new Anthropic({ baseURL: sim.url, apiKey: 'sk-ant-fixture-test', maxRetries: 0 });
const geminiSdk = (sim: Simulator) => new GoogleGenAI({ apiKey: 'fixture-test-key', httpOptions: { baseUrl: sim.url } });

type Record_ = Record<string, unknown>;

/** Answer text of a Gemini SDK response, thoughts excluded (the SDK's own `text` warns on non-text parts). */
function geminiText(response: GenerateContentResponse): string {
  return (response.candidates?.[0]?.content?.parts ?? []).map((part) => (typeof part.text === 'string' && part.thought !== true ? part.text : '')).join('');
}

const sdkWhole: Record<FixtureFormat, (sim: Simulator, body: unknown) => Promise<void>> = {
  async openai(sim, body) {
    const whole = await openAiSdk(sim).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
    expect(whole).toMatchObject(body as Record_);
  },
  async anthropic(sim, body) {
    const whole = await anthropicSdk(sim).messages.create({ model: 'claude-fixture', max_tokens: 100, messages: [{ role: 'user', content: prompt }] });
    expect(whole).toMatchObject(body as Record_);
  },
  async gemini(sim, body) {
    const facts = answerFacts('gemini', body);
    const whole = await geminiSdk(sim).models.generateContent({ model: 'gemini-2.5-flash', contents: prompt });
    expect(whole.responseId).toBe(facts.id);
    expect(whole.modelVersion).toBe(facts.model);
    expect(geminiText(whole)).toBe(facts.text);
    expect((whole.functionCalls ?? []).map((call) => ({ name: call.name, args: call.args }))).toStrictEqual(facts.toolCalls.map((call) => ({ name: call.name, args: call.args })));
    expect(whole.usageMetadata).toStrictEqual((body as Record_).usageMetadata);
  },
};

const sdkStream: Record<FixtureFormat, (sim: Simulator, payloads: unknown[]) => Promise<void>> = {
  async openai(sim, payloads) {
    const facts = streamFacts('openai', payloads);
    const received: unknown[] = [];
    for await (const chunk of await openAiSdk(sim).chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] })) received.push(chunk);
    // Every chunk arrives, in order, as it was sent.
    expect(received).toStrictEqual(payloads);
    expect(received.map((chunk) => (chunk as { id: string }).id).every((id) => id === facts.id)).toBe(true);
  },
  async anthropic(sim, payloads) {
    const facts = streamFacts('anthropic', payloads);
    const final = await anthropicSdk(sim).messages.stream({ model: 'claude-fixture', max_tokens: 100, messages: [{ role: 'user', content: prompt }] }).finalMessage();
    expect({ id: final.id, model: final.model }).toStrictEqual({ id: facts.id, model: facts.model });
    const lastDelta = (payloads as Record_[]).filter((event) => event.type === 'message_delta').at(-1) ?? {};
    expect(final.stop_reason).toBe((lastDelta.delta as Record_ | undefined)?.stop_reason);
    expect(final.content.map((block) => (block.type === 'text' ? block.text : '')).join('')).toBe(facts.text);
    expect(final.content.filter((block) => block.type === 'tool_use').map((block) => ({ id: block.id, name: block.name, args: block.input }))).toStrictEqual(facts.toolCalls);
    expect(final.usage.output_tokens).toBe((lastDelta.usage as Record_ | undefined)?.output_tokens);
  },
  async gemini(sim, payloads) {
    const facts = streamFacts('gemini', payloads);
    const received: GenerateContentResponse[] = [];
    for await (const chunk of await geminiSdk(sim).models.generateContentStream({ model: 'gemini-2.5-flash', contents: prompt })) received.push(chunk);
    expect(received).toHaveLength(payloads.length);
    expect(received.every((chunk) => chunk.responseId === facts.id)).toBe(true);
    expect(received.map(geminiText).join('')).toBe(facts.text);
    const lastCandidate = ((payloads.at(-1) as Record_).candidates as Record_[] | undefined)?.[0];
    expect(received.at(-1)?.candidates?.[0]?.finishReason).toBe(lastCandidate?.finishReason);
  },
};

async function detourClient(sim: Simulator, format: FixtureFormat): Promise<OpenAI> {
  const provider = format === 'anthropic' ? anthropicProvider(sim.url) : { type: 'gemini', base_url: sim.url, api_key: 'AIzaSy-fixture-test-0001' };
  const gateway = cleanup.add(await startGateway({ providers: { upstream: provider }, models: { chat: { targets: [{ provider: 'upstream', model: format === 'anthropic' ? 'claude-fixture' : 'gemini-2.5-flash' }] } } }));
  return openAiClient(gateway.url);
}

async function detourWhole(sim: Simulator, format: FixtureFormat, facts: AnswerFacts): Promise<void> {
  const client = await detourClient(sim, format);
  const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: prompt }] });
  const choice = answer.choices[0];
  expect(choice?.message.content ?? '').toBe(facts.text);
  expect(choice?.message.refusal ?? '').toBe(facts.refusal);
  if (facts.finishReason !== undefined) expect(choice?.finish_reason).toBe(facts.finishReason);
  expect((choice?.message.tool_calls ?? []).map((call) => (call.type === 'function' ? { name: call.function.name, args: JSON.parse(call.function.arguments) as unknown } : {}))).toStrictEqual(
    facts.toolCalls.map((call) => ({ name: call.name, args: call.args })),
  );
  if (facts.usage) expect(answer.usage).toMatchObject({ prompt_tokens: facts.usage.prompt_tokens, completion_tokens: facts.usage.completion_tokens, total_tokens: facts.usage.total_tokens });
}

async function detourStream(sim: Simulator, format: FixtureFormat, facts: AnswerFacts): Promise<void> {
  const client = await detourClient(sim, format);
  let text = '';
  let refusal = '';
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  const calls: Array<{ name: string; args: string }> = [];
  for await (const chunk of await client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] })) {
    usage = chunk.usage ?? usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      refusal += choice.delta.refusal ?? '';
      for (const piece of choice.delta.tool_calls ?? []) {
        const call = (calls[piece.index] ??= { name: '', args: '' });
        call.name += piece.function?.name ?? '';
        call.args += piece.function?.arguments ?? '';
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
  }
  expect(text).toBe(facts.text);
  expect(refusal).toBe(facts.refusal);
  if (facts.finishReason !== undefined) expect(finishReason).toBe(facts.finishReason);
  expect(calls.map((call) => ({ name: call.name, args: JSON.parse(call.args) as unknown }))).toStrictEqual(facts.toolCalls.map((call) => ({ name: call.name, args: call.args })));
  if (facts.usage) expect(usage).toMatchObject({ prompt_tokens: facts.usage.prompt_tokens, completion_tokens: facts.usage.completion_tokens, total_tokens: facts.usage.total_tokens });
}
