import type { ChatChunk, ChunkDelta, FinishReason, Usage } from '../../../src/providers/types.js';
import { fixedNowSeconds, usage, type ErrorCase, type ResponseCase, type StreamCase } from './types.js';

/** The chunks of one Gemini stream share its response id and model. */
function chunkMaker(id: string, model: string, created = fixedNowSeconds) {
  return {
    delta: (delta: ChunkDelta, finishReason: FinishReason | null = null): ChatChunk => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }] }),
    usage: (value: Usage): ChatChunk => ({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: value }),
    /** The role chunk of a stream whose first event counted the prompt. */
    start: (promptTokens: number): ChatChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta: role, finish_reason: null }],
      promptUsage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens },
    }),
  };
}

const role: ChunkDelta = { role: 'assistant', content: '' };

const textStream = chunkMaker('vH2kZ8rLNs3q1MwPy6TdQ0A', 'gemini-2.5-flash');
const reasoningStream = chunkMaker('Rw6nZ1cJFq4x8PdQs2TyM7U', 'gemini-2.5-pro');
const toolStream = chunkMaker('Ta3pZ6sFMk8r4NbPq1WcX2Y', 'gemini-2.5-flash');
// Vertex stamps its events with `createTime`; the Gemini API does not, and the arrival time stands in.
const partialStream = chunkMaker('pL5qZ2uXBn7y3OdQm9RtK4H', 'gemini-3-pro-preview', Math.floor(Date.parse('2026-01-15T11:58:20.250Z') / 1000));

export const geminiStreamCases: StreamCase[] = [
  {
    name: 'text: a role chunk, the text as it comes, the finish, then usage with thinking counted as output',
    fixture: 'gemini/text.chunks.txt',
    expected: [
      textStream.start(14),
      textStream.delta({ content: 'Port 8080 is already in use' }),
      textStream.delta({ content: ' by another process. Stop it, or pick a free port with --port.' }),
      textStream.delta({}, 'stop'),
      textStream.usage(usage(14, 109, 123, { completion_tokens_details: { reasoning_tokens: 88 } })),
    ],
  },
  {
    name: 'reasoning: the thought summary is not answer text, and the final empty part with a thought signature adds nothing',
    fixture: 'gemini/reasoning.chunks.txt',
    expected: [
      reasoningStream.start(31),
      reasoningStream.delta({ content: 'The three legs take' }),
      reasoningStream.delta({ content: ' 2 h 45 min in total.' }),
      reasoningStream.delta({}, 'stop'),
      reasoningStream.usage(usage(31, 211, 242, { completion_tokens_details: { reasoning_tokens: 198 } })),
    ],
  },
  {
    name: 'a function call: one tool-call delta with a generated id and the whole arguments; STOP means tool_calls',
    fixture: 'gemini/tool-call.chunks.txt',
    expected: [
      toolStream.start(45),
      toolStream.delta({ tool_calls: [{ index: 0, id: 'call_Ta3pZ6sFMk8r4NbPq1WcX2Y_0', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Oslo"}' } }] }),
      toolStream.delta({}, 'tool_calls'),
      toolStream.usage(usage(45, 89, 134, { completion_tokens_details: { reasoning_tokens: 77 } })),
    ],
  },
  {
    name: 'two calls whose arguments stream in pieces (Vertex: a string in fragments, a number) are put together before they go out',
    fixture: 'gemini/stream-tool-call-arguments.chunks.txt',
    expected: [
      partialStream.delta(role),
      partialStream.delta({ tool_calls: [{ index: 0, id: 'call_pL5qZ2uXBn7y3OdQm9RtK4H_0', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Reykjavík","days":3}' } }] }),
      partialStream.delta({ tool_calls: [{ index: 1, id: 'call_pL5qZ2uXBn7y3OdQm9RtK4H_1', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Tromsø","days":5}' } }] }),
      partialStream.delta({}, 'tool_calls'),
      partialStream.usage(usage(52, 195, 247, { completion_tokens_details: { reasoning_tokens: 164 } })),
    ],
  },
  {
    name: 'a blocked prompt ends the stream at once with content_filter',
    events: [{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 }, modelVersion: 'gemini-2.5-flash', responseId: 'blocked-1' }],
    expected: [
      chunkMaker('blocked-1', 'gemini-2.5-flash').start(12),
      chunkMaker('blocked-1', 'gemini-2.5-flash').delta({}, 'content_filter'),
      chunkMaker('blocked-1', 'gemini-2.5-flash').usage(usage(12, 0, 12)),
    ],
  },
  {
    name: 'thoughts are not answer text; a call by id keeps its id; MAX_TOKENS is length',
    events: [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Let me think.', thought: true }, { text: 'Calling.' }] } }], modelVersion: 'gemini-2.5-pro', responseId: 'r-2' },
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'fc-7', name: 'lookup', args: { q: 'x' } } }] }, finishReason: 'MAX_TOKENS' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9, cachedContentTokenCount: 2 }, modelVersion: 'gemini-2.5-pro', responseId: 'r-2' },
    ],
    expected: [
      chunkMaker('r-2', 'gemini-2.5-pro').delta(role),
      chunkMaker('r-2', 'gemini-2.5-pro').delta({ content: 'Calling.' }),
      chunkMaker('r-2', 'gemini-2.5-pro').delta({ tool_calls: [{ index: 0, id: 'fc-7', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }),
      chunkMaker('r-2', 'gemini-2.5-pro').delta({}, 'length'),
      chunkMaker('r-2', 'gemini-2.5-pro').usage(usage(5, 4, 9, { prompt_tokens_details: { cached_tokens: 2 } })),
    ],
  },
];

function completion(id: string, model: string, message: { content: string | null; tool_calls?: Array<{ id: string; name: string; arguments: string }> }, finishReason: FinishReason, value: Usage): ResponseCase['expected'] {
  const toolCalls = message.tool_calls?.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));
  return {
    id,
    object: 'chat.completion',
    created: fixedNowSeconds,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: message.content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: finishReason, logprobs: null }],
    usage: value,
  };
}

export const geminiResponseCases: ResponseCase[] = [
  {
    name: 'text, with thinking counted in completion tokens and reported as reasoning',
    fixture: 'gemini/text.json',
    expected: completion(
      'kQ9xZ3mTPa6v0NcPlYfB8Ag',
      'gemini-2.5-flash',
      { content: 'Port 8080 is already taken by another process. Stop that process, or start the server on a free port with --port 8081.' },
      'stop',
      usage(14, 123, 137, { completion_tokens_details: { reasoning_tokens: 96 } }),
    ),
  },
  {
    name: 'reasoning: the thought summary part is not shown, only the answer',
    fixture: 'gemini/reasoning.json',
    expected: completion('Yb4mZ9eKDp2w7NcP0rXa1Qs', 'gemini-2.5-pro', { content: 'The three legs take 2 h 45 min in total.' }, 'stop', usage(31, 226, 257, { completion_tokens_details: { reasoning_tokens: 212 } })),
  },
  {
    name: 'a function call: a generated id, JSON-string arguments, and tool_calls for STOP',
    fixture: 'gemini/tool-call.json',
    expected: completion(
      'Qd7nZ4wHLo9t2McPk3VbS1E',
      'gemini-2.5-flash',
      { content: null, tool_calls: [{ id: 'call_Qd7nZ4wHLo9t2McPk3VbS1E_0', name: 'get_forecast', arguments: '{"city":"Bergen","days":2}' }] },
      'tool_calls',
      usage(47, 150, 197, { completion_tokens_details: { reasoning_tokens: 131 } }),
    ),
  },
  {
    name: 'a blocked prompt has no candidate: an empty answer ended by content_filter',
    body: { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 }, modelVersion: 'gemini-2.5-flash', responseId: 'blocked-2' },
    expected: completion('blocked-2', 'gemini-2.5-flash', { content: null }, 'content_filter', usage(12, 0, 12)),
  },
  {
    name: 'a candidate stopped for recitation keeps what it said, without its thoughts, and tool use counts as prompt',
    body: {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Thinking…', thought: true }, { text: 'Partial answer' }] }, finishReason: 'RECITATION' }],
      usageMetadata: { promptTokenCount: 10, toolUsePromptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 15 },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'r-3',
    },
    expected: completion('r-3', 'gemini-2.5-flash', { content: 'Partial answer' }, 'content_filter', usage(13, 2, 15)),
  },
];

const quotaFailure = (quotaId: string) => ({ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId }] });
const googleError = (code: number, status: string, message: string, details: unknown[] = []) => ({ error: { code, message, status, ...(details.length > 0 ? { details } : {}) } });

