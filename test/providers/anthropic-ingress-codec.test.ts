import { describe, expect, it } from 'vitest';
import { DetourError } from '../../src/core/errors.js';
import { anthropicAdapter, anthropicIngress } from '../../src/providers/anthropic/index.js';
import { SseParser } from '../../src/providers/shared/sse.js';
import type { ChatChunk, ChatResponse, SseEvent } from '../../src/providers/types.js';
import { anthropicTarget } from '../helpers/anthropic.js';

const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk';

/** A rich Anthropic request, written the way the SDK sends it. */
const richBody = {
  model: 'smart',
  max_tokens: 300,
  system: 'You are terse.',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Describe both, then get Paris weather.' },
        { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      ],
    },
    { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '{"temp_c":18}' }, { type: 'text', text: 'Thanks. Tomorrow?' }] },
  ],
  tools: [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['\n\nHuman:'],
  temperature: 0.3,
  top_p: 0.8,
  metadata: { user_id: 'u-1' },
  stream: true,
};

function invalid(body: unknown): DetourError {
  try {
    anthropicIngress.inspectRequest(body);
  } catch (error) {
    if (error instanceof DetourError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

/** Parses an encoder's text back into events, checking the framing the Anthropic SDK needs. */
function events(text: string): Array<{ type: string } & Record<string, unknown>> {
  const parsed = new SseParser().feed(text);
  return parsed.map((event) => {
    const payload = JSON.parse(event.data) as { type: string } & Record<string, unknown>;
    expect(event.event).toBe(payload.type);
    return payload;
  });
}

const chunk = (delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk => ({
  id: 'chatcmpl-42',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk: ChatChunk = { id: 'chatcmpl-42', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 20 } } };

describe('Anthropic ingress: validation', () => {
  it('returns the route and stream flag, and always wants usage', () => {
    expect(anthropicIngress.inspectRequest(richBody)).toEqual({ route: 'smart', stream: true, wantsUsage: true });
    expect(anthropicIngress.inspectRequest({ ...richBody, stream: undefined })).toEqual({ route: 'smart', stream: false, wantsUsage: true });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a missing max_tokens', { model: 'm', messages: [{ role: 'user', content: 'Hi' }] }, 'max_tokens', /max_tokens: Field required/],
    ['a zero max_tokens', { model: 'm', max_tokens: 0, messages: [{ role: 'user', content: 'Hi' }] }, 'max_tokens', /at least 1/],
    ['a missing model', { max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] }, 'model', /model/],
    ['missing messages', { model: 'm', max_tokens: 5 }, 'messages', /messages: Field required/],
    ['messages that are not an array', { model: 'm', max_tokens: 5, messages: 'Hi' }, 'messages', /array/],
    ['an unknown role', { model: 'm', max_tokens: 5, messages: [{ role: 'tool', content: 'Hi' }] }, 'messages.0.role', /"user", "assistant" or "system"/],
    ['content of the wrong type', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 5 }] }, 'messages.0.content', /string or an array/],
    ['an image without a source', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image' }] }] }, 'messages.0.content.0.source', /base64/],
    ['a tool without a schema', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], tools: [{ name: 't' }] }, 'tools.0.input_schema', /input_schema/],
    ['an unknown tool_choice', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], tool_choice: { type: 'required' } }, 'tool_choice', /tool_choice/],
    ['a string temperature', { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], temperature: '0.5' }, 'temperature', /number/],
  ])('refuses %s with a 400 naming the parameter', (_name, body, param, message) => {
    const error = invalid(body);
    expect(error).toMatchObject({ kind: 'fatal', status: 400, param });
    expect(error.message).toMatch(message);
  });
});

