import { UnsupportedFunctionalityError, type LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { buildRequest } from '../../src/ai-sdk/build-request.js';
import { convertPrompt } from '../../src/ai-sdk/convert-prompt.js';
import { convertUsage } from '../../src/ai-sdk/convert-usage.js';
import { mapFinishReason } from '../../src/ai-sdk/map-finish-reason.js';
import { ChunkPartMapper } from '../../src/ai-sdk/stream-parts.js';
import type { ChatCompletionChunk } from '../../src/index.js';

describe('convertPrompt', () => {
  it('maps every role onto OpenAI messages', () => {
    const { messages, warnings } = convertPrompt([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'file', mediaType: 'image/png', data: new Uint8Array([1, 2, 3]) },
          { type: 'file', mediaType: 'image/*', data: 'AAEC' },
          { type: 'file', mediaType: 'image/jpeg', data: new URL('https://example.com/cat.jpg') },
        ],
      },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'hmm' }, { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } }] },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: { type: 'json', value: { temp_c: 18 } } },
          { type: 'tool-result', toolCallId: 'call_2', toolName: 'get_weather', output: { type: 'execution-denied' } },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'It is ' }, { type: 'text', text: '18 °C.' }] },
    ]);
    expect(messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AQID' } },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAEC' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
      { role: 'tool', tool_call_id: 'call_2', content: 'Tool execution denied.' },
      { role: 'assistant', content: 'It is 18 °C.' },
    ]);
    expect(warnings).toEqual([{ type: 'unsupported', feature: 'reasoning parts in assistant messages', details: 'dropped from the prompt' }]);
  });

  it('refuses files it cannot carry rather than dropping them', () => {
    expect(() => convertPrompt([{ role: 'user', content: [{ type: 'file', mediaType: 'application/pdf', data: 'JVBERi0=' }] }])).toThrow(UnsupportedFunctionalityError);
  });
});

describe('buildRequest', () => {
  const prompt: LanguageModelV3CallOptions['prompt'] = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }];

  it('maps call settings onto OpenAI fields, warning for what has none', () => {
    const { request, warnings } = buildRequest('chat', {
      prompt,
      maxOutputTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      stopSequences: ['END'],
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.3,
      responseFormat: { type: 'json', name: 'answer', schema: { type: 'object' } },
      tools: [
        { type: 'function', name: 'get_weather', description: 'Weather', inputSchema: { type: 'object', properties: {} } },
        { type: 'provider', id: 'openai.web_search', name: 'web_search', args: {} },
      ],
      toolChoice: { type: 'tool', toolName: 'get_weather' },
    });
    expect(request).toEqual({
      model: 'chat',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(warnings).toEqual([
      { type: 'unsupported', feature: 'provider-defined tool openai.web_search' },
      { type: 'unsupported', feature: 'topK' },
    ]);
  });

  it('asks for a JSON object when no schema is given, and sends no tool choice without tools', () => {
    const { request } = buildRequest('chat', { prompt, responseFormat: { type: 'json' }, toolChoice: { type: 'required' } });
    expect(request).toEqual({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_object' } });
  });
});

describe('finish reasons and usage', () => {
  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['content_filter', 'content-filter'],
    ['tool_calls', 'tool-calls'],
    ['function_call', 'tool-calls'],
    [null, 'other'],
  ] as const)('%s → %s', (reason, unified) => {
    expect(mapFinishReason(reason)).toEqual({ unified, raw: reason ?? undefined });
  });

  it('splits cached input and reasoning output', () => {
    const usage = convertUsage({ prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, prompt_tokens_details: { cached_tokens: 30 }, completion_tokens_details: { reasoning_tokens: 10 } });
    expect(usage.inputTokens).toEqual({ total: 100, noCache: 70, cacheRead: 30, cacheWrite: undefined });
    expect(usage.outputTokens).toEqual({ total: 40, text: 30, reasoning: 10 });
    expect(convertUsage(undefined).inputTokens.total).toBeUndefined();
  });
});

describe('ChunkPartMapper', () => {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-sim',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('turns text and tool call chunks into AI SDK parts', () => {
    const mapper = new ChunkPartMapper();
    const parts = [
      ...mapper.push(chunk({ role: 'assistant', content: 'Hel' })),
      ...mapper.push(chunk({ content: 'lo' })),
      ...mapper.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] })),
      ...mapper.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city"' } }] })),
      ...mapper.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ':"Paris"}' } }] })),
      ...mapper.push(chunk({}, 'tool_calls')),
      ...mapper.push({ ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } }),
      ...mapper.finish({ detour: { route: 'chat' } }),
    ];
    expect(parts.map((part) => part.type)).toEqual([
      'response-metadata', 'text-start', 'text-delta', 'text-delta', 'tool-input-start', 'tool-input-delta', 'tool-input-delta', 'text-end', 'tool-input-end', 'tool-call', 'finish',
    ]);
    expect(parts.find((part) => part.type === 'tool-call')).toEqual({ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: '{"city":"Paris"}' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: { outputTokens: { total: 7 } }, providerMetadata: { detour: { route: 'chat' } } });
  });

  it('finishes a failed stream as `error`, without handing over half a tool call', () => {
    const mapper = new ChunkPartMapper();
    mapper.push(chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'get_weather', arguments: '{"ci' } }] }));
    mapper.fail();
    const parts = mapper.finish({});
    expect(parts.map((part) => part.type)).toEqual(['finish']);
    expect(parts[0]).toMatchObject({ finishReason: { unified: 'error' } });
  });
});
