import { describe, expect, it } from 'vitest';
import { DetourError } from '../../src/core/errors.js';
import { anthropicAdapter } from '../../src/providers/anthropic/index.js';
import type { ChatChunk, ChatRequest, SseEvent, StreamInspection } from '../../src/providers/types.js';
import { anthropicTarget, fixtureEvents, fixtureJson, secretKey, sseEvent } from '../helpers/anthropic.js';

const target = anthropicTarget();
const now = Date.parse('2026-01-01T00:00:00Z');

function decodeAll(events: SseEvent[]): { chunks: ChatChunk[]; isComplete: boolean } {
  const decoder = anthropicAdapter.createStreamDecoder(target);
  const chunks = events.flatMap((event) => decoder.decode(event));
  return { chunks, isComplete: decoder.isComplete };
}

/** What an OpenAI client assembles from a stream: text, tool calls by index, finish reason, usage. */
function assemble(chunks: ChatChunk[]) {
  let text = '';
  let refusal = '';
  const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
  let finishReason: string | null = null;
  let usage: ChatChunk['usage'];
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? '';
      refusal += choice.delta.refusal ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        const entry = (calls[call.index] ??= { arguments: '' });
        if (call.id) entry.id = call.id;
        if (call.function?.name) entry.name = call.function.name;
        entry.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  return { text, refusal, calls, finishReason, usage };
}

