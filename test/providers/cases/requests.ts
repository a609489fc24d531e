import type { ChatRequest } from '../../../src/providers/types.js';

/**
 * Canonical requests every format's cases translate, so that the same conversation is seen
 * through each adapter: a system and a developer message, an inline and a remote image, an
 * assistant turn with text and two parallel calls of one function, their results (answered
 * out of order, one as text parts), a follow-up, and every generation setting with a slot.
 */
export const richRequest: ChatRequest = {
  model: 'smart',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Describe both images, then get the weather in Paris and Lyon.' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/photos/cat.webp?size=large', detail: 'low' } },
      ],
    },
    {
      role: 'assistant',
      content: 'Two cats.',
      tool_calls: [
        { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_lyon', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_lyon', content: '{"temp_c":21}' },
    { role: 'tool', tool_call_id: 'call_paris', content: [{ type: 'text', text: '{"temp_c":18}' }] },
    { role: 'user', content: 'Which is warmer?' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ],
  tool_choice: { type: 'function', function: { name: 'get_weather' } },
  max_completion_tokens: 256,
  temperature: 0.2,
  top_p: 0.9,
  n: 1,
  stop: ['\n\n'],
  seed: 7,
  response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { warmer: { type: 'string' } } } } },
};

/** The smallest request: one user message. */
export const plainRequest: ChatRequest = { model: 'smart', messages: [{ role: 'user', content: 'Hello' }] };

/** One question with one tool offered, to vary `tool_choice` on. */
export function withToolChoice(toolChoice: ChatRequest['tool_choice']): ChatRequest {
  return {
    model: 'smart',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: toolChoice,
  };
}
