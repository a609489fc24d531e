import { describe, expect, it } from 'vitest';
import { inspectOpenAiEvent, isOpenAiToolCallEvent } from '../../src/providers/openai/stream.js';
import type { SseEvent } from '../../src/providers/types.js';
import { makeTarget } from './cases/types.js';

const target = makeTarget('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', 'sk-test');
const event = (data: string): SseEvent => ({ event: undefined, data, raw: `data: ${data}` });
const chunk = (choice: string, extra = ''): SseEvent => event(`{"id":"c1","object":"chat.completion.chunk","choices":[${choice}]${extra}}`);

describe('a passed-through OpenAI event is watched without parsing it', () => {
  it('sees a finish reason and usage with any spacing, and not their null values', () => {
    expect(inspectOpenAiEvent(chunk('{"index":0,"delta":{"content":"a"},"finish_reason":null}'), true, target)).toEqual({ finished: false, forward: true });
    expect(inspectOpenAiEvent(chunk('{"index":0,"delta":{},"finish_reason" :\t"stop"}'), true, target)).toMatchObject({ finished: true });
    const usage = inspectOpenAiEvent(chunk('', ',"usage" : {"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}'), false, target);
    expect(usage).toMatchObject({ usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, forward: false });
    expect(inspectOpenAiEvent(chunk('{"index":0,"delta":{},"finish_reason":null}', ',"usage":null'), false, target)).toEqual({ finished: false, forward: true });
  });

  it('takes a key only where it is one: not inside a string, nor as the end of a longer key', () => {
    // The text says "usage" and "finish_reason" (escaped quotes), and `x_finish_reason` is some other key.
    const text = chunk('{"index":0,"delta":{"content":"the \\"usage\\": {\\"finish_reason\\": \\"stop\\""},"x_finish_reason":"stop","finish_reason":null}');
    expect(inspectOpenAiEvent(text, true, target)).toEqual({ finished: false, forward: true });
  });

  it('reports an error object in the stream', () => {
    const seen = inspectOpenAiEvent(event('{"error":{"message":"overloaded","type":"server_error"}}'), true, target);
    expect(seen.forward).toBe(false);
    expect(seen.error?.code).toBeDefined();
  });

  it('tells a tool call delta from a chunk with none', () => {
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"tool_calls": [ {"index":0,"function":{"name":"f","arguments":""}}]}}'))).toBe(true);
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"function_call":{"name":"f"}}}'))).toBe(true);
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"content":"x","tool_calls":null}}'))).toBe(false);
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"content":"x","tool_calls":[]}}'))).toBe(false);
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"content":"my_tool_calls"}}'))).toBe(false);
    expect(isOpenAiToolCallEvent(chunk('{"index":0,"delta":{"my_tool_calls":[{"index":0}]}}'))).toBe(false);
  });
});
