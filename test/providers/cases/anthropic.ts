import type { ChatChunk, ChunkDelta, FinishReason, ResponseMessage, Usage } from '../../../src/providers/types.js';
import { plainRequest, richRequest, withToolChoice } from './requests.js';
import { fixedNowMs, fixedNowSeconds, makeTarget, usage, type AdapterCases, type ErrorCase, type ExpectedCall, type RefusedCase, type RequestCase, type ResponseCase, type StreamCase } from './types.js';

/**
 * The Anthropic adapter's conformance cases: the project's `anthropic/*` fixtures (text, json-tool,
 * tool-no-args, refusal), the shared rich request, and what no fixture shows (cache tokens,
 * thinking blocks, other stop reasons) inline.
 */

const apiKey = 'sk-ant-api03-test-anthropic-key-0001';
const target = makeTarget('anthropic', 'https://api.anthropic.com', 'claude-sonnet-4-5', apiKey);

const messagesUrl = 'https://api.anthropic.com/v1/messages';
const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': apiKey };
const weatherSchema = { type: 'object', properties: { city: { type: 'string' } } };

function call(body: unknown, url = messagesUrl, callHeaders: Record<string, string> = headers): ExpectedCall {
  return { url, method: 'POST', headers: callHeaders, body };
}

// ---------------------------------------------------------------------------------------------
// Outgoing requests

/** Anthropic has no `seed`: the rich request is refused for it (below), and sent without it. */
const { seed: _seed, ...richWithoutSeed } = richRequest;

/** The rich conversation as Anthropic has it. */
const richBody = {
  model: 'claude-sonnet-4-5',
  max_tokens: 256,
  // System and developer messages join the top-level `system`; two of them stay two blocks.
  system: [
    { type: 'text', text: 'You are terse.' },
    { type: 'text', text: 'Answer in French.' },
  ],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Describe both images, then get the weather in Paris and Lyon.' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        // `detail` is a cost hint Anthropic has no slot for: the one thing left out.
        { type: 'image', source: { type: 'url', url: 'https://example.com/photos/cat.webp?size=large' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Two cats.' },
        { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_lyon', name: 'get_weather', input: { city: 'Lyon' } },
      ],
    },
    {
      // Results are matched by id, so they keep the order they came in; the follow-up joins their turn.
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_lyon', content: '{"temp_c":21}' },
        { type: 'tool_result', tool_use_id: 'call_paris', content: [{ type: 'text', text: '{"temp_c":18}' }] },
        { type: 'text', text: 'Which is warmer?' },
      ],
    },
  ],
  stop_sequences: ['\n\n'],
  temperature: 0.2,
  top_p: 0.9,
  tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  tool_choice: { type: 'tool', name: 'get_weather' },
  output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { warmer: { type: 'string' } } } } },
};

/** The user question and tool of `withToolChoice`, as Anthropic has them. */
const toolChoiceBody = (toolChoice: Record<string, unknown>): unknown => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 4096,
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [{ name: 'get_weather', input_schema: weatherSchema }],
  tool_choice: toolChoice,
});

const targetWithMaxTokens = { ...target, settings: { ...target.settings, maxTokens: 1000 } };