export const geminiErrorCases: ErrorCase[] = [
  {
    name: 'a 429 is retried after the RetryInfo delay in its body (Gemini sends no Retry-After)',
    status: 429,
    fixture: 'gemini/error-429-retry-info.json',
    expected: { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 18_200 },
  },
  {
    name: 'a 429 on a per-day quota will not clear for hours: fail over',
    status: 429,
    body: googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [quotaFailure('GenerateRequestsPerDayPerProjectPerModel-FreeTier'), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '47s' }]),
    expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  },
  {
    name: 'a bad key is a 400 with API_KEY_INVALID: fail over to the next key',
    status: 400,
    body: googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    ]),
    expected: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' },
  },
  {
    name: 'a prompt over the context window fails over to a larger model',
    status: 400,
    body: googleError(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
    expected: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' },
  },
  {
    name: 'FAILED_PRECONDITION (region, billing) is this account\'s limit: fail over',
    status: 400,
    body: googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.'),
    expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  },
  {
    name: 'any other 400 is the client\'s own error',
    status: 400,
    body: googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "foo": Cannot find field.'),
    expected: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' },
  },
  { name: '403 fails over', status: 403, body: googleError(403, 'PERMISSION_DENIED', 'Permission denied.'), expected: { kind: 'failover', code: 'UPSTREAM_PERMISSION_DENIED' } },
  { name: '404 fails over', status: 404, body: googleError(404, 'NOT_FOUND', 'models/gemini-9 is not found.'), expected: { kind: 'failover', code: 'UPSTREAM_MODEL_NOT_FOUND' } },
  { name: '500 is retried', status: 500, body: googleError(500, 'INTERNAL', 'An internal error has occurred.'), expected: { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' } },
  { name: '503 is retried', status: 503, body: googleError(503, 'UNAVAILABLE', 'The model is overloaded.'), expected: { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' } },
  { name: '504 is retried', status: 504, body: googleError(504, 'DEADLINE_EXCEEDED', 'Deadline exceeded.'), expected: { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' } },
];
