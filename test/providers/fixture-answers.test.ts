import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DetourError } from '../../src/core/errors.js';
import type { Target } from '../../src/core/settings.js';
import { adapters } from '../../src/providers/registry.js';
import type { ChatChunk, ChatResponse, ProviderAdapter, SseEvent, Usage } from '../../src/providers/types.js';
import { answerFacts, streamFacts, type AnswerFacts, type UsageFacts } from '../helpers/fixture-oracle.js';
import { describeEachFixtureSet, fixtureFormats, type FixtureAnswer, type FixtureFormat, type FixtureSet } from '../helpers/fixture-sets.js';
import { decodeStream, frameStream } from './cases/fixtures.js';
import { fixedNowMs, makeTarget } from './cases/types.js';

/**
 * Content-independent checks over every provider answer of every fixture set, the project's and
 * (when present) the captured one: whatever a file says, the adapter must read it as the
 * provider's documentation says it is meant (see `../helpers/fixture-oracle.ts`). Exact
 * expectations for the project's fixtures are in `conformance.test.ts` and `anthropic.test.ts`.
 */

const targets: Record<FixtureFormat, Target> = {
  openai: makeTarget('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', 'sk-fixture-openai-key-0001'),
  anthropic: makeTarget('anthropic', 'https://api.anthropic.com', 'claude-sonnet-4-5', 'sk-ant-fixture-key-0001'),
  gemini: makeTarget('gemini', 'https://generativelanguage.googleapis.com/v1beta', 'gemini-2.5-flash', 'AIzaSy-fixture-key-0001'),
};

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: fixedNowMs });
});
afterAll(() => {
  vi.useRealTimers();
});

describeEachFixtureSet('every provider answer', (set) => {
  it('holds answers of every format', () => {
    for (const format of fixtureFormats) expect(set.answers(format).filter((answer) => !answer.isError), `${set.dir}/${format}`).not.toHaveLength(0);
  });
  for (const format of fixtureFormats) {
    const adapter = adapters[format] as ProviderAdapter;
    describe(format, () => {
      for (const answer of set.answers(format)) {
        if (answer.isError && answer.json) it(`${answer.json}: is classified as its status and type mean`, () => checkError(set, answer, adapter));
        else if (answer.json) it(`${answer.json}: is parsed whole into what the body says`, () => checkWhole(set, answer, adapter));
        if (answer.chunks) {
          it(`${answer.chunks}: decodes to a complete answer whose text and tool arguments are what the events carry`, () => checkStream(set, answer, adapter));
          it(`${answer.chunks}: passed through, every event is forwarded, and the finish and usage are seen`, () => checkInspection(set, answer, adapter));
        }
      }
    });
  }
});

function checkWhole(set: FixtureSet, answer: FixtureAnswer, adapter: ProviderAdapter): void {
  const body = set.json(answer.json as string);
  const facts = answerFacts(answer.format, body);
  const response = adapter.parseResponse(body, targets[answer.format]);
  expect(response.object).toBe('chat.completion');
  expect(response.choices).toHaveLength(1);
  expectFacts(response, facts);
  expect(adapter.readUsage(body)).toStrictEqual(response.usage);
}

function expectFacts(response: ChatResponse, facts: AnswerFacts): void {
  const choice = response.choices[0];
  if (facts.id !== undefined) expect(response.id).toBe(facts.id);
  if (facts.model !== undefined) expect(response.model).toBe(facts.model);
  expect(choice?.message.content ?? '').toBe(facts.text);
  expect(choice?.message.refusal ?? '').toBe(facts.refusal);
  expect(
    (choice?.message.tool_calls ?? []).map((call) => ({ name: call.type === 'function' ? call.function.name : '', args: call.type === 'function' ? (JSON.parse(call.function.arguments) as unknown) : undefined })),
  ).toStrictEqual(facts.toolCalls.map((call) => ({ name: call.name, args: call.args })));
  for (const [index, call] of facts.toolCalls.entries()) if (call.id !== undefined) expect(choice?.message.tool_calls?.[index]?.id).toBe(call.id);
  if (facts.finishReason !== undefined) expect(choice?.finish_reason).toBe(facts.finishReason);
  expectUsage(response.usage, facts.usage);
}

function expectUsage(actual: Usage | undefined, expected: UsageFacts | undefined): void {
  if (expected === undefined) return expect(actual).toBeUndefined();
  // The answer's own counts add up (thinking counted as output), or the fixture is not a true answer.
  expect(expected.prompt_tokens + expected.completion_tokens, 'prompt + completion tokens').toBe(expected.total_tokens);
  expect(actual).toMatchObject({ prompt_tokens: expected.prompt_tokens, completion_tokens: expected.completion_tokens, total_tokens: expected.total_tokens });
  if (expected.cached_tokens !== undefined) expect(actual?.prompt_tokens_details?.cached_tokens).toBe(expected.cached_tokens);
  if (expected.reasoning_tokens !== undefined) expect(actual?.completion_tokens_details?.reasoning_tokens).toBe(expected.reasoning_tokens);
}