const requestCases: RequestCase[] = [
  {
    name: 'a rich request (without its seed): system blocks, images, calls and results by id, every setting with a slot',
    request: richWithoutSeed,
    stream: false,
    expected: call(richBody),
  },
  {
    name: 'a stream says stream: true and nothing more (an Anthropic stream always carries usage)',
    request: { ...richWithoutSeed, stream: true, stream_options: { include_usage: true } },
    stream: true,
    expected: call({ ...richBody, stream: true }),
  },
  {
    name: 'without max_tokens, 4096 is sent (Anthropic requires it); a base URL ending in /v1 and a pinned API version are honoured',
    request: plainRequest,
    stream: false,
    target: makeTarget('anthropic', 'https://proxy.example.com/v1/', 'claude-haiku-4-5', apiKey, { anthropic_version: '2024-01-01' }),
    expected: call({ model: 'claude-haiku-4-5', max_tokens: 4096, messages: [{ role: 'user', content: 'Hello' }] }, 'https://proxy.example.com/v1/messages', {
      'content-type': 'application/json',
      'anthropic-version': '2024-01-01',
      'x-api-key': apiKey,
    }),
  },
  {
    name: 'the target\'s maxTokens stands in when the client gave none; max_tokens, user and top_k are carried over',
    request: { ...plainRequest, user: 'end-user-42', extra: { top_k: 40 } },
    stream: false,
    target: targetWithMaxTokens,
    expected: call({ model: 'claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'Hello' }], metadata: { user_id: 'end-user-42' }, top_k: 40 }),
  },
  {
    name: 'the client\'s max_tokens wins over the target\'s; a single stop string becomes a list',
    request: { ...plainRequest, max_tokens: 77, stop: 'END' },
    stream: false,
    target: targetWithMaxTokens,
    expected: call({ model: 'claude-sonnet-4-5', max_tokens: 77, messages: [{ role: 'user', content: 'Hello' }], stop_sequences: ['END'] }),
  },
  { name: 'tool_choice auto is auto', request: withToolChoice('auto'), stream: false, expected: call(toolChoiceBody({ type: 'auto' })) },
  { name: 'tool_choice none is none', request: withToolChoice('none'), stream: false, expected: call(toolChoiceBody({ type: 'none' })) },
  { name: 'tool_choice required is any', request: withToolChoice('required'), stream: false, expected: call(toolChoiceBody({ type: 'any' })) },
  {
    name: 'forbidding parallel tool calls rides along as disable_parallel_tool_use',
    request: { ...withToolChoice('required'), parallel_tool_calls: false },
    stream: false,
    expected: call(toolChoiceBody({ type: 'any', disable_parallel_tool_use: true })),
  },
  {
    name: 'consecutive user messages are one turn; a call with empty arguments has an empty input; a strict tool without parameters gets an empty schema',
    request: {
      model: 'smart',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'user', content: 'Update the issue list.' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'updateIssueList', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'updateIssueList', strict: true } }],
    },
    stream: false,
    expected: call({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hi' },
            { type: 'text', text: 'Update the issue list.' },
          ],
        },
        // The empty assistant text says nothing, and Anthropic rejects empty text blocks.
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'updateIssueList', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done' }] },
      ],
      tools: [{ name: 'updateIssueList', input_schema: { type: 'object', properties: {} }, strict: true }],
    }),
  },
];

const refusedCases: RefusedCase[] = [
  {
    name: 'the rich request as it is: Anthropic has no seed',
    request: richRequest,
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'cannot express this request: seed' },
  },
  {
    name: 'several choices in one answer',
    request: { ...plainRequest, n: 2 },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'n=2' },
  },
  {
    name: 'JSON mode without a schema',
    request: { ...plainRequest, response_format: { type: 'json_object' } },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'response_format json_object' },
  },
  {
    name: 'a temperature above Anthropic\'s range',
    request: { ...plainRequest, temperature: 1.5 },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'temperature 1.5 (Anthropic accepts 0 to 1)' },
  },
  {
    name: 'log probabilities, every such field named at once',
    request: { ...plainRequest, extra: { logprobs: true, top_logprobs: 2 } },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'the parameter logprobs; the parameter top_logprobs' },
  },
  {
    name: 'audio input',
    request: { model: 'smart', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } } as never] }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'messages[0].content[0] of type "input_audio"' },
  },
  {
    name: 'participant names',
    request: { model: 'smart', messages: [{ role: 'user', content: 'Hi', name: 'bob' }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'messages[0].name' },
  },
  {
    name: 'a data URL of a type Anthropic takes no image of',
    request: { model: 'smart', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:application/pdf;base64,AAAA' } }] }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'an image of type application/pdf' },
  },
  {
    name: 'an image by a URL Anthropic cannot fetch',
    request: { model: 'smart', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/cat.png' } }] }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'neither http(s) nor a base64 data URL' },
  },
  {
    name: 'tool call arguments that are not a JSON object',
    request: {
      model: 'smart',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] },
        { role: 'tool', tool_call_id: 'a', content: 'ok' },
      ],
    },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'messages[1].tool_calls[0].function.arguments that are not a JSON object' },
  },
];

// ---------------------------------------------------------------------------------------------
// Answers

/** Usage of an answer that read nothing from the cache: the read count is present, as 0 (a cache write is part of the prompt). */
const uncached = (prompt: number, completion: number): Usage => usage(prompt, completion, prompt + completion, { prompt_tokens_details: { cached_tokens: 0 } });