describe('Anthropic ingress: request → canonical', () => {
  it('translates every field into its canonical slot', () => {
    expect(anthropicIngress.toCanonical(richBody)).toEqual({
      model: 'smart',
      max_tokens: 300,
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe both, then get Paris weather.' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_01', content: '{"temp_c":18}' },
        { role: 'user', content: 'Thanks. Tomorrow?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['\n\nHuman:'],
      temperature: 0.3,
      top_p: 0.8,
      user: 'u-1',
      stream: true,
    });
  });

  it('survives the round trip back to an Anthropic body unchanged', () => {
    const target = anthropicTarget();
    const upstream = anthropicAdapter.buildRequest(anthropicIngress.toCanonical(richBody), target, { stream: true, wantStreamUsage: true });
    expect(JSON.parse(upstream.body?.toString() ?? '')).toEqual({ ...richBody, model: target.model });
  });

  it('carries fields without a canonical slot in extra, and json_schema output as response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const canonical = anthropicIngress.toCanonical({
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'Hi' }],
      top_k: 5,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      output_config: { format: { type: 'json_schema', schema }, effort: 'high' },
    });
    expect(canonical.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'response', schema } });
    // thinking and output_config.effort tune Anthropic's work: elsewhere they are a reasoning effort, not a refusal.
    expect(canonical.extra).toEqual({ top_k: 5 });
    expect(canonical.reasoning_effort).toBe('high');
    expect(anthropicIngress.droppedFeatures?.({ model: 'm', thinking: { type: 'enabled' }, context_management: {}, output_config: { effort: 'high' } })).toEqual(['thinking', 'context_management', 'output_config.effort']);
  });

  it('keeps mid-conversation system messages in place, and leaves earlier thinking blocks behind', () => {
    const canonical = anthropicIngress.toCanonical({
      model: 'm',
      max_tokens: 5,
      system: 'First',
      thinking: { type: 'enabled', budget_tokens: 2000 },
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'Yo' }] },
        { role: 'system', content: 'Be brief from now on.' },
        { role: 'user', content: 'Go on' },
      ],
    });
    expect(canonical.messages).toEqual([
      { role: 'system', content: 'First' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Yo' },
      { role: 'system', content: 'Be brief from now on.' },
      { role: 'user', content: 'Go on' },
    ]);
    expect(canonical.reasoning_effort).toBe('low');
    expect(canonical.extra).toBeUndefined();
  });

  it.each<[string, unknown[], RegExp]>([
    ['a document', [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }], /document blocks/],
    ['an assistant prefill', [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '{' }], /prefill/],
    ['an image in a tool result', [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] }], /image blocks/],
  ])('refuses %s as only an Anthropic target can serve it', (_name, messages, feature) => {
    let thrown: unknown;
    try {
      anthropicIngress.toCanonical({ model: 'm', max_tokens: 5, messages });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ kind: 'failover', code: 'UNSUPPORTED_FEATURE', status: 400 });
    expect((thrown as Error).message).toMatch(feature);
  });

  it('refuses server tools', () => {
    expect(() => anthropicIngress.toCanonical({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toThrow(/server tool web_search_20250305/);
  });
});

describe('Anthropic ingress: answers', () => {
  const response: ChatResponse = {
    id: 'chatcmpl-42',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Let me check.', refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 20 } },
  };

  it('encodes a chat completion as an Anthropic message', () => {
    expect(JSON.parse(anthropicIngress.encodeResponse(response))).toEqual({
      id: 'msg_42',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' }, caller: { type: 'direct' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 30, output_tokens: 12, cache_creation_input_tokens: null, cache_read_input_tokens: 20 },
    });
  });

  it('streams text and tool calls as content blocks, and the stop reason with the usage that follows it', () => {
    const encoder = anthropicIngress.createStreamEncoder({ wantsUsage: true, route: 'r' });
    const text = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me ' }),
      chunk({ content: 'check.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk,
    ]
      .map((item) => encoder.encode(item))
      .join('') + encoder.end();
    expect(events(text)).toEqual([
      { type: 'message_start', message: { id: 'msg_42', type: 'message', role: 'assistant', model: 'gpt-4o-mini', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: null, cache_read_input_tokens: null } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'check.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {}, caller: { type: 'direct' } } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 30, output_tokens: 12, cache_read_input_tokens: 20 } },
      { type: 'message_stop' },
    ]);
  });

  it('still ends the message properly when no usage ever came', () => {
    const encoder = anthropicIngress.createStreamEncoder({ wantsUsage: true, route: 'r' });
    const text = encoder.encode(chunk({ role: 'assistant', content: 'Hi' })) + encoder.encode(chunk({}, 'length')) + encoder.end();
    expect(events(text).map((event) => event.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events(text)[4]).toMatchObject({ delta: { stop_reason: 'max_tokens' } });
  });

  it('decodes back to what was encoded (encoder and decoder agree)', () => {
    const encoder = anthropicIngress.createStreamEncoder({ wantsUsage: true, route: 'r' });
    const text = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ refusal: 'No.' }), chunk({}, 'stop'), usageChunk].map((item) => encoder.encode(item)).join('') + encoder.end();
    const decoder = anthropicAdapter.createStreamDecoder(anthropicTarget());
    const decoded = new SseParser().feed(text).flatMap((event: SseEvent) => decoder.decode(event));
    expect(decoded.map((item) => item.choices[0]?.delta.content ?? '').join('')).toBe('HelloNo.');
    expect(decoded.find((item) => item.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(decoded.at(-1)?.usage).toEqual(usageChunk.usage);
    expect(decoder.isComplete).toBe(true);
  });

  it('ends a passed-through stream that lacked its end marker with message_stop', () => {
    expect(anthropicIngress.streamEndMarker).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
  });
});

describe('Anthropic ingress: errors', () => {
  it.each<[number, string, string]>([
    [400, 'INVALID_REQUEST', 'invalid_request_error'],
    [404, 'ROUTE_NOT_FOUND', 'not_found_error'],
    [413, 'BODY_TOO_LARGE', 'request_too_large'],
    [429, 'RATE_LIMITED', 'rate_limit_error'],
    [503, 'ALL_TARGETS_FAILED', 'overloaded_error'],
    [504, 'DEADLINE_EXCEEDED', 'timeout_error'],
    [500, 'INTERNAL_ERROR', 'api_error'],
  ])('answers %i (%s) with error.type %s and Detour`s code in details', (status, code, type) => {
    const body = JSON.parse(anthropicIngress.encodeError({ status, code, message: 'what happened' })) as unknown;
    expect(body).toEqual({ type: 'error', error: { type, message: 'what happened', details: { error_code: code } } });
  });

  it('adds the parameter and the attempts made', () => {
    const attempts = [{ target: 'a/m', provider: 'a', model: 'm', status: 503, code: 'UPSTREAM_OVERLOADED', durationMs: 3 }];
    const body = JSON.parse(anthropicIngress.encodeError({ status: 400, code: 'INVALID_REQUEST', message: 'm', param: 'max_tokens', details: { attempts } })) as { error: { details: unknown } };
    expect(body.error.details).toEqual({ error_code: 'INVALID_REQUEST', param: 'max_tokens', attempts });
  });

  it('uses an upstream-style code as the type itself (the simulator`s errors)', () => {
    expect(JSON.parse(anthropicIngress.encodeError({ status: 529, code: 'overloaded_error', message: 'Overloaded' }))).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('sends a mid-stream failure as an `event: error`', () => {
    const text = anthropicIngress.createStreamEncoder({ wantsUsage: true, route: 'r' }).error({ status: 502, code: 'STREAM_INTERRUPTED', message: 'cut' });
    expect(text.startsWith('event: error\ndata: ')).toBe(true);
    expect(events(text)).toEqual([{ type: 'error', error: { type: 'api_error', message: 'cut', details: { error_code: 'STREAM_INTERRUPTED' } } }]);
  });
});