describe('Anthropic responses → canonical', () => {
  it('reads a text answer with its usage', () => {
    expect(anthropicAdapter.parseResponse(fixtureJson('text.json'), target)).toEqual({
      id: 'msg_01HqT4pYw8NsVdE2kRb6LmZa',
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Good morning! All three checks passed overnight, so the release can go out as planned. Shall I draft the announcement?', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      // 31 input tokens and 1820 written to the cache are all prompt; nothing was read from it.
      usage: { prompt_tokens: 1851, completion_tokens: 27, total_tokens: 1878, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  it('turns tool_use blocks into tool calls with JSON-string arguments', () => {
    const body = fixtureJson('json-tool.json') as { content: Array<{ input: unknown }> };
    const response = anthropicAdapter.parseResponse(body, target);
    const message = response.choices[0]?.message;
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(message?.content).toBeNull();
    expect(message?.tool_calls).toEqual([{ id: 'toolu_01Bv7sQk2Xn9Rm4Lt6Zp3WcH', type: 'function', function: { name: 'json', arguments: expect.any(String) } }]);
    expect(JSON.parse(message?.tool_calls?.[0]?.function.arguments ?? '')).toEqual(body.content[0]?.input);
    expect(response.usage).toMatchObject({ prompt_tokens: 684, completion_tokens: 96, total_tokens: 780 });
  });

  it('gives a tool call without parameters "{}" as its arguments, next to the text', () => {
    const message = anthropicAdapter.parseResponse(fixtureJson('tool-no-args.json'), target).choices[0]?.message;
    expect(message?.content).toBe("The status panel looks stale. I'll refresh the deployment status first, then read it back to you.");
    expect(message?.tool_calls).toEqual([{ id: 'toolu_01Ks5Wn2Yq8Lm3Xt7Pv4RcZb', type: 'function', function: { name: 'refreshDeploymentStatus', arguments: '{}' } }]);
  });

  it('maps a refusal to content_filter and keeps the explanation', () => {
    const choice = anthropicAdapter.parseResponse(fixtureJson('refusal.json'), target).choices[0];
    expect(choice?.finish_reason).toBe('content_filter');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.refusal).toBe("This request was declined because it may relate to an area that Anthropic's Usage Policy restricts.");
  });

  it('counts cache reads and writes into the prompt, and cache reads as cached', () => {
    const body = { ...(fixtureJson('text.json') as object), usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 20, output_tokens: 7 } };
    expect(anthropicAdapter.parseResponse(body, target).usage).toEqual({ prompt_tokens: 35, completion_tokens: 7, total_tokens: 42, prompt_tokens_details: { cached_tokens: 20 } });
    expect(anthropicAdapter.readUsage(body)).toEqual({ prompt_tokens: 35, completion_tokens: 7, total_tokens: 42, prompt_tokens_details: { cached_tokens: 20 } });
  });

  it.each([
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
  ])('maps stop_reason %s to %s', (stopReason, finishReason) => {
    const body = { ...(fixtureJson('text.json') as object), stop_reason: stopReason };
    expect(anthropicAdapter.parseResponse(body, target).choices[0]?.finish_reason).toBe(finishReason);
  });

  it('refuses a 200 whose body is not a message, as a bad response that fails over', () => {
    expect(() => anthropicAdapter.parseResponse({ choices: [] }, target)).toThrow(expect.objectContaining({ kind: 'failover', code: 'UPSTREAM_BAD_RESPONSE' }));
  });
});

describe('Anthropic streams → canonical chunks', () => {
  it('decodes a text stream chunk by chunk, dropping pings', () => {
    const { chunks, isComplete } = decodeAll(fixtureEvents('text.chunks.txt'));
    const base = { id: 'msg_01Jc5rWvX9oKp3TgFh7NbQe2', object: 'chat.completion.chunk', created: expect.any(Number), model: 'claude-sonnet-4-5-20250929' };
    const content = (text: string) => ({ ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
    expect(chunks).toEqual([
      // message_start counts the prompt: 31 input + 1820 read from the cache.
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], promptUsage: { prompt_tokens: 1851, completion_tokens: 0, total_tokens: 1851, prompt_tokens_details: { cached_tokens: 1820 } } },
      content('Good'),
      content(' morning! All three'),
      content(' checks passed overnight,'),
      content(' so the release can go out'),
      content(' as planned.'),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      // 31 input tokens and 1820 read from the cache.
      { ...base, choices: [], usage: { prompt_tokens: 1851, completion_tokens: 19, total_tokens: 1870, prompt_tokens_details: { cached_tokens: 1820 } } },
    ]);
    expect(isComplete).toBe(true);
  });

  it('streams tool input as argument deltas of one tool call index', () => {
    const { chunks } = decodeAll(fixtureEvents('json-tool.chunks.txt'));
    const result = assemble(chunks);
    expect(result.calls).toEqual([{ id: 'toolu_01Hm4Zd6Vr8Qx2Kp5Tn7YwJs', name: 'json', arguments: expect.any(String) }]);
    expect(JSON.parse(result.calls[0]?.arguments ?? '')).toEqual({ stations: [{ name: 'Harbour Point', wind_kn: 14, gusts_kn: 22 }] });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage).toMatchObject({ prompt_tokens: 702, completion_tokens: 41 });
    // The first fragment names the call, later ones only extend its arguments, as OpenAI streams do.
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(toolDeltas[0]).toEqual({ index: 0, id: 'toolu_01Hm4Zd6Vr8Qx2Kp5Tn7YwJs', type: 'function', function: { name: 'json', arguments: '' } });
    expect(toolDeltas.slice(1).every((delta) => delta.index === 0 && delta.id === undefined)).toBe(true);
  });

  it('numbers tool calls from 0 even after a text block, and gives an empty input "{}"', () => {
    const result = assemble(decodeAll(fixtureEvents('tool-no-args.chunks.txt')).chunks);
    expect(result.text).toBe('Refreshing the deployment status now.');
    expect(result.calls).toEqual([{ id: 'toolu_01Nd8Vx4Qp2Tk7Lm5Zw3RyBs', name: 'refreshDeploymentStatus', arguments: '{}' }]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('ends a refused stream with content_filter and the explanation as the refusal', () => {
    const result = assemble(decodeAll(fixtureEvents('refusal.chunks.txt')).chunks);
    expect(result.finishReason).toBe('content_filter');
    expect(result.refusal).toBe("This request was declined because it may relate to an area that Anthropic's Usage Policy restricts.");
    expect(result.usage).toMatchObject({ prompt_tokens: 23, completion_tokens: 4 });
  });

  it('is not complete before the stop reason has arrived', () => {
    const events = fixtureEvents('text.chunks.txt');
    const { isComplete } = decodeAll(events.slice(0, -2));
    expect(isComplete).toBe(false);
  });

  it('keeps the prompt size from message_start when message_delta omits it', () => {
    const { chunks } = decodeAll([
      sseEvent('{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":40,"cache_read_input_tokens":60,"output_tokens":1}}}'),
      sseEvent('{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}'),
    ]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 100, completion_tokens: 9, total_tokens: 109, prompt_tokens_details: { cached_tokens: 60 } });
  });

  it.each([
    ['overloaded_error', 'retryable', 'UPSTREAM_OVERLOADED'],
    ['api_error', 'retryable', 'UPSTREAM_SERVER_ERROR'],
    ['invalid_request_error', 'fatal', 'UPSTREAM_INVALID_REQUEST'],
  ])('throws an in-stream %s as a classified %s error', (type, kind, code) => {
    const decoder = anthropicAdapter.createStreamDecoder(target);
    decoder.decode(fixtureEvents('text.chunks.txt')[0] as SseEvent);
    const data = JSON.stringify({ type: 'error', error: { type, message: 'Overloaded' } });
    expect(() => decoder.decode({ event: 'error', data, raw: `event: error\ndata: ${data}` })).toThrow(expect.objectContaining({ kind, code, target: target.id }));
  });
});

describe('Anthropic stream pass-through inspection', () => {
  function inspectAll(events: SseEvent[]): StreamInspection[] {
    return events.map((event) => anthropicAdapter.inspectEvent(event, false, target));
  }

  it('forwards every event, finishes on the stop reason, ends on message_stop, and reads the final usage', () => {
    const events = fixtureEvents('text.chunks.txt');
    const seen = inspectAll(events);
    expect(seen.every((inspection) => inspection.forward)).toBe(true);
    expect(seen.map((inspection) => inspection.done === true)).toEqual(events.map((event) => event.event === 'message_stop'));
    expect(seen.map((inspection) => inspection.finished === true)).toEqual(events.map((event) => event.event === 'message_delta'));
    const usages = seen.map((inspection) => inspection.usage).filter((usage) => usage !== undefined);
    expect(usages.at(-1)).toEqual({ prompt_tokens: 1851, completion_tokens: 19, total_tokens: 1870, prompt_tokens_details: { cached_tokens: 1820 } });
  });

  it('does not parse content deltas', () => {
    // Not JSON at all: were it parsed, nothing could be read from it; it must simply be forwarded.
    expect(anthropicAdapter.inspectEvent({ event: 'content_block_delta', data: '{not json', raw: '' }, false, target)).toEqual({ forward: true });
  });

  it('turns an error event into a classified error that is not forwarded', () => {
    const data = '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
    const seen = anthropicAdapter.inspectEvent({ event: 'error', data, raw: `event: error\ndata: ${data}` }, true, target);
    expect(seen.forward).toBe(false);
    expect(seen.error).toBeInstanceOf(DetourError);
    expect(seen.error).toMatchObject({ kind: 'retryable', code: 'UPSTREAM_OVERLOADED' });
  });
});

describe('canonical request → Anthropic request', () => {
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk';
  const rich: ChatRequest = {
    model: 'smart',
    messages: [
      { role: 'system', content: 'You are terse.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe both images, then get Paris weather.' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'auto' } },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp_c":18}' },
      { role: 'user', content: 'And tomorrow?' },
    ],
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
    max_completion_tokens: 256,
    temperature: 0.2,
    top_p: 0.9,
    stop: ['\n\n'],
    user: 'user-42',
  };

  it('builds the exact body, URL and headers', () => {
    const upstream = anthropicAdapter.buildRequest(rich, target, { stream: true, wantStreamUsage: true });
    expect(upstream.url).toBe('https://api.anthropic.com/v1/messages');
    expect(upstream.method).toBe('POST');
    expect(upstream.headers).toEqual({ 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': secretKey });
    expect(JSON.parse(upstream.body?.toString() ?? '')).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: 'You are terse.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe both images, then get Paris weather.' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }] },
        // The tool result and the user's next words are one user turn.
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_abc', content: '{"temp_c":18}' },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      stop_sequences: ['\n\n'],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
      stream: true,
    });
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
  ] as const)('maps tool_choice %s', (choice, expected) => {
    const body = JSON.parse(anthropicAdapter.buildRequest({ ...rich, tool_choice: choice, parallel_tool_calls: undefined }, target, { stream: false, wantStreamUsage: false }).body?.toString() ?? '') as Record<string, unknown>;
    expect(body.tool_choice).toEqual(expected);
    expect(body.stream).toBeUndefined();
  });

  it('merges system and developer messages into `system`, and consecutive user messages into one turn', () => {
    const request: ChatRequest = {
      model: 'm',
      messages: [
        { role: 'system', content: 'Rule one.' },
        { role: 'developer', content: [{ type: 'text', text: 'Rule two.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: 'there' },
      ],
    };
    const body = JSON.parse(anthropicAdapter.buildRequest(request, target, { stream: false, wantStreamUsage: false }).body?.toString() ?? '') as Record<string, unknown>;
    expect(body.system).toEqual([{ type: 'text', text: 'Rule one.' }, { type: 'text', text: 'Rule two.' }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'there' }] }]);
  });

  it('takes max_tokens from the request, else the target, else 4096', () => {
    const maxTokens = (request: ChatRequest, on = target) => (JSON.parse(anthropicAdapter.buildRequest(request, on, { stream: false, wantStreamUsage: false }).body?.toString() ?? '') as { max_tokens: number }).max_tokens;
    const plain: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
    expect(maxTokens({ ...plain, max_tokens: 77 })).toBe(77);
    expect(maxTokens(plain, anthropicTarget({ maxTokens: 1000 }))).toBe(1000);
    expect(maxTokens(plain)).toBe(4096);
  });

  it('translates json_schema into output_config.format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } };
    const body = JSON.parse(anthropicAdapter.buildRequest(request, target, { stream: false, wantStreamUsage: false }).body?.toString() ?? '') as Record<string, unknown>;
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
  });

  it('accepts a base URL that already ends in /v1, and the provider`s API version', () => {
    const on = anthropicTarget({ baseUrl: 'http://127.0.0.1:9999/v1/', providerOptions: { anthropic_version: '2024-01-01' } });
    const upstream = anthropicAdapter.buildRequest({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, on, { stream: false, wantStreamUsage: false });
    expect(upstream.url).toBe('http://127.0.0.1:9999/v1/messages');
    expect(upstream.headers['anthropic-version']).toBe('2024-01-01');
    expect(anthropicAdapter.buildProbe(on)).toMatchObject({ url: 'http://127.0.0.1:9999/v1/models', method: 'GET', headers: { 'x-api-key': secretKey } });
  });

  it('replaces only the model on the pass-through path', () => {
    const body = { model: 'smart', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], top_k: 3, stream: true };
    const upstream = anthropicAdapter.buildPassThroughRequest(body, target, { stream: true, wantStreamUsage: true });
    expect(JSON.parse(upstream.body?.toString() ?? '')).toEqual({ ...body, model: 'claude-sonnet-4-5' });
  });

  it.each<[string, Partial<ChatRequest>, RegExp]>([
    ['n > 1', { n: 2 }, /n=2/],
    ['logprobs', { extra: { logprobs: true } }, /the parameter logprobs/],
    ['an unknown field', { extra: { frobnicate: 1 } }, /the parameter frobnicate/],
    ['json_object', { response_format: { type: 'json_object' } }, /response_format json_object/],
    ['temperature above 1', { temperature: 1.5 }, /temperature 1.5/],
    ['seed', { seed: 7 }, /seed/],
    ['an audio part', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } } as never] }] }, /messages\[0\]\.content\[0\] of type "input_audio"/],
    ['a participant name', { messages: [{ role: 'user', content: 'Hi', name: 'bob' }] }, /messages\[0\]\.name/],
    ['a pdf data URL', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:application/pdf;base64,AAAA' } }] }] }, /application\/pdf/],
  ])('refuses %s as an unsupported feature naming the target, so the engine skips it', (_name, change, feature) => {
    const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...change };
    let thrown: unknown;
    try {
      anthropicAdapter.buildRequest(request, target, { stream: false, wantStreamUsage: false });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DetourError);
    expect(thrown).toMatchObject({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', target: target.id });
    expect((thrown as DetourError).message).toContain(target.id);
    expect((thrown as DetourError).message).toMatch(feature);
  });
});