function completion(
  id: string,
  model: string,
  message: { content: string | null; refusal?: string; tool_calls?: Array<{ id: string; name: string; arguments: string }> },
  finishReason: FinishReason,
  value: Usage,
): ResponseCase['expected'] {
  const toolCalls = message.tool_calls?.map((toolCall) => ({ id: toolCall.id, type: 'function' as const, function: { name: toolCall.name, arguments: toolCall.arguments } }));
  const responseMessage: ResponseMessage = { role: 'assistant', content: message.content, refusal: message.refusal ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
  return {
    id,
    object: 'chat.completion',
    created: fixedNowSeconds,
    model,
    choices: [{ index: 0, message: responseMessage, finish_reason: finishReason, logprobs: null }],
    usage: value,
  };
}

const refusalExplanation = "This request was declined because it may relate to an area that Anthropic's Usage Policy restricts.";

const jsonToolInput = {
  stations: [
    { name: 'Harbour Point', wind_kn: 14, gusts_kn: 22 },
    { name: 'North Pier', wind_kn: 9, gusts_kn: 15 },
    { name: 'Lighthouse Rock', wind_kn: 21, gusts_kn: 33 },
  ],
};

const responseCases: ResponseCase[] = [
  {
    name: 'text, end_turn is stop; the tokens written to the cache count into the prompt, and none as cached',
    fixture: 'anthropic/text.json',
    expected: completion(
      'msg_01HqT4pYw8NsVdE2kRb6LmZa',
      'claude-sonnet-4-5-20250929',
      { content: 'Good morning! All three checks passed overnight, so the release can go out as planned. Shall I draft the announcement?' },
      'stop',
      // 31 input + 1820 written to the cache.
      uncached(1851, 27),
    ),
  },
  {
    name: 'a tool_use block is a tool call with JSON-string arguments; tool_use is tool_calls',
    fixture: 'anthropic/json-tool.json',
    expected: completion(
      'msg_01Wn3xZr6TgKq8VbLp2YhD5c',
      'claude-haiku-4-5-20251001',
      { content: null, tool_calls: [{ id: 'toolu_01Bv7sQk2Xn9Rm4Lt6Zp3WcH', name: 'json', arguments: JSON.stringify(jsonToolInput) }] },
      'tool_calls',
      uncached(684, 96),
    ),
  },
  {
    name: 'text beside a call without parameters, whose arguments are "{}"',
    fixture: 'anthropic/tool-no-args.json',
    expected: completion(
      'msg_01Zc2Pq9Lw4Tx7Nm3Kv8RbYd',
      'claude-sonnet-4-5-20250929',
      {
        content: "The status panel looks stale. I'll refresh the deployment status first, then read it back to you.",
        tool_calls: [{ id: 'toolu_01Ks5Wn2Yq8Lm3Xt7Pv4RcZb', name: 'refreshDeploymentStatus', arguments: '{}' }],
      },
      'tool_calls',
      uncached(412, 58),
    ),
  },
  {
    name: 'a refusal is content_filter, with the explanation as the refusal and no content',
    fixture: 'anthropic/refusal.json',
    expected: completion('msg_01Pd4Xq7Wm2Ky9Ln5Tz3RbVc', 'claude-sonnet-4-5-20250929', { content: null, refusal: refusalExplanation }, 'content_filter', uncached(23, 4)),
  },
  {
    name: 'cache reads and writes count into the prompt, cache reads as cached; thinking is not shown; max_tokens is length',
    body: {
      id: 'msg_cache_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [
        { type: 'thinking', thinking: 'Short answer.', signature: 'sig' },
        { type: 'text', text: 'Part one, ' },
        { type: 'text', text: 'part two' },
      ],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 20, output_tokens: 7 },
    },
    expected: completion('msg_cache_1', 'claude-sonnet-4-5-20250929', { content: 'Part one, part two' }, 'length', usage(35, 7, 42, { prompt_tokens_details: { cached_tokens: 20 } })),
  },
  {
    name: 'a stop sequence is stop; without cache fields there are no prompt details',
    body: {
      id: 'msg_stop_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5-20251001',
      content: [{ type: 'text', text: 'One' }],
      stop_reason: 'stop_sequence',
      stop_sequence: '\n\n',
      usage: { input_tokens: 8, output_tokens: 2 },
    },
    expected: completion('msg_stop_1', 'claude-haiku-4-5-20251001', { content: 'One' }, 'stop', usage(8, 2, 10)),
  },
];

