import { describe, expect, it } from 'vitest';
import { estimateInputTokens, requestNeeds, type NeedsSource } from '../../src/core/request-needs.js';

const user = (content: unknown): unknown => ({ role: 'user', content });
const image = (detail?: 'low' | 'high'): unknown => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(400_000)}`, ...(detail ? { detail } : {}) } });

describe('requestNeeds', () => {
  const cases: Array<{ name: string; source: NeedsSource; expected: { vision: boolean; tools: boolean; json: boolean } }> = [
    { name: 'plain text', source: { messages: [user('Hello')] }, expected: { vision: false, tools: false, json: false } },
    { name: 'an image part', source: { messages: [user([{ type: 'text', text: 'What is this?' }, image()])] }, expected: { vision: true, tools: false, json: false } },
    {
      name: 'tools declared',
      source: { messages: [user('Weather?')], tools: [{ type: 'function', function: { name: 'weather' } }] },
      expected: { vision: false, tools: true, json: false },
    },
    { name: 'an empty tools list', source: { messages: [user('Hi')], tools: [] }, expected: { vision: false, tools: false, json: false } },
    { name: 'json_object', source: { messages: [user('Hi')], response_format: { type: 'json_object' } }, expected: { vision: false, tools: false, json: true } },
    { name: 'json_schema', source: { messages: [user('Hi')], response_format: { type: 'json_schema' } }, expected: { vision: false, tools: false, json: true } },
    { name: 'a text response_format', source: { messages: [user('Hi')], response_format: { type: 'text' } }, expected: { vision: false, tools: false, json: false } },
  ];
  it.each(cases)('$name', ({ source, expected }) => {
    expect(requestNeeds(source)).toMatchObject(expected);
  });
});

describe('estimateInputTokens', () => {
  const cases: Array<{ name: string; source: NeedsSource; expected: number }> = [
    { name: 'framing only', source: { messages: [] }, expected: 3 },
    // 4 framing + ceil(("user" + 4 000 chars) / 4) + 3 primer
    { name: 'about four characters a token', source: { messages: [user('a'.repeat(4_000))] }, expected: 3 + 4 + 1_001 },
    { name: 'an image costs a fixed amount, not its base64', source: { messages: [user([image()])] }, expected: 3 + 4 + 765 + 1 },
    { name: 'a low-detail image costs less', source: { messages: [user([image('low')])] }, expected: 3 + 4 + 85 + 1 },
    {
      name: 'tool calls and results count',
      source: {
        messages: [
          { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'x'.repeat(396) } }] },
          { role: 'tool', tool_call_id: 'c', content: 'y'.repeat(400) },
        ],
      },
      expected: 3 + 8 + Math.ceil((9 + 1 + 8 + 1 + 396 + 4 + 1 + 400) / 4),
    },
  ];
  it.each(cases)('$name', ({ source, expected }) => {
    expect(estimateInputTokens(source)).toBe(expected);
  });

  it('counts tool definitions', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    expect(estimateInputTokens({ messages: [], tools })).toBe(3 + Math.ceil(JSON.stringify(tools).length / 4));
  });

  it('stops at a hostile depth', () => {
    let deep: unknown = 'z'.repeat(1_000);
    for (let level = 0; level < 50; level++) deep = { nested: deep };
    expect(estimateInputTokens({ messages: [deep] })).toBe(3 + 4);
  });
});
