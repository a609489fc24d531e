import { skipThoughtSignature } from '../../../src/providers/gemini/request-messages.js';
import { plainRequest, richRequest, withToolChoice } from './requests.js';
import { makeTarget, type ExpectedCall, type PassThroughCase, type RefusedCase, type RequestCase } from './types.js';

export const geminiApiKey = 'AIzaSyTest-gemini-key-000000000001';
export const geminiTarget = makeTarget('gemini', 'https://generativelanguage.googleapis.com', 'gemini-2.5-flash', geminiApiKey);

const headers = { 'content-type': 'application/json', 'x-goog-api-key': geminiApiKey };
const generateUrl = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent';
const streamUrl = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
const weatherSchema = { type: 'object', properties: { city: { type: 'string' } } };

function call(body: unknown, url = generateUrl): ExpectedCall {
  return { url, method: 'POST', headers, body };
}

/** The user question and tool of `withToolChoice`, as Gemini has them. */
const toolChoiceBody = (functionCallingConfig: Record<string, unknown>): unknown => ({
  contents: [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }],
  tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: weatherSchema }] }],
  toolConfig: { functionCallingConfig },
});

export const geminiRequestCases: RequestCase[] = [
  {
    name: 'a rich request: system instruction, images, calls and their results matched back by name, every setting',
    request: richRequest,
    stream: false,
    expected: call({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Describe both images, then get the weather in Paris and Lyon.' },
            { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
            // The media type is guessed from the URL's extension.
            { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/photos/cat.webp?size=large' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'Two cats.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { name: 'get_weather', args: { city: 'Lyon' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            // Put back in the order of the calls (Paris first) although Lyon's result came first.
            { functionResponse: { name: 'get_weather', response: { output: '{"temp_c":18}' } } },
            { functionResponse: { name: 'get_weather', response: { output: '{"temp_c":21}' } } },
            { text: 'Which is warmer?' },
          ],
        },
      ],
      tools: [
        {
          functionDeclarations: [
            { name: 'get_weather', description: 'Current weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: {
        maxOutputTokens: 256,
        temperature: 0.2,
        topP: 0.9,
        stopSequences: ['\n\n'],
        candidateCount: 1,
        seed: 7,
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { warmer: { type: 'string' } } },
      },
    }),
  },
  {
    name: 'a stream goes to streamGenerateContent as SSE; a base URL already ending in /v1beta is taken as it is',
    request: { ...plainRequest, stream: true, stream_options: { include_usage: true } },
    stream: true,
    target: makeTarget('gemini', 'https://generativelanguage.googleapis.com/v1beta/', 'gemini-2.5-flash', geminiApiKey),
    expected: call({ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }, streamUrl),
  },
  {
    name: 'Gemini 3 gets the documented stand-in signature on the first replayed call of each turn',
    request: {
      model: 'smart',
      messages: [
        { role: 'user', content: 'Weather in Paris and Lyon?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'b', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: 'sunny' },
        { role: 'tool', tool_call_id: 'b', content: 'rainy' },
      ],
      max_tokens: 64,
      stop: 'END',
    },
    stream: false,
    target: makeTarget('gemini', 'https://generativelanguage.googleapis.com', 'gemini-3-pro-preview', geminiApiKey),
    expected: {
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-preview:generateContent',
      method: 'POST',
      headers,
      body: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather in Paris and Lyon?' }] },
          {
            role: 'model',
            parts: [
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: skipThoughtSignature },
              { functionCall: { name: 'get_weather', args: {} } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } },
              { functionResponse: { name: 'get_weather', response: { output: 'rainy' } } },
            ],
          },
        ],
        generationConfig: { maxOutputTokens: 64, stopSequences: ['END'] },
      },
    },
  },
  {
    name: 'system messages alone become the user turn (Gemini requires contents)',
    request: { model: 'smart', messages: [{ role: 'system', content: 'Write a haiku about failover.' }], user: 'end-user-42' },
    stream: false,
    expected: call({ contents: [{ role: 'user', parts: [{ text: 'Write a haiku about failover.' }] }] }),
  },
  {
    name: 'tool_choice auto is mode AUTO',
    request: withToolChoice('auto'),
    stream: false,
    expected: call(toolChoiceBody({ mode: 'AUTO' })),
  },
  {
    name: 'tool_choice none is mode NONE',
    request: withToolChoice('none'),
    stream: false,
    expected: call(toolChoiceBody({ mode: 'NONE' })),
  },
  {
    name: 'tool_choice required is mode ANY',
    request: withToolChoice('required'),
    stream: false,
    expected: call(toolChoiceBody({ mode: 'ANY' })),
  },
  {
    name: 'JSON mode, the penalties, and a percent-encoded data URL (sent as base64)',
    request: {
      model: 'smart',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } }, { type: 'text', text: 'JSON please' }] }],
      response_format: { type: 'json_object' },
      extra: { presence_penalty: 0.5, frequency_penalty: 0.25, logprobs: false },
    },
    stream: false,
    expected: call({
      contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } }, { text: 'JSON please' }] }],
      generationConfig: { responseMimeType: 'application/json', presencePenalty: 0.5, frequencyPenalty: 0.25 },
    }),
  },
];

export const geminiPassThroughCases: PassThroughCase[] = [
  {
    name: 'a Gemini body goes out as it is: the model and streaming the ingress noted in it move to the URL',
    body: { model: 'smart', stream: true, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] },
    stream: true,
    expected: call({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] }, streamUrl),
  },
];

export const geminiRefusedCases: RefusedCase[] = [
  {
    name: 'log probabilities, every such field named at once',
    request: { ...plainRequest, extra: { logprobs: true, top_logprobs: 2 } },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'the request fields "logprobs", "top_logprobs"' },
  },
  {
    name: 'audio input',
    request: { model: 'smart', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } } as never] }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: '"input_audio"' },
  },
  {
    name: 'forbidding parallel tool calls',
    request: { ...withToolChoice('auto'), parallel_tool_calls: false },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'parallel_tool_calls' },
  },
  {
    name: 'an image by a URL Gemini cannot fetch',
    request: { model: 'smart', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/cat.png' } }] }] },
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'image URL' },
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
    expected: { kind: 'failover', code: 'UNSUPPORTED_FEATURE', messageIncludes: 'messages[1].tool_calls[0]' },
  },
  {
    name: 'a tool result that answers no call is the client\'s own error',
    request: { model: 'smart', messages: [{ role: 'user', content: 'Hi' }, { role: 'tool', tool_call_id: 'call_missing', content: 'ok' }] },
    expected: { kind: 'fatal', code: 'INVALID_REQUEST', messageIncludes: 'call_missing' },
  },
];