/** The chunks of one Anthropic stream share its message id and model. */
function chunkMaker(id: string, model: string, created = fixedNowSeconds) {
  return {
    delta: (delta: ChunkDelta, finishReason: FinishReason | null = null): ChatChunk => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }] }),
    usage: (value: Usage): ChatChunk => ({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: value }),
    /** The role chunk, with the prompt message_start counted (cache reads and writes included). */
    start: (promptTokens: number, cachedTokens: number): ChatChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta: role, finish_reason: null }],
      promptUsage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens, prompt_tokens_details: { cached_tokens: cachedTokens } },
    }),
  };
}

const role: ChunkDelta = { role: 'assistant', content: '' };

const textStream = chunkMaker('msg_01Jc5rWvX9oKp3TgFh7NbQe2', 'claude-sonnet-4-5-20250929');
const jsonToolStream = chunkMaker('msg_01Fq8cYt3Jw5Np7Rk2Xs9LbE', 'claude-haiku-4-5-20251001');
const noArgsStream = chunkMaker('msg_01Ry6Tm3Kq9Wz2Lp5Xn8VcFh', 'claude-sonnet-4-5-20250929');
const refusalStream = chunkMaker('msg_01Tk9Lz3Xw6Pq2Nm8Rv5YcJd', 'claude-sonnet-4-5-20250929');
const cacheStream = chunkMaker('msg_cache_stream', 'claude-sonnet-4-5-20250929');