describe('Anthropic error classification', () => {
  const classify = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    anthropicAdapter.classifyError(status, headers, typeof body === 'string' ? body : JSON.stringify(body), target, now);
  const error = (type: string, message: string) => ({ type: 'error', error: { type, message }, request_id: 'req_1' });

  it.each<[string, number, unknown, Record<string, string>, Partial<DetourError>]>([
    ['529 overloaded', 529, error('overloaded_error', 'Overloaded'), {}, { kind: 'retryable', code: 'UPSTREAM_OVERLOADED' }],
    ['429 with retry-after', 429, error('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'), { 'retry-after': '7' }, { kind: 'retryable', code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 7000 }],
    ['429 spend limit', 429, error('rate_limit_error', 'You have reached your spend limit.'), {}, { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' }],
    ['401 bad key', 401, error('authentication_error', 'invalid x-api-key'), {}, { kind: 'failover', code: 'UPSTREAM_AUTH_FAILED' }],
    ['403 no access', 403, error('permission_error', 'Your API key does not have permission'), {}, { kind: 'failover', code: 'UPSTREAM_PERMISSION_DENIED' }],
    ['404 unknown model', 404, error('not_found_error', 'model: claude-nope'), {}, { kind: 'failover', code: 'UPSTREAM_MODEL_NOT_FOUND' }],
    ['402 billing', 402, error('billing_error', 'Your credit balance is too low'), {}, { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' }],
    ['400 low credit', 400, error('invalid_request_error', 'Your credit balance is too low to access the Anthropic API.'), {}, { kind: 'failover', code: 'UPSTREAM_QUOTA_EXCEEDED' }],
    ['400 prompt too long', 400, error('invalid_request_error', 'prompt is too long: 208656 tokens > 200000 maximum'), {}, { kind: 'failover', code: 'CONTEXT_LENGTH_EXCEEDED' }],
    ['400 other', 400, error('invalid_request_error', 'messages: roles must alternate'), {}, { kind: 'fatal', code: 'UPSTREAM_INVALID_REQUEST', upstreamType: 'invalid_request_error' }],
    ['500 api error', 500, error('api_error', 'Internal server error'), {}, { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' }],
    ['502 from a proxy, not JSON', 502, '<html>Bad Gateway</html>', {}, { kind: 'retryable', code: 'UPSTREAM_SERVER_ERROR' }],
  ])('%s', (_name, status, body, headers, expected) => {
    const classified = classify(status, body, headers);
    expect(classified).toBeInstanceOf(DetourError);
    expect(classified).toMatchObject({ ...expected, status, target: target.id });
  });

  it('keeps a fatal 400 body for the client, as Anthropic sent it', () => {
    const body = error('invalid_request_error', 'messages: roles must alternate');
    expect(classify(400, body).upstreamBody).toEqual(body);
  });

  it('never lets the key out in the message or the kept body', () => {
    const classified = classify(401, error('authentication_error', `invalid x-api-key ${secretKey}`));
    expect(classified.message).not.toContain(secretKey);
    expect(JSON.stringify(classified.upstreamBody)).not.toContain(secretKey);
    expect(classified.message).toContain('[redacted]');
  });
});