/** What an OpenAI client assembles from chunks: the stream as one answer. */
function assemble(chunks: ChatChunk[]): ChatResponse {
  let content = '';
  let refusal = '';
  let finishReason: ChatResponse['choices'][number]['finish_reason'] = null;
  let usage: Usage | undefined;
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const chunk of chunks) {
    usage = chunk.usage ?? usage;
    for (const choice of chunk.choices) {
      expect(choice.index).toBe(0);
      content += choice.delta.content ?? '';
      refusal += choice.delta.refusal ?? '';
      for (const piece of choice.delta.tool_calls ?? []) {
        // The first piece of a call names it; later ones only extend its arguments.
        const call = (calls[piece.index] ??= { id: piece.id ?? '', type: 'function', function: { name: piece.function?.name ?? '', arguments: '' } });
        call.function.arguments += piece.function?.arguments ?? '';
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
  }
  const first = chunks[0];
  return {
    id: first?.id ?? '',
    object: 'chat.completion',
    created: first?.created ?? 0,
    model: first?.model ?? '',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal, ...(calls.length > 0 ? { tool_calls: calls } : {}) }, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

function checkStream(set: FixtureSet, answer: FixtureAnswer, adapter: ProviderAdapter): void {
  const payloads = set.events(answer.chunks as string);
  const facts = streamFacts(answer.format, payloads);
  const target = targets[answer.format];
  const { chunks, isComplete } = decodeStream(adapter, target, payloads);
  expect(isComplete).toBe(true);
  expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
  // One answer: every chunk carries its id, model and time.
  expect(new Set(chunks.map((chunk) => `${chunk.id} ${chunk.model} ${chunk.created}`)).size).toBe(1);
  for (const call of assemble(chunks).choices[0]?.message.tool_calls ?? []) expect(call.id).not.toBe('');
  expectFacts(assemble(chunks), facts);
  if (payloads.length > 1) expect(decodeStream(adapter, target, payloads, 1).isComplete, 'cut after its first event').toBe(false);
}

/** The pass-through path watches events without decoding them: it must still see the finish and the usage. */
function checkInspection(set: FixtureSet, answer: FixtureAnswer, adapter: ProviderAdapter): void {
  const target = targets[answer.format];
  const payloads = set.events(answer.chunks as string);
  const events = sseEvents(answer.format, payloads);
  const seen = events.map((event) => adapter.inspectEvent(event, true, target));
  expect(seen.filter((inspection) => inspection.error !== undefined)).toStrictEqual([]);
  expect(seen.every((inspection) => inspection.forward)).toBe(true);
  expect(seen.some((inspection) => inspection.finished === true)).toBe(true);
  const usage = seen.map((inspection) => inspection.usage).filter((value) => value !== undefined).at(-1);
  expectUsage(usage, streamFacts(answer.format, payloads).usage);
}

/** Framed as on the wire, then split back into the events a client's parser yields. */
function sseEvents(format: FixtureFormat, payloads: readonly unknown[]): SseEvent[] {
  return frameStream(format, payloads)
    .split('\n\n')
    .filter((block) => block !== '')
    .map((raw) => {
      const lines = raw.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines.find((line) => line.startsWith('data: '))?.slice('data: '.length) ?? '';
      return { ...(event !== undefined ? { event } : {}), data, raw } as SseEvent;
    });
}

// Errors: the status comes from the body (Google's `code`), the file name (`error-429-…`), or the documented status of the error type.

const statusOfType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  insufficient_quota: 429,
  api_error: 500,
  server_error: 500,
  overloaded_error: 529,
};

function errorStatus(answer: FixtureAnswer, body: Record<string, unknown>): number {
  const error = (body.error ?? {}) as Record<string, unknown>;
  if (typeof error.code === 'number') return error.code;
  const named = /^error-(\d{3})\b/.exec(answer.name)?.[1];
  if (named) return Number(named);
  const status = typeof error.type === 'string' ? statusOfType[error.type] : undefined;
  if (status === undefined) throw new Error(`cannot tell the HTTP status of ${answer.json}: name it error-<status>-…`);
  return status;
}

function checkError(set: FixtureSet, answer: FixtureAnswer, adapter: ProviderAdapter): void {
  const body = set.json(answer.json as string) as Record<string, unknown>;
  const error = (body.error ?? {}) as Record<string, unknown>;
  const status = errorStatus(answer, body);
  const target = targets[answer.format];
  const classified: DetourError = adapter.classifyError(status, {}, JSON.stringify(body), target, fixedNowMs);
  expect({ status: classified.status, target: classified.target }).toStrictEqual({ status, target: target.id });
  const message = typeof error.message === 'string' ? error.message : '';
  const details = Array.isArray(error.details) ? (error.details as Array<Record<string, unknown>>) : [];
  if (status === 429) {
    const perDay = JSON.stringify(details).includes('PerDay') || error.code === 'insufficient_quota' || error.type === 'insufficient_quota';
    const retryDelay = details.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay;
    const waitMs = typeof retryDelay === 'string' ? Math.ceil(Number(retryDelay.replace(/s$/, '')) * 1000) : undefined;
    expect({ kind: classified.kind, code: classified.code, retryAfterMs: classified.retryAfterMs }).toStrictEqual(
      perDay ? { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED', retryAfterMs: undefined } : { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: waitMs },
    );
  } else if (status >= 500) {
    expect(classified.kind).toBe('retryable');
  } else if (status === 400 && !/context|too long|token count|credit|api key/i.test(message) && !JSON.stringify(details).includes('API_KEY_INVALID') && error.status !== 'FAILED_PRECONDITION') {
    // A plain invalid request is the client's own: never retried, and its body goes back as the upstream sent it.
    expect({ kind: classified.kind, code: classified.code }).toStrictEqual({ kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' });
    expect(classified.upstreamBody).toStrictEqual(body);
  } else {
    expect(classified.kind).not.toBe('retryable');
  }
}