const streamCases: StreamCase[] = [
  {
    name: 'text: a role chunk, the text as it comes (pings dropped), the finish, then usage with the cache read counted as cached',
    fixture: 'anthropic/text.chunks.txt',
    expected: [
      textStream.start(1851, 1820),
      textStream.delta({ content: 'Good' }),
      textStream.delta({ content: ' morning! All three' }),
      textStream.delta({ content: ' checks passed overnight,' }),
      textStream.delta({ content: ' so the release can go out' }),
      textStream.delta({ content: ' as planned.' }),
      textStream.delta({}, 'stop'),
      // 31 input + 1820 read from the cache.
      textStream.usage(usage(1851, 19, 1870, { prompt_tokens_details: { cached_tokens: 1820 } })),
    ],
  },
  {
    name: 'a tool call: named once with empty arguments, then its input JSON piece by piece, cut mid-word (the empty piece dropped)',
    fixture: 'anthropic/json-tool.chunks.txt',
    expected: [
      jsonToolStream.start(702, 0),
      jsonToolStream.delta({ tool_calls: [{ index: 0, id: 'toolu_01Hm4Zd6Vr8Qx2Kp5Tn7YwJs', type: 'function', function: { name: 'json', arguments: '' } }] }),
      jsonToolStream.delta({ tool_calls: [{ index: 0, function: { arguments: '{"stations": [{"name": "Harb' } }] }),
      jsonToolStream.delta({ tool_calls: [{ index: 0, function: { arguments: 'our Point", "wind_kn": 14, "gust' } }] }),
      jsonToolStream.delta({ tool_calls: [{ index: 0, function: { arguments: 's_kn": 22}]}' } }] }),
      jsonToolStream.delta({}, 'tool_calls'),
      jsonToolStream.usage(uncached(702, 41)),
    ],
  },
  {
    name: 'text, then a call without parameters: numbered 0 after the text block, its arguments "{}" when its block stops',
    fixture: 'anthropic/tool-no-args.chunks.txt',
    expected: [
      noArgsStream.start(398, 0),
      noArgsStream.delta({ content: 'Refreshing the deployment' }),
      noArgsStream.delta({ content: ' status now.' }),
      noArgsStream.delta({ tool_calls: [{ index: 0, id: 'toolu_01Nd8Vx4Qp2Tk7Lm5Zw3RyBs', type: 'function', function: { name: 'refreshDeploymentStatus', arguments: '' } }] }),
      noArgsStream.delta({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
      noArgsStream.delta({}, 'tool_calls'),
      noArgsStream.usage(uncached(398, 44)),
    ],
  },
  {
    name: 'a refusal ends with content_filter, the explanation as the refusal delta',
    fixture: 'anthropic/refusal.chunks.txt',
    expected: [refusalStream.start(23, 0), refusalStream.delta({ refusal: refusalExplanation }, 'content_filter'), refusalStream.usage(uncached(23, 4))],
  },
  {
    name: 'the prompt and cache counts of message_start are kept when message_delta gives only the output; thinking is dropped; max_tokens is length',
    events: [
      {
        type: 'message_start',
        message: {
          id: 'msg_cache_stream',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5-20250929',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 40, cache_creation_input_tokens: 8, cache_read_input_tokens: 60, output_tokens: 1 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Brief.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: 'Cut' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: ' short' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ],
    expected: [
      cacheStream.start(108, 60),
      cacheStream.delta({ content: 'Cut' }),
      cacheStream.delta({ content: ' short' }),
      cacheStream.delta({}, 'length'),
      cacheStream.usage(usage(108, 9, 117, { prompt_tokens_details: { cached_tokens: 60 } })),
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Errors

const anthropicError = (type: string, message: string): unknown => ({ type: 'error', error: { type, message }, request_id: 'req_011CTest' });

const errorCases: ErrorCase[] = [
  {
    name: '529 overloaded is retried',
    status: 529,
    body: anthropicError('overloaded_error', 'Overloaded'),
    expected: { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' },
  },
  {
    name: 'an overloaded_error under another 5xx is still overloaded',
    status: 500,
    body: anthropicError('overloaded_error', 'Overloaded'),
    expected: { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' },
  },
  {
    name: 'a 429 is retried after the seconds of retry-after',
    status: 429,
    headers: { 'retry-after': '7' },
    body: anthropicError('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'),
    expected: { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 7000 },
  },
  {
    name: 'a 429 is retried at the date retry-after gives',
    status: 429,
    headers: { 'retry-after': new Date(fixedNowMs + 30_000).toUTCString() },
    body: anthropicError('rate_limit_error', 'Number of requests has exceeded your per-minute rate limit'),
    expected: { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 30_000 },
  },
  {
    name: 'a 429 for a spend limit will not clear soon: fail over',
    status: 429,
    body: anthropicError('rate_limit_error', 'You have reached your spend limit.'),
    expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  },
  {
    name: 'a rejected key fails over to the next key',
    status: 401,
    body: anthropicError('authentication_error', 'invalid x-api-key'),
    expected: { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' },
  },
  {
    name: '402 billing fails over',
    status: 402,
    body: anthropicError('billing_error', 'Your credit balance is too low'),
    expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  },
  {
    name: 'a 400 for low credit is this account\'s limit: fail over',
    status: 400,
    body: anthropicError('invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'),
    expected: { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' },
  },
  {
    name: 'a prompt over the context window fails over to a larger model',
    status: 400,
    body: anthropicError('invalid_request_error', 'prompt is too long: 208656 tokens > 200000 maximum'),
    expected: { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' },
  },
  {
    name: 'any other 400 is the client\'s own error',
    status: 400,
    body: anthropicError('invalid_request_error', 'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row'),
    expected: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' },
  },
  { name: '403 fails over', status: 403, body: anthropicError('permission_error', 'Your API key does not have permission to use the specified resource.'), expected: { kind: 'failover', code: 'UPSTREAM_PERMISSION_DENIED' } },
  { name: '404 fails over', status: 404, body: anthropicError('not_found_error', 'model: claude-nope'), expected: { kind: 'failover', code: 'UPSTREAM_MODEL_NOT_FOUND' } },
  { name: '413 is the client\'s own error', status: 413, body: anthropicError('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), expected: { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST' } },
  { name: '500 is retried', status: 500, body: anthropicError('api_error', 'Internal server error'), expected: { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' } },
];

export const anthropicCases: AdapterCases[] = [
  {
    provider: 'anthropic',
    target,
    requests: requestCases,
    passThrough: [
      {
        name: 'an Anthropic body goes out as it is, fields Detour does not translate included; only the model is replaced',
        body: {
          model: 'smart',
          max_tokens: 10,
          system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
          messages: [{ role: 'user', content: 'Hi' }],
          thinking: { type: 'enabled', budget_tokens: 1024 },
          top_k: 3,
          stream: true,
        },
        stream: true,
        expected: call({
          model: 'claude-sonnet-4-5',
          max_tokens: 10,
          system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
          messages: [{ role: 'user', content: 'Hi' }],
          thinking: { type: 'enabled', budget_tokens: 1024 },
          top_k: 3,
          stream: true,
        }),
      },
    ],
    refused: refusedCases,
    responses: responseCases,
    streams: streamCases,
    errors: errorCases,
    probe: { url: 'https://api.anthropic.com/v1/models', method: 'GET', headers: { 'anthropic-version': '2023-06-01', 'x-api-key': apiKey } },
  },
];
